"""Whether a pod spec meets the "restricted" (and "baseline") Pod Security Standard, and which field of
the resource makes it fall short. Pure: the reconcile runs it over the pod templates it builds, and the
PodSecurity condition reports the result.

The rules are those of the Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-
standards, the "latest" version that Pod Security Admission enforces); Windows and AppArmor-annotation
rules are left out: the operator's pods are Linux pods and it sets no AppArmor annotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["baseline", "restricted"]

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


@dataclass(frozen=True)
class Violation:
    """One rule a pod breaks: the lowest level it breaks, where (a path in the pod spec: pod-level
    ``securityContext.X`` or ``containers[NAME].securityContext.X``) and why."""

    level: Level
    path: str
    message: str


def _containers(pod: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        out += [(f"{kind}[{c.get('name', '?')}]", c) for c in pod.get(kind) or []]
    return out


def check_pod(pod: dict[str, Any]) -> list[Violation]:
    """Every rule of the baseline and restricted profiles that the pod spec ``pod`` breaks."""
    out: list[Violation] = []

    def bad(level: Level, path: str, message: str) -> None:
        out.append(Violation(level, path, message))

    psc = pod.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            bad("baseline", host, "host namespaces are not allowed")
    for i, vol in enumerate(pod.get("volumes") or []):
        kinds = [k for k in vol if k != "name"]
        if "hostPath" in kinds:
            bad("baseline", f"volumes[{vol.get('name', i)}].hostPath", "hostPath volumes are not allowed")
        elif any(k not in RESTRICTED_VOLUMES for k in kinds):
            bad("restricted", f"volumes[{vol.get('name', i)}]", f"volume type {kinds} is not allowed")
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            bad("baseline", "securityContext.sysctls", f"sysctl {sysctl.get('name')} is not a safe sysctl")
    _selinux(psc.get("seLinuxOptions"), "securityContext.seLinuxOptions", bad)
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp == "Unconfined":
        bad("baseline", "securityContext.seccompProfile.type", "Unconfined is not allowed")
    if psc.get("runAsUser") == 0:
        bad("restricted", "securityContext.runAsUser", "0 (root) is not allowed")

    for where, c in _containers(pod):
        csc = c.get("securityContext") or {}
        sc = f"{where}.securityContext"
        if csc.get("privileged"):
            bad("baseline", f"{sc}.privileged", "privileged containers are not allowed")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                bad("baseline", f"{where}.ports", f"hostPort {port['hostPort']} is not allowed")
        if csc.get("procMount") not in (None, "Default"):
            bad("baseline", f"{sc}.procMount", "must be Default")
        _selinux(csc.get("seLinuxOptions"), f"{sc}.seLinuxOptions", bad)
        caps = csc.get("capabilities") or {}
        added = set(caps.get("add") or [])
        if added - BASELINE_CAPABILITIES:
            bad("baseline", f"{sc}.capabilities.add", f"{sorted(added - BASELINE_CAPABILITIES)} not allowed")
        elif added - {"NET_BIND_SERVICE"}:
            bad(
                "restricted",
                f"{sc}.capabilities.add",
                f"only NET_BIND_SERVICE may be added, not {sorted(added)}",
            )
        if "ALL" not in (caps.get("drop") or []):
            bad("restricted", f"{sc}.capabilities.drop", "must include ALL")
        if csc.get("allowPrivilegeEscalation") is not False:
            bad("restricted", f"{sc}.allowPrivilegeEscalation", "must be false")
        seccomp = (csc.get("seccompProfile") or {}).get("type")
        if seccomp == "Unconfined":
            bad("baseline", f"{sc}.seccompProfile.type", "Unconfined is not allowed")
        elif (seccomp or pod_seccomp) not in ("RuntimeDefault", "Localhost") and pod_seccomp != "Unconfined":
            bad("restricted", "securityContext.seccompProfile.type", "must be RuntimeDefault or Localhost")
        non_root = csc.get("runAsNonRoot")
        if non_root is False:
            bad("restricted", f"{sc}.runAsNonRoot", "must be true")
        elif non_root is None and psc.get("runAsNonRoot") is not True:
            bad("restricted", "securityContext.runAsNonRoot", "must be true")
        if csc.get("runAsUser") == 0:
            bad("restricted", f"{sc}.runAsUser", "0 (root) is not allowed")
    return _unique(out)


def _selinux(opts: dict[str, Any] | None, path: str, bad: Any) -> None:
    if not opts:
        return
    if opts.get("type", "") not in SELINUX_TYPES:
        bad("baseline", f"{path}.type", f"type {opts['type']} is not allowed")
    for key in ("user", "role"):
        if opts.get(key):
            bad("baseline", f"{path}.{key}", "must not be set")


def _unique(items: Iterable[Violation]) -> list[Violation]:
    seen: dict[tuple[str, str], Violation] = {}
    for v in items:
        seen.setdefault((v.path, v.message), v)
    return list(seen.values())


def spec_field(workload: str, path: str) -> str:
    """The resource's field behind a pod-spec path of one of the operator's pods (``workload``: server,
    postgres or redis): pod-level settings come from podSecurityContext, container-level ones from
    containerSecurityContext."""
    base = f"spec.security.{workload}"
    if path.startswith("securityContext."):
        return f"{base}.podSecurityContext.{path.removeprefix('securityContext.')}"
    head, sep, rest = path.partition(".securityContext.")
    if sep and head.startswith(("containers[", "initContainers[")):
        return f"{base}.containerSecurityContext.{rest}"
    return f"{base} ({path})"


@dataclass(frozen=True)
class Assessment:
    """The verdict over all pods of one resource: ``findings`` as (spec field, why, level)."""

    findings: tuple[tuple[str, str, Level], ...] = ()

    @property
    def restricted(self) -> bool:
        return not self.findings

    @property
    def baseline(self) -> bool:
        return all(level == "restricted" for _, _, level in self.findings)

    def message(self) -> str:
        if self.restricted:
            return "every pod meets the restricted Pod Security Standard"
        fields = "; ".join(f"{f}: {why}" for f, why, _ in self.findings)
        level = "meets baseline" if self.baseline else "below baseline too"
        return f"below restricted ({level}): {fields}"


def assess(pods: Iterable[tuple[str, dict[str, Any]]]) -> Assessment:
    """``pods``: (workload, pod spec) for each pod template the operator builds."""
    findings: dict[tuple[str, str], Level] = {}
    for workload, pod in pods:
        for v in check_pod(pod):
            findings.setdefault((spec_field(workload, v.path), v.message), v.level)
    return Assessment(tuple((f, why, level) for (f, why), level in findings.items()))
