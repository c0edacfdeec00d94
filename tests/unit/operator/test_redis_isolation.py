"""Several deployments cannot collide on one Redis (their helm#689: installs sharing a Redis consumed each
other's queue): each managed Redis is the deployment's own (its REDIS_URI names its own Service), and
with an external Redis every deployment gets a REDIS_KEY_PREFIX of its own. lgp's listener has no Redis
queue at all (it long-polls the control plane)."""

from __future__ import annotations

import itertools

from lgp_operator.builders.deployment import build_api_server_deployment, build_queue_deployment
from lgp_operator.builders.desired import build_desired

from .conftest import make_cr

EXTERNAL = {"redis": {"external": {"secretRef": {"name": "shared-redis"}}}, "queue": {"enabled": True}}
PLACES = [("agent", "team-a"), ("agent", "team-b"), ("other", "team-a")]


def _env(dep):
    return {
        e["name"]: e.get("value", e.get("valueFrom"))
        for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def test_each_managed_redis_is_the_deployments_own(settings):
    uris = set()
    for name, ns in PLACES:
        cr = make_cr({"queue": {"enabled": True}}, name=name, namespace=ns)
        api, queue = (
            _env(build_api_server_deployment(cr, settings)),
            _env(build_queue_deployment(cr, settings)),
        )
        assert api["REDIS_URI"] == queue["REDIS_URI"] == f"redis://{name}-redis.{ns}.svc:6379/0"
        assert "REDIS_KEY_PREFIX" not in api  # nobody else uses it
        redis = {
            o["metadata"]["name"] for o in build_desired(cr, settings).objects if o["kind"] == "Deployment"
        }
        assert f"{name}-redis" in redis
        uris.add(api["REDIS_URI"])
    assert len(uris) == len(PLACES)


def test_a_shared_external_redis_gets_a_key_prefix_per_deployment(settings):
    prefixes = []
    for name, ns in PLACES:
        cr = make_cr(EXTERNAL, name=name, namespace=ns)
        api, queue = (
            _env(build_api_server_deployment(cr, settings)),
            _env(build_queue_deployment(cr, settings)),
        )
        assert api["REDIS_URI"] == {"secretKeyRef": {"name": "shared-redis", "key": "uri"}}
        assert api["REDIS_KEY_PREFIX"] == queue["REDIS_KEY_PREFIX"] == f"lgp:{ns}:{name}:"
        assert not any(o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-redis")
                       for o in build_desired(cr, settings).objects)  # fmt: skip
        prefixes.append(api["REDIS_KEY_PREFIX"])
    for a, b in itertools.combinations(prefixes, 2):
        assert not a.startswith(b) and not b.startswith(a)  # no prefix contains another
