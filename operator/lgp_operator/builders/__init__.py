"""Pure builders: ``build_<kind>(cr, settings) -> dict``, no I/O. ``build_desired`` gives the whole set."""

from .common import Capabilities, InvalidSpec, Platform
from .desired import DesiredSet, build_desired

__all__ = ["Capabilities", "DesiredSet", "InvalidSpec", "Platform", "build_desired"]
