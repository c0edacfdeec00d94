"""spec.labels and spec.annotations reach every child (Deployments, StatefulSet, Services, Secret, route,
ScaledObject/HPA, PDB, ServiceAccount), their pod templates and the claim template; the operator's own
labels and annotations win on a conflict; a StatefulSet already made keeps its claim templates' metadata."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import NEWEST, Capabilities, InvalidSpec
from lgp_operator.builders.desired import build_desired
from lgp_operator.builders.postgres import build_postgres_statefulset, claim_metadata, keep_immutable

from .conftest import make_cr

LABELS = {"team": "agents", "cost-center": "42", "app.kubernetes.io/component": "mine"}
ANNOTATIONS = {"owner.example.com/contact": "agents@example.com", "lgp.dev/revision": "mine"}
SPEC = {
    "labels": LABELS,
    "annotations": ANNOTATIONS,
    "queue": {"enabled": True},
    "apiServer": {"replicas": 2},
    "autoscaling": {"enabled": True, "minReplicas": 2},
    "ingress": {"enabled": True, "host": "a.example.com"},
    "serviceAccount": {"create": True},
}
OURS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}


def _check(meta):
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    assert labels["team"] == "agents" and labels["cost-center"] == "42"
    assert labels["app.kubernetes.io/component"] != "mine"  # ours win
    assert labels.keys() >= OURS
    assert annotations["owner.example.com/contact"] == "agents@example.com"


@pytest.mark.parametrize("caps", [NEWEST, Capabilities(keda=False)], ids=["keda", "hpa"])
def test_every_child_and_template_carries_them(settings, caps):
    objs = build_desired(make_cr(SPEC), settings, caps, postgres_password="pw").objects
    kinds = set()
    for obj in objs:
        kinds.add(obj["kind"])
        _check(obj["metadata"])
        template = (obj.get("spec") or {}).get("template")
        if template:
            _check(template["metadata"])
        for claim in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
            _check(claim["metadata"])
    assert {
        "Deployment",
        "StatefulSet",
        "Service",
        "Secret",
        "Ingress",
        "PodDisruptionBudget",
        "ServiceAccount",
    } <= kinds
    assert ({"ScaledObject"} if caps.keda else {"HorizontalPodAutoscaler"}) <= kinds


def test_the_revision_annotation_and_selectors_stay_ours(settings):
    cr = make_cr({**SPEC, "revision": {"id": "r7"}})
    dep = next(o for o in build_desired(cr, settings).objects if o["metadata"]["name"] == "demo-api-server")
    assert dep["spec"]["template"]["metadata"]["annotations"]["lgp.dev/revision"] == "r7"
    assert "team" not in dep["spec"]["selector"]["matchLabels"]  # selectors never change


def test_placement_labels_sit_between_spec_labels_and_ours(settings):
    cr = make_cr({"labels": {"team": "a", "tier": "x"}, "placement": {"labels": {"tier": "pods"}}})
    dep = next(o for o in build_desired(cr, settings).objects if o["metadata"]["name"] == "demo-api-server")
    assert dep["metadata"]["labels"]["tier"] == "x"
    assert dep["spec"]["template"]["metadata"]["labels"]["tier"] == "pods"


@pytest.mark.parametrize(
    ("labels", "annotations", "field"),
    [
        ({"bad key": "x"}, {}, r"spec\.labels"),
        ({"team": "not valid!"}, {}, r"spec\.labels"),
        ({"team": "x" * 64}, {}, r"spec\.labels"),
        ({}, {"/nope": "x"}, r"spec\.annotations"),
    ],
)
def test_invalid_keys_and_values_are_refused(labels, annotations, field):
    with pytest.raises(InvalidSpec, match=field):
        make_cr({"labels": labels, "annotations": annotations})


def test_a_made_statefulset_keeps_its_claim_templates_metadata_and_claims_get_labels_instead(settings):
    before = build_postgres_statefulset(make_cr(), settings)
    live = {**before, "spec": {**before["spec"]}}
    live["spec"]["volumeClaimTemplates"] = [
        {**t, "spec": {**t["spec"], "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}
        for t in before["spec"]["volumeClaimTemplates"]
    ]
    after = build_postgres_statefulset(make_cr({"labels": {"team": "a"}}), settings)
    kept = keep_immutable(after, live)
    assert (
        kept["spec"]["volumeClaimTemplates"][0]["metadata"]
        == before["spec"]["volumeClaimTemplates"][0]["metadata"]
    )
    assert kept["spec"]["template"]["metadata"]["labels"]["team"] == "a"  # the pods still get them
    # a change of the template's size still reaches the apiserver (which refuses it, naming the field)
    bigger = build_postgres_statefulset(make_cr({"database": {"managed": {"storage": "20Gi"}}}), settings)
    assert keep_immutable(bigger, live)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"] == {
        "requests": {"storage": "20Gi"}
    }
    assert claim_metadata(make_cr({"labels": {"team": "a"}}))["labels"]["team"] == "a"
    other = {"kind": "Deployment", "spec": {}}
    assert keep_immutable(other, live) is other
