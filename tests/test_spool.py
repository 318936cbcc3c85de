"""The spool that holds checked rows between a load's two passes."""
from loaders.records import Row, Tie
from loaders.spool import CHUNK_ROWS, Spool


def test_items_come_back_in_order_across_chunks():
    items = [Row(True, "City", {"id": f"x-{i}", "sources": [f"src-{i}"]}) if i % 2 else
             Row(False, f"TYPE_{i % 3}", Tie(f"x-{i}", f"y-{i}", None, {"sources": [f"src-{i}"]}))
             for i in range(2 * CHUNK_ROWS + 7)]
    with Spool() as spool:
        for item in items:
            spool.add(item)
        back = list(spool)
    assert back == items and all(type(row) is Row and type(row.data) in (dict, Tie) for row in back)


def test_an_empty_spool_yields_nothing_and_its_file_is_gone_afterwards():
    with Spool() as spool:
        assert list(spool) == []
        file = spool._file
    assert file.closed
