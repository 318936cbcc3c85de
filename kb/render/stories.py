"""Stories for live demos: a YAML file (stories/NAME.yaml) holding a title and an ordered list of
steps, each a view of the graph (Explore, Paths, a saved query or the map) with a title and a short
note. A title or note is a line of text (English) or a mapping of languages to lines ({en: ..., de:
..., zh: ...}, English required): the player shows the one in the app's language, else the English.
Read and checked here, written back by the app's "Add this view to a story", shown step by step
by the Story page and exported as one HTML page that plays offline."""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb import config, db, geo
from kb.errors import StoryError
from kb.saved_queries import SAVED_QUERIES, saved_query
from kb.schema import ENTITY_LABEL, LANGUAGES, schema
from kb.subgraph import Subgraph
from kb.render import i18n, map as kb_map

KINDS = ("explore", "paths", "query", "map")
# A story's name is its file name: plain, so it is safe in a path and in a URL.
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEPTHS = (1, 2, 3)
# Which fields each kind of step takes besides title and note; the first ones listed are required.
REQUIRED = {"explore": ("id",), "paths": ("from", "to"), "query": ("query",), "map": ()}
OPTIONAL = {"explore": ("depth", "entity_types", "relation_types", "year", "undated"), "paths": ("year", "undated"),
            "query": ("params",), "map": ("relation_types", "year", "undated")}

# Put into each step's graph page. The drawing is fitted to the frame once the layout has settled (the
# fit during stabilisation is made on half-settled positions and leaves it off centre) and again when the
# frame changes size; a small graph may be drawn larger than life, for the back of the room. And a key
# pressed while the graph has the focus reaches the page that plays the story (the app's buttons or the
# exported player) as if pressed there; that part alone (PASS_KEYS_SCRIPT) goes into a map step's page.
STEP_SCRIPT = """<style>html, body { overflow: hidden; } #kb-graph { border: none; }</style>
<script type="text/javascript">
function kbFit() { network.fit({maxZoomLevel: 1.6}); }
(function fitWhenSettled() { if (window.kbGraphSettled) { kbFit(); } else { setTimeout(fitWhenSettled, 50); } })();
window.addEventListener("resize", kbFit);
</script>""" + (PASS_KEYS_SCRIPT := """<script type="text/javascript">
document.addEventListener("keydown", function (event) {
  if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && window.parent !== window) {
    window.parent.document.dispatchEvent(new KeyboardEvent("keydown",
      {key: event.key, code: event.code, keyCode: event.keyCode, bubbles: true}));
  }
});
</script>""")


@dataclass(frozen=True)
class Text:
    """A title or note: its English line and (language, line) pairs for the languages it is translated into."""
    english: str = ""
    translations: tuple = ()

    def in_language(self, language: str) -> str:
        return dict(self.translations).get(language) or self.english

    def as_record(self):
        """As the file holds it: the line, or the mapping when it is translated."""
        return {LANGUAGES[0]: self.english, **dict(self.translations)} if self.translations else self.english


@dataclass(frozen=True)
class Step:
    kind: str
    title: Text
    note: Text = Text()
    id: str | None = None
    depth: int = 1
    entity_types: tuple = ()
    relation_types: tuple = ()
    year: int | None = None
    undated: bool = True         # with a year: whether ties without a `since` are kept
    start: str | None = None     # paths: `from` in the file
    end: str | None = None       # paths: `to` in the file
    query: str | None = None     # the saved query's name
    params: tuple = ()           # (name, value) pairs, so that a step can be hashed and cached

    def as_record(self) -> dict:
        """The step as the file holds it (defaults left out)."""
        record = {"title": self.title.as_record(), "note": self.note.as_record(),
                  "kind": self.kind}
        if self.kind == "explore":
            record["id"] = self.id
            if self.depth != 1:
                record["depth"] = self.depth
            record.update({key: list(value) for key, value in
                           (("entity_types", self.entity_types), ("relation_types", self.relation_types)) if value})
        elif self.kind == "paths":
            record.update({"from": self.start, "to": self.end})
        elif self.kind == "map":
            if self.relation_types:
                record["relation_types"] = list(self.relation_types)
        else:
            record["query"] = self.query
            if self.params:
                record["params"] = dict(self.params)
        if self.year is not None:
            record["year"] = self.year
            if not self.undated:
                record["undated"] = False
        return record

    def describe(self) -> str:
        """The view in one line: `explore city-foshan, depth 2, relations MEMBER_OF, year 2019`."""
        if self.kind == "explore":
            parts = [f"explore {self.id}", f"depth {self.depth}"]
            parts += [f"{label} {', '.join(chosen)}" for label, chosen in
                      (("types", self.entity_types), ("relations", self.relation_types)) if chosen]
        elif self.kind == "paths":
            parts = [f"paths from {self.start} to {self.end}"]
        elif self.kind == "map":
            parts = ["map"] + ([f"relations {', '.join(self.relation_types)}"] if self.relation_types else [])
        else:
            parts = [f"query {self.query}"] + [f"{name}={value}" for name, value in self.params]
        if self.year is not None:
            parts.append(f"year {self.year}" + ("" if self.undated else ", undated ties left out"))
        return ", ".join(parts)

    def entity_ids(self) -> list[str]:
        """The entities the step names: its centre, its two ends, or its query's id parameters."""
        if self.kind == "explore":
            return [self.id]
        if self.kind == "paths":
            return [self.start, self.end]
        if self.kind == "map":
            return []
        defaults = saved_query(self.query).params
        # A saved query's text parameters are entity ids (its defaults show which ones).
        return [value for name, value in self.params if isinstance(defaults.get(name), str)]


@dataclass(frozen=True)
class Story:
    name: str
    title: Text
    steps: tuple = field(default_factory=tuple)
    path: Path | None = None


def folder() -> Path:
    return Path(config.setting("stories"))


def path_of(name: str) -> Path:
    if not NAME.match(name or ""):
        raise StoryError(f"{name!r} is not a story name: use lower-case letters, digits and hyphens "
                         "(it becomes the file name)")
    return folder() / f"{name}.yaml"


def names() -> list[str]:
    """The stories in the stories folder, by name."""
    return sorted(path.stem for path in folder().glob("*.yaml") if NAME.match(path.stem))


def load(name: str) -> Story:
    """Read and check stories/NAME.yaml (its form and its types; see check_ids for its entities)."""
    path = path_of(name)
    if not path.exists():
        known = ", ".join(names()) or "none"
        raise StoryError(f"{path}: no such story (stories in {folder()}: {known})")
    return read(path)


def read(path: Path) -> Story:
    """Read and check one story file; a StoryError names the file, the step and the field at fault."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise StoryError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise StoryError(f"{path}: a story is a mapping with `title` and `steps`")
    unknown = set(document) - {"title", "steps"}
    if unknown:
        raise StoryError(f"{path}: field {sorted(unknown)[0]!r}: unknown (a story has `title` and `steps`)")
    title = _text(document.get("title"), lambda problem: StoryError(f"{path}: field 'title': {problem}"))
    if not title.english:
        raise StoryError(f"{path}: field 'title': required, a line of text")
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise StoryError(f"{path}: field 'steps': required, a list of at least one step")
    return Story(path.stem, title, tuple(_step(path, number, record) for number, record in enumerate(steps, start=1)),
                 path)


def _text(value, fail) -> Text:
    """A title or note read: a line, or a mapping of languages to lines."""
    if value is None or isinstance(value, str):
        return Text((value or "").strip())
    others = LANGUAGES[1:]
    if not isinstance(value, dict) or any(not isinstance(line, str) for line in value.values()):
        raise fail(f"a line of text, or a mapping of languages ({', '.join(LANGUAGES)}) to lines")
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise fail(f"{unknown[0]!r} is not one of the languages {', '.join(LANGUAGES)}")
    english = value.get(LANGUAGES[0], "").strip()
    if not english:
        raise fail(f"the {LANGUAGES[0]!r} line is required when the text is given per language")
    return Text(english, tuple((language, value[language].strip()) for language in others
                               if value.get(language, "").strip()))


def _step(path: Path, number: int, record) -> Step:
    def fail(name: str, problem: str):
        return StoryError(f"{path}: step {number}: field {name!r}: {problem}")

    if not isinstance(record, dict):
        raise StoryError(f"{path}: step {number}: a step is a mapping (title, note, kind and the view's fields)")
    kind = record.get("kind")
    if kind not in KINDS:
        raise fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    allowed = {"title", "note", "kind", *REQUIRED[kind], *OPTIONAL[kind]}
    for name in record:
        if name not in allowed:
            raise fail(name, f"unknown for a {kind} step (allowed: {', '.join(sorted(allowed))})")
    title = _text(record.get("title"), lambda problem: fail("title", problem))
    note = _text(record.get("note"), lambda problem: fail("note", problem))
    if not title.english:
        raise fail("title", "required, a line of text")
    for name in REQUIRED[kind]:
        if not isinstance(record.get(name), str) or not record[name].strip():
            raise fail(name, "required, a line of text")
    fields = {"kind": kind, "title": title, "note": note}
    year = record.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 1000 <= year <= 9999):
        raise fail("year", f"{year!r} is not a year")
    fields["year"] = year
    fields["undated"] = record.get("undated", True)
    if not isinstance(fields["undated"], bool):
        raise fail("undated", f"{fields['undated']!r}: true (keep ties without a `since`) or false")
    if kind == "explore":
        fields["id"] = record["id"]
        fields["depth"] = record.get("depth", 1)
        if fields["depth"] not in DEPTHS or isinstance(fields["depth"], bool):
            raise fail("depth", f"{fields['depth']!r} is not one of 1, 2, 3")
        for name, known in (("entity_types", schema().entities), ("relation_types", schema().relations)):
            chosen = record.get(name) or []
            if not isinstance(chosen, list) or any(value not in known for value in chosen):
                raise fail(name, f"{chosen!r}: a list of the schema's types ({', '.join(sorted(known))})")
            fields[name] = tuple(chosen)
    elif kind == "paths":
        fields["start"], fields["end"] = record["from"], record["to"]
    elif kind == "map":
        chosen, drawable = record.get("relation_types") or [], geo.drawable_relations()
        if not isinstance(chosen, list) or any(value not in drawable for value in chosen):
            raise fail("relation_types", f"{chosen!r}: a list of the relation types a map draws ({', '.join(drawable)})")
        fields["relation_types"] = tuple(chosen)
    else:
        try:
            saved = saved_query(record["query"])
        except KeyError as error:
            raise fail("query", error.args[0]) from None
        params = record.get("params") or {}
        if not isinstance(params, dict):
            raise fail("params", "a mapping of the saved query's parameters to values")
        for name in params:
            if name not in saved.params:
                raise fail(f"params.{name}", f"the saved query {saved.name!r} takes no such parameter "
                                             f"(it takes: {', '.join(saved.params) or 'none'})")
        fields["query"] = saved.name
        fields["params"] = tuple(sorted(params.items()))
    return Step(**fields)


def check_ids(story: Story) -> None:
    """Every entity the story's steps name exists in the database; else one StoryError naming the first missing."""
    wanted = [(number, step, entity_id) for number, step in enumerate(story.steps, start=1)
              for entity_id in step.entity_ids()]
    found = {r["id"] for r in db.read(EXISTING_IDS_QUERY, ids=sorted({entity_id for *_, entity_id in wanted}))}
    for number, step, entity_id in wanted:
        if entity_id not in found:
            field_name = {"explore": "id", "paths": "from" if entity_id == step.start else "to"}.get(
                step.kind, "params")
            raise StoryError(f"{story.path}: step {number}: field {field_name!r}: no entity has the id "
                             f"{entity_id!r} in the database")


EXISTING_IDS_QUERY = f"MATCH (n:{ENTITY_LABEL}) WHERE n.id IN $ids RETURN n.id AS id"


def add_step(name: str, step: Step, title: str | None = None) -> tuple[Path, int]:
    """Append a step to stories/NAME.yaml (a new story gets the title given, or its name); returns the
    file and the step's number. The whole file is checked again after writing."""
    path = path_of(name)
    if path.exists():
        story = read(path)
        document = {"title": story.title.as_record(), "steps": [s.as_record() for s in story.steps]}
    else:
        document = {"title": (title or "").strip() or name.replace("-", " ").capitalize(), "steps": []}
    document["steps"].append(step.as_record())
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    checked = path.with_suffix(".yaml.new")
    checked.write_text(text, encoding="utf-8")
    try:
        read(checked)
    except StoryError:
        checked.unlink()
        raise
    checked.replace(path)
    return path, len(document["steps"])


def saved_query_of(cypher_text: str):
    """The saved query whose text this is, or None (only saved queries can be a story's step)."""
    return next((saved for saved in SAVED_QUERIES if saved.cypher == cypher_text), None)


@dataclass
class StepView:
    """What a step shows: a graph, or (a saved query without nodes in its result) a table."""
    graph: Subgraph | None
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    page: str | None = None      # a map step: its drawn page
    size_note: str = ""
    language: str = i18n.DEFAULT

    @property
    def size(self) -> str:
        if self.size_note:
            return self.size_note
        if self.graph is not None:
            return i18n.text("step_size_graph", self.language, entities=len(self.graph.nodes),
                             facts=len(self.graph.edges))
        return i18n.text("step_size_rows", self.language, rows=len(self.rows))


def view(step: Step, language: str = i18n.DEFAULT) -> StepView:
    """Ask the database for what the step shows, through the same functions as the app's pages."""
    from kb import cypher, queries

    if step.kind == "explore":
        return StepView(queries.neighbourhood(step.id, step.depth, list(step.entity_types),
                                              list(step.relation_types), year=step.year,
                                              undated=step.undated), language=language)
    if step.kind == "map":
        return map_view(step, language)
    if step.kind == "paths":
        return StepView(queries.paths_subgraph(queries.shortest_paths(step.start, step.end, year=step.year,
                                                                      undated=step.undated)), language=language)
    saved = saved_query(step.query)
    result = cypher.run_read_only(saved.cypher, {**saved.params, **dict(step.params)})
    if result.graph.nodes:
        return StepView(result.graph, language=language)
    return StepView(None, list(result.columns), [[_cell(value) for value in row] for row in result.rows],
                    language=language)


def map_view(step: Step, language: str = i18n.DEFAULT) -> StepView:
    """A map step: the Map page's drawing of the places and ties it asks for, filling the player's frame."""
    data = geo.map_data(list(step.relation_types), step.year, step.undated, language)
    ties = sum(arc.count for arc in data.arcs)
    places = sum(1 for n in data.tie_counts().values() if n)
    return StepView(None, page=kb_map.page(data, extras=(PASS_KEYS_SCRIPT,), title=step.title.in_language(language),
                                           language=language),
                    size_note=i18n.text("step_size_map", language, ties=ties, places=places), language=language)


def _cell(value) -> str:
    from kb import tabular
    shown = tabular.cell(value)
    return "" if shown is None else str(shown)


def graph_page(graph: Subgraph, vis_url: str | None = None, language: str = i18n.DEFAULT) -> str:
    """A step's graph as a standalone page filling its frame, large as in presentation mode, with its
    legend, passing the arrow keys on (vis_url: see kb.render.graph Drawing.page)."""
    from kb import queries
    from kb.render import graph as kb_graph

    titles = queries.source_titles(tuple(sorted(set(graph.source_ids()))))
    drawn = kb_graph.drawing(graph, source_titles=titles, style=kb_graph.FULL_WINDOW, language=language)
    return drawn.page(vis_url=vis_url, extras=(STEP_SCRIPT,))


def table_html(columns: list, rows: list) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def export(story: Story, language: str = i18n.DEFAULT) -> str:
    """The whole story as one HTML page in the language: every step's graph (or table) inlined, nothing
    fetched from another host; Left and Right (or the buttons) step through it, the step kept in the
    address (#step=N)."""
    steps = []
    for step in story.steps:
        shown = view(step, language)
        steps.append({"title": step.title.in_language(language), "note": step.note.in_language(language), "size": shown.size,
                      "graph": shown.page or (graph_page(shown.graph, language=language)
                                              if shown.graph is not None else None),
                      "table": None if shown.graph is not None or shown.page else table_html(shown.columns, shown.rows),
                      "nodes": len(shown.graph.nodes) if shown.graph is not None else None})
    # `</` inside a script would end it early.
    data = json.dumps(steps, ensure_ascii=False).replace("</", "<\\/")
    return (PLAYER.replace("__TITLE__", html.escape(story.title.in_language(language))).replace("__LANG__", language)
            .replace("__PREVIOUS__", html.escape(i18n.text("story_previous", language)))
            .replace("__NEXT__", html.escape(i18n.text("story_next", language))).replace("__STEPS__", data))


PLAYER = """<!DOCTYPE html>
<html lang="__LANG__"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
html, body { margin: 0; height: 100%; font-family: sans-serif; overflow: hidden; }
#bar { display: flex; align-items: center; gap: 0.6em; height: 44px; padding: 0 0.8em; box-sizing: border-box;
       white-space: nowrap; overflow: hidden; }
#bar button { font-size: 1em; padding: 0.2em 0.8em; }
#title { font-weight: bold; font-size: 1.15em; }
#note { color: #444; overflow: hidden; text-overflow: ellipsis; }
#where { color: #777; }
#graph { display: block; width: 100%; height: calc(100% - 44px); border: none; }
#table { height: calc(100% - 44px); overflow: auto; padding: 0 0.8em; box-sizing: border-box; }
#table table { border-collapse: collapse; font-size: 1.3em; }
#table th, #table td { border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
</style></head>
<body>
<div id="bar"><button id="previous" title="__PREVIOUS__">&#9664;</button><span id="where"></span>
<button id="next" title="__NEXT__">&#9654;</button><span id="title"></span><span id="note"></span></div>
<iframe id="graph" title="graph"></iframe><div id="table"></div>
<script type="text/javascript">
const STEPS = __STEPS__;
const frame = document.getElementById("graph"), table = document.getElementById("table");
let current = 0;
function show(index) {
  current = Math.max(0, Math.min(STEPS.length - 1, index));
  const step = STEPS[current];
  document.getElementById("where").textContent = (current + 1) + " / " + STEPS.length;
  document.getElementById("title").textContent = step.title;
  document.getElementById("note").textContent = step.note ? "\\u2014 " + step.note + " (" + step.size + ")"
                                                          : "(" + step.size + ")";
  document.title = step.title;
  frame.style.display = step.graph === null ? "none" : "block";
  table.style.display = step.graph === null ? "block" : "none";
  if (step.graph !== null) { frame.srcdoc = step.graph; } else { frame.removeAttribute("srcdoc"); }
  table.innerHTML = step.table || "";
  history.replaceState(null, "", "#step=" + (current + 1));
}
document.addEventListener("keydown", function (event) {
  if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
  if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
});
document.getElementById("previous").addEventListener("click", function () { show(current - 1); });
document.getElementById("next").addEventListener("click", function () { show(current + 1); });
const linked = /step=(\\d+)/.exec(location.hash);
show(linked ? parseInt(linked[1], 10) - 1 : 0);
</script>
</body></html>
"""
