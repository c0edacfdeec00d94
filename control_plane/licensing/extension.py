"""Licensing and usage inside the control plane (loaded by ``create_app`` through ``EXTENSIONS``).

- An admission hook enforces the installation's license on new deployments and new revisions
  (403 naming the reason). Licensing never stops a server: nothing already running is touched.
  Without any license configured, lgp runs unlicensed with no caps, unless
  ``LGP_LICENSE_REQUIRED=true``.
- The endpoints (``routes.py``): ``POST /v1/beacon/verify`` and ``POST /v1/metadata/submit``,
  payload-compatible with LangGraph Platform's beacon (submissions stored one row per deployment and
  hour window, keyed by the Idempotency-Key, so a resend replaces and nothing is counted twice);
  ``GET /v1/usage``; ``GET /v1/license``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session

from control_plane.core.config import Settings
from control_plane.crud import Principal

from .beacon import derive_beacon_secret
from .config import LicenseConfig
from .entitlements import check_can_create_deployment, check_can_create_revision
from .routes import router
from .store import deployment_count
from .tokens import LicenseError, LicenseStatus

log = logging.getLogger("lgp.control_plane.licensing")


class LicensingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LGP_LICENSE_", extra="ignore")

    required: bool = Field(
        default=False,
        description="Refuse new deployments and revisions when no license is configured. Off: without a "
        "license lgp runs with no caps; a configured license is always enforced.",
    )


def admission_hook(config: LicenseConfig, required: bool) -> Any:
    def admit(*, session: Session, principal: Principal, action: str, **_: Any) -> None:
        state = config.state()
        if state.status == LicenseStatus.MISSING and not required:
            return  # unlicensed installation: no caps
        try:
            if action == "deployment.create":
                warning = check_can_create_deployment(state, deployment_count(session))
            elif action in ("revision.create", "deployment.update"):
                warning = check_can_create_revision(state)
            else:
                return
        except LicenseError as e:
            log.warning(
                "license refused %s for %s %s: %s", action, principal.actor_type, principal.actor_id, e.reason
            )
            raise HTTPException(status_code=403, detail=f"{e.reason}: {e.message}") from None
        if warning:
            log.warning("license: %s", warning)

    return admit


def install(app: FastAPI, settings: Settings) -> None:
    config = LicenseConfig.from_env()
    lic = LicensingSettings()
    app.state.license_config = config
    app.state.license_required = lic.required
    app.state.beacon_secret = derive_beacon_secret(settings.encryption_key_list[0])
    app.state.admission_hooks.append(admission_hook(config, lic.required))
    app.include_router(router)
    state = config.state()
    log.info("license: %s%s", state.status, f" ({state.error.reason})" if state.error else "")
