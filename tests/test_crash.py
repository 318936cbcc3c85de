"""A load cut short by the server dying reports failure; running it again completes it, no duplicates."""
import os
import threading
import time

import pytest

from kb import db
from kb.ops import server
from kb.errors import DatabaseUnavailable
from loaders import csv as csv_loader
from loaders import pipeline
from tests.conftest import graph_counts

pytestmark = [pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="kills the local server"), pytest.mark.restarts]

# Enough batches of 500 that the load is still writing when the killer, which looks every 50 ms, sees the
# first one committed (the rest of the load takes seconds); more would only lengthen both loads.
REGIONS, CITIES = 100, 5000


def write_input(folder):
    with open(folder / "nodes.csv", "w", encoding="utf-8") as nodes:
        nodes.write("id:ID,:LABEL,name,sources:string[],title,kind\n")
        nodes.write("src-crash,Source,Crash test,,Crash test,dataset\n")
        for r in range(REGIONS):
            nodes.write(f"region-{r},Region,Region {r},src-crash,,\n")
        for c in range(CITIES):
            nodes.write(f"city-{c},City,City {c},src-crash,,\n")
    with open(folder / "relationships.csv", "w", encoding="utf-8") as relations:
        relations.write(":START_ID,:END_ID,:TYPE,sources:string[]\n")
        for c in range(CITIES):
            relations.write(f"city-{c},region-{c % REGIONS},LOCATED_IN,src-crash\n")
            relations.write(f"city-{c},city-{(c * 7 + 1) % CITIES},COOPERATES_WITH,src-crash\n")
    return 1 + REGIONS + CITIES, 2 * CITIES


def entity_count() -> int:
    return db.read("MATCH (n:Entity) RETURN count(n) AS c")[0]["c"]


def kill_once_writing_started(stop: threading.Event):
    while not stop.is_set():
        try:
            if entity_count() > 0:
                server.kill()
                return
        except DatabaseUnavailable:
            return
        time.sleep(0.05)


def test_rerun_after_a_crash_completes_the_load(empty_db, tmp_path):
    nodes, relations = write_input(tmp_path)
    stop = threading.Event()
    killer = threading.Thread(target=kill_once_writing_started, args=(stop,))
    killer.start()
    try:
        with pytest.raises(DatabaseUnavailable, match="not reachable"):
            pipeline.load(csv_loader.reader([tmp_path]), batch_size=500, show_progress=False)
    finally:
        stop.set()
        killer.join()
        db.close()
        server.start(echo=lambda message: None)
    partial = graph_counts()
    assert 0 < entity_count() and partial != (nodes, relations), partial
    pipeline.load(csv_loader.reader([tmp_path]), show_progress=False)
    assert graph_counts() == (nodes, relations)
    distinct = db.read("MATCH (n:Entity) RETURN count(DISTINCT n.id) AS ids")[0]["ids"]
    assert distinct == nodes
