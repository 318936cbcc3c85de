"""The spool that holds checked rows between a load's two passes."""
from loaders.spool import CHUNK_ROWS, Spool


def test_items_come_back_in_order_across_chunks():
    items = [(i % 2 == 0, f"TYPE_{i % 3}", {"id": f"x-{i}", "sources": [f"src-{i}"], "key": None})
             for i in range(2 * CHUNK_ROWS + 7)]
    with Spool() as spool:
        for item in items:
            spool.add(item)
        assert list(spool) == items


def test_an_empty_spool_yields_nothing_and_its_file_is_gone_afterwards():
    with Spool() as spool:
        assert list(spool) == []
        file = spool._file
    assert file.closed
