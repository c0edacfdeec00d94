"""The images a deployment needs on the local node, built here with no registry (``lgp_local.images``)
and loaded into its containerd: the example agent (``examples/agent``, the stock LangGraph server laid
out like the official image), and the Postgres and Redis images the operator runs for a deployment's
managed database and Redis (``LGP_OPERATOR_POSTGRES_IMAGE`` / ``LGP_OPERATOR_REDIS_IMAGE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_AGENT = REPO / "examples" / "agent" / "langgraph.json"
AGENT_IMAGE = "localhost/lgp/example-agent:dev"


def builder_missing() -> str | None:
    """Why the images cannot be built from this checkout (None: they can)."""
    try:
        import lgp_local.images  # noqa: F401
    except ImportError:
        return "the registry-free image builder (lgp_local.images) is not in this checkout"
    if not EXAMPLE_AGENT.exists():
        return f"the example agent is missing ({EXAMPLE_AGENT})"
    return None


def build_platform_images(
    agent_config: Path = EXAMPLE_AGENT, agent_name: str = AGENT_IMAGE
) -> dict[str, Any]:
    """Build (or find in the content-addressed cache) the agent, Postgres and Redis images:
    ``{"agent" | "postgres" | "redis": (BuiltImage, name)}``."""
    from lgp_local.images import build, recipes

    return {
        "agent": (build(recipes.server(agent_config)), agent_name),
        "postgres": (build(recipes.postgres()), recipes.POSTGRES_NAME),
        "redis": (build(recipes.redis()), recipes.REDIS_NAME),
    }


def load_platform_images(built: dict[str, Any], containerd_socket: Path) -> dict[str, str]:
    """Import them into the node's containerd; returns ``{key: image name as the node knows it}``."""
    from lgp_local.images import load

    return {key: load(image, name, address=str(containerd_socket)) for key, (image, name) in built.items()}
