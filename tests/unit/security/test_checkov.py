"""checkov over the operator's output for representative specs and over the chart for every
ci/*-values.yaml: no finding beyond the reasoned exceptions file, no stale exception, and a user override
below restricted both flagged by checkov and reported by the operator (PodSecurity condition)."""

from __future__ import annotations

from typing import Any

import pytest
from lgp_operator.builders.common import Platform
from lgp_operator.builders.desired import build_desired
from lgp_operator.settings import OperatorSettings
from lgp_operator.status import Observed, platform_status

from tests.security.scan import (
    BELOW_RESTRICTED,
    BELOW_RESTRICTED_SPEC,
    EXCEPTIONS,
    Result,
    load_exceptions,
    not_excepted,
    scan,
    targets,
)


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return scan({name: build() for name, build in targets().items()})


def test_every_target_was_scanned(results):
    assert {n for n in results if n.startswith("chart-")} >= {
        "chart-control-plane-only",
        "chart-data-plane-only",
        "chart-full",
        "chart-kind",
        "chart-production",
    }
    for name, result in results.items():
        assert result.passed > 100, f"{name}: checkov passed only {result.passed} checks: did it scan?"


def test_no_finding_beyond_the_exceptions(results):
    exceptions = load_exceptions()
    unexpected = {
        name: [str(f) for f in not_excepted(r.failed, exceptions)]
        for name, r in results.items()
        if name != BELOW_RESTRICTED
    }
    assert {n: f for n, f in unexpected.items() if f} == {}, f"fix these or list them in {EXCEPTIONS.name}"


def test_every_exception_is_still_needed(results):
    findings = [f for r in results.values() for f in r.failed]
    stale = [
        f"{e.check} {list(e.resources)}" for e in load_exceptions() if not any(e.covers(f) for f in findings)
    ]
    assert stale == [], f"exceptions that match no finding (remove them from {EXCEPTIONS.name})"


def test_exceptions_are_few_and_reasoned():
    exceptions = load_exceptions()
    assert len(exceptions) <= 10
    assert all(len(e.reason) <= 200 for e in exceptions)


def test_below_restricted_is_flagged_by_checkov_and_reported_by_the_operator(results):
    flagged = {
        (f.check, f.resource.split(".")[-1])
        for f in not_excepted(results[BELOW_RESTRICTED].failed, load_exceptions())
    }
    # root (CKV_K8S_23, CKV_K8S_40) and privilege escalation (CKV_K8S_20), on both server Deployments
    assert flagged == {
        (check, workload)
        for check in ("CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_40")
        for workload in ("agent-api-server", "agent-queue")
    }
    body: dict[str, Any] = {
        "metadata": {"name": "agent", "namespace": "agents", "uid": "u", "generation": 1},
        "spec": {"image": "ghcr.io/acme/agent:1.0", **BELOW_RESTRICTED_SPEC},
    }
    cr = Platform.from_body(body)
    desired = build_desired(cr, OperatorSettings(), postgres_password="pw")
    verdict = platform_status(
        body,
        cr,
        Observed(),
        endpoint=desired.endpoint,
        keda=False,
        hpa_api=None,
        now="t",
        pod_security=desired.pod_security,
    )
    cond = next(c for c in verdict.status["conditions"] if c["type"] == "PodSecurity")
    assert (cond["status"], cond["reason"]) == ("False", "BelowRestricted")
    for field in (
        "podSecurityContext.runAsUser",
        "podSecurityContext.runAsNonRoot",
        "containerSecurityContext.allowPrivilegeEscalation",
    ):
        assert f"spec.security.server.{field}" in cond["message"]
