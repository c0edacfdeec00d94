"""``python -m lgp_local.images``: build lgp's local images (see ``cli``)."""

import sys

from .cli import main

sys.exit(main())
