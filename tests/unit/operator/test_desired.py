"""The whole desired set: which children each spec asks for, and that all of them pass
kubernetes-validate --strict for Kubernetes 1.30 and the newest schemas."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from lgp_operator.builders.common import NEWEST, Capabilities
from lgp_operator.builders.desired import build_desired

from .conftest import make_cr

KEDA_CRD = (
    Path(__file__).resolve().parents[2] / "integration" / "operator" / "data" / "keda-scaledobject-crd.yaml"
)
K120 = Capabilities(pdb_api="policy/v1beta1", hpa_api="autoscaling/v2beta2", keda=False)


@pytest.mark.parametrize(
    ("spec", "caps", "expected"),
    [
        (
            {},
            NEWEST,
            {
                ("Secret", "demo-postgres"),
                ("Service", "demo-postgres"),
                ("StatefulSet", "demo-postgres"),
                ("Service", "demo-redis"),
                ("Deployment", "demo-redis"),
                ("Deployment", "demo-api-server"),
                ("Service", "demo"),
            },
        ),
        (
            {
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            NEWEST,
            {("Deployment", "demo-api-server"), ("Service", "demo")},
        ),
        (
            {
                "queue": {"enabled": True, "replicas": 2},
                "apiServer": {"replicas": 2},
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            NEWEST,
            {
                ("Deployment", "demo-api-server"),
                ("Deployment", "demo-queue"),
                ("Service", "demo"),
                ("PodDisruptionBudget", "demo-api-server"),
                ("PodDisruptionBudget", "demo-queue"),
            },
        ),
        (
            {
                "autoscaling": {"enabled": True},
                "queue": {"enabled": True},
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            NEWEST,
            {
                ("Deployment", "demo-api-server"),
                ("Deployment", "demo-queue"),
                ("Service", "demo"),
                ("ScaledObject", "demo-api-server"),
                ("ScaledObject", "demo-queue"),
            },
        ),
        (
            {
                "autoscaling": {"enabled": True},
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            K120,
            {
                ("Deployment", "demo-api-server"),
                ("Service", "demo"),
                ("HorizontalPodAutoscaler", "demo-api-server"),
            },
        ),
        (
            {
                "autoscaling": {"enabled": True},
                "suspend": True,
                "database": {"external": {"secretRef": {"name": "pg"}}},
                "redis": {"external": {"secretRef": {"name": "r"}}},
            },
            NEWEST,
            {("Deployment", "demo-api-server"), ("Service", "demo")},
        ),
    ],
)
def test_children_per_spec(settings, spec, caps, expected):
    # each workload (Deployment, StatefulSet) is fenced by a NetworkPolicy of its name
    fences = {("NetworkPolicy", name) for kind, name in expected if kind in ("Deployment", "StatefulSet")}
    assert build_desired(make_cr(spec), settings, caps, postgres_password="pw").identities() == (
        expected | fences
    )
    unfenced = make_cr({**spec, "security": {"networkPolicy": {"enabled": False}}})
    assert build_desired(unfenced, settings, caps, postgres_password="pw").identities() == expected


def test_without_password_the_secret_is_left_out(settings):
    assert ("Secret", "demo-postgres") not in build_desired(make_cr(), settings).identities()


def test_endpoint_and_keda_flag(settings):
    d = build_desired(
        make_cr({"ingress": {"enabled": True, "host": "a.example.com"}, "autoscaling": {"enabled": True}}),
        settings,
        NEWEST,
    )
    assert d.endpoint == "http://a.example.com/" and d.keda
    d = build_desired(make_cr({"autoscaling": {"enabled": True}}), settings, K120)
    assert d.endpoint == "http://demo.ns.svc:8000" and not d.keda


FULL = {
    "revision": {"id": "r1", "number": 1},
    "imagePullSecrets": ["regcred"],
    "env": [{"name": "A", "value": "b"}],
    "envFromSecret": "demo-env",
    "apiServer": {"replicas": 3},
    "queue": {"enabled": True, "replicas": 2},
    "autoscaling": {"enabled": True, "minReplicas": 2},
    "ingress": {
        "enabled": True,
        "host": "a.example.com",
        "className": "nginx",
        "tls": {"enabled": True, "secretName": "tls"},
        "annotations": {"x/y": "z"},
    },
    "placement": {
        "nodeSelector": {"a": "b"},
        "tolerations": [{"key": "k", "operator": "Exists"}],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 1,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"a": "b"}},
                        },
                    }
                ]
            }
        },
        "labels": {"team": "x"},
        "annotations": {"a": "b"},
        "serviceAccountName": "sa",
    },
}


@pytest.mark.parametrize("caps", [NEWEST, Capabilities(keda=False)], ids=["keda", "hpa"])
@pytest.mark.parametrize("version", ["1.30.0", kubernetes_validate.latest_version()])
def test_every_manifest_passes_kubernetes_validate_strict(settings, caps, version):
    settings.license_secret = "lic"
    objs = build_desired(make_cr(FULL), settings, caps, postgres_password="pw").objects
    keda_schema = yaml.safe_load(KEDA_CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    kinds = set()
    for obj in objs:
        kinds.add(obj["kind"])
        if obj["kind"] == "ScaledObject":  # not a built-in kind: check against KEDA's CRD schema
            jsonschema.validate(obj, keda_schema)
        else:
            kubernetes_validate.validate(obj, version, strict=True)
    assert {"Deployment", "StatefulSet", "Service", "Secret", "Ingress", "PodDisruptionBudget"} <= kinds
    assert ("ScaledObject" in kinds) is caps.keda and ("HorizontalPodAutoscaler" in kinds) is not caps.keda
