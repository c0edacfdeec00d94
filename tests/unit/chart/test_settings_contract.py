"""The environment the chart gives each process is what that process reads: every LGP_* variable
rendered is a setting of the component's own settings class, and its rendered value parses."""

from __future__ import annotations

from typing import Any

from lgp_operator.settings import OperatorSettings
from pydantic_settings import BaseSettings

from control_plane.core.config import Settings as ControlPlaneSettings

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


def test_control_plane_env_is_its_settings(render: Any) -> None:
    env = render({}).env("lgp-control-plane")
    names = set(env) - {"LGP_POSTGRES_PASSWORD"}  # only an input of the $(...) database URL
    assert names <= env_names(ControlPlaneSettings), names - env_names(ControlPlaneSettings)
    assert {"LGP_DATABASE_URL", "LGP_ENCRYPTION_KEYS", "LGP_ADMIN_API_KEY", "LGP_ENVIRONMENT"} <= names


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
