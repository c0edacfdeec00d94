"""Managed Postgres builders: StatefulSet, headless Service, password Secret."""

from __future__ import annotations

import base64

import pytest
from lgp_operator.builders.postgres import (
    build_postgres_secret,
    build_postgres_service,
    build_postgres_statefulset,
    new_password,
)

from .conftest import make_cr


def test_statefulset(settings):
    cr = make_cr(
        {"database": {"managed": {"storage": "20Gi", "storageClassName": "fast", "maxConnections": 300}}}
    )
    sts = build_postgres_statefulset(cr, settings)
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert sts["metadata"]["name"] == "demo-postgres" and sts["spec"]["serviceName"] == "demo-postgres"
    assert c["image"] == settings.postgres_image == "pgvector/pgvector:pg16"  # pgvector by default
    assert c["args"] == ["-c", "max_connections=300"]
    assert {
        "name": "POSTGRES_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "demo-postgres", "key": "password"}},
    } in c["env"]
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "fast"
    assert claim["metadata"]["labels"]["app.kubernetes.io/component"] == "postgres"


def test_image_override(settings):
    sts = build_postgres_statefulset(make_cr({"database": {"managed": {"image": "postgres:15"}}}), settings)
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:15"
    settings.postgres_image = "localhost/lgp/postgres:15-bookworm"  # the operator's own (make dev's)
    sts = build_postgres_statefulset(make_cr(), settings)
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "localhost/lgp/postgres:15-bookworm"


def test_headless_service(settings):
    svc = build_postgres_service(make_cr(), settings)
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["ports"][0]["protocol"] == "TCP"


@pytest.mark.parametrize(("retain", "owned"), [(True, False), (False, True)])
def test_secret_ownership_follows_retain_on_delete(settings, retain, owned):
    cr = make_cr({"database": {"managed": {"retainOnDelete": retain}}})
    secret = build_postgres_secret(cr, settings, "s3cret")
    assert ("ownerReferences" in secret["metadata"]) is owned
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["password"] == "s3cret"
    assert data["uri"] == "postgres://postgres:s3cret@demo-postgres.ns.svc:5432/postgres?sslmode=disable"


def test_new_passwords_are_random_and_url_safe():
    a, b = new_password(), new_password()
    assert a != b and len(a) >= 24
    assert all(ch.isalnum() or ch in "-_" for ch in a)
