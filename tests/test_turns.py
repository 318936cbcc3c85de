"""Batches in flight write in their turns, even when a later one reaches the server first."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kb import db
from kb.errors import LoadInterrupted
from loaders import turns, writer
from loaders.new_records import NewRecords
from loaders.records import Row

STATEMENT = writer.entity_statement("City")


def city_name() -> str | None:
    rows = db.read("MATCH (c:City {id: 'city-turns'}) RETURN c.name AS name")
    return rows[0]["name"] if rows else None


def token_moved(token: str) -> bool:
    """Whether a batch has taken the token since it was created (its attempt has committed)."""
    return db.read("MATCH (t) WHERE elementId(t) = $token RETURN t.last_turn_at > t.started_at AS moved",
                   token=token)[0]["moved"]


def test_a_batch_that_overtakes_its_predecessor_waits_and_writes_after_it(empty_db):
    token = turns.create_token()
    release_first = threading.Event()

    def first_batch():
        release_first.wait()
        return writer._commit(STATEMENT, "City", [{"id": "city-turns", "name": "first"}], token, 0, None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(first_batch)
        second = pool.submit(writer._commit, STATEMENT, "City", [{"id": "city-turns", "name": "second"}],
                             token, 1, first)
        try:
            deadline = time.monotonic() + 30
            while not token_moved(token) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert token_moved(token), "the second batch never reached the token"
            # It came first, so it wrote nothing and waits for the first batch.
            assert city_name() is None and not second.done()
        finally:
            release_first.set()
        assert first.result(timeout=30)[:2] == ("City", 1)
        assert second.result(timeout=30)[:2] == ("City", 1)
    assert city_name() == "second"
    assert db.read("MATCH (t) WHERE elementId(t) = $token RETURN t.next_turn AS turn", token=token)[0]["turn"] == 2
    turns.delete_token(token)


def test_a_load_leaves_no_token(empty_db):
    writer_ = writer.BatchWriter(batch_size=2, new_records=NewRecords())
    with writer_:
        for index in range(5):
            writer_.add(Row(True, "City", {"id": f"city-{index}", "name": f"City {index}"}))
    assert writer_.written == {"City": 5}
    assert db.read("MATCH (n) WHERE NOT n:Entity RETURN count(n) AS c")[0]["c"] == 0


def test_a_load_whose_token_is_deleted_stops_with_a_clear_error(empty_db):
    token = turns.create_token()
    turns.delete_token(token)
    with pytest.raises(LoadInterrupted, match="LoadInProgress node was deleted while the load ran"):
        writer._commit(STATEMENT, "City", [{"id": "city-turns", "name": "lost"}], token, 0, None)
    assert city_name() is None
