"""Shared formats: the regular expressions both planes check strings against, each written once.

The custom resource accepts what Kubernetes accepts; the control plane's API is stricter in a few
places, and says so by using the narrower pattern named here (``PINNED_IMAGE_REF``,
``CPU_QUANTITY``, ``MEMORY_QUANTITY``, ``PORTABLE_ENV_NAME``). Every narrower pattern accepts a
subset of the wider one (``tests/unit/contract/test_formats.py`` checks it), so what the API takes
always makes a valid custom resource.
"""

from __future__ import annotations

# ---------------------------------------------------------------- names (RFC 1123, as Kubernetes)
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
"""A DNS subdomain, optionally a wildcard (``*.example.com``): an Ingress host."""

# ---------------------------------------------------------------- image references
_REGISTRY = r"([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?/)?"
_COMPONENT = r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = rf"{_REGISTRY}{_COMPONENT}(/{_COMPONENT})*"
_TAG = r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"@sha256:[a-f0-9]{64}"
IMAGE_REF = rf"^{_REPOSITORY}({_TAG})?({_DIGEST})?$"
"""``[registry[:port]/]repository[:tag][@sha256:digest]``: any image reference Kubernetes can pull."""
PINNED_IMAGE_REF = rf"^{_REPOSITORY}({_TAG}({_DIGEST})?|{_DIGEST})$"
"""An image reference with a tag, a digest or both: what the control plane deploys (a bare
repository would deploy whatever ``latest`` is at pull time)."""

# ---------------------------------------------------------------- quantities
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""A Kubernetes quantity (``500m``, ``2``, ``1.5Gi``, ``1e3``)."""
CPU_QUANTITY = r"^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$"
"""CPU as the control plane takes it: cores with up to three decimals, or millicores."""
MEMORY_QUANTITY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"
"""Memory or storage as the control plane takes it: a number with an optional binary or decimal unit."""

# ---------------------------------------------------------------- environment and Secrets
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
"""An environment variable name Kubernetes accepts."""
PORTABLE_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""An environment variable name every shell and runtime can read: what the control plane accepts."""
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 (a pattern for Secret keys)
"""A key of a Kubernetes Secret."""

# ---------------------------------------------------------------- revisions
REVISION_ID = r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
"""A revision id as it appears in annotations: a UUID from the control plane, or ``tmpl-<hash>``."""

# ---------------------------------------------------------------- security (spec.security)
CAPABILITY = r"^[A-Z_]+$"
"""A Linux capability name as Kubernetes takes it (``NET_BIND_SERVICE``, ``ALL``)."""
CIDR = r"^[0-9a-fA-F:.]+/[0-9]{1,3}$"
"""An IPv4 or IPv6 range in CIDR notation (a NetworkPolicy ipBlock)."""
ABSOLUTE_PATH = r"^/[^/].*$"
"""An absolute path other than ``/`` (a mount path)."""
