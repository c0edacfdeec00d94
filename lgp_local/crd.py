"""Install a CRD (by default lgp's own, from crds/) and wait until the apiserver serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from .procs import wait_for

LGP_CRD = Path(__file__).resolve().parents[1] / "crds" / "langgraphplatforms.yaml"


def install_crd(api: client.ApiClient, path: Path = LGP_CRD, timeout: float = 30) -> dict[str, Any]:
    """Create the CRD, or update it to this file's content when it exists; return once Established."""
    ext = client.ApiextensionsV1Api(api)
    body: dict[str, Any] = yaml.safe_load(path.read_text())
    name = body["metadata"]["name"]
    try:
        ext.create_custom_resource_definition(body)
    except client.ApiException as e:
        if e.status != 409:
            raise
        existing = ext.read_custom_resource_definition(name)
        body["metadata"]["resourceVersion"] = existing.metadata.resource_version
        ext.replace_custom_resource_definition(name, body)

    def established() -> bool:
        crd = ext.read_custom_resource_definition(name)
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    wait_for(established, timeout=timeout, what=f"CRD {name} to be established")
    return body
