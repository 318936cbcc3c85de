"""Figures for papers: the facts a drawn graph shows as a numbered list citing its sources (Markdown),
its sources as BibTeX, and a button in the drawn graph that saves its canvas as a PNG image."""
from __future__ import annotations

import datetime
import json
import re

from kb import db
from kb.queries import CITED_SOURCES_QUERY
from kb.schema import schema
from kb.subgraph import Subgraph

# BibTeX's special characters inside a braced field, and what stands for each.
BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
BIBTEX_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.\-]")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
# A report has an institution behind it; news, datasets and reference pages are cited as @misc.
BIBTEX_TYPES = {"report": "techreport"}

PNG_BUTTON = """<button id="kb-png" type="button" onclick="kbDownloadPng()"
 style="position:absolute;top:8px;right:8px;z-index:10;font:13px sans-serif;padding:4px 10px;
 background:#fff;border:1px solid #888;border-radius:4px;cursor:pointer">Download PNG</button>
<script type="text/javascript">
// The canvas is transparent where nothing is drawn: paint it on white, as a page would print it.
function kbDownloadPng() {
  var drawn = document.querySelector('#kb-graph canvas');
  var out = document.createElement('canvas');
  out.width = drawn.width; out.height = drawn.height;
  var context = out.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, out.width, out.height);
  context.drawImage(drawn, 0, 0);
  var link = document.createElement('a');
  link.download = %s;
  link.href = out.toDataURL('image/png');
  document.body.appendChild(link);
  link.click();
  link.remove();
}
</script>"""


def cited_sources(ids) -> dict:
    """Source id -> its record (title, publisher, date, url, accessed, kind) for these ids only."""
    ids = sorted(set(ids))
    return {r["id"]: dict(r) for r in db.read(CITED_SOURCES_QUERY, ids=ids)} if ids else {}


def numbering(graph: Subgraph) -> dict:
    """Source id -> its number: in the order the sorted facts first cite them."""
    order = []
    for edge in _sorted_edges(graph):
        order += [sid for sid in edge.sources if sid not in order]
    return {sid: number for number, sid in enumerate(order, start=1)}


def _sorted_edges(graph: Subgraph) -> list:
    names = {node_id: node.name for node_id, node in graph.nodes.items()}
    return sorted(graph.edges.values(),
                  key=lambda e: (names[e.start], e.type, names[e.end], e.properties.get("since") or ""))


def _md(text) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _when(properties: dict) -> str:
    since, until = properties.get("since"), properties.get("until")
    if since and until:
        return f", {since} to {until}"
    if since:
        return f", since {since}"
    return f", until {until}" if until else ""


def _reference(number: int, sid: str, source: dict | None) -> str:
    if source is None:
        return f"[{number}] {_md(sid)} (not in the database)"
    parts = [_md(source.get("title") or source.get("name") or sid)]
    detail = ", ".join(_md(p) for p in (source.get("publisher"), source.get("date")) if p)
    if detail:
        parts.append(detail)
    text = ". ".join(parts) + "."
    if source.get("url"):
        text += f" <{source['url']}>"
        if source.get("accessed"):
            text += f" (accessed {source['accessed']})"
    return f"[{number}] {text} BibTeX key: `{bibtex_key(sid)}`"


def facts_markdown(graph: Subgraph, sources: dict, title: str, today: datetime.date | None = None) -> str:
    """The facts (ties) of the graph as a numbered list, each citing its sources by number, then the sources."""
    numbers = numbering(graph)
    day = (today or datetime.date.today()).isoformat()
    lines = [f"# {_md(title)}", "",
             f"{len(graph.edges)} facts from the Sino-German Ties knowledge base, as shown on {day}. "
             "Numbers in brackets cite the sources listed below.", ""]
    for number, edge in enumerate(_sorted_edges(graph), start=1):
        start, end = graph.nodes[edge.start], graph.nodes[edge.end]
        relation = schema().relations.get(edge.type)
        verb = schema().relation_label(edge.type)
        symmetric = " (both ways)" if relation and relation.symmetric else ""
        cites = ", ".join(str(numbers[sid]) for sid in edge.sources)
        lines.append(f"{number}. {_md(start.name)} ({start.type}{', ' + start.country if start.country else ''}) "
                     f"*{verb}*{symmetric} {_md(end.name)} ({end.type}{', ' + end.country if end.country else ''})"
                     f"{_md(_when(edge.properties))} [{cites or 'no source recorded'}]")
    lines += ["", "## Sources", ""]
    lines += [_reference(number, sid, sources.get(sid)) + "  " for sid, number in numbers.items()]
    return "\n".join(lines).rstrip() + "\n"


def bibtex_key(source_id: str) -> str:
    return BIBTEX_KEY_UNSAFE.sub("-", source_id)


def _braced(text) -> str:
    return "".join(BIBTEX_ESCAPES.get(ch, ch) for ch in str(text))


def bibtex(sources: dict, order=None) -> str:
    """One BibTeX entry per source, in the given order of ids (default: by id); UTF-8 text, URL and read date
    (urldate) as biblatex reads them."""
    entries = []
    for sid in order or sorted(sources):
        source = sources.get(sid)
        if source is None:
            continue
        kind = BIBTEX_TYPES.get(source.get("kind"), "misc")
        fields = [("title", "{" + _braced(source.get("title") or source.get("name") or sid) + "}")]
        if source.get("publisher"):
            fields.append(("institution" if kind == "techreport" else "howpublished", _braced(source["publisher"])))
        date = str(source.get("date") or "")
        if date:
            fields += [("year", date[:4]), ("date", date)]
        if source.get("url"):
            fields.append(("url", source["url"]))
        if source.get("accessed"):
            fields += [("urldate", str(source["accessed"])), ("note", f"Accessed {source['accessed']}")]
        if source.get("language"):
            fields.append(("language", _braced(source["language"])))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{kind}{{{bibtex_key(sid)},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def png_download(file_name: str) -> str:
    """For a drawn graph's page (kb.render.graph Drawing.page extras): a button that saves its canvas as
    file_name (PNG)."""
    return PNG_BUTTON % json.dumps(file_name)
