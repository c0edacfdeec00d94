"""Names of what a LangGraphPlatform is made of, and the labels both planes read, each spelled once.

The operator names a resource's children with these functions, the listener names the Secret it
writes and matches Kubernetes events to a deployment with them, and the usage reporter finds a
managed database's Secret and Service by them. All take the resource's name (the deployment's name).
"""

from __future__ import annotations

MAX_NAME = 40
"""Longest resource name the operator accepts: the longest child suffix is ``-api-server``, and a
StatefulSet's pods and volume claims add more."""

# ---------------------------------------------------------------- labels and annotations
LABEL_DEPLOYMENT_ID = "lgp.dev/deployment-id"
"""On a LangGraphPlatform and Secret the listener writes: the control plane's deployment id. Also a
usage tag, by which the control plane files a usage report under its deployment."""
LABEL_LISTENER_ID = "lgp.dev/listener-id"
"""On what the listener writes: the listener that owns it."""
LABEL_TENANT = "lgp.dev/tenant"
"""On a LangGraphPlatform, optional: the tenant its usage is reported under."""
ANNOTATION_REVISION = "lgp.dev/revision"
"""On the server pods: the revision id they run (also a usage tag)."""
LABEL_INSTANCE = "app.kubernetes.io/instance"
"""On every child and its pods: the resource's name."""
LABEL_COMPONENT = "app.kubernetes.io/component"
"""On every child and its pods: which part it is (``api-server``, ``queue``, ``postgres``, ``redis``)."""
COMPONENT_API_SERVER = "api-server"
COMPONENT_QUEUE = "queue"
SERVER_COMPONENTS = (COMPONENT_API_SERVER, COMPONENT_QUEUE)
"""The components that run the deployment's own image (whose logs are the deployment's logs)."""


# ---------------------------------------------------------------- children of one resource
def service_name(name: str) -> str:
    """The Service in front of the api server: the resource's own name."""
    return name


def api_server_name(name: str) -> str:
    """The api-server Deployment."""
    return f"{name}-api-server"


def queue_name(name: str) -> str:
    """The queue-worker Deployment."""
    return f"{name}-queue"


def postgres_name(name: str) -> str:
    """The managed Postgres StatefulSet, its Service and its password Secret."""
    return f"{name}-postgres"


def usage_secret_name(name: str) -> str:
    """The Secret holding the credential the resource's servers send with their own usage reports."""
    return f"{name}-usage"


USAGE_SECRET_KEY = "api-key"  # noqa: S105 (a key name)
"""The key of that credential in :func:`usage_secret_name`'s Secret."""


def redis_name(name: str) -> str:
    """The managed Redis Deployment and its Service."""
    return f"{name}-redis"


def service_account_name(name: str) -> str:
    """The ServiceAccount the operator makes for the server pods (spec.serviceAccount.create)."""
    return name


def listener_secret_name(name: str) -> str:
    """The Secret the listener writes with a deployment's secret values (and external URIs)."""
    return f"{name}-lgp-secrets"


def belongs_to(name: str, object_name: str) -> bool:
    """Whether an object of this name is the resource ``name`` or one of its children."""
    return object_name == name or object_name.startswith(name + "-")


def server_pods_selector(name: str) -> str:
    """The label selector of the resource's api-server and queue-worker pods."""
    return f"{LABEL_INSTANCE}={name},{LABEL_COMPONENT} in ({','.join(SERVER_COMPONENTS)})"
