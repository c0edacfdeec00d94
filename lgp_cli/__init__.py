"""The `lgp` command line."""
