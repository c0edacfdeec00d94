"""LangGraph's control-plane API, as the official ``langgraph deploy`` (langgraph-cli 0.4.x) calls it,
under ``/api-host``: both ``LANGGRAPH_HOST_URL=<lgp>/api-host`` and ``LANGSMITH_ENDPOINT=<lgp>`` reach
it. A translation over the same services as ``/v1`` (validation, the revision state machine, the audit
log, the license check), with lgp's API keys and tenancy: ``models`` are the shapes the CLI sends and
reads, ``translate`` the pure functions between them and lgp's, ``routes`` the thin routes."""

from .routes import router

__all__ = ["router"]
