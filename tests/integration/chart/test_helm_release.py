"""The chart against a real apiserver: a release installs, its generated secrets survive upgrades
(the lookup pattern, which `helm template` cannot show), values of a Secret already in the cluster
are reused, and the Secrets are kept when the release is uninstalled."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.fernet import Fernet
from kubernetes import client

from .conftest import CHART_DIR, installed, objects

EXTERNAL_DB: dict[str, Any] = {
    "postgres": {"enabled": False},
    "controlPlane": {"database": {"url": "postgresql://u:p@db:5432/x"}},
}


def read_secret(k8s: Any, namespace: str, name: str) -> dict[str, str]:
    secret = client.CoreV1Api(k8s).read_namespaced_secret(name, namespace)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def test_lookup_reuses_the_values_of_an_existing_secret(
    chart: Any, helm_config: Any, k8s: Any, namespace: str
) -> None:
    keys, admin, password = Fernet.generate_key().decode(), "x7" * 20, "kept-password-123"
    core = client.CoreV1Api(k8s)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="lgp-control-plane"),
            string_data={"encryption-keys": keys, "admin-api-key": admin},
        ),
    )
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="lgp-postgres"), string_data={"password": password}
        ),
    )
    manifests = helm_config.render(chart, {}, name="lgp", namespace=namespace, is_upgrade=True)
    secrets = {o["metadata"]["name"]: o for o in objects(manifests) if o["kind"] == "Secret"}
    data = {k: base64.b64decode(v).decode() for k, v in secrets["lgp-control-plane"]["data"].items()}
    assert data == {"encryption-keys": keys, "admin-api-key": admin}
    assert base64.b64decode(secrets["lgp-postgres"]["data"]["password"]).decode() == password

    # A Secret without some key: the present key is reused, the missing one generated.
    core.patch_namespaced_secret(
        "lgp-control-plane", namespace, [{"op": "remove", "path": "/data/admin-api-key"}]
    )
    manifests = helm_config.render(chart, {}, name="lgp", namespace=namespace, is_upgrade=True)
    cp = next(
        o
        for o in objects(manifests)
        if o["kind"] == "Secret" and o["metadata"]["name"] == "lgp-control-plane"
    )
    assert base64.b64decode(cp["data"]["encryption-keys"]).decode() == keys
    assert len(base64.b64decode(cp["data"]["admin-api-key"]).decode()) >= 32


def test_generated_secrets_survive_upgrades_and_uninstall(
    helm_config: Any, k8s: Any, namespace: str, release: str
) -> None:
    with installed(helm_config, release, EXTERNAL_DB, namespace) as result:
        assert result["status"] == "deployed"
        survive_upgrades_and_uninstall(helm_config, k8s, namespace, release)


def survive_upgrades_and_uninstall(helm_config: Any, k8s: Any, namespace: str, release: str) -> None:
    first = read_secret(k8s, namespace, f"{release}-control-plane")
    Fernet(first["encryption-keys"].encode())
    assert first["database-url"] == "postgresql://u:p@db:5432/x"
    # The chart's NetworkPolicies are accepted by the apiserver (not enforced: no network plugin here).
    policies = client.NetworkingV1Api(k8s).list_namespaced_network_policy(namespace).items
    assert f"{release}-control-plane" in {p.metadata.name for p in policies}
    apps = client.AppsV1Api(k8s)
    checksum = apps.read_namespaced_deployment(
        f"{release}-control-plane", namespace
    ).spec.template.metadata.annotations["checksum/secret"]

    # An upgrade that changes something else keeps the keys, and so does not roll the pods.
    upgraded = helm_config.upgrade(
        CHART_DIR,
        release,
        {**EXTERNAL_DB, "operator": {"resyncSeconds": 30}},
        namespace=namespace,
        timeout=120,
    )
    assert upgraded["revision"] == 2
    assert read_secret(k8s, namespace, f"{release}-control-plane") == first
    deployment = apps.read_namespaced_deployment(f"{release}-control-plane", namespace)
    assert deployment.spec.template.metadata.annotations["checksum/secret"] == checksum

    # A value given on upgrade replaces the generated one (and rolls the pods).
    new_admin = "n3w-admin-key-" + "z" * 24
    helm_config.upgrade(
        CHART_DIR,
        release,
        {**EXTERNAL_DB, "controlPlane": {**EXTERNAL_DB["controlPlane"], "adminApiKey": new_admin}},
        namespace=namespace,
        timeout=120,
    )
    now = read_secret(k8s, namespace, f"{release}-control-plane")
    assert now["admin-api-key"] == new_admin and now["encryption-keys"] == first["encryption-keys"]
    deployment = apps.read_namespaced_deployment(f"{release}-control-plane", namespace)
    assert deployment.spec.template.metadata.annotations["checksum/secret"] != checksum

    # Uninstalling removes the workloads but keeps the encryption key (helm.sh/resource-policy: keep).
    helm_config.uninstall(release, timeout=120)
    names = [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items]
    assert names == []
    assert (
        read_secret(k8s, namespace, f"{release}-control-plane")["encryption-keys"] == first["encryption-keys"]
    )


def test_the_crd_is_installed_with_the_chart(
    helm_config: Any, k8s: Any, namespace: str, release: str
) -> None:
    with installed(helm_config, release, EXTERNAL_DB, namespace):
        crd = client.ApiextensionsV1Api(k8s).read_custom_resource_definition("langgraphplatforms.lgp.dev")
        assert crd.spec.names.kind == "LangGraphPlatform"
