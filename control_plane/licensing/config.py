"""The license an installation runs with, from its environment (documented in README.md here).

``LGP_LICENSE_KEY`` (the token) or ``LGP_LICENSE_KEY_FILE`` (a file holding it); trusted keys from
:func:`~control_plane.licensing.keys.load_trusted_keys`; ``LGP_LICENSE_GRACE_DAYS`` (default 14) and
``LGP_LICENSE_LEEWAY_SECONDS`` (default 300).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .keys import KeyLoadError, load_trusted_keys
from .tokens import DEFAULT_GRACE, DEFAULT_LEEWAY, LicenseState, evaluate_license

ENV_KEY = "LGP_LICENSE_KEY"
ENV_KEY_FILE = "LGP_LICENSE_KEY_FILE"
ENV_GRACE_DAYS = "LGP_LICENSE_GRACE_DAYS"
ENV_LEEWAY_SECONDS = "LGP_LICENSE_LEEWAY_SECONDS"


@dataclass(frozen=True)
class LicenseConfig:
    token: str | None = field(default=None, repr=False)
    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    grace: timedelta = DEFAULT_GRACE
    leeway: timedelta = DEFAULT_LEEWAY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LicenseConfig:
        """Raises ``KeyLoadError`` / ``ValueError`` naming the variable when one is unreadable."""
        env = os.environ if environ is None else environ
        token = env.get(ENV_KEY, "").strip() or None
        if token is None and env.get(ENV_KEY_FILE, "").strip():
            path = Path(env[ENV_KEY_FILE].strip())
            try:
                token = path.read_text().strip() or None
            except OSError as e:
                raise KeyLoadError(f"{ENV_KEY_FILE}: cannot read {path}: {e.strerror}") from None
        try:
            grace = timedelta(days=float(env.get(ENV_GRACE_DAYS) or DEFAULT_GRACE.days))
            leeway = timedelta(seconds=float(env.get(ENV_LEEWAY_SECONDS) or DEFAULT_LEEWAY.total_seconds()))
        except ValueError:
            raise ValueError(f"{ENV_GRACE_DAYS} / {ENV_LEEWAY_SECONDS}: must be numbers") from None
        if grace < timedelta(0) or leeway < timedelta(0):
            raise ValueError(f"{ENV_GRACE_DAYS} / {ENV_LEEWAY_SECONDS}: must not be negative")
        return cls(token=token, public_keys=load_trusted_keys(env), grace=grace, leeway=leeway)

    def state(self, now: datetime | None = None) -> LicenseState:
        """Evaluate the configured license now (cheap: one signature check). Never raises."""
        return evaluate_license(self.token, self.public_keys, now=now, leeway=self.leeway, grace=self.grace)

    def evaluate(self, token: str | None, now: datetime | None = None) -> LicenseState:
        """Evaluate another token (e.g. the one a beacon client sends) with this installation's keys."""
        return evaluate_license(token, self.public_keys, now=now, leeway=self.leeway, grace=self.grace)
