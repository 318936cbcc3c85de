"""Eight app sessions explore, search and query while `kb load` writes a 100,000-relation graph, each
pausing a second on a page as a reader does: every session answers every time without an error, and
the load ends with exact counts."""
from __future__ import annotations

import csv
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kb import config, db
from tests.conftest import graph_counts

APP = str(config.PROJECT_ROOT / "app.py")
KB = str(Path(sys.executable).with_name("kb"))
SESSIONS = 8
# Seconds a session stays on a page before it opens the next, as a reader would: eight sessions asking
# back to back are eight scripts, not eight readers, and on two cores they made the load four times slower
# (68 s against 31 s with the pause, against 15 to 18 s alone).
READING = 1.0
pytestmark = pytest.mark.scale


def _answered(at: AppTest) -> AppTest:
    """The page as shown, after checking it shows no exception and no error (warnings are named too)."""
    shown = [e.value for e in at.exception] + [e.value for e in at.error]
    assert not shown, (shown, [w.value for w in at.warning])
    return at


def _page(page: str, **query_params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query_params)
    _answered(at.run())
    if page != "explore":
        _answered(at.switch_page(f"app_pages/{page}.py").run())
    return at


def explore_link():
    at = _page("explore", id="city-foshan")
    assert len(at.get("iframe")) == 1, "Foshan's neighbourhood is drawn"
    return at


def explore_search():
    at = _page("explore")
    # A seed firm: the generated graph has no Kuka (it has its own Göttingen and Foshan).
    _answered(at.text_input(key="explore-text").input("Kuka").run())
    assert at.selectbox(key="explore-hit").value.id == "firm-kuka"
    return at


def cypher():
    at = _page("cypher", q="MATCH (c:City {id: $id})-[r]-(x) RETURN c.name AS city, count(r) AS ties LIMIT $n",
               id="city-foshan", n="5")
    assert list(at.dataframe[0].value.city) == ["Foshan"]
    return at


def entity():
    at = _page("entity", id="firm-midea")
    assert [h.value for h in at.header][:1] == ["Midea"]
    return at


def overview():
    at = _page("overview")
    assert "Entities by type" in [s.value for s in at.subheader]
    return at


SCENARIOS = [explore_link, explore_search, cypher, entity, overview]


def session(number: int, load_done, results) -> None:
    """One user going round the pages until the load has ended, in a process of its own (AppTest
    keeps one Streamlit runtime per process); puts (number, rounds, problems) on results."""
    results.put(("ready", number))
    rounds, problems, turn = [], [], number     # rounds: (scenario, started, ended)
    while not load_done.is_set() or not rounds:
        scenario = SCENARIOS[turn % len(SCENARIOS)]
        turn += 1
        st.cache_data.clear()       # each view asks the database, as a new visitor's would
        started = time.monotonic()
        try:
            scenario()
        except Exception as error:      # an error shown, a failed check or a timeout
            problems.append(f"{scenario.__name__}: {type(error).__name__}: {error}")
        rounds.append((scenario.__name__, started, time.monotonic()))
        load_done.wait(READING)
    results.put((number, rounds, problems))


def _generated_ids(folder: Path) -> set[str]:
    ids = set()
    for path in folder.glob("nodes_*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            ids.update(row[0] for row in csv.reader(handle))
    return ids - {"id:ID"}


def _relation_ends(folder: Path):
    for path in folder.glob("relationships_*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            yield from ((row[0], row[1]) for row in reader)


def test_eight_sessions_answer_while_a_100k_relation_load_runs(seeded_db, graph_100k):
    before = graph_counts()
    folder, summary = graph_100k
    assert summary["relations"] == 100_000
    stored = {r["id"] for r in db.read("MATCH (n:Entity) RETURN n.id AS id")}
    shared = _generated_ids(folder) & stored      # e.g. country-cn: merged, not added
    assert not any(start in shared and end in shared for start, end in _relation_ends(folder)), \
        "a generated relation between two stored entities would make the expected count inexact"
    expected = (before[0] + summary["entities"] - len(shared), before[1] + summary["relations"])
    context = multiprocessing.get_context("spawn")     # a fresh interpreter: no driver or runtime shared
    load_done, results = context.Event(), context.Queue()
    users = [context.Process(target=session, args=(n, load_done, results)) for n in range(SESSIONS)]
    for user in users:
        user.start()
    try:
        assert sorted(results.get(timeout=300)[1] for _ in users) == list(range(SESSIONS))
        started = time.monotonic()
        load = subprocess.run([KB, "load", str(folder)], capture_output=True, text=True, timeout=600)
        ended = time.monotonic()
        load_done.set()
        answers = sorted(results.get(timeout=300) for _ in users)
    finally:
        load_done.set()
        for user in users:
            user.join(timeout=60)
            if user.is_alive():
                user.kill()

    assert load.returncode == 0, load.stderr
    assert f"{summary['entities']} entities and {summary['relations']} relations loaded" in load.stdout, load.stdout
    assert graph_counts() == expected, (graph_counts(), expected)
    problems = [f"session {number}: {problem}" for number, _, found in answers for problem in found]
    assert not problems, "\n".join(problems)
    for number, rounds, _ in answers:
        assert any(started < end <= ended for _, _, end in rounds), \
            f"session {number} answered nothing while the load ran"
    print(f"\n{SESSIONS} sessions viewed {sum(len(rounds) for _, rounds, _ in answers)} pages, "
          f"{sum(1 for _, rounds, _ in answers for r in rounds if started < r[2] <= ended)} of them during the "
          f"{ended - started:.1f} s load")
