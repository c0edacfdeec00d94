"""Pure helpers: audit redaction of secret values, metric route labels, the OpenAPI-derived Allow list."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from control_plane.api.middleware import _route_template
from control_plane.api.strict import allowed_methods
from control_plane.core.config import Settings
from control_plane.crud.audit import redact
from control_plane.main import create_app


def test_redact_replaces_secret_values_with_names() -> None:
    changes: dict[str, Any] = {
        "name": "agent",
        "secrets": {"OPENAI_API_KEY": "sk-1", "OLD": None},
        "database": {"type": "external", "uri": "postgresql://u:pw@h/db"},
        "redis": {"type": "managed", "uri": None},
        "env": [{"name": "A", "value": "plain"}],
        "nested": [{"token": "t"}],
    }
    out = redact(changes)
    assert out == {
        "name": "agent",
        "secrets": {"OPENAI_API_KEY": "set", "OLD": "removed"},
        "database": {"type": "external", "uri": "***"},
        "redis": {"type": "managed", "uri": None},
        "env": [{"name": "A", "value": "plain"}],
        "nested": [{"token": "***"}],
    }
    assert "sk-1" not in str(out) and "pw" not in str(out)
    assert changes["secrets"]["OPENAI_API_KEY"] == "sk-1"  # the input is not modified


def test_route_template_keeps_metric_labels_bounded() -> None:
    scope = {"path": "/v1/deployments/3f0c/revisions", "path_params": {"deployment_id": "3f0c"}}
    assert _route_template(scope, 200) == "/v1/deployments/{deployment_id}/revisions"
    assert _route_template({"path": "/nope", "path_params": {}}, 404) == "unmatched"
    assert _route_template({"path": "/v1/deployments"}, 200) == "/v1/deployments"


def test_allowed_methods_come_from_the_openapi_document() -> None:
    app = create_app(
        Settings.model_validate(
            {
                "database_url": "postgresql://x@127.0.0.1:1/none",
                "encryption_keys": Fernet.generate_key().decode(),
            }
        )
    )
    assert allowed_methods(app, "/v1/deployments") == ["GET", "POST"]
    assert allowed_methods(app, "/v1/deployments/abc") == ["DELETE", "GET", "PATCH"]
    assert allowed_methods(app, "/v1/unknown") == []
