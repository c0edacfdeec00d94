"""Managed Redis: a Deployment (Recreate, no persistence) and its Service."""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings
from .common import Platform, metadata, quantity_map, redis_name, selector_labels
from .security import redis_hardening

REDIS_PORT = 6379


def build_redis_deployment(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    managed = cr.spec.redis.managed
    assert managed is not None, "only for a managed Redis"
    container: dict[str, Any] = {
        "name": "redis",
        "image": managed.image or settings.redis_image,
        "args": ["--save", "", "--appendonly", "no"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "readinessProbe": {
            "exec": {"command": ["redis-cli", "ping"]},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
        },
        "livenessProbe": {
            "exec": {"command": ["redis-cli", "ping"]},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
        },
    }
    res = quantity_map(managed.resources)
    if res:
        container["resources"] = res
    pod: dict[str, Any] = {"containers": [container]}
    redis_hardening(cr).apply(pod, container)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(cr, redis_name(cr), "redis"),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector_labels(cr, "redis")},
            "template": {
                "metadata": {"labels": metadata(cr, "", "redis")["labels"]},
                "spec": pod,
            },
        },
    }


def build_redis_service(cr: Platform, settings: OperatorSettings) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(cr, redis_name(cr), "redis"),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(cr, "redis"),
            "ports": [{"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}],
        },
    }
