"""What a license allows, as checks the control plane calls before it changes anything.

Licensing never stops a server: these checks gate only *new* deployments and *new* revisions.
Each returns a warning string (or None) when the action is allowed, and raises
:class:`~control_plane.licensing.tokens.LicenseError` (``http_status`` 403, a stable ``reason`` and a
message in words) when it is not.
"""

from __future__ import annotations

from .tokens import LicenseError, LicenseState, LicenseStatus, Reason


def _require_usable(state: LicenseState, action: str) -> str | None:
    if state.status in (LicenseStatus.VALID, LicenseStatus.IN_GRACE):
        return state.warning
    err = state.error or LicenseError(Reason.MISSING, "no license is configured")
    raise LicenseError(
        err.reason,
        f"{action} is refused: {err.message}",
        http_status=403,
        license=state.license,
    )


def check_can_create_deployment(state: LicenseState, current_count: int) -> str | None:
    """Allow one more deployment when ``current_count`` deployments exist, or raise LicenseError.

    ``current_count`` counts the deployments that exist now (not deleted), before the new one.
    """
    if current_count < 0:
        raise ValueError("current_count: must not be negative")
    warning = _require_usable(state, "creating a deployment")
    lic = state.license
    if lic is not None and lic.max_deployments is not None and current_count >= lic.max_deployments:
        raise LicenseError(
            Reason.DEPLOYMENT_CAP,
            f"creating a deployment is refused: the license for {lic.licensee!r} (plan {lic.plan!r}) allows "
            f"at most {lic.max_deployments} deployment(s) and {current_count} exist; delete one or "
            "install a license with a higher cap",
            http_status=403,
            license=lic,
        )
    return warning


def check_can_create_revision(state: LicenseState) -> str | None:
    """Allow a new revision of an existing deployment, or raise LicenseError (after the grace period)."""
    return _require_usable(state, "creating a revision")


def check_feature(state: LicenseState, feature: str) -> str | None:
    """Allow the use of a licensed feature, or raise LicenseError naming the feature."""
    warning = _require_usable(state, f"using the feature {feature!r}")
    lic = state.license
    if lic is None or not lic.has_feature(feature):
        plan = f" (plan {lic.plan!r})" if lic else ""
        raise LicenseError(
            Reason.FEATURE_NOT_LICENSED,
            f"the feature {feature!r} is not included in this license{plan}",
            http_status=403,
            license=lic,
        )
    return warning
