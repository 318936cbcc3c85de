"""Work done in a forked process beside this one, its result or its error returned through a pipe.

The validation pass is Python work on one core while the server waits; a forked worker checks
part of the input on the other core. A fork starts with a copy of what this process knows (the
input's entities, the schema), so nothing has to be sent to it.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import signal
from typing import Callable

CAN_FORK = hasattr(os, "fork")


class WorkerFailed(RuntimeError):
    pass


class Worker:
    def __init__(self, pid: int, pipe: int):
        self.pid, self._pipe = pid, pipe
        self._ended = False

    def result(self):
        """Wait for the work to end; its return value, or its exception raised here."""
        pipe, self._pipe = self._pipe, None
        with os.fdopen(pipe, "rb") as answers:
            try:
                succeeded, value = pickle.load(answers)
            except EOFError:
                succeeded, value = False, WorkerFailed("the worker process ended without an answer")
            except Exception as error:
                succeeded, value = False, WorkerFailed(f"the worker process's answer could not be read: {error}")
        self._reap()
        if not succeeded:
            raise value
        return value

    def stop(self) -> None:
        """End the process if it still runs, and release the pipe."""
        if not self._ended:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None

    def _reap(self) -> None:
        if not self._ended:
            os.waitpid(self.pid, 0)
            self._ended = True


@contextlib.contextmanager
def forked(work: Callable[[], object]):
    """Run work() in a forked process; yields a Worker whose result() waits for it.

    Leaving the block without the result (an error here) stops the process. The child only runs
    work and writes to the pipe: it takes none of the locks (logging's, the driver's, imports')
    that another thread of this process might hold at the fork."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reading)
        _answer(work, writing)
    os.close(writing)
    worker = Worker(pid, reading)
    try:
        yield worker
    finally:
        worker.stop()


def _answer(work: Callable[[], object], pipe: int) -> None:
    """In the worker: send (True, result) or (False, error) and end without running this
    program's exit handlers (they belong to the parent: its server connections, its temp files)."""
    status = 0
    try:
        try:
            answer = (True, work())
        except BaseException as error:  # everything, Ctrl-C included, goes back to the parent
            answer = (False, error)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data = pickle.dumps((False, WorkerFailed(f"{answer[1]!r}")), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(pipe, "wb") as out:
            out.write(data)
    except BaseException:
        status = 1
    finally:
        os._exit(status)
