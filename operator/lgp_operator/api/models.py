"""The custom resource's models live in ``lgp_contract.resource`` (both planes share them).

This module only keeps ``from .api.models import ...`` working in the operator modules that still
use it; new code imports ``lgp_contract.resource``.
"""

from lgp_contract.resource import API_VERSION, GROUP, KIND, PLURAL, VERSION

__all__ = ["API_VERSION", "GROUP", "KIND", "PLURAL", "VERSION"]
