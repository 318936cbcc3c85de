"""Requests to public services, made politely: a User-Agent that names the project and how to reach
whoever runs it, a time limit, one request at a time (each call waits for its answer), and retries
with growing waits when the service says it is busy (429) or failing (5xx), as long as it asks
(Retry-After) when it does, within a bounded number of attempts. One at a time holds across
processes too: a lock file in KB_HOME lets one `kb fetch` ask while another waits. Standard library only."""
from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import fcntl
import http.client
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from kb import config
from kb.errors import FetchError

PROJECT = "sino-german-kb"
FIRST_WAIT = 2.0        # seconds before the second attempt when the service names no wait; doubled after
LONGEST_WAIT = 300.0    # a service asking for more than this is not waited for
CHUNK = 1 << 20


def user_agent() -> str:
    """The project, its version and the contact setting, as Wikimedia's User-Agent policy asks."""
    from importlib import metadata
    try:
        version = metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        version = "dev"
    contact = config.setting("contact")
    if not contact:
        raise FetchError("KB_CONTACT is not set: set it to an e-mail address or web page where the operators of "
                         "public services can reach you (it goes in the User-Agent of every request)")
    return f"{PROJECT}/{version} ({contact}) Python-urllib/{sys.version_info[0]}.{sys.version_info[1]}"


def _wait_asked(headers) -> float | None:
    """Seconds the Retry-After header asks for (a number or an HTTP date), None if none or unreadable."""
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def post_form(url: str, form: dict, out: Path, accept: str, echo=lambda message: None) -> int:
    """POST form to url and stream the answer's body into out; the number of bytes written.

    FetchError, in one line, when the service refuses, fails beyond the attempts, or takes longer than
    KB_FETCH_TIMEOUT seconds from sending to the last byte; out may then hold a part (the caller's to drop)."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode("utf-8"), method="POST",
                                     headers={"User-Agent": user_agent(), "Accept": accept,
                                              "Content-Type": "application/x-www-form-urlencoded"})
    # The lock is held through the waits too: the service's "wait" holds for every process here.
    with _one_at_a_time():
        return _attempts(request, url, out, echo)


def _attempts(request: urllib.request.Request, url: str, out: Path, echo) -> int:
    """The request sent until it is answered, refused, or KB_FETCH_ATTEMPTS are spent."""
    attempts, timeout = config.setting("fetch_attempts"), config.setting("fetch_timeout")
    for attempt in range(1, attempts + 1):
        try:
            return _save(request, out, timeout)
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code} {error.reason}"
            if error.code != 429 and error.code < 500:
                raise FetchError(f"{url}: {reason}: {_first_line(error)}") from None
            if attempt == attempts:
                raise FetchError(f"{url}: {reason}, {attempts} attempts made (KB_FETCH_ATTEMPTS)") from None
            asked = _wait_asked(error.headers)
            if asked is not None and asked > LONGEST_WAIT:
                raise FetchError(f"{url}: {reason}, and asks to wait {asked:.0f} s before trying again") from None
            wait = asked if asked is not None else FIRST_WAIT * 2 ** (attempt - 1)
            echo(f"{url}: {reason}; attempt {attempt + 1} of {attempts} in {wait:.0f} s")
            time.sleep(wait)
        except (TimeoutError, socket.timeout):
            raise FetchError(f"{url}: no complete answer within {timeout:g} s (KB_FETCH_TIMEOUT)") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise FetchError(f"{url}: no complete answer within {timeout:g} s (KB_FETCH_TIMEOUT)") from None
            raise FetchError(f"{url}: cannot be reached: {error.reason}") from None
        except (http.client.HTTPException, ConnectionError) as error:
            raise FetchError(f"{url}: the connection broke off: {error or type(error).__name__}") from None
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _one_at_a_time():
    """Hold the machine's request lock (KB_HOME/fetch.lock), waiting for it if need be."""
    path = config.home() / "fetch.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _save(request: urllib.request.Request, out: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    written = 0
    with urllib.request.urlopen(request, timeout=timeout) as response, out.open("wb") as sink:
        while True:
            # Each read waits at most `timeout` (the socket's); the whole answer, the deadline.
            if time.monotonic() > deadline:
                raise TimeoutError
            chunk = response.read(CHUNK)
            if not chunk:
                return written
            sink.write(chunk)
            written += len(chunk)


def _first_line(error: urllib.error.HTTPError) -> str:
    """The first line of an error's body (WDQS states a malformed query there), cut short."""
    try:
        body = error.read(2000).decode("utf-8", "replace")
    except OSError:
        return ""
    return next((line.strip() for line in body.splitlines() if line.strip()), "")[:200]
