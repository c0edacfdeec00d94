"""Write docs/settings.md from the settings classes of every lgp process (one source for the docs).

Usage: python scripts/settings-doc.py [--check]   (--check: exit 1 if docs/settings.md is stale)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator"), str(ROOT / "scripts")]

from docgen import write_or_check  # noqa: E402
from lgp_operator.listener.settings import ListenerSettings  # noqa: E402
from lgp_operator.settings import OperatorSettings  # noqa: E402
from lgp_operator.usage.settings import UsageSettings  # noqa: E402

from control_plane.licensing.extension import LicensingSettings  # noqa: E402

# Read by control_plane.licensing.config.LicenseConfig.from_env (not a settings class).
LICENSE_ENV = [
    ("LGP_LICENSE_KEY", "", "The installation's license token."),
    ("LGP_LICENSE_KEY_FILE", "", "A file holding the license token (instead of LGP_LICENSE_KEY)."),
    (
        "LGP_LICENSE_PUBLIC_KEYS",
        "",
        "Self-issued public keys to trust: PEM blocks and/or base64 raw Ed25519 keys.",
    ),
    ("LGP_LICENSE_PUBLIC_KEYS_FILE", "", "A file of public keys to trust (same format)."),
    ("LGP_LICENSE_TRUST_EMBEDDED_KEY", "`true`", "Trust the lgp project's embedded public key."),
    ("LGP_LICENSE_GRACE_DAYS", "`14`", "After expiry, new deployments and revisions stay allowed this long."),
    ("LGP_LICENSE_LEEWAY_SECONDS", "`300`", "Clock skew allowed on not-before and expiry."),
]

from control_plane.core.config import Settings as ControlPlaneSettings  # noqa: E402

COMPONENTS: list[tuple[str, str, Any]] = [
    ("Control plane", "`lgp control-plane serve`", ControlPlaneSettings),
    ("Control plane: license", "`lgp control-plane serve`", LicensingSettings),
    ("Operator", "`lgp operator run`", OperatorSettings),
    ("Listener", "`lgp listener run`", ListenerSettings),
    ("Usage reporter", "`lgp usage run`", UsageSettings),
]


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    value = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
    if value is PydanticUndefined or value is None or value == "" or value == []:
        return ""
    if hasattr(value, "get_secret_value"):
        return "(secret)"
    if isinstance(value, list):
        value = ",".join(map(str, value))
    return f"`{value}`"


def render() -> str:
    out = [
        "# Settings",
        "",
        "Every process reads its settings from environment variables (flags, where a process has them,",
        "override them). Generated from the settings classes by `make docs`; a test fails when this file",
        "is stale.",
        "",
    ]
    for title, command, cls in COMPONENTS:
        prefix = cls.model_config.get("env_prefix", "")
        out += [f"## {title} ({command})", "", "| variable | default | what it does |", "|---|---|---|"]
        for name, f in cls.model_fields.items():
            desc = (f.description or "").replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{prefix}{name.upper()}` | {_default(f)} | {desc} |")
        if cls is LicensingSettings:
            out += [f"| `{var}` | {default} | {desc} |" for var, default, desc in LICENSE_ENV]
        out.append("")
    return "\n".join(out)


def main() -> int:
    return write_or_check(ROOT / "docs" / "settings.md", render())


if __name__ == "__main__":
    sys.exit(main())
