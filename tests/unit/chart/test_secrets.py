"""The control plane's Secret: keys generated on first install are accepted by the control plane's
own settings in production mode, values given win, an existing Secret is referenced not rendered,
and the database URL is wired for each of the three database modes. (Reuse of an existing Secret's
values across upgrades needs a cluster: tests/integration/chart/test_helm_release.py.)"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.fernet import Fernet

from control_plane.core.config import Settings

from .conftest import NAMESPACE, Rendered

EXTERNAL = {
    "postgres": {"enabled": False},
    "controlPlane": {"database": {"url": "postgresql+psycopg://u:p@db:5432/lgp"}},
}


def secret_data(rendered: Rendered, name: str = "lgp-control-plane") -> dict[str, str]:
    secret = rendered.get("Secret", name)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def resolve_env(rendered: Rendered, deployment: str) -> dict[str, str]:
    """The container's environment as the kubelet would build it: secretKeyRefs read from the
    rendered Secrets, then $(VAR) references expanded."""
    env: dict[str, str] = {}
    for e in rendered.container(deployment)["env"]:
        if "value" in e:
            env[e["name"]] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), e["value"]
            )
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secret_data(rendered, ref["name"])[ref["key"]]
    return env


@pytest.mark.parametrize("values", [{}, EXTERNAL], ids=["bundled-postgres", "external-url"])
def test_generated_secrets_satisfy_the_control_plane_in_production(
    render: Any, from_env: Any, values: dict[str, Any]
) -> None:
    rendered = render(values)
    data = secret_data(rendered)
    Fernet(data["encryption-keys"].encode())  # a real Fernet key
    assert len(data["admin-api-key"]) >= 32
    env = resolve_env(rendered, "lgp-control-plane")
    assert env["LGP_ENVIRONMENT"] == "production"
    # Raises on a weak or placeholder secret, or a bad URL.
    settings = from_env(Settings, env)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.encryption_key_list == [data["encryption-keys"]]


def test_each_install_generates_its_own_secrets(render: Any) -> None:
    first, second = secret_data(render({})), secret_data(render({}))
    assert first["encryption-keys"] != second["encryption-keys"]
    assert first["admin-api-key"] != second["admin-api-key"]
    assert (
        secret_data(render({}), "lgp-postgres")["password"]
        != secret_data(render({}), "lgp-postgres")["password"]
    )


def test_given_values_win(render: Any) -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    admin = "k" * 16 + "0123456789abcdef"
    rendered = render(
        {
            "controlPlane": {"encryptionKeys": keys, "adminApiKey": admin},
            "postgres": {"password": "pw-0123456789"},
        }
    )
    data = secret_data(rendered)
    assert data["encryption-keys"] == keys
    assert data["admin-api-key"] == admin
    assert secret_data(rendered, "lgp-postgres")["password"] == "pw-0123456789"
    assert resolve_env(rendered, "lgp-control-plane")["LGP_DATABASE_URL"] == (
        "postgresql+psycopg://lgp:pw-0123456789@lgp-postgres:5432/lgp"
    )


def test_secrets_are_kept_on_uninstall_and_roll_the_pods_when_changed(render: Any) -> None:
    rendered = render({})
    for name in ("lgp-control-plane", "lgp-postgres"):
        assert rendered.get("Secret", name)["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    fixed = {"controlPlane": {"encryptionKeys": Fernet.generate_key().decode(), "adminApiKey": "a1" * 20}}
    a = render(fixed).get("Deployment", "lgp-control-plane")["spec"]["template"]["metadata"]["annotations"]
    b = render(fixed).get("Deployment", "lgp-control-plane")["spec"]["template"]["metadata"]["annotations"]
    fixed["controlPlane"]["adminApiKey"] = "b2" * 20
    c = render(fixed).get("Deployment", "lgp-control-plane")["spec"]["template"]["metadata"]["annotations"]
    assert a["checksum/secret"] == b["checksum/secret"] != c["checksum/secret"]
    no_keep = render({"controlPlane": {"secret": {"keep": False}}}).get("Secret", "lgp-control-plane")
    assert "annotations" not in no_keep["metadata"]


def test_existing_secrets_are_referenced_not_rendered(render: Any) -> None:
    rendered = render(
        {
            "postgres": {"enabled": False},
            "controlPlane": {
                "existingSecret": "my-keys",
                "database": {"existingSecret": "my-db", "existingSecretKey": "uri"},
            },
        }
    )
    assert not rendered.of_kind("Secret")
    env = rendered.env("lgp-control-plane")
    assert env["LGP_DATABASE_URL"] == {"secretKeyRef": {"name": "my-db", "key": "uri"}}
    assert env["LGP_ENCRYPTION_KEYS"] == {"secretKeyRef": {"name": "my-keys", "key": "encryption-keys"}}
    assert env["LGP_ADMIN_API_KEY"]["secretKeyRef"]["name"] == "my-keys"
    assert "my-keys" in rendered.notes


def test_external_url_lives_in_the_secret_not_in_the_pod_spec(render: Any) -> None:
    rendered = render(EXTERNAL)
    assert secret_data(rendered)["database-url"] == "postgresql+psycopg://u:p@db:5432/lgp"
    assert rendered.env("lgp-control-plane")["LGP_DATABASE_URL"] == {
        "secretKeyRef": {"name": "lgp-control-plane", "key": "database-url"}
    }
    assert not rendered.of_kind("StatefulSet")
    deployment_text = str(rendered.get("Deployment", "lgp-control-plane"))
    assert "u:p@db" not in deployment_text


def test_listener_token_is_a_secret_or_a_reference(render: Any) -> None:
    rendered = render({"listener": {"enabled": True, "id": "l-1", "token": "tok-123"}})
    assert secret_data(rendered, "lgp-listener") == {"token": "tok-123"}
    assert rendered.env("lgp-listener")["LGP_LISTENER_TOKEN"] == {
        "secretKeyRef": {"name": "lgp-listener", "key": "token"}
    }
    assert "tok-123" not in str(rendered.get("Deployment", "lgp-listener"))
    rendered = render(
        {"listener": {"enabled": True, "id": "l-1", "existingSecret": "mine", "existingSecretKey": "t"}}
    )
    assert not rendered.has("Secret", "lgp-listener", NAMESPACE)
    assert rendered.env("lgp-listener")["LGP_LISTENER_TOKEN"] == {
        "secretKeyRef": {"name": "mine", "key": "t"}
    }
