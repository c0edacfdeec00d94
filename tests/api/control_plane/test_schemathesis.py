"""Schemathesis against the OpenAPI document: every operation with generated valid and invalid inputs,
all checks on, zero failures allowed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from cryptography.fernet import Fernet
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from control_plane.core.config import Settings
from control_plane.main import create_app
from lgp_local.procs import free_port
from tests.api.control_plane.conftest import (
    ADMIN_KEY,
    make_settings,
)

# Two configured expectations. Input the schema allows may still break a rule the schema cannot express
# (an unknown listener id, a namespace the listener may not manage, min_replicas > max_replicas, a
# reserved env name): that is 422 naming the field, or 409 for a duplicate name / refused transition.
# Invalid input may also be refused for its size (413) before it is parsed.
NEGATIVE = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
POSITIVE = ["2xx", "304", "401", "403", "404", "409", "422"]
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"expected-statuses": POSITIVE},
        "negative_data_rejection": {"expected-statuses": NEGATIVE},
    },
    "generation": {"max-examples": 40},
    # LangGraph's control-plane API (/api-host) refuses with 400 what its schema allows but lgp does not do
    # (a build source, agent mode, a create without a listener, push tokens): the CLI turns those words
    # into advice
    "operations": [
        {
            "include-path-regex": "^/api-host/",
            "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE, "400"]}},
        }
    ],
}


def _openapi() -> dict[str, Any]:
    """The document the running server serves (building the app touches no database)."""
    settings = Settings.model_validate(
        {
            "database_url": "postgresql://schema@127.0.0.1:1/none",
            "encryption_keys": Fernet.generate_key().decode(),
        }
    )
    return create_app(settings).openapi()


SCHEMA = schemathesis.openapi.from_dict(_openapi(), config=SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture(scope="module")
def st_server(postgres_server: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """A real uvicorn server (in a thread) on a fresh database, with a tenant, a listener and a deployment."""
    name = f"st_{uuid.uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    app = create_app(make_settings(url, long_poll_max_seconds=0.2))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{server.config.port}"
        admin = {"X-Api-Key": ADMIN_KEY}
        tenant = httpx.post(f"{base}/v1/tenants", json={"name": "st"}, headers=admin).json()
        key = httpx.post(f"{base}/v1/api-keys", json={"name": "st", "tenant_id": tenant["id"]}, headers=admin)
        user = {"X-Api-Key": key.json()["key"]}
        listener = httpx.post(
            f"{base}/v1/listeners", json={"name": "l", "namespaces": ["agents"]}, headers=user
        )
        d = httpx.post(
            f"{base}/v1/deployments",
            headers=user,
            json={
                "name": "agent",
                "type": "development",
                "image": "agent:1",
                "listener_id": listener.json()["id"],
                "namespace": "agents",
            },
        )
        assert d.status_code == 201, d.text
        yield base, {**user, "Authorization": f"Bearer {listener.json()['token']}"}
    finally:
        server.should_exit = True
        thread.join(15)
        postgres_server.drop_database(name)


@SCHEMA.parametrize()
def test_openapi_conformance(case: Any, st_server: tuple[str, dict[str, str]]) -> None:
    base, credentials = st_server
    meta = case.meta
    # a case that tests missing or malformed headers keeps its own (then 401 is the expected answer)
    headers = {} if meta is not None and meta.is_negative_at(ParameterLocation.HEADER) else credentials
    case.call_and_validate(base_url=base, headers=headers)
