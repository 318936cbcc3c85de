"""Work in a forked process: its result, its error, its death and its early end all reach the caller."""
import os
import time

import pytest

from loaders import worker


def test_the_result_comes_back():
    with worker.forked(lambda: {"pid": os.getpid(), "rows": list(range(3))}) as forked:
        answer = forked.result()
    assert answer["rows"] == [0, 1, 2] and answer["pid"] == forked.pid != os.getpid()


def fails():
    raise ValueError("row 7 is bad")


def test_an_error_in_the_worker_is_raised_here():
    with pytest.raises(ValueError, match="row 7 is bad"):
        with worker.forked(fails) as forked:
            forked.result()


def test_a_worker_that_dies_is_reported():
    with pytest.raises(worker.WorkerFailed, match="ended without an answer"):
        with worker.forked(lambda: os._exit(3)) as forked:
            forked.result()


def test_leaving_early_ends_the_worker():
    with worker.forked(lambda: time.sleep(600)) as forked:
        pid = forked.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
