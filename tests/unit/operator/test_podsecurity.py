"""The Pod Security Standards check (restricted and baseline rules over a pod spec), the field of the
resource each finding is traced to, and the verdict over every pod the operator builds."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lgp_operator.builders.desired import build_desired
from lgp_operator.podsecurity import Violation, assess, check_pod, spec_field

from .conftest import make_cr

RESTRICTED: dict[str, Any] = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "c",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "s", "secret": {"secretName": "x"}}],
}


def pod(**changes: Any) -> dict[str, Any]:
    """RESTRICTED with ``changes``: ``pod__key`` on the pod's securityContext, ``c__key`` on the container's,
    anything else on the pod spec."""
    out = copy.deepcopy(RESTRICTED)
    for key, value in changes.items():
        if key.startswith("pod__"):
            target, key = out["securityContext"], key.removeprefix("pod__")
        elif key.startswith("c__"):
            target, key = out["containers"][0]["securityContext"], key.removeprefix("c__")
        else:
            target = out
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return out


C = "containers[c].securityContext"
CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("restricted", {}, []),
    ("runAsNonRoot only on the container", {"pod__runAsNonRoot": None, "c__runAsNonRoot": True}, []),
    (
        "seccomp only on the container",
        {"pod__seccompProfile": None, "c__seccompProfile": {"type": "Localhost"}},
        [],
    ),
    (
        "NET_BIND_SERVICE may be added",
        {"c__capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
        [],
    ),
    ("runAsNonRoot unset", {"pod__runAsNonRoot": None}, [("restricted", "securityContext.runAsNonRoot")]),
    (
        "runAsNonRoot false on the container",
        {"c__runAsNonRoot": False},
        [("restricted", f"{C}.runAsNonRoot")],
    ),
    ("root user", {"pod__runAsUser": 0}, [("restricted", "securityContext.runAsUser")]),
    ("root user on the container", {"c__runAsUser": 0}, [("restricted", f"{C}.runAsUser")]),
    (
        "privilege escalation unset",
        {"c__allowPrivilegeEscalation": None},
        [("restricted", f"{C}.allowPrivilegeEscalation")],
    ),
    ("capabilities kept", {"c__capabilities": None}, [("restricted", f"{C}.capabilities.drop")]),
    (
        "a baseline capability added",
        {"c__capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}},
        [("restricted", f"{C}.capabilities.add")],
    ),
    (
        "a capability beyond baseline",
        {"c__capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}},
        [("baseline", f"{C}.capabilities.add")],
    ),
    (
        "no seccomp profile",
        {"pod__seccompProfile": None},
        [("restricted", "securityContext.seccompProfile.type")],
    ),
    (
        "seccomp Unconfined",
        {"pod__seccompProfile": {"type": "Unconfined"}},
        [("baseline", "securityContext.seccompProfile.type")],
    ),
    ("privileged", {"c__privileged": True}, [("baseline", f"{C}.privileged")]),
    ("procMount Unmasked", {"c__procMount": "Unmasked"}, [("baseline", f"{C}.procMount")]),
    ("host network", {"hostNetwork": True}, [("baseline", "hostNetwork")]),
    (
        "hostPath volume",
        {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]},
        [("baseline", "volumes[h].hostPath")],
    ),
    (
        "a volume type restricted forbids",
        {"volumes": [{"name": "n", "nfs": {}}]},
        [("restricted", "volumes[n]")],
    ),
    (
        "an unsafe sysctl",
        {"pod__sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
        [("baseline", "securityContext.sysctls")],
    ),
    ("a safe sysctl", {"pod__sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}, []),
    (
        "SELinux user",
        {"pod__seLinuxOptions": {"user": "system_u"}},
        [("baseline", "securityContext.seLinuxOptions.user")],
    ),
    ("SELinux container_t", {"pod__seLinuxOptions": {"type": "container_t"}}, []),
]


@pytest.mark.parametrize(("case", "changes", "want"), CASES, ids=[c[0] for c in CASES])
def test_check_pod(case, changes, want):
    found = check_pod(pod(**changes))
    assert [(v.level, v.path) for v in found] == want
    assert all(isinstance(v, Violation) and v.message for v in found)


def test_host_port_and_init_containers_are_checked():
    p = pod()
    p["initContainers"] = [{"name": "init", "ports": [{"containerPort": 80, "hostPort": 80}]}]
    paths = {v.path for v in check_pod(p)}
    assert "initContainers[init].ports" in paths
    assert "initContainers[init].securityContext.allowPrivilegeEscalation" in paths


@pytest.mark.parametrize(
    ("workload", "path", "field"),
    [
        ("server", "securityContext.runAsUser", "spec.security.server.podSecurityContext.runAsUser"),
        (
            "redis",
            "containers[redis].securityContext.capabilities.drop",
            "spec.security.redis.containerSecurityContext.capabilities.drop",
        ),
        ("postgres", "hostNetwork", "spec.security.postgres (hostNetwork)"),
    ],
)
def test_spec_field(workload, path, field):
    assert spec_field(workload, path) == field


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {
            "queue": {"enabled": True},
            "autoscaling": {"enabled": True},
            "ingress": {"enabled": True, "host": "a.b"},
        },
        {
            "database": {"external": {"secretRef": {"name": "pg"}}},
            "redis": {"external": {"secretRef": {"name": "r"}}},
        },
        {"security": {"server": {"automountServiceAccountToken": True, "writablePaths": ["/cache"]}}},
    ],
)
def test_every_default_pod_is_restricted(settings, spec):
    d = build_desired(make_cr(spec), settings, postgres_password="pw")
    assert d.pod_security.restricted, d.pod_security.message()


@pytest.mark.parametrize(
    ("security", "fields", "baseline"),
    [
        (
            {"server": {"podSecurityContext": {"runAsUser": 0, "runAsNonRoot": False}}},
            [
                "spec.security.server.podSecurityContext.runAsUser",
                "spec.security.server.podSecurityContext.runAsNonRoot",
            ],
            True,
        ),
        (
            {"postgres": {"containerSecurityContext": {"allowPrivilegeEscalation": True}}},
            ["spec.security.postgres.containerSecurityContext.allowPrivilegeEscalation"],
            True,
        ),
        (
            {"redis": {"containerSecurityContext": {"privileged": True}}},
            ["spec.security.redis.containerSecurityContext.privileged"],
            False,
        ),
        (
            {"server": {"containerSecurityContext": {"readOnlyRootFilesystem": False}}},
            [],  # not a Pod Security Standard rule: still restricted
            True,
        ),
    ],
)
def test_overrides_below_restricted_are_traced_to_their_field(settings, security, fields, baseline):
    d = build_desired(
        make_cr({"queue": {"enabled": True}, "security": security}), settings, postgres_password="p"
    )
    assert [f for f, _, _ in d.pod_security.findings] == fields  # once, though two server pods break them
    assert d.pod_security.baseline is baseline
    for f in fields:
        assert f in d.pod_security.message()


def test_assess_over_workloads():
    a = assess([("server", pod(pod__runAsUser=0)), ("redis", pod())])
    assert a.findings == (
        ("spec.security.server.podSecurityContext.runAsUser", "0 (root) is not allowed", "restricted"),
    )
