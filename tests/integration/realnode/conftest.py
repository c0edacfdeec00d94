"""The REAL node for the realnode tests: a cluster whose apiserver listens on the node's veth, and a node
with containerd, runc, a real kubelet, kube-proxy, kube-scheduler and the DNS and volume stand-ins
(``lgp_local.node``). One per test session. Where the machine cannot run it, every realnode test is
skipped with the reason, and the run's summary says plainly that they did not run."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from lgp_local.cluster import Cluster, cache_dir, create_namespace
from lgp_local.node import KUBELET_TUNABLES, LocalNode, support
from lgp_local.node_images import load_busybox
from tests.conftest import REALNODE_NOT_RUN

HOST_SYSCTLS = [*KUBELET_TUNABLES, "net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet"]


def host_sysctls() -> dict[str, str]:
    return {k: Path(f"/proc/sys/{k}").read_text().strip() for k in HOST_SYSCTLS}


@dataclass
class NodeStack:
    cluster: Cluster
    node: LocalNode
    api: client.ApiClient
    sysctls_before: dict[str, str]

    def kubectl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cache_dir() / "bin" / "kubectl"), "--kubeconfig", str(self.cluster.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def real_node(pytestconfig: pytest.Config) -> Iterator[NodeStack]:
    reason = support()
    if reason:
        pytestconfig.stash[REALNODE_NOT_RUN] = reason
        pytest.skip(f"the real node cannot start on this machine: {reason}")
    before = host_sysctls()
    cluster, node = LocalNode.start_with_cluster()
    api = config.new_client_from_config(str(cluster.kubeconfig))
    try:
        load_busybox(node.sock)
        yield NodeStack(cluster, node, api, before)
    finally:
        api.close()
        node.stop()
        cluster.stop()


@pytest.fixture
def node_ns(real_node: NodeStack) -> Iterator[str]:
    """A fresh namespace on the real node's cluster, deleted afterwards."""
    import uuid

    core = client.CoreV1Api(real_node.api)
    name = create_namespace(real_node.api, f"rn-{uuid.uuid4().hex[:8]}")
    try:
        yield name
    finally:
        core.delete_namespace(name)


def pod_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
