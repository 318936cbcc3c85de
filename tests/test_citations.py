"""Figures for papers on the seeds: the facts shown as a numbered, cited Markdown list, their sources as
BibTeX, and the drawn graph saved as PNG from its canvas in headless Chromium (outside requests blocked)."""
from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image

from kb import analysis
from kb.render import citations
from kb.render import graph as kb_graph
from tests.conftest import seed_sources

# Midea's takeover of Kuka and the places around it: ties citing news, reports and reference sources.
IDS = ["firm-kuka", "firm-midea", "city-augsburg", "city-foshan", "country-cn", "country-de"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ENTRY = re.compile(r"@(\w+)\{([^,]+),\n(.*?)\n\}", re.DOTALL)


@pytest.fixture(scope="module")
def shown(seeded_readonly):
    """The drawn subgraph and the records of the sources its ties cite."""
    drawn = analysis.subgraph(IDS)
    return drawn, citations.cited_sources(sid for edge in drawn.edges.values() for sid in edge.sources)


def test_markdown_numbers_every_fact_and_cites_every_source(shown):
    drawn, sources = shown
    text = citations.facts_markdown(drawn, sources, "Kuka & Midea")
    facts = re.findall(r"^(\d+)\. (.*) \[([\d, ]+)\]$", text, re.MULTILINE)
    references = dict(re.findall(r"^\[(\d+)\] (.*?)\s*$", text, re.MULTILINE))
    assert text.startswith("# Kuka & Midea\n")
    assert [int(n) for n, _, _ in facts] == list(range(1, len(drawn.edges) + 1)), text
    cited = {int(n) for _, _, numbers in facts for n in numbers.split(", ")}
    assert cited == set(map(int, references)) == set(range(1, len(sources) + 1))
    seeds = seed_sources()
    for sid, number in citations.numbering(drawn).items():
        reference = references[str(number)]
        assert f"`{sid}`" in reference
        if seeds[sid].get("url"):
            assert f"<{seeds[sid]['url']}>" in reference
    assert any("*acquired*" in line and "Midea" in line and "Kuka" in line for _, line, _ in facts)


def test_bibtex_has_one_entry_per_cited_source(shown):
    drawn, sources = shown
    order = list(citations.numbering(drawn))
    entries = ENTRY.findall(citations.bibtex(sources, order))
    assert [key for _, key, _ in entries] == [citations.bibtex_key(sid) for sid in order]
    seeds = seed_sources()
    for kind, key, body in entries:
        seeded = seeds[key]
        fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", body, re.MULTILINE))
        assert kind == ("techreport" if seeded["kind"] == "report" else "misc")
        assert fields.get("url") == seeded.get("url")
        assert body.count("{") == body.count("}"), body
        if seeded.get("date"):
            assert fields["year"] == str(seeded["date"])[:4]


def test_bibtex_escapes_what_tex_reads_as_commands():
    record = {"title": "R&D: 50% of {firms} in #1 place_x ~ ^", "publisher": "A & B", "kind": "report",
              "date": "2019-05", "url": "https://example.org/a_b", "accessed": "2024-01-02"}
    text = citations.bibtex({"src/odd id": record})
    assert text.startswith("@techreport{src-odd-id,\n")
    assert r"{{R\&D: 50\% of \{firms\} in \#1 place\_x \textasciitilde{} \textasciicircum{}}}" in text
    assert "institution = {A \\& B}" in text and "url = {https://example.org/a_b}" in text
    assert "urldate = {2024-01-02}" in text and "year = {2019}" in text


@pytest.mark.browser
def test_png_download_from_the_canvas_is_a_valid_image(shown, chromium, tmp_path):
    drawn, _ = shown
    page_html = kb_graph.drawing(drawn).page(extras=(citations.png_download("kuka.png"),))
    blocked = []

    def only_local(route):
        if urlsplit(route.request.url).scheme in ("http", "https", "ws", "wss"):
            blocked.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context = chromium.new_context(viewport={"width": 1200, "height": 800}, accept_downloads=True)
    try:
        context.route("**/*", only_local)
        page = context.new_page()
        page.set_content(page_html)
        page.wait_for_function("window.kbGraphSettled === true", timeout=60_000)
        canvas = page.evaluate("(() => { const c = document.querySelector('#kb-graph canvas');"
                               " return [c.width, c.height]; })()")
        with page.expect_download() as download:
            page.click("#kb-png")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
    finally:
        context.close()
    data = saved.read_bytes()
    assert saved.name == "kuka.png" and data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert list(image.size) == canvas
    colours = {colour: count for count, colour in image.getcolors(maxcolors=image.width * image.height)}
    painted = image.width * image.height - colours.get((255, 255, 255), 0)
    assert painted > 1000, "the image shows the drawn nodes, not a blank canvas"
    assert blocked == [], blocked
