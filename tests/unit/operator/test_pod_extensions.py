"""Server pod extensions: init containers, sidecars, volumes and mounts per Deployment, the operator's
own ServiceAccount for the server pods, priorityClassName and topology spread constraints, and the
resource model's refusals (duplicate names, two service accounts)."""

from __future__ import annotations

import pytest
from lgp_operator.builders.common import InvalidSpec
from lgp_operator.builders.deployment import build_api_server_deployment, build_queue_deployment
from lgp_operator.builders.desired import build_desired
from lgp_operator.builders.service import build_service_account

from .conftest import make_cr

PROXY = {"name": "proxy", "image": "envoyproxy/envoy:v1.30", "args": ["-c", "/etc/envoy.yaml"]}
MIGRATE = {"name": "warm", "image": "busybox:1.36", "command": ["true"]}
CA = {"name": "ca", "configMap": {"name": "corp-ca"}}
CA_MOUNT = {"name": "ca", "mountPath": "/etc/ssl/corp", "readOnly": True}


@pytest.mark.parametrize(
    ("workload", "build", "container"),
    [
        ("apiServer", build_api_server_deployment, "api-server"),
        ("queue", build_queue_deployment, "queue-worker"),
    ],
)
def test_each_deployment_gets_only_its_own_extensions(settings, workload, build, container):
    ext = {"initContainers": [MIGRATE], "sidecars": [PROXY], "volumes": [CA], "volumeMounts": [CA_MOUNT]}
    cr = make_cr({workload: ext, "queue": {"enabled": True, **(ext if workload == "queue" else {})}})
    pod = build(cr, settings)["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == [container, "proxy"]
    assert pod["containers"][1] == PROXY  # every Kubernetes field passes through as written
    assert pod["initContainers"] == [MIGRATE]
    assert pod["volumes"][0] == CA  # then the writable emptyDirs of spec.security
    assert pod["containers"][0]["volumeMounts"][0] == CA_MOUNT
    other = build_queue_deployment if build is build_api_server_deployment else build_api_server_deployment
    plain = other(cr, settings)["spec"]["template"]["spec"]
    assert len(plain["containers"]) == 1 and "initContainers" not in plain
    assert "ca" not in {v["name"] for v in plain["volumes"]}


def test_no_extensions_no_keys(settings):
    pod = build_api_server_deployment(make_cr(), settings)["spec"]["template"]["spec"]
    assert not {"initContainers", "priorityClassName", "topologySpreadConstraints"} & pod.keys()
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]  # only spec.security's


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"apiServer": {"sidecars": [{**PROXY, "name": "api-server"}]}}, "container name 'api-server'"),
        ({"queue": {"sidecars": [PROXY], "initContainers": [{**MIGRATE, "name": "proxy"}]}}, "'proxy'"),
        ({"apiServer": {"volumes": [CA, CA]}}, "volume name 'ca'"),
        ({"apiServer": {"sidecars": [{"name": "x"}]}}, r"spec\.apiServer\.sidecars\.0\.image"),
        ({"apiServer": {"volumeMounts": [{"name": "ca", "mountPath": "etc"}]}}, "mountPath"),
        (
            {"serviceAccount": {"create": True}, "placement": {"serviceAccountName": "mine"}},
            "serviceAccount.create and placement.serviceAccountName",
        ),
        (
            {"placement": {"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "z"}]}},
            "maxSkew",
        ),
    ],
)
def test_refused_with_the_field_named(spec, field):
    with pytest.raises(InvalidSpec, match=field):
        make_cr(spec)


def test_the_operator_makes_an_owned_service_account_for_the_server_pods(settings):
    ann = {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/agent"}
    cr = make_cr({"serviceAccount": {"create": True, "annotations": ann}, "queue": {"enabled": True}})
    sa = build_service_account(cr, settings)
    assert sa["kind"] == "ServiceAccount" and sa["metadata"]["name"] == "demo"
    assert sa["metadata"]["annotations"] == ann
    assert sa["metadata"]["ownerReferences"][0]["uid"] == "uid-1"  # deleted with the resource
    assert ("ServiceAccount", "demo") in build_desired(cr, settings).identities()
    for build in (build_api_server_deployment, build_queue_deployment):
        pod = build(cr, settings)["spec"]["template"]["spec"]
        # the deprecated twin too, so dropping the account later really drops it (see the apiserver test)
        assert pod["serviceAccountName"] == pod["serviceAccount"] == "demo"
    off = make_cr({"placement": {"serviceAccountName": "mine"}})
    assert ("ServiceAccount", "demo") not in build_desired(off, settings).identities()  # pruned if it was
    assert (
        build_api_server_deployment(off, settings)["spec"]["template"]["spec"]["serviceAccountName"] == "mine"
    )


def test_priority_and_topology_spread_default_to_each_deployments_own_pods(settings):
    zone = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
    own = {**zone, "topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"x": "y"}}}
    cr = make_cr(
        {
            "queue": {"enabled": True},
            "placement": {"priorityClassName": "agents", "topologySpreadConstraints": [zone, own]},
        }
    )
    for build, component in ((build_api_server_deployment, "api-server"), (build_queue_deployment, "queue")):
        pod = build(cr, settings)["spec"]["template"]["spec"]
        assert pod["priorityClassName"] == "agents"
        first, second = pod["topologySpreadConstraints"]
        assert first == {
            **zone,
            "labelSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "langgraph",
                    "app.kubernetes.io/instance": "demo",
                    "app.kubernetes.io/component": component,
                }
            },
        }
        assert second == own  # a selector of its own is kept


def test_a_volume_named_like_one_the_operator_adds_is_refused(settings):
    with pytest.raises(InvalidSpec, match="'tmp' is taken"):
        build_api_server_deployment(
            make_cr({"apiServer": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}), settings
        )


def test_the_server_keeps_its_hardening_and_sidecars_keep_what_they_say(settings):
    pod = build_api_server_deployment(
        make_cr({"apiServer": {"sidecars": [PROXY], "volumes": [CA]}}), settings
    )
    spec = pod["spec"]["template"]["spec"]
    assert spec["containers"][0]["securityContext"]  # spec.security's defaults on the server container
    assert "securityContext" not in spec["containers"][1]  # a sidecar is as written (PodSecurity judges it)
    assert next(v["name"] for v in spec["volumes"]) == "ca"
