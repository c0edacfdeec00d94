"""Every object a resource using every new field makes, checked against real upstream schemas: the
built-in kinds with kubernetes-validate --strict (1.30 and the newest), ScaledObjects with KEDA's own
models (cloudcoil-models-keda), VirtualServices with Istio's (cloudcoil-models-istio) in each served
version, unknown fields refused. HTTPRoutes: no PyPI package ships the Gateway API schema, so they are
checked against the minimal CRD written for the tests (and on the apiserver in the integration tier)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.istio.networking import v1 as istio_v1
from cloudcoil.models.istio.networking import v1alpha3 as istio_v1alpha3
from cloudcoil.models.istio.networking import v1beta1 as istio_v1beta1
from cloudcoil.models.keda import v1alpha1 as keda_v1alpha1
from lgp_operator.builders.common import Capabilities
from lgp_operator.builders.desired import build_desired

from .conftest import make_cr

DATA = Path(__file__).resolve().parents[2] / "integration" / "operator" / "data"
PROM = {
    "type": "prometheus",
    "name": "inflight",
    "metadata": {"serverAddress": "http://prom:9090", "query": "sum(inflight)", "threshold": "50"},
    "authenticationRef": {"name": "prom-auth"},
}
EVERYTHING = {
    "revision": {"id": "r1", "number": 1},
    "labels": {"team": "agents"},
    "annotations": {"owner.example.com/contact": "agents@example.com"},
    "serviceAccount": {"create": True, "annotations": {"iam.gke.io/gcp-service-account": "a@p.iam"}},
    "apiServer": {
        "replicas": 2,
        "initContainers": [{"name": "warm", "image": "busybox:1.36", "command": ["true"]}],
        "sidecars": [
            {
                "name": "proxy",
                "image": "envoyproxy/envoy:v1.30",
                "ports": [{"containerPort": 9901, "name": "admin"}],
                "resources": {"requests": {"cpu": "50m"}},
            }
        ],
        "volumes": [{"name": "ca", "configMap": {"name": "corp-ca"}}],
        "volumeMounts": [{"name": "ca", "mountPath": "/etc/ssl/corp", "readOnly": True}],
    },
    "queue": {"enabled": True, "volumes": [{"name": "scratch", "emptyDir": {}}]},
    "autoscaling": {
        "enabled": True,
        "minReplicas": 2,
        "queueMaxReplicas": 20,
        "keda": {
            "pollingInterval": 10,
            "fallback": {"failureThreshold": 3, "replicas": 2},
            "additionalTriggers": {"queue": [PROM]},
        },
    },
    "placement": {
        "priorityClassName": "agents",
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ],
    },
    "ingress": {"enabled": True, "annotations": {"a.example.com/b": "c"}},
}
ISTIO = {
    "networking.istio.io/v1": istio_v1.VirtualService,
    "networking.istio.io/v1beta1": istio_v1beta1.VirtualService,
    "networking.istio.io/v1alpha3": istio_v1alpha3.VirtualService,
}


def strictly(model: Any, obj: dict[str, Any]) -> None:
    """Valid for the upstream model, and nothing the model does not know (it would drop it)."""
    back = model.model_validate(obj).model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert back == obj, f"{obj['kind']}: fields the upstream schema does not have"


def crd_schema(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize(
    ("mode", "env", "caps"),
    [
        ("ingress", {"shared_host": "agents.example.com", "base_path": "/lgp"}, Capabilities()),
        ("gateway", {"gateway_name": "public", "shared_host": "agents.example.com"}, Capabilities()),
        ("istio", {"istio_gateway": "istio-system/public", "shared_host": "a.example.com"}, Capabilities()),
        (
            "istio",
            {"istio_gateway": "gw", "shared_host": "a.example.com"},
            Capabilities(virtual_service_api="networking.istio.io/v1alpha3", keda=False),
        ),
        (
            "gateway",
            {"gateway_name": "public", "shared_host": "a.example.com"},
            Capabilities(http_route_api="gateway.networking.k8s.io/v1beta1"),
        ),
    ],
)
def test_every_object_passes_the_upstream_schemas(settings, mode, env, caps):
    settings.routing = mode
    for k, v in env.items():
        setattr(settings, k, v)
    objs = build_desired(make_cr(EVERYTHING), settings, caps, postgres_password="pw").objects
    seen = set()
    for obj in objs:
        kind = obj["kind"]
        seen.add(kind)
        if kind == "ScaledObject":
            strictly(keda_v1alpha1.ScaledObject, obj)
        elif kind == "VirtualService":
            strictly(ISTIO[obj["apiVersion"]], obj)
        elif kind == "HTTPRoute":
            jsonschema.validate(obj, crd_schema("gateway-httproute-crd.yaml"))
        else:
            for version in ("1.30.0", kubernetes_validate.latest_version()):
                kubernetes_validate.validate(obj, version, strict=True)
    route = {"ingress": "Ingress", "gateway": "HTTPRoute", "istio": "VirtualService"}[mode]
    assert route in seen and "ServiceAccount" in seen


def test_the_strict_check_catches_an_unknown_field(settings):
    settings.routing, settings.istio_gateway = "istio", "gw"
    vs = next(
        o
        for o in build_desired(make_cr({"ingress": {"enabled": True, "host": "a.b"}}), settings).objects
        if o["kind"] == "VirtualService"
    )
    vs["spec"]["http"][0]["matchs"] = []
    with pytest.raises(AssertionError, match="fields the upstream schema does not have"):
        strictly(istio_v1.VirtualService, vs)
