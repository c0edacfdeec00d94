"""Managed Postgres: a StatefulSet with a volumeClaimTemplate, a headless Service and a password Secret.

The password is generated once by the reconcile (``new_password``) and read back from the Secret
afterwards; the builders only render it. With retainOnDelete the Secret has no owner reference, so
garbage collection leaves it (and the PVC, which StatefulSets never delete) behind.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from ..settings import OperatorSettings
from .common import Platform, metadata, postgres_name, quantity_map, selector_labels
from .security import postgres_hardening

PG_PORT = 5432
PG_USER = "postgres"
PG_DB = "postgres"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def postgres_uri(cr: Platform, password: str) -> str:
    host = f"{postgres_name(cr)}.{cr.namespace}.svc"
    return f"postgres://{PG_USER}:{password}@{host}:{PG_PORT}/{PG_DB}?sslmode=disable"


def _retain(cr: Platform) -> bool:
    managed = cr.spec.database.managed
    return bool(managed and managed.retain_on_delete)


def build_postgres_secret(cr: Platform, settings: OperatorSettings, password: str) -> dict[str, Any]:
    """Keys ``username``, ``password`` and ``uri`` (POSTGRES_URI and the KEDA trigger read ``uri``)."""

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(cr, postgres_name(cr), "postgres", owned=not _retain(cr)),
        "type": "Opaque",
        "data": {"username": b64(PG_USER), "password": b64(password), "uri": b64(postgres_uri(cr, password))},
    }


def build_postgres_service(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(cr, postgres_name(cr), "postgres"),
        "spec": {
            "clusterIP": "None",
            "selector": selector_labels(cr, "postgres"),
            "ports": [{"name": "postgres", "port": PG_PORT, "targetPort": "postgres", "protocol": "TCP"}],
        },
    }


def build_postgres_statefulset(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    managed = cr.spec.database.managed
    assert managed is not None, "only for a managed database"
    name = postgres_name(cr)
    container: dict[str, Any] = {
        "name": "postgres",
        "image": managed.image or settings.postgres_image,
        "args": ["-c", f"max_connections={managed.max_connections}"],
        "ports": [{"name": "postgres", "containerPort": PG_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "POSTGRES_USER", "value": PG_USER},
            {"name": "POSTGRES_DB", "value": PG_DB},
            {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": name, "key": "password"}}},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "readinessProbe": {
            "exec": {"command": ["pg_isready", "-U", PG_USER, "-d", PG_DB]},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "exec": {"command": ["pg_isready", "-U", PG_USER, "-d", PG_DB]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 6,
        },
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    }
    res = quantity_map(managed.resources)
    if res:
        container["resources"] = res
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": managed.storage}},
    }
    if managed.storage_class_name:
        claim_spec["storageClassName"] = managed.storage_class_name
    claim_meta = {"name": "data", "labels": metadata(cr, name, "postgres")["labels"]}
    pod: dict[str, Any] = {"containers": [container], "terminationGracePeriodSeconds": 60}
    postgres_hardening(cr).apply(pod, container)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(cr, name, "postgres"),
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": selector_labels(cr, "postgres")},
            "template": {
                "metadata": {"labels": metadata(cr, name, "postgres")["labels"]},
                "spec": pod,
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": claim_meta,
                    "spec": claim_spec,
                }
            ],
        },
    }
