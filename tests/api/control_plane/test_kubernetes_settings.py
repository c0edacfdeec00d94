"""A deployment's Kubernetes settings over HTTP (labels, annotations, its ServiceAccount, placement, pod
extensions, KEDA settings, queue-worker bounds): stored, shown, in each revision's spec and the listener's
desired state, changed by PATCH (a new revision), restored by a rollback, bad ones a 422 naming the field."""

from __future__ import annotations

from typing import Any

from tests.api.control_plane.conftest import Api
from tests.api.control_plane.test_revisions import setup

K8S: dict[str, Any] = {
    "labels": {"team": "agents"},
    "serviceAccount": {"create": True, "annotations": {"iam.gke.io/gcp-service-account": "a@p.iam"}},
    "placement": {"priorityClassName": "agents"},
    "apiServer": {"sidecars": [{"name": "proxy", "image": "envoyproxy/envoy:v1.30", "args": ["-l", "info"]}]},
    "keda": {"pollingInterval": 10},
}


def test_kubernetes_settings_travel_to_the_listener_and_back(api: Api) -> None:
    _, lis, d = setup(
        api, type="production", kubernetes=K8S, resources={"queue": {"min_replicas": 1, "max_replicas": 20}}
    )
    assert d["kubernetes"] == K8S  # what was given, in the custom resource's shape
    rev1 = d["latest_revision_id"]
    spec = api.get(f"/v1/revisions/{rev1}").json()["spec"]
    assert spec["labels"] == K8S["labels"] and spec["serviceAccount"] == K8S["serviceAccount"]
    assert spec["apiServer"]["sidecars"] == K8S["apiServer"]["sidecars"]
    assert spec["autoscaling"]["keda"] == {"pollingInterval": 10}
    assert (spec["autoscaling"]["queueMinReplicas"], spec["autoscaling"]["queueMaxReplicas"]) == (1, 20)
    desired = lis.desired().json()["deployments"][0]
    assert desired["revision"]["spec"]["placement"] == {"priorityClassName": "agents"}
    lis.status(rev1, "DEPLOYED")

    r = api.patch(f"/v1/deployments/{d['id']}", {"kubernetes": {"labels": {"team": "other"}}})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["latest_revision_id"] != rev1
    assert changed["kubernetes"] == {"labels": {"team": "other"}}  # the whole block is replaced
    same = api.patch(f"/v1/deployments/{d['id']}", {"kubernetes": {"labels": {"team": "other"}}}).json()
    assert same["latest_revision_id"] == changed["latest_revision_id"]  # nothing that runs changed
    lis.status(changed["latest_revision_id"], "DEPLOYED")

    back = api.post(f"/v1/revisions/{rev1}/redeploy")
    assert back.status_code == 201, back.text
    restored = api.get(f"/v1/deployments/{d['id']}").json()
    assert restored["kubernetes"]["serviceAccount"] == K8S["serviceAccount"]
    assert (
        api.get(f"/v1/revisions/{restored['latest_revision_id']}").json()["spec"]["labels"] == K8S["labels"]
    )

    cleared = api.patch(f"/v1/deployments/{d['id']}", {"kubernetes": None}).json()
    assert cleared["kubernetes"] is None
    assert "labels" not in api.get(f"/v1/revisions/{cleared['latest_revision_id']}").json()["spec"]


def test_bad_kubernetes_settings_are_a_422_naming_the_field(api: Api) -> None:
    listener = api.listener()
    base = {"name": "ok", "type": "development", "image": "agent:1", "listener_id": listener["id"]}
    zero = {"type": "postgresql", "metadata": {"targetQueryValue": "0"}}
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"labels": {"bad key": "x"}}, ["body", "kubernetes", "labels", "bad key", "[key]"]),
        (
            {"keda": {"additionalTriggers": {"queue": [zero]}}},
            ["body", "kubernetes", "keda", "additionalTriggers", "queue", 0],
        ),
        (
            {"apiServer": {"sidecars": [{"name": "api-server", "image": "x:1"}]}},
            ["body", "kubernetes", "apiServer"],
        ),
        ({"surprise": 1}, ["body", "kubernetes", "surprise"]),
    ]
    for kubernetes, loc in cases:
        r = api.post("/v1/deployments", {**base, "namespace": "agents", "kubernetes": kubernetes})
        assert r.status_code == 422, (kubernetes, r.text)
        detail = r.json()["detail"]
        assert any(e["loc"][: len(loc)] == loc for e in detail), (kubernetes, detail)
    r = api.post(
        "/v1/deployments",
        {**base, "namespace": "agents", "resources": {"queue": {"min_replicas": 5, "max_replicas": 2}}},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [
        "body",
        "resources",
        "queue",
        "max_replicas",
    ]
    assert api.get("/v1/deployments").json()["count"] == 0
