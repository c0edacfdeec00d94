"""The OpenAPI document lists the statuses that middleware and app-wide handlers answer on every route."""

from __future__ import annotations

from cryptography.fernet import Fernet

from control_plane.api.openapi import APP_WIDE
from control_plane.core.config import Settings
from control_plane.main import create_app


def _schema() -> dict:
    settings = Settings.model_validate(
        {"database_url": "postgresql://x@127.0.0.1:1/none", "encryption_keys": Fernet.generate_key().decode()}
    )
    return create_app(settings).openapi()


def test_every_operation_documents_what_the_middleware_can_answer() -> None:
    missing = []
    for path, item in _schema()["paths"].items():
        for method, operation in item.items():
            for status, (methods, _) in APP_WIDE.items():
                if method in methods and status not in operation["responses"]:
                    missing.append(f"{method.upper()} {path}: {status}")
    assert not missing, missing


def test_idempotency_in_progress_is_documented_on_a_post_that_documents_no_conflict_itself() -> None:
    # POST /v1/metadata/submit documents 204/401/403/422 itself; the Idempotency-Key middleware can
    # also answer 409 "in progress" and 413, and the database handlers 503 (issue 10: schemathesis ST103)
    responses = _schema()["paths"]["/v1/metadata/submit"]["post"]["responses"]
    assert {"409", "413", "503"} <= set(responses)
    assert "Idempotency-Key" in responses["409"]["description"]
