"""An example agent with no LLM: plain Python nodes, two of them in parallel, and one that sleeps.

    START -> plan -> (research, draft in parallel) -> review -> END

Super-steps: [plan], [research, draft], [review]: 4 node executions per run. ``review`` sleeps
``sleep`` seconds (from the run's input; default ``AGENT_SLEEP_SECONDS`` from the environment, else
1 s) so a run stays visible as running for a while. The state's ``steps`` list records which nodes
ran, in order per super-step.
"""

from __future__ import annotations

import asyncio
import operator
import os
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    topic: str
    sleep: float
    steps: Annotated[list[str], operator.add]
    notes: Annotated[list[str], operator.add]
    answer: str


def plan(state: State) -> State:
    return {"steps": ["plan"], "notes": [f"plan: look into {state.get('topic') or 'nothing in particular'}"]}


def research(state: State) -> State:
    return {
        "steps": ["research"],
        "notes": [f"research: {len(state.get('topic') or '')} characters of topic"],
    }


def draft(state: State) -> State:
    return {"steps": ["draft"], "notes": ["draft: a first answer"]}


async def review(state: State) -> State:
    seconds = float(state.get("sleep", os.environ.get("AGENT_SLEEP_SECONDS", "1")))
    await asyncio.sleep(seconds)
    notes = sorted(state.get("notes", []))
    return {"steps": ["review"], "answer": f"{len(notes)} notes after {seconds:g} s: " + "; ".join(notes)}


builder = StateGraph(State)
builder.add_node("plan", plan)
builder.add_node("research", research)
builder.add_node("draft", draft)
builder.add_node("review", review)
builder.add_edge(START, "plan")
builder.add_edge("plan", "research")
builder.add_edge("plan", "draft")
builder.add_edge(["research", "draft"], "review")
builder.add_edge("review", END)
graph = builder.compile()
