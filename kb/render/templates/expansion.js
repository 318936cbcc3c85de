// Expansion in place (kb/render/graph.py expansion_script; kbView is set before this). A double-click on a
// node asks the page that embeds this one for the node's neighbours: the node left in kbExpandAsked and an
// event, which its bridge (app_pages/expand.py, a Streamlit component in the page itself) turns into a trigger
// value. The page answers with every expansion of this view, oldest first, and kbApplyExpansions draws the
// difference: new ones added, undone ones removed.
// Physics is off once the layout has settled, so what is drawn stays where it is.
var kbApplied = [];  // per expansion drawn: its key, and the ids of the nodes and edges it added
network.on("doubleClick", function (event) {
  if (event.nodes.length !== 1 || window.parent === window) return;
  window.parent.kbExpandAsked = {view: kbView, node: event.nodes[0]};
  window.parent.dispatchEvent(new CustomEvent("kb-expand"));
});
// An edge already drawn (by the view or an earlier expansion) is not drawn twice: same ends, same tooltip.
function kbEdgeKey(edge) { return edge.from + "\u0000" + edge.to + "\u0000" + edge.title; }
function kbAddExpansion(expansion) {
  var drawn = {key: expansion.key, nodes: [], edges: []};
  var at = network.getPositions([expansion.node])[expansion.node];
  if (at) {
    var fresh = expansion.nodes.filter(function (node) { return nodes.get(node.id) === null; });
    kbAround(at, fresh);
    drawn.nodes = nodes.add(fresh);
    var known = new Set(edges.get().map(kbEdgeKey));
    drawn.edges = edges.add(expansion.edges.filter(function (edge) {
      return !known.has(kbEdgeKey(edge)) && nodes.get(edge.from) !== null && nodes.get(edge.to) !== null;
    }));
  }
  kbApplied.push(drawn);
}
// Placed on rings around the node double-clicked, each about 70 units along its ring from the next and the
// rings 90 apart: a hub's 150 neighbours take five rings, not one ring ten times as wide as a drawing.
function kbAround(at, fresh) {
  var placed = 0;
  for (var radius = 160; placed < fresh.length; radius += 90) {
    var ring = Math.min(fresh.length - placed, Math.floor(2 * Math.PI * radius / 70));
    for (var i = 0; i < ring; i++) {
      var node = fresh[placed + i], angle = 2 * Math.PI * i / ring;
      node.x = at.x + radius * Math.cos(angle);
      node.y = at.y + radius * Math.sin(angle);
    }
    placed += ring;
  }
}
function kbUndoLastExpansion() {
  var last = kbApplied.pop();
  edges.remove(last.edges);
  nodes.remove(last.nodes);
}
function kbApplyExpansions(state) {
  if (!state || state.view !== kbView) return;
  var wanted = state.expansions, same = 0;
  while (same < kbApplied.length && same < wanted.length && kbApplied[same].key === wanted[same].key) same++;
  while (kbApplied.length > same) kbUndoLastExpansion();
  wanted.slice(same).forEach(kbAddExpansion);
  // Tells a test or the benchmark which expansions are on the canvas.
  network.once("afterDrawing", function () {
    window.kbExpansionsPainted = kbApplied.map(function (drawn) { return drawn.key; }).join(" ");
  });
  network.redraw();
}
// A frame drawn anew (a rerun of the page) takes the expansions the page already holds for its view.
function kbTakeExpansions() { kbApplyExpansions(window.parent.kbExpansionState); }
if (window.parent !== window) {
  if (window.kbGraphSettled) { kbTakeExpansions(); } else { network.once("stabilizationIterationsDone", kbTakeExpansions); }
}
