"""`python -m lgp_operator [run] [options]`: the operator (same as `lgp operator run`)."""

import sys

from .cli import main

args = sys.argv[1:]
if not args or args[0].startswith("-"):
    args = ["run", *args]
sys.exit(main(args))
