"""The smallest LangGraph graph: the e2e tier's agent server serves it (GET /ok is what is checked)."""

from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    message: str


def echo(state: State) -> State:
    return {"message": state["message"]}


builder = StateGraph(State)
builder.add_node("echo", echo)
builder.add_edge(START, "echo")
builder.add_edge("echo", END)
graph = builder.compile()
