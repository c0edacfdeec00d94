"""Security on a real kube-apiserver: the restricted pod templates and the NetworkPolicies as the
apiserver stores them, the PodSecurity condition and its Warning Event when a spec goes below
restricted, the policies pruned when turned off; and the operator's /healthz and /readyz (alive but not
ready while a second replica waits for the Lease). NetworkPolicy is stored, not enforced: no network
plugin runs here."""

from __future__ import annotations

import httpx
from lgp_operator.k8s.kube import Kube

from lgp_local.procs import free_port

from .conftest import apply_spec, cond, events_for, get_cr, wait_for, wait_ready

NP = "networking.k8s.io/v1"


def _policies(kube: Kube, ns: str) -> dict[str, dict]:
    return {
        o["metadata"]["name"]: o["spec"]
        for o in kube.list(NP, "NetworkPolicy", ns, "app.kubernetes.io/managed-by=lgp-operator")
    }


def test_restricted_pods_policies_and_the_pod_security_condition(operator, kube, namespace, kubelet):
    spec = {"revision": {"id": "r1"}, "queue": {"enabled": True}}
    apply_spec(kube, "sec", namespace, spec)
    cr = wait_ready(kube, "sec", namespace, "r1")
    assert (cond(cr, "PodSecurity")["status"], cond(cr, "PodSecurity")["reason"]) == ("True", "Restricted")
    pod = kube.get("apps/v1", "Deployment", namespace, "sec-api-server")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    sts = kube.get("apps/v1", "StatefulSet", namespace, "sec-postgres")["spec"]["template"]["spec"]
    assert sts["securityContext"]["fsGroup"] == 999
    policies = _policies(kube, namespace)
    assert set(policies) == {"sec-api-server", "sec-queue", "sec-postgres", "sec-redis"}
    sources = policies["sec-postgres"]["ingress"][0]["from"]
    assert [s["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for s in sources] == [
        "api-server",
        "queue",
    ]

    # Below restricted on purpose: reported (condition and Warning Event), still served.
    root = {"server": {"podSecurityContext": {"runAsUser": 0, "runAsNonRoot": False}}}
    apply_spec(kube, "sec", namespace, {**spec, "revision": {"id": "r2"}, "security": root})
    cr = wait_ready(kube, "sec", namespace, "r2")
    ps = cond(cr, "PodSecurity")
    assert (ps["status"], ps["reason"]) == ("False", "BelowRestricted")
    assert "spec.security.server.podSecurityContext.runAsUser: 0 (root) is not allowed" in ps["message"]
    wait_for(
        lambda: any(
            e["reason"] == "BelowRestricted" and e["type"] == "Warning"
            for e in events_for(kube, "sec", namespace)
        ),
        30,
        "a Warning Event BelowRestricted",
    )

    # Narrowed ingress, then no policies at all.
    narrowed = {"networkPolicy": {"ingressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}}
    apply_spec(kube, "sec", namespace, {**spec, "revision": {"id": "r2"}, "security": {**root, **narrowed}})
    wait_for(
        lambda: (
            _policies(kube, namespace)["sec-api-server"]["ingress"][0].get("from")
            == [{"ipBlock": {"cidr": "10.0.0.0/8"}}]
        ),
        30,
        "the api server's ingress narrowed",
    )
    off = {**root, "networkPolicy": {"enabled": False}}
    apply_spec(kube, "sec", namespace, {**spec, "revision": {"id": "r2"}, "security": off})
    wait_for(lambda: _policies(kube, namespace) == {}, 30, "the NetworkPolicies pruned")
    assert cond(get_cr(kube, "sec", namespace), "Ready")["status"] == "True"


def test_health_endpoints_of_a_leader_and_a_waiting_replica(operator_factory, kube):
    lease = "lgp-health-test"
    ports = free_port(), free_port()
    leader = operator_factory(LGP_OPERATOR_LEADER_ELECTION_NAME=lease, LGP_OPERATOR_HEALTH_PORT=str(ports[0]))
    leader.start()

    def answer(port: int, path: str) -> int | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
        except httpx.TransportError:
            return None

    wait_for(lambda: answer(ports[0], "/readyz") == 200, 60, "the leader ready")
    assert answer(ports[0], "/healthz") == 200
    standby = operator_factory(
        LGP_OPERATOR_LEADER_ELECTION_NAME=lease, LGP_OPERATOR_HEALTH_PORT=str(ports[1])
    )
    standby.start()
    wait_for(lambda: answer(ports[1], "/healthz") == 200, 60, "the waiting replica alive")
    assert answer(ports[1], "/readyz") == 503
    assert "waiting for the leader Lease" in httpx.get(f"http://127.0.0.1:{ports[1]}/readyz").text
