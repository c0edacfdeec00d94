"""The local node: a REAL kubelet with containerd and runc, kube-proxy (iptables), kube-scheduler and a
CNI bridge, so pods really run here; plus the local stand-ins for CoreDNS and for a volume
provisioner (``standins.py``). Adapted from the realnode recipe (see its REPORT for every pitfall).

Isolation, so that nothing outside the node changes and two nodes run side by side:

- **Namespaces.** containerd, the kubelet and kube-proxy run in a network namespace and a private
  mount namespace of their own, held by one ``sleep`` process (``unshare --mount --net``). Forwarding
  and kube-proxy's iptables rules live in that network namespace only. Host-wide kernel tunables the
  kubelet would set (``vm.overcommit_memory``, ``kernel.panic``, ...) are regular files bind-mounted
  over their ``/proc/sys`` entries inside the mount namespace: the kubelet reads the value it wants
  and changes nothing. ``/run``, ``/var/lib``, ``/var/log`` and ``/etc/resolv.conf`` are bound to
  directories of the run there too. No mount exists outside the namespace.
- **Network.** A veth pair joins the host (``lgpn<slot>``, address ``10.253.<slot>.1/30``) and the
  node (``eth0``, ``.2``, the node's InternalIP: the kubelet refuses a loopback one). The apiserver
  listens on the host end, so the node reaches it and nothing listens on an outside address. Pods get
  ``10.254.<slot>.0/24`` on a bridge; Services ``10.<16+slot/16>.<slot%16*16>.0/20``. The host has
  routes to both through the veth, so a test on the host reaches pod IPs and ClusterIPs; the node has
  no default route, so nothing leaves the machine. The slot is claimed by creating the veth (an
  atomic create that fails when another node holds it).
- **cgroups.** Every process of the node (daemons, shims, containers) lives below
  ``/sys/fs/cgroup/<hierarchy>/<node id>``; the kubelet's ``cgroupRoot`` is that directory. Stopping
  (or the watchdog, when the owner dies) kills everything in it; then the namespaces, the veth, the
  routes and every mount vanish with their last process.

Images come from no registry: built by ``lgp_local.images`` and imported into the node's containerd
(its socket is ``LocalNode.sock``; ``lgp build --load --address <sock>`` does it from the command line).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cluster import Cluster, cache_dir, ensure_binaries
from .node_images import PAUSE_IMAGE, load_pause
from .procs import ProcessExited, ProcessGroup, wait_for

CGROUP_FS = Path("/sys/fs/cgroup")
CNI_BIN = Path("/usr/lib/cni")
TOOLS = (
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "ctr",
    "iptables",
    "conntrack",
    "ip",
    "unshare",
    "nsenter",
)
NODE_BINARIES = ("kubelet", "kube-proxy", "kube-scheduler", "pause")
# What the kubelet (KernelTunableModify) would write, host-wide: served from files in the node's mount
# namespace instead.
KUBELET_TUNABLES = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}
# The stand-in StorageClass (default class of the local cluster): hostPath volumes under the run dir.
STORAGE_CLASS = "lgp-local-standin"
PROVISIONER = "lgp.dev/local-hostpath-standin"
CAP_NET_ADMIN, CAP_SYS_ADMIN = 12, 21
CLUSTER_DOMAIN = "cluster.local"


class NodeUnavailable(RuntimeError):
    """This machine cannot run the real node; the message says why."""


def support(bin_dir: Path | None = None) -> str | None:
    """None when this machine can run the real node; else the reason it cannot, for a person."""
    if os.environ.get("LGP_NODE", "").lower() == "simulated":
        return "LGP_NODE=simulated asks for the simulated kubelet"
    if os.geteuid() != 0:
        return "not root: containerd, runc and the kubelet need root"
    try:
        status = Path("/proc/self/status").read_text()
        cap_eff = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("CapEff:")), 16)
    except (OSError, StopIteration, ValueError):
        cap_eff = 0
    for bit, name in ((CAP_SYS_ADMIN, "CAP_SYS_ADMIN"), (CAP_NET_ADMIN, "CAP_NET_ADMIN")):
        if not cap_eff & (1 << bit):
            return f"{name} is missing (namespaces, mounts and links need it)"
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError:
        filesystems = ""
    if "\toverlay\n" not in filesystems + "\n":
        return "the kernel has no overlayfs (containerd's snapshotter needs it)"
    for controller in ("memory", "cpu", "pids"):
        if not (CGROUP_FS / controller / "cgroup.procs").exists():
            return (
                f"no cgroup v1 '{controller}' hierarchy at {CGROUP_FS / controller} (kubelet 1.20, cgroupfs)"
            )
    missing = [t for t in TOOLS if not shutil.which(t)]
    missing += [f"{CNI_BIN}/{p}" for p in ("bridge", "host-local", "loopback") if not (CNI_BIN / p).exists()]
    if missing:
        return "missing " + ", ".join(missing) + " (make deps installs them)"
    bin_dir = bin_dir or cache_dir() / "bin"
    absent = [b for b in NODE_BINARIES if not (bin_dir / b).exists()]
    if absent:
        return f"node binaries missing in {bin_dir}: {', '.join(absent)} (make cluster builds them)"
    return None


@dataclass(frozen=True)
class NodeNetwork:
    """The per-node addresses, all derived from one slot (0-255)."""

    slot: int

    @property
    def host_if(self) -> str:
        return f"lgpn{self.slot}"

    @property
    def host_ip(self) -> str:
        return f"10.253.{self.slot}.1"

    @property
    def node_ip(self) -> str:
        return f"10.253.{self.slot}.2"

    @property
    def link_cidr(self) -> str:
        return f"10.253.{self.slot}.0/30"

    @property
    def pod_cidr(self) -> str:
        return f"10.254.{self.slot}.0/24"

    @property
    def gateway(self) -> str:
        """The bridge's address in the node: the pods' gateway, and where the DNS stand-in answers."""
        return f"10.254.{self.slot}.1"

    @property
    def service_cidr(self) -> str:
        return f"10.{16 + self.slot // 16}.{(self.slot % 16) * 16}.0/20"

    def subnets(self) -> list[ipaddress.IPv4Network]:
        return [ipaddress.IPv4Network(c) for c in (self.link_cidr, self.pod_cidr, self.service_cidr)]


def _host_routes() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-4", "-o", "route", "show", "table", "all"], capture_output=True, text=True)
    nets = []
    for line in out.stdout.splitlines():
        dst = line.split()[0] if line.split() else ""
        if dst in ("default", "local", "broadcast", "unreachable", "blackhole", "prohibit", "throw"):
            dst = line.split()[1] if dst != "default" else ""
        with contextlib.suppress(ValueError):
            if dst:
                nets.append(ipaddress.IPv4Network(dst, strict=False))
    return nets


def _run(argv: list[str], what: str) -> str:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({' '.join(argv)}): {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


class LocalNode:
    """One real node. ``LocalNode.prepare()`` makes its namespaces, cgroups and network (the cluster's
    apiserver then binds ``net.host_ip``); ``start(cluster)`` runs its daemons; ``stop()`` leaves
    nothing behind. ``start_with_cluster()`` does all of it."""

    def __init__(self, workdir: Path, group: ProcessGroup, bin_dir: Path) -> None:
        self.workdir = workdir
        self.group = group
        self.bin_dir = bin_dir
        self.id = workdir.name.rsplit("-", 1)[0]  # lgp-node-<hex>: the node's name and its cgroup root
        self.name = self.id
        self.net: NodeNetwork | None = None
        self.holder_pid = 0
        self.cgroup_roots = [CGROUP_FS / h / self.id for h in self._hierarchies()]
        self.daemon_cgroups = [CGROUP_FS / h / self.id / "node" for h in ("pids", "memory")]
        self.cluster: Cluster | None = None
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ paths
    @property
    def sock(self) -> Path:
        return self.workdir / "containerd" / "containerd.sock"

    @property
    def volumes_dir(self) -> Path:
        return self.workdir / "volumes"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @staticmethod
    def _hierarchies() -> list[str]:
        return sorted(p.name for p in CGROUP_FS.iterdir() if p.is_dir()) if CGROUP_FS.is_dir() else []

    # ------------------------------------------------------------------ phase 1: namespaces, network
    @classmethod
    def prepare(
        cls, *, bin_dir: Path | None = None, base_dir: Path | None = None, owner_pid: int | None = None
    ) -> LocalNode:
        bin_dir = bin_dir or ensure_binaries()
        reason = support(bin_dir)
        if reason:
            raise NodeUnavailable(reason)
        workdir = Path(tempfile.mkdtemp(prefix=f"lgp-node-{secrets.token_hex(4)}-", dir=base_dir))
        group = ProcessGroup(workdir, owner_pid=owner_pid)
        node = cls(workdir, group, bin_dir)
        for root in node.cgroup_roots:
            group.add_cgroup(root)
        group.start_watchdog()
        try:
            node._prepare()
        except BaseException:
            group.stop()
            raise
        return node

    def _prepare(self) -> None:
        t0 = time.monotonic()
        w = self.workdir
        for d in (
            "logs",
            "fakesys",
            "varlog",
            "varlib",
            "run",
            "containerd",
            "cni/net.d",
            "cni/ipam",
            "kubelet",
        ):
            (w / d).mkdir(parents=True, exist_ok=True)
        self.volumes_dir.mkdir(mode=0o755)
        self._make_cgroups()
        self.holder_pid = self.group.spawn(
            "namespace-holder",
            self._in_cgroup(
                ["unshare", "--mount", "--net", "--propagation", "private", "--", "sleep", "infinity"]
            ),
            log=self.logs / "namespace-holder.log",
        ).pid
        own_net = os.readlink("/proc/self/ns/net")

        def unshared() -> bool:
            return os.readlink(f"/proc/{self.holder_pid}/ns/net") != own_net and (
                Path(f"/proc/{self.holder_pid}/comm").read_text().strip() == "sleep"
            )

        wait_for(unshared, timeout=10, what="the node's namespaces", interval=0.02)
        self.net = self._claim_network()
        net = self.net
        fakes = []
        for path, value in KUBELET_TUNABLES.items():
            f = w / "fakesys" / path.replace("/", "_")
            f.write_text(value + "\n")
            fakes.append(f"mount --bind {f} /proc/sys/{path}")
        (w / "node-resolv.conf").write_text(f"nameserver {net.gateway}\n")
        script = "\n".join(
            [
                f"mount --bind {w / 'run'} /run",  # first: mount(8) may keep notes in /run/mount
                *fakes,
                f"mount --bind {w / 'varlog'} /var/log",
                f"mount --bind {w / 'varlib'} /var/lib",
                f"mount --bind {w / 'node-resolv.conf'} /etc/resolv.conf",
                "ip link set lo up",
                f"ip addr add {net.node_ip}/30 dev eth0",
                "ip link set eth0 up",
                "ip link add cni0 type bridge",
                f"ip addr add {net.gateway}/24 dev cni0",
                "ip link set cni0 up",
                "echo 1 > /proc/sys/net/ipv4/ip_forward",
            ]
        )
        _run(self._nsenter(["sh", "-ec", script]), "setting up the node's namespaces")
        for cmd in (
            ["ip", "addr", "add", f"{net.host_ip}/30", "dev", net.host_if],
            ["ip", "link", "set", net.host_if, "up"],
            ["ip", "route", "add", net.pod_cidr, "via", net.node_ip, "dev", net.host_if],
            ["ip", "route", "add", net.service_cidr, "via", net.node_ip, "dev", net.host_if],
        ):
            _run(cmd, "host end of the node's veth")
        self.timings["prepare"] = time.monotonic() - t0

    def _make_cgroups(self) -> None:
        for root in self.cgroup_roots:
            if root.parent.name == "unified":
                continue  # cgroup v2 beside v1 (hybrid): the kubelet uses v1 here; only cleaned up
            root.mkdir(exist_ok=True)
            if root.parent.name == "cpuset":
                # a new cpuset is empty; children (kubepods) can only get CPUs the parent has
                for f in ("cpuset.cpus", "cpuset.mems"):
                    (root / f).write_text((root.parent / f).read_text())
        for d in self.daemon_cgroups:
            d.mkdir(exist_ok=True)

    def _claim_network(self) -> NodeNetwork:
        taken = _host_routes()
        slots = list(range(256))
        random.shuffle(slots)
        for slot in slots:
            net = NodeNetwork(slot)
            if any(a.overlaps(b) for a in net.subnets() for b in taken):
                continue
            r = subprocess.run(
                [
                    "ip",
                    "link",
                    "add",
                    net.host_if,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    str(self.holder_pid),
                ],
                capture_output=True,
                text=True,
            )
            if r.returncode == 0:
                return net
            if "exists" not in r.stderr:
                raise RuntimeError(f"creating the node's veth failed: {r.stderr.strip()}")
        raise RuntimeError("no free node slot: 256 local nodes run, or every 10.253-254.x subnet is routed")

    # ------------------------------------------------------------------ process helpers
    def _in_cgroup(self, argv: list[str]) -> list[str]:
        """Run ``argv`` in the node's daemon cgroup (so stop() finds it and all it forks)."""
        joins = "; ".join(f"echo $$ > {c}/cgroup.procs" for c in self.daemon_cgroups)
        return ["sh", "-c", f'{joins}; exec "$@"', "sh", *argv]

    def _nsenter(self, argv: list[str], *, mount: bool = True) -> list[str]:
        flags = ["-m", "-n"] if mount else ["-n"]
        return ["nsenter", "-t", str(self.holder_pid), *flags, "--", *argv]

    def exec_in_node(
        self, argv: list[str], *, mount: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the node's namespaces (e.g. ``iptables-save``), for tests and diagnostics."""
        return subprocess.run(
            self._nsenter(argv, mount=mount), capture_output=True, text=True, timeout=timeout
        )

    def _spawn(
        self, name: str, argv: list[str], *, in_node: bool = True, mount: bool = True
    ) -> subprocess.Popen[bytes]:
        if in_node:
            argv = self._nsenter(argv, mount=mount)
        return self.group.spawn(name, self._in_cgroup(argv), log=self.logs / f"{name}.log")

    def _alive(self, name: str) -> None:
        proc = self.group.procs[name]
        if proc.poll() is not None:
            tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
            raise ProcessExited(f"{name} exited with {proc.returncode}:\n{tail}")

    # ------------------------------------------------------------------ phase 2: daemons
    def identities(self) -> dict[str, tuple[str, str | None]]:
        """Token users the cluster must know for this node's components."""
        return {
            "kubelet": (f"system:node:{self.name}", "system:nodes"),
            "kube-proxy": ("system:kube-proxy", None),
            "kube-scheduler": ("system:kube-scheduler", None),
        }

    def start(self, cluster: Cluster, ready_timeout: float = 120) -> LocalNode:
        from kubernetes import client, config

        assert self.net is not None, "prepare() first"
        self.cluster = cluster
        t0 = time.monotonic()
        self._write_configs(cluster)
        self._spawn(
            "containerd", ["containerd", "--config", str(self.workdir / "containerd" / "config.toml")]
        )

        def containerd_up() -> bool:
            self._alive("containerd")
            return (
                subprocess.run(
                    ["ctr", "--address", str(self.sock), "version"], capture_output=True
                ).returncode
                == 0
            )

        wait_for(containerd_up, timeout=30, what="containerd")
        self.timings["containerd"] = time.monotonic() - t0
        t1 = time.monotonic()
        load_pause(self.bin_dir, self.sock)
        self.timings["images"] = time.monotonic() - t1

        self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={cluster.kubeconfig_for('kube-scheduler')}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--port=0",
                "--leader-elect=false",
                "--v=1",
            ],
            in_node=False,
        )
        self._spawn(
            "kubelet",
            [
                str(self.bin_dir / "kubelet"),
                f"--config={self.workdir / 'kubelet-config.yaml'}",
                f"--kubeconfig={cluster.kubeconfig_for('kubelet')}",
                f"--root-dir={self.workdir / 'kubelet'}",
                f"--cert-dir={self.workdir / 'kubelet' / 'pki'}",
                "--container-runtime=remote",
                f"--container-runtime-endpoint=unix://{self.sock}",
                "--runtime-request-timeout=2m",
                f"--pod-infra-container-image={PAUSE_IMAGE}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.net.node_ip}",
                "--v=1",
            ],
        )
        api = config.new_client_from_config(str(cluster.kubeconfig))
        core = client.CoreV1Api(api)
        self._storage_class(api)
        self._spawn(
            "standins",
            [
                sys.executable,
                "-m",
                "lgp_local.standins",
                "--kubeconfig",
                str(cluster.kubeconfig),
                "--dns-address",
                self.net.gateway,
                "--volumes-dir",
                str(self.volumes_dir),
                "--storage-class",
                STORAGE_CLASS,
                "--provisioner",
                PROVISIONER,
            ],
            mount=False,
        )
        self._spawn(
            "kube-proxy",
            [
                str(self.bin_dir / "kube-proxy"),
                f"--kubeconfig={cluster.kubeconfig_for('kube-proxy')}",
                "--proxy-mode=iptables",
                f"--hostname-override={self.name}",
                f"--cluster-cidr={self.net.pod_cidr}",
                f"--nodeport-addresses={self.net.node_ip}/32",
                "--bind-address=127.0.0.1",
                "--healthz-bind-address=127.0.0.1:10256",
                "--metrics-bind-address=127.0.0.1:10249",
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                "--v=1",
            ],
        )

        def node_ready() -> bool:
            for name in ("containerd", "kubelet", "kube-proxy", "kube-scheduler", "standins"):
                self._alive(name)
            try:
                n = core.read_node(self.name)
            except client.ApiException:
                return False
            return any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])

        wait_for(node_ready, timeout=ready_timeout, what=f"node {self.name} Ready", interval=0.2)
        self.timings["node_ready"] = time.monotonic() - t0

        def proxy_rules() -> bool:
            out = self.exec_in_node(["iptables", "-t", "nat", "-S", "KUBE-SERVICES"]).stdout
            return "KUBE-NODEPORTS" in out

        wait_for(proxy_rules, timeout=60, what="kube-proxy's iptables rules", interval=0.2)
        from .standins import query

        gateway = self.net.gateway
        wait_for(
            lambda: query(f"kubernetes.default.svc.{CLUSTER_DOMAIN}", gateway, timeout=0.5),
            timeout=30,
            what="the DNS stand-in",
            interval=0.2,
        )
        self.timings["start"] = time.monotonic() - t0
        api.close()
        return self

    def _write_configs(self, cluster: Cluster) -> None:
        assert self.net is not None
        w, net = self.workdir, self.net
        (w / "containerd" / "config.toml").write_text(
            f"""version = 2
root = "{w / "containerd" / "root"}"
state = "{w / "containerd" / "state"}"
[grpc]
  address = "{self.sock}"
[ttrpc]
  address = "{self.sock}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{w / "containerd" / "opt"}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  disable_apparmor = true
  enable_selinux = false
  # without CAP_SYS_RESOURCE a negative oom_score_adj (sandbox -998, Guaranteed pods -997) makes runc
  # fail; this clamps it to containerd's own score
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{w / "runc"}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{w / "cni" / "net.d"}"
    max_conf_num = 1
"""
        )
        conflist = {
            "cniVersion": "0.4.0",
            "name": "lgp-node",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": net.pod_cidr, "gateway": net.gateway}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(w / "cni" / "ipam"),
                    },
                }
            ],
        }
        (w / "cni" / "net.d" / "10-lgp-node.conflist").write_text(json.dumps(conflist, indent=2))
        (w / "pod-resolv.conf").write_text("")  # pods get no search domain of the host
        ca = cluster.workdir / "pki" / "ca.crt"
        (w / "kubelet-config.yaml").write_text(
            f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {net.node_ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {ca}}}
authorization: {{mode: Webhook}}
cgroupDriver: cgroupfs
cgroupRoot: /{self.id}
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failSwapOn: false
makeIPTablesUtilChains: false
protectKernelDefaults: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  {{memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}}
resolvConf: {w / "pod-resolv.conf"}
clusterDNS: [{net.gateway}]
clusterDomain: cluster.local
maxPods: 110
podPidsLimit: -1
volumePluginDir: {w / "kubelet" / "volumeplugins"}
staticPodPath: ""
syncFrequency: 10s
nodeStatusUpdateFrequency: 10s
"""
        )

    def _storage_class(self, api: Any) -> None:
        from kubernetes import client

        body = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {
                    "storageclass.kubernetes.io/is-default-class": "true",
                    "lgp.dev/stand-in": "hostPath volumes under the local node's run directory",
                },
            },
            "provisioner": PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }
        try:
            client.StorageV1Api(api).create_storage_class(body)
        except client.ApiException as e:
            if e.status != 409:
                raise

    # ------------------------------------------------------------------ images
    def images(self) -> list[str]:
        out = _run(
            ["ctr", "--address", str(self.sock), "-n", "k8s.io", "images", "ls", "-q"], "listing images"
        )
        return [ln for ln in out.splitlines() if ln and not ln.startswith("sha256:")]

    # ------------------------------------------------------------------ figures, stop
    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each node component in MiB (shims summed)."""
        out: dict[str, float] = {}

        def rss(pid: int) -> float:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
            except OSError:
                pass
            return 0.0

        for name, proc in self.group.procs.items():
            out[name] = rss(proc.pid)
        shims = [p for p in _cgroup_members(self.daemon_cgroups[0]) if _comm(p) == "containerd-shim"]
        out["containerd-shims"] = sum(rss(p) for p in shims)
        out["containerd-shim count"] = float(len(shims))
        return out

    def pids(self) -> list[int]:
        return self.group.pids()

    def stop(self) -> None:
        self.group.stop()

    @classmethod
    def start_with_cluster(
        cls,
        *,
        bin_dir: Path | None = None,
        owner_pid: int | None = None,
    ) -> tuple[Cluster, LocalNode]:
        """A cluster whose apiserver listens on this node's veth, and the node registered with it."""
        node = cls.prepare(bin_dir=bin_dir, owner_pid=owner_pid)
        assert node.net is not None
        try:
            cluster = Cluster.start(
                bin_dir=node.bin_dir,
                owner_pid=owner_pid,
                bind_address=node.net.host_ip,
                service_cidr=node.net.service_cidr,
                identities=node.identities(),
            )
            try:
                node.start(cluster)
            except BaseException:
                cluster.stop()
                raise
        except BaseException:
            node.stop()
            raise
        return cluster, node


def _cgroup_members(cgroup: Path) -> list[int]:
    from .procs import cgroup_pids

    return cgroup_pids(cgroup)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
