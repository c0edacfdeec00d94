"""Licensing: Ed25519-signed license tokens, entitlement checks and the beacon protocol.

A pure library (no database, no web framework, nothing else from ``control_plane``), so it can be
used standalone and by the ``lgp license`` command. See README.md in this folder.
"""

from .beacon import (
    BeaconVerifyRequest,
    BeaconVerifyResponse,
    MetadataSubmitRequest,
    UsageSummary,
    UsageWindow,
    derive_beacon_secret,
    handle_beacon_verify,
    issue_beacon_token,
    parse_submission,
    summarize_usage,
    usage_key,
    verify_beacon_token,
)
from .config import LicenseConfig
from .entitlements import check_can_create_deployment, check_can_create_revision, check_feature
from .keys import KeyLoadError, key_id, load_trusted_keys
from .tokens import (
    DEFAULT_GRACE,
    DEFAULT_LEEWAY,
    License,
    LicenseError,
    LicenseState,
    LicenseStatus,
    Reason,
    evaluate_license,
    issue_license,
    verify_license,
)

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_LEEWAY",
    "BeaconVerifyRequest",
    "BeaconVerifyResponse",
    "KeyLoadError",
    "License",
    "LicenseConfig",
    "LicenseError",
    "LicenseState",
    "LicenseStatus",
    "MetadataSubmitRequest",
    "Reason",
    "UsageSummary",
    "UsageWindow",
    "check_can_create_deployment",
    "check_can_create_revision",
    "check_feature",
    "derive_beacon_secret",
    "evaluate_license",
    "handle_beacon_verify",
    "issue_beacon_token",
    "issue_license",
    "key_id",
    "load_trusted_keys",
    "parse_submission",
    "summarize_usage",
    "usage_key",
    "verify_beacon_token",
    "verify_license",
]
