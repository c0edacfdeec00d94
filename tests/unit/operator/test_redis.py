"""Managed Redis builders."""

from __future__ import annotations

from lgp_operator.builders.redis import build_redis_deployment, build_redis_service

from .conftest import make_cr


def test_redis_deployment_and_service(settings):
    dep = build_redis_deployment(make_cr({"redis": {"managed": {"image": "redis:7.2"}}}), settings)
    assert dep["metadata"]["name"] == "demo-redis"
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "redis:7.2"
    svc = build_redis_service(make_cr(), settings)
    assert svc["spec"]["ports"] == [{"name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP"}]


def test_default_image_from_settings(settings):
    settings.redis_image = "mirror.local/redis:7"
    dep = build_redis_deployment(make_cr(), settings)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.local/redis:7"
