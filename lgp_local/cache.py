"""Where every lgp cache lives on this machine (cluster binaries, images, ...)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``LGP_CACHE_DIR``, else ``$XDG_CACHE_HOME/lgp`` or ``~/.cache/lgp``.
    Pointing ``LGP_CACHE_DIR`` at an empty directory proves a cold build without touching anyone's cache."""
    if os.environ.get("LGP_CACHE_DIR"):
        return Path(os.environ["LGP_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lgp"
