"""The LangGraphPlatform custom resource: pydantic models (the single source) and the CRD built from them."""

from .models import (
    API_VERSION,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    Condition,
    LangGraphPlatform,
    LangGraphPlatformSpec,
    LangGraphPlatformStatus,
    Revision,
)

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "Condition",
    "LangGraphPlatform",
    "LangGraphPlatformSpec",
    "LangGraphPlatformStatus",
    "Revision",
]
