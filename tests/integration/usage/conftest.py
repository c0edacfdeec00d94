"""Fixtures shared with tests/api/usage: LangGraph-shaped databases on the real Postgres."""

from tests.api.usage.conftest import make_langgraph_db

__all__ = ["make_langgraph_db"]
