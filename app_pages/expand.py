"""Expand in place: a double-click on a node of Explore's drawing adds the node's neighbours to that drawing,
and "Undo expansion" removes the last expansion, without the page running again or the drawing being redrawn.

The drawing's frame (kb/render/templates/expansion.js) raises an event in this page; the bridge, a Streamlit
component of this page (components v2: no frame of its own), turns it into a trigger value, which reruns only
the fragment below. The fragment asks the core for the neighbours and their ties to what is drawn already
(kb.queries.expansion), styles them as the drawing's own (pyvis, kb.render.graph.expansion) and hands every
expansion of the view back to the bridge, which gives them to the frame to draw. The fragment also shows the
drawing's legend, so that a type an expansion brings is in it (and leaves it with the expansion's undo)."""
from __future__ import annotations

import functools

import streamlit as st

from kb.render import graph as kb_graph
from kb.subgraph import Subgraph, union
from app_pages import widgets

t = widgets.t
STATE_KEY = "expansions"
BRIDGE_KEY = "expand-bridge"
# Runs in the app's page on every run of the fragment: the latest expansions are left where a frame drawn
# later finds them, and given at once to the frames that draw expansions (the frame checks they are its view's).
# A frame leaves its double-click in kbExpandAsked and raises kb-expand; a click made before this bridge first
# ran (its script loads after the drawing, slowly on a busy machine) waits there until it does, not lost.
BRIDGE_JS = """
function askPending() {
  const asked = window.kbExpandAsked, state = window.kbExpansionState;
  if (!asked || !state) return;
  window.kbExpandAsked = null;
  if (asked.view === state.view) window.kbAskExpansion("expand", asked.node);
}
export default function ({ data, setTriggerValue }) {
  window.kbExpansionState = data;
  window.kbAskExpansion = setTriggerValue;
  if (!window.kbExpandListening) {
    window.kbExpandListening = true;
    window.addEventListener("kb-expand", askPending);
  }
  askPending();
  for (const frame of document.querySelectorAll("iframe")) {
    const drawing = frame.contentWindow;
    if (drawing && drawing.kbApplyExpansions) drawing.kbApplyExpansions(data);
  }
}
"""
bridge = st.components.v2.component("kb_expand_bridge", js=BRIDGE_JS)


def view_state(view: str) -> dict:
    """This view's expansions (a new view starts with none) and how many were ever made (their keys)."""
    state = st.session_state.get(STATE_KEY)
    if not state or state["view"] != view:
        state = st.session_state[STATE_KEY] = {"view": view, "expansions": [], "made": 0}
    return state


def drawn_ids(graph: Subgraph, expansions: list) -> set:
    return set(graph.nodes).union(*(expansion["added"] for expansion in expansions))


def expand(view: str, graph: Subgraph, expansion_of) -> None:
    """The bridge's callback: the double-clicked node's neighbours, and their ties to what is drawn, become
    the view's newest expansion."""
    node = st.session_state[BRIDGE_KEY].get("expand")
    state = view_state(view)
    drawn = drawn_ids(graph, state["expansions"])
    if node not in drawn:
        return
    found = expansion_of(node, tuple(sorted(drawn)))
    styled = kb_graph.expansion(found.graph, kb_graph.hides_edge_labels(graph), widgets.presentation_mode(),
                                widgets.titles_of(found.graph.source_ids()), widgets.language())
    added = set(found.added)
    state["made"] += 1
    state["expansions"].append({"key": f"expansion-{state['made']}", "node": node,
                                "name": found.graph.nodes[node].shown_name(widgets.language()),
                                "added": found.added, "found": found, "edges": styled["edges"],
                                # The frame draws only nodes it lacks: those drawn already need not travel.
                                "nodes": [styled_node for styled_node in styled["nodes"] if styled_node["id"] in added]})


def undo(view: str) -> None:
    view_state(view)["expansions"].pop()


def summary(last: dict) -> str:
    """What the last expansion added, and what its caps left out."""
    found = last["found"]
    parts = [t("expanded", name=last["name"], added=len(found.added))]
    if found.ties_to_drawn:
        parts.append(t("expansion_ties", ties=found.ties_to_drawn))
    if found.left_out:
        parts.append(t("expansion_left_out", left_out=found.left_out))
    if found.ties_left_out:
        parts.append(t("expansion_ties_left_out", left_out=found.ties_left_out))
    return " ".join(parts)


@st.fragment
def offer(view: str, graph: Subgraph, expansion_of) -> None:
    """Under a drawing made with kb_graph.expansion_script(view): its legend (with what the expansions add),
    the hint, the last expansion's summary and its undo. expansion_of: (node id, drawn ids) -> kb.queries.Expansion."""
    state = view_state(view)
    expansions = state["expansions"]
    bridge(key=BRIDGE_KEY, data={"view": view, "expansions": [
        {key: expansion[key] for key in ("key", "node", "nodes", "edges")} for expansion in expansions]},
        on_expand_change=functools.partial(expand, view, graph, expansion_of))
    widgets.legend(union([graph, *(expansion["found"].graph for expansion in expansions)]))
    if not expansions:
        st.caption(t("expand_hint"))
        return
    st.caption(summary(expansions[-1]))
    st.button(t("undo_expansion"), key="undo-expansion", on_click=undo, args=(view,))
