"""The environment the chart gives each process is what that process reads: every LGP_* variable
rendered is a setting of the component's own settings class, and its rendered value parses."""

from __future__ import annotations

from typing import Any

from lgp_operator.listener.settings import ListenerSettings
from lgp_operator.settings import OperatorSettings
from lgp_operator.usage.settings import UsageSettings
from pydantic_settings import BaseSettings

from control_plane.core.config import Settings as ControlPlaneSettings
from control_plane.licensing.config import ENV_GRACE_DAYS, ENV_KEY, LicenseConfig
from control_plane.licensing.extension import LicensingSettings
from control_plane.licensing.keys import ENV_PUBLIC_KEYS

ALL_OPERATOR_OPTIONS = {
    "operator": {
        "ingress": {"domain": "agents.example.com", "className": "nginx", "tlsSecret": "wildcard"},
        "postgresImage": "postgres:16.4",
        "redisImage": "redis:7.4",
        "keda": "disabled",
        "licenseSecret": "langgraph-license",
        "resyncSeconds": 45,
        "leaderElection": False,
    },
    "dataPlane": {"namespaces": ["agents", "agents-staging"]},
}


def env_names(settings_class: type[BaseSettings]) -> set[str]:
    prefix = settings_class.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings_class.model_fields}


def literal_env(rendered: Any, deployment: str) -> dict[str, str]:
    return {k: v for k, v in rendered.env(deployment).items() if isinstance(v, str)}


# read by control_plane.licensing.config.LicenseConfig.from_env (not a settings class)
LICENSE_ENV = {ENV_KEY, ENV_GRACE_DAYS, ENV_PUBLIC_KEYS}


def test_control_plane_env_is_its_settings(render: Any) -> None:
    env = render({}).env("lgp-control-plane")
    names = set(env) - {"LGP_POSTGRES_PASSWORD"}  # only an input of the $(...) database URL
    known = env_names(ControlPlaneSettings) | env_names(LicensingSettings) | LICENSE_ENV
    assert names <= known, names - known
    assert {"LGP_DATABASE_URL", "LGP_ENCRYPTION_KEYS", "LGP_ADMIN_API_KEY", "LGP_ENVIRONMENT"} <= names
    assert env["LGP_LICENSE_REQUIRED"] == "false" and ENV_KEY not in env


def test_control_plane_license_values_reach_its_license_settings(render: Any, from_env: Any) -> None:
    pub = "MCowBQYDK2VwAyEA" + "A" * 43 + "="  # shape only: the rendered string is passed through as is
    env = render(
        {
            "controlPlane": {
                "license": {
                    "existingSecret": "lgp-license",
                    "required": True,
                    "publicKeys": pub,
                    "graceDays": 7,
                }
            }
        }
    ).env("lgp-control-plane")
    assert env[ENV_KEY] == {"secretKeyRef": {"name": "lgp-license", "key": "license-key"}}
    assert env[ENV_PUBLIC_KEYS] == pub
    assert from_env(LicensingSettings, {"LGP_LICENSE_REQUIRED": env["LGP_LICENSE_REQUIRED"]}).required is True
    config = LicenseConfig.from_env(
        {ENV_GRACE_DAYS: env[ENV_GRACE_DAYS], "LGP_LICENSE_TRUST_EMBEDDED_KEY": "true"}
    )
    assert config.grace.days == 7


def test_operator_env_is_its_settings_and_parses(render: Any, from_env: Any) -> None:
    rendered = render(ALL_OPERATOR_OPTIONS)
    env = literal_env(rendered, "lgp-operator")
    assert set(rendered.env("lgp-operator")) <= env_names(OperatorSettings)
    wired = {
        "LGP_OPERATOR_NAMESPACES", "LGP_OPERATOR_INGRESS_DOMAIN", "LGP_OPERATOR_INGRESS_CLASS",
        "LGP_OPERATOR_INGRESS_TLS_SECRET", "LGP_OPERATOR_POSTGRES_IMAGE", "LGP_OPERATOR_REDIS_IMAGE",
        "LGP_OPERATOR_KEDA", "LGP_OPERATOR_LICENSE_SECRET", "LGP_OPERATOR_RESYNC_SECONDS",
        "LGP_OPERATOR_LEADER_ELECTION", "LGP_OPERATOR_LEADER_ELECTION_NAMESPACE",
    }  # fmt: skip
    assert wired <= set(env), wired - set(env)
    settings = from_env(OperatorSettings, env)
    assert settings.namespaces == ["agents", "agents-staging"]
    assert settings.ingress_domain == "agents.example.com"
    assert settings.ingress_class == "nginx"
    assert settings.ingress_tls_secret == "wildcard"
    assert settings.postgres_image == "postgres:16.4"
    assert settings.redis_image == "redis:7.4"
    assert settings.keda == "disabled"
    assert settings.license_secret == "langgraph-license"
    assert settings.resync_seconds == 45
    assert settings.leader_election is False
    assert settings.leader_election_namespace == "lgp-system"


def test_operator_defaults_leave_the_operators_own_defaults(render: Any, from_env: Any) -> None:
    env = literal_env(render({}), "lgp-operator")
    settings = from_env(OperatorSettings, env)
    assert settings.namespaces == ["lgp-system"]
    assert settings.postgres_image == OperatorSettings.model_fields["postgres_image"].default
    assert settings.keda == "auto" and settings.leader_election is True
    cluster_wide = literal_env(render({"operator": {"watchAllNamespaces": True}}), "lgp-operator")
    assert from_env(OperatorSettings, cluster_wide).namespaces == []


def resolved_env(rendered: Any, deployment: str, secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """Literal values, plus secretKeyRefs filled from `secrets` (every reference must be listed)."""
    out = {}
    for name, value in rendered.env(deployment).items():
        if isinstance(value, str):
            out[name] = value
        else:
            ref = value["secretKeyRef"]
            out[name] = secrets[(ref["name"], ref["key"])]
    return out


def test_listener_env_is_its_settings_and_parses(render: Any, from_env: Any) -> None:
    rendered = render(
        {
            "listener": {"enabled": True, "id": "0b7c2c1e-listener", "token": "tok-1"},
            "dataPlane": {"namespaces": ["agents", "team-b"]},
        }
    )
    assert set(rendered.env("lgp-listener")) <= env_names(ListenerSettings)
    env = resolved_env(rendered, "lgp-listener", {("lgp-listener", "token"): "tok-1"})
    settings = from_env(ListenerSettings, env)
    assert settings.control_plane_url == "http://lgp-control-plane.lgp-system.svc:80"
    assert settings.listener_id == "0b7c2c1e-listener"
    assert settings.token.get_secret_value() == "tok-1"
    assert settings.namespaces == ["agents", "team-b"]
    # The probe and the container port are the port the listener serves /healthz on.
    container = rendered.container("lgp-listener")
    assert container["ports"][0]["containerPort"] == settings.http_port
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_usage_reporter_env_is_its_settings_and_parses(render: Any, from_env: Any) -> None:
    rendered = render(
        {"usageReporter": {"enabled": True, "licenseSecret": "lic", "env": {"LGP_USAGE_WINDOW_SECONDS": 600}}}
    )
    assert set(rendered.env("lgp-usage-reporter")) <= env_names(UsageSettings)
    env = resolved_env(rendered, "lgp-usage-reporter", {("lic", "license-key"): "lic-token"})
    settings = from_env(UsageSettings, env)
    assert settings.beacon_url == "http://lgp-control-plane.lgp-system.svc:80"
    assert settings.license_key is not None and settings.license_key.get_secret_value() == "lic-token"
    assert settings.namespaces == ["lgp-system"]
    assert settings.window_seconds == 600
    # The buffer is on the mounted volume.
    container = rendered.container("lgp-usage-reporter")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert settings.buffer_path.startswith(mounts["state"] + "/")
    assert container["ports"][0]["containerPort"] == settings.metrics_port
    assert rendered.has("PersistentVolumeClaim", "lgp-usage-reporter")

    airgapped = render(
        {"usageReporter": {"enabled": True, "airgapped": {"enabled": True, "signingKeySecret": "audit"}}}
    )
    settings = from_env(UsageSettings, resolved_env(airgapped, "lgp-usage-reporter", {}))
    assert settings.beacon_url is None
    assert settings.airgapped_dir is not None and settings.airgapped_dir.startswith(mounts["state"] + "/")
    assert settings.audit_signing_key_file == "/etc/lgp-usage/audit-signing-key"
    volumes = airgapped.get("Deployment", "lgp-usage-reporter")["spec"]["template"]["spec"]["volumes"]
    key_volume = next(v for v in volumes if v["name"] == "audit-signing-key")
    assert key_volume["secret"]["secretName"] == "audit"
    assert key_volume["secret"]["items"] == [{"key": "audit-signing-key", "path": "audit-signing-key"}]


def test_every_process_runs_the_lgp_command_it_should(render: Any) -> None:
    from lgp_cli.main import COMMANDS

    rendered = render(
        {"listener": {"enabled": True, "id": "l", "token": "t"}, "usageReporter": {"enabled": True}}
    )
    expected = {
        "lgp-control-plane": ["control-plane", "serve", "--host", "0.0.0.0", "--port", "8080"],  # noqa: S104
        "lgp-operator": ["operator", "run"],
        "lgp-listener": ["listener", "run"],
        "lgp-usage-reporter": ["usage", "run"],
    }
    for deployment, args in expected.items():
        container = rendered.container(deployment)
        assert "command" not in container  # the image's ENTRYPOINT is `lgp`
        assert container["args"] == args
        assert args[0] in COMMANDS
