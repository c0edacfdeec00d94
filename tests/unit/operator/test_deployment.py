"""The api-server and queue-worker Deployment builders, table-style."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lgp_operator.builders.common import InvalidSpec
from lgp_operator.builders.deployment import build_api_server_deployment, build_queue_deployment
from lgp_operator.builders.postgres import build_postgres_secret

from .conftest import make_cr


def _container(dep: dict[str, Any]) -> dict[str, Any]:
    return dep["spec"]["template"]["spec"]["containers"][0]


def _env(dep: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(dep)["env"]}


def test_api_server_basics(settings):
    dep = build_api_server_deployment(make_cr({"revision": {"id": "rev-7", "number": 7}}), settings)
    c = _container(dep)
    assert dep["metadata"]["name"] == "demo-api-server" and dep["metadata"]["namespace"] == "ns"
    assert c["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/ok"
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    tmpl = dep["spec"]["template"]
    assert tmpl["metadata"]["annotations"]["lgp.dev/revision"] == "rev-7"
    assert tmpl["metadata"]["annotations"]["lgp.dev/revision-number"] == "7"
    assert tmpl["spec"]["terminationGracePeriodSeconds"] == 900
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["sh", "-c", "sleep 10"]
    assert dep["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert dep["spec"]["selector"]["matchLabels"].items() <= tmpl["metadata"]["labels"].items()
    assert dep["spec"]["replicas"] == 1


@pytest.mark.parametrize(
    ("spec", "api_jobs", "queue_jobs"),
    [
        ({}, "10", None),
        ({"queue": {"enabled": True}}, "0", "10"),
        ({"queue": {"enabled": True, "jobsPerWorker": 3}}, "0", "3"),
        ({"queue": {"jobsPerWorker": 4}}, "4", None),
    ],
)
def test_jobs_per_worker(settings, spec, api_jobs, queue_jobs):
    cr = make_cr(spec)
    assert _env(build_api_server_deployment(cr, settings))["N_JOBS_PER_WORKER"] == api_jobs
    if queue_jobs is not None:
        queue = build_queue_deployment(cr, settings)
        assert queue["metadata"]["name"] == "demo-queue"
        assert _env(queue)["N_JOBS_PER_WORKER"] == queue_jobs


MANAGED_PG = {"secretKeyRef": {"name": "demo-postgres", "key": "uri"}}
EXTERNAL_PG = {"secretKeyRef": {"name": "pg", "key": "dsn"}}
EXTERNAL_REDIS = {"secretKeyRef": {"name": "rd", "key": "uri"}}
MANAGED_REDIS = "redis://demo-redis.ns.svc:6379/0"  # the managed Redis has no password: nothing secret


@pytest.mark.parametrize(
    ("spec", "postgres", "redis"),
    [
        ({}, MANAGED_PG, MANAGED_REDIS),
        ({"database": {"external": {"secretRef": {"name": "pg", "key": "dsn"}}}}, EXTERNAL_PG, MANAGED_REDIS),
        ({"redis": {"external": {"secretRef": {"name": "rd"}}}}, MANAGED_PG, EXTERNAL_REDIS),
        (
            {
                "database": {"external": {"secretRef": {"name": "pg", "key": "dsn"}}},
                "redis": {"external": {"secretRef": {"name": "rd"}}},
            },
            EXTERNAL_PG,
            EXTERNAL_REDIS,
        ),
    ],
)
def test_database_and_redis_uris(settings, spec, postgres, redis):
    """Both Deployments get POSTGRES_URI and DATABASE_URI (the open Postgres runtime requires the latter:
    realserver REPORT) from the same Secret key, and REDIS_URI; a password is never written out."""
    cr = make_cr({**spec, "queue": {"enabled": True}})
    for dep in (build_api_server_deployment(cr, settings), build_queue_deployment(cr, settings)):
        env = _env(dep)
        assert env["POSTGRES_URI"] == env["DATABASE_URI"] == postgres
        assert env["REDIS_URI"] == redis
        assert env["PORT"] == "8000"
        assert "s3cret-pw" not in json.dumps(dep)
    if cr.spec.database.managed is not None:  # the Secret the managed database's variables point at
        secret = build_postgres_secret(cr, settings, "s3cret-pw")
        assert secret["metadata"]["name"] == postgres["secretKeyRef"]["name"]
        assert "uri" in secret["data"]


@pytest.mark.parametrize("name", ["POSTGRES_URI", "DATABASE_URI", "REDIS_URI"])
def test_connection_uris_cannot_be_written_into_the_spec(name):
    with pytest.raises(InvalidSpec, match=f"{name} is set by the operator from spec"):
        make_cr({"env": [{"name": name, "value": "postgres://u:pw@h/db"}]})


def test_license_user_env_and_env_from(settings):
    settings.license_secret = "lgp-license"
    cr = make_cr(
        {
            "env": [{"name": "FOO", "value": "bar"}, {"name": "PORT", "value": "9000"}],
            "envFromSecret": "demo-env",
            "envFromSecrets": ["shared-env"],
        }
    )
    dep = build_api_server_deployment(cr, settings)
    env = _env(dep)
    assert env["LANGGRAPH_CLOUD_LICENSE_KEY"] == {
        "secretKeyRef": {"name": "lgp-license", "key": "license-key"}
    }
    assert env["FOO"] == "bar"
    names = [e["name"] for e in _container(dep)["env"]]
    assert names.count("PORT") == 1 and env["PORT"] == "9000"  # the user's value wins, no duplicate
    assert _container(dep)["envFrom"] == [
        {"secretRef": {"name": "demo-env"}},
        {"secretRef": {"name": "shared-env"}},
    ]


def test_placement_and_pull_secrets(settings):
    cr = make_cr(
        {
            "imagePullSecrets": ["regcred"],
            "placement": {
                "nodeSelector": {"pool": "agents"},
                "tolerations": [
                    {"key": "dedicated", "operator": "Equal", "value": "agents", "effect": "NoSchedule"}
                ],
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                            ]
                        }
                    }
                },
                "labels": {"team": "ml", "app.kubernetes.io/instance": "hijack"},
                "annotations": {"prometheus.io/scrape": "true"},
                "serviceAccountName": "agent-sa",
            },
        }
    )
    tmpl = build_api_server_deployment(cr, settings)["spec"]["template"]
    pod = tmpl["spec"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["nodeSelector"] == {"pool": "agents"}
    assert pod["tolerations"][0] == {
        "key": "dedicated",
        "operator": "Equal",
        "value": "agents",
        "effect": "NoSchedule",
    }
    assert "nodeAffinity" in pod["affinity"]
    assert pod["serviceAccountName"] == "agent-sa"
    assert tmpl["metadata"]["labels"]["team"] == "ml"
    assert tmpl["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo"  # ours win over user labels
    assert tmpl["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


@pytest.mark.parametrize(
    ("spec", "replicas"),
    [
        ({"apiServer": {"replicas": 3}}, 3),
        ({"apiServer": {"replicas": 3}, "autoscaling": {"enabled": True}}, None),
        ({"apiServer": {"replicas": 3}, "suspend": True}, 0),
    ],
)
def test_replicas_belong_to_the_autoscaler_when_enabled(settings, spec, replicas):
    dep = build_api_server_deployment(make_cr(spec), settings)
    assert dep["spec"].get("replicas") == replicas


def test_revision_without_spec_revision_is_a_template_hash(settings):
    a = build_api_server_deployment(make_cr(), settings)["spec"]["template"]["metadata"]["annotations"]
    b = build_api_server_deployment(make_cr({"apiServer": {"replicas": 4}}), settings)
    c = build_api_server_deployment(make_cr({"image": "ghcr.io/acme/agent:2.0"}), settings)
    rev = a["lgp.dev/revision"]
    assert rev.startswith("tmpl-")
    assert (
        b["spec"]["template"]["metadata"]["annotations"]["lgp.dev/revision"] == rev
    )  # scaling is no rollout
    assert c["spec"]["template"]["metadata"]["annotations"]["lgp.dev/revision"] != rev


def test_no_prestop_when_drain_is_zero(settings):
    dep = build_api_server_deployment(
        make_cr({"preStopDrainSeconds": 0, "terminationGracePeriodSeconds": 60}), settings
    )
    assert "lifecycle" not in _container(dep)
    assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60


def test_queue_workers_run_the_queue_entrypoint_and_crashes_report_their_last_log_line(settings):
    cr = make_cr({"queue": {"enabled": True}})
    api, queue = build_api_server_deployment(cr, settings), build_queue_deployment(cr, settings)
    assert "command" not in _container(api)  # the image's entrypoint serves the api
    assert _container(queue)["command"] == ["/storage/queue_entrypoint.sh"]
    for dep in (api, queue):
        assert _container(dep)["terminationMessagePolicy"] == "FallbackToLogsOnError"


@pytest.mark.parametrize(
    ("spec", "api", "queue"),
    [
        ({}, {}, {"command": ["/storage/queue_entrypoint.sh"]}),
        (
            {"queue": {"args": ["--verbose"]}},  # args to the default queue entrypoint
            {},
            {"command": ["/storage/queue_entrypoint.sh"], "args": ["--verbose"]},
        ),
        (
            {
                "apiServer": {"command": ["/app/serve"], "args": ["--port", "8000"]},
                "queue": {"command": ["python3", "-m", "langgraph_api.queue_entrypoint"]},
            },
            {"command": ["/app/serve"], "args": ["--port", "8000"]},
            {"command": ["python3", "-m", "langgraph_api.queue_entrypoint"]},
        ),
        ({"apiServer": {"args": []}}, {"args": []}, {"command": ["/storage/queue_entrypoint.sh"]}),
    ],
)
def test_command_and_args_per_deployment(settings, spec, api, queue):
    spec = {**spec, "queue": {"enabled": True, **spec.get("queue", {})}}
    cr = make_cr(spec)
    for dep, want in (
        (build_api_server_deployment(cr, settings), api),
        (build_queue_deployment(cr, settings), queue),
    ):
        c = _container(dep)
        assert {k: c[k] for k in ("command", "args") if k in c} == want


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"apiServer": {"command": []}}, "spec.apiServer.command"),
        ({"queue": {"command": [""]}}, "spec.queue.command.0"),
        ({"queue": {"command": "run.sh"}}, "spec.queue.command"),
        ({"apiServer": {"args": ["x"] * 257}}, "spec.apiServer.args"),
    ],
)
def test_bad_command_or_args_names_the_field(spec, field):
    with pytest.raises(InvalidSpec, match=field.replace(".", r"\.")):
        make_cr(spec)


@pytest.mark.parametrize(
    ("spec", "grace", "api_jobs_grace", "drain", "queue_jobs_grace"),
    [
        ({}, 900, "875", 10, "885"),  # 900 - 10 (preStop) - 15 (margin); the queue has no preStop
        ({"terminationGracePeriodSeconds": 3600, "preStopDrainSeconds": 30}, 3600, "3555", 30, "3585"),
        ({"terminationGracePeriodSeconds": 60, "preStopDrainSeconds": 0}, 60, "45", None, "45"),
        ({"terminationGracePeriodSeconds": 26, "preStopDrainSeconds": 10}, 26, "1", 10, "11"),  # the least
    ],
)
def test_shutdown_loses_no_run(settings, spec, grace, api_jobs_grace, drain, queue_jobs_grace):
    """SIGTERM comes after the preStop drain; the server may wait for its runs for what is left of the
    grace period less a margin to put unfinished ones back and exit, so the kubelet never SIGKILLs a run."""
    cr = make_cr({**spec, "queue": {"enabled": True}})
    api, queue = build_api_server_deployment(cr, settings), build_queue_deployment(cr, settings)
    for dep, jobs_grace, pre_stop in ((api, api_jobs_grace, drain), (queue, queue_jobs_grace, None)):
        pod = dep["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] == grace
        assert _env(dep)["BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS"] == jobs_grace
        hook = _container(dep).get("lifecycle", {}).get("preStop")
        if pre_stop is None:
            assert hook is None  # queue workers serve no traffic: no drain
        else:
            assert hook == {"exec": {"command": ["sh", "-c", f"sleep {pre_stop}"]}}
        assert (pre_stop or 0) + int(jobs_grace) + 15 <= grace  # always above both, with the margin


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"terminationGracePeriodSeconds": 25, "preStopDrainSeconds": 10}, "terminationGracePeriodSeconds"),
        ({"terminationGracePeriodSeconds": 0, "preStopDrainSeconds": 0}, "terminationGracePeriodSeconds"),
        ({"env": [{"name": "BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS", "value": "876"}]}, "at most 875"),
        ({"env": [{"name": "BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS", "value": "soon"}]}, "whole number"),
    ],
)
def test_a_grace_period_too_short_for_the_runs_is_refused(spec, match):
    with pytest.raises(InvalidSpec, match=match):
        make_cr(spec)


def test_a_shorter_job_grace_of_ones_own_is_kept(settings):
    cr = make_cr({"env": [{"name": "BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS", "value": "120"}]})
    assert _env(build_api_server_deployment(cr, settings))["BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS"] == "120"
