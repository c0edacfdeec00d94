"""`lgp deployments` Kubernetes settings against a real control plane: --kubernetes-file (YAML), --label,
--annotation, --service-account, --service-account-annotation, --priority-class, the queue workers'
bounds; on update the flags go on top of what is set; a bad label is exit 6 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.cli.conftest import IMAGE, Cli, unique

SIDECAR = """\
apiServer:
  sidecars:
    - name: proxy
      image: envoyproxy/envoy:v1.30
      args: ["-l", "info"]
queue:
  volumes: [{name: ca, configMap: {name: corp-ca}}]
  volumeMounts: [{name: ca, mountPath: /etc/ssl/corp, readOnly: true}]
keda:
  pollingInterval: 10
labels: {team: agents}
"""


def test_kubernetes_settings_from_a_file_and_flags(cli: Cli, tmp_path: Path) -> None:
    listener = cli.listener(["agents"])
    (tmp_path / "k8s.yaml").write_text(SIDECAR)
    name = unique("k8s")
    r = cli(
        "deployments", "create", name,
        "--image", IMAGE, "--listener", listener.name, "--namespace", "agents", "--type", "production",
        "--kubernetes-file", str(tmp_path / "k8s.yaml"),
        "--label", "cost-center=42",
        "--service-account", "--service-account-annotation", "iam.gke.io/gcp-service-account=a@p.iam",
        "--priority-class", "agents",
        "--queue-min-replicas", "1", "--queue-max-replicas", "30",
        "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    k8s = r.json()["kubernetes"]
    assert k8s["labels"] == {"team": "agents", "cost-center": "42"}
    assert k8s["serviceAccount"] == {
        "create": True,
        "annotations": {"iam.gke.io/gcp-service-account": "a@p.iam"},
    }
    assert k8s["placement"] == {"priorityClassName": "agents"}
    assert k8s["apiServer"]["sidecars"][0]["args"] == ["-l", "info"]
    assert k8s["queue"]["volumeMounts"] == [{"name": "ca", "mountPath": "/etc/ssl/corp", "readOnly": True}]
    assert r.json()["resources"]["queue"]["max_replicas"] == 30

    text = cli("deployments", "get", name)
    assert text.code == 0 and "own service account" in text.out and "priority agents" in text.out

    up = cli("deployments", "update", name, "--label", "team=other", "--no-service-account", "-o", "json")
    assert up.code == 0, up.err
    k8s = up.json()["kubernetes"]
    assert k8s["labels"] == {"team": "other", "cost-center": "42"}  # on top of what was set
    assert (
        not (k8s.get("serviceAccount") or {}).get("create") and k8s["apiServer"]["sidecars"]
    )  # the rest kept

    bad = cli("deployments", "update", name, "--label", "bad key=x")
    assert bad.code == 6 and "kubernetes.labels" in bad.err
    (tmp_path / "list.yaml").write_text("- a\n")
    assert cli("deployments", "update", name, "--kubernetes-file", str(tmp_path / "list.yaml")).code == 2


def test_the_example_agents_pending_runs_query_reaches_the_spec(cli: Cli, tmp_path: Path) -> None:
    """What `make dev` prints for the example agent: a Kubernetes-settings file with the pending-runs query
    of its runtime (table runs), which the revision's spec carries; a query that is not one SELECT is
    refused naming the field."""
    from lgp_local.images.recipes import PENDING_RUNS_QUERY

    listener = cli.listener(["agents"])
    (tmp_path / "agent.json").write_text(json.dumps({"keda": {"pendingRunsQuery": PENDING_RUNS_QUERY}}))
    name = unique("runs")
    r = cli(
        "deployments", "create", name, "--image", IMAGE, "--listener", listener.name,
        "--namespace", "agents", "--type", "production", "--kubernetes-file", str(tmp_path / "agent.json"),
        "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.json()["kubernetes"]["keda"] == {"pendingRunsQuery": PENDING_RUNS_QUERY}
    revisions = cli.http.get(f"/deployments/{r.json()['id']}/revisions")
    assert revisions.status_code == 200, revisions.text
    spec = revisions.json()["data"][0]["spec"]
    assert spec["autoscaling"]["keda"]["pendingRunsQuery"] == PENDING_RUNS_QUERY

    (tmp_path / "bad.json").write_text(json.dumps({"keda": {"pendingRunsQuery": "DELETE FROM runs"}}))
    bad = cli("deployments", "update", name, "--kubernetes-file", str(tmp_path / "bad.json"))
    assert bad.code == 6 and "kubernetes.keda.pendingRunsQuery" in bad.err
