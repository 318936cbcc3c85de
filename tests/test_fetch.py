"""`kb fetch wikidata` against a SPARQL endpoint of our own on loopback (http.server in a thread) that
answers with the recorded results of tests/data/wikidata/: a success, a busy service (429) then a
success, failing ones, malformed JSON and no answer in time; then the saved results loaded."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import db
from kb.cli import main
from loaders import remote, wikidata
from tests.conftest import graph_counts
from tests.test_reconcile import curated_db  # noqa: F401 (a fixture)

DATA = Path(__file__).parent / "data" / "wikidata"
RECORDED = (DATA / "sister-cities.json").read_bytes()
CONTACT = "kb-tests@example.org"


@dataclass
class Answer:
    status: int = 200
    body: bytes = RECORDED
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class Endpoint:
    """A SPARQL endpoint that gives its answers in turn (the last one again once they run out) and
    keeps each request it had: (headers, form)."""

    def __init__(self):
        self.answers: list[Answer] = [Answer()]
        self.requests: list[tuple[dict, dict]] = []
        self.times: list[tuple[float, float]] = []     # when each request came, when its answer was sent
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
                endpoint.requests.append((dict(self.headers), form))
                came = time.monotonic()
                answer = endpoint.answers.pop(0) if len(endpoint.answers) > 1 else endpoint.answers[0]
                time.sleep(answer.delay)
                endpoint.times.append((came, time.monotonic()))
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass        # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, *answers: Answer) -> "Endpoint":
        self.answers = list(answers)
        return self


@pytest.fixture
def endpoint(monkeypatch):
    found = Endpoint()
    found.thread.start()
    monkeypatch.setenv("KB_WIKIDATA_ENDPOINT", found.url)
    monkeypatch.setenv("KB_CONTACT", CONTACT)
    yield found
    found.server.shutdown()
    found.server.server_close()


def kb(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fetch(out: Path, *more):
    return kb("fetch", "wikidata", "--query", "sister-cities", "--out", out, *more)


def test_results_are_saved_as_they_came_with_the_query_and_date(endpoint, tmp_path):
    out = tmp_path / "sister-cities.json"
    result = fetch(out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == RECORDED
    details = json.loads(wikidata.fetched_details(out).read_text(encoding="utf-8"))
    query = wikidata.queries()["sister-cities"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert details["query"] == "sister-cities" and details["text"] == query.text, details
    assert details["endpoint"] == endpoint.url and details["retrieved"] == today and details["bindings"] == 5, details
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sister-cities.fetch.json", "sister-cities.json"]
    assert f"kb load wikidata {out} --query sister-cities --retrieved {today}" in result.stdout, result.output

    assert len(endpoint.requests) == 1
    headers, form = endpoint.requests[0]
    assert form == {"query": [query.text]}
    assert headers["Accept"] == "application/sparql-results+json"
    agent = headers["User-Agent"]
    assert agent.startswith("sino-german-kb/") and f"({CONTACT})" in agent and "Python-urllib/" in agent, agent


def test_fetch_then_load_and_the_saved_file_loads_again_alike(endpoint, curated_db, tmp_path):
    out = tmp_path / "results" / "sister-cities.json"
    before = graph_counts()
    result = fetch(out, "--load", "--report", tmp_path / "report.csv")
    assert result.exit_code == 0, result.output
    assert "entities and" in result.stdout and "loaded in" in result.stdout, result.output
    assert "Reconciliation report written to" in result.stdout, result.output
    assert db.read("MATCH (c:City {wikidata_id: 'Q1715'}) RETURN c.id AS id")[0]["id"] == "city-hanover"
    source = db.read("MATCH (s:Source) WHERE s.id STARTS WITH 'src-wikidata-' RETURN properties(s) AS p")
    assert len(source) == 1 and source[0]["p"]["accessed"] == time.strftime("%Y-%m-%d", time.gmtime()), source
    after = graph_counts()
    assert after > before

    # A repeated load of the saved file needs neither --query nor --retrieved: they were recorded beside it.
    result = kb("load", "wikidata", out)
    assert result.exit_code == 0, result.output
    assert graph_counts() == after
    assert db.read("MATCH (s:Source) WHERE s.id STARTS WITH 'src-wikidata-' RETURN s.id AS id") == \
        [{"id": source[0]["p"]["id"]}]


def test_a_busy_service_is_asked_again_after_the_wait_it_names(endpoint, tmp_path):
    endpoint.answer(Answer(429, b"Too Many Requests", {"Retry-After": "1"}), Answer())
    started = time.monotonic()
    result = fetch(tmp_path / "out.json")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    assert len(endpoint.requests) == 2
    assert "HTTP 429" in result.stderr and "attempt 2 of 4 in 1 s" in result.stderr, result.stderr
    assert (tmp_path / "out.json").read_bytes() == RECORDED


def test_a_failing_service_is_asked_again_after_growing_waits(endpoint, tmp_path):
    endpoint.answer(Answer(503, b"Service Unavailable"), Answer())
    started = time.monotonic()
    result = fetch(tmp_path / "out.json")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= remote.FIRST_WAIT
    assert len(endpoint.requests) == 2


def test_two_fetches_at_once_ask_one_after_the_other(endpoint, tmp_path):
    endpoint.answer(Answer(delay=1.0))
    fetches = [threading.Thread(target=wikidata.fetch, args=("sister-cities", tmp_path / f"out-{n}.json"))
               for n in range(2)]
    for thread in fetches:
        thread.start()
    for thread in fetches:
        thread.join()
    (first_came, first_answered), (second_came, _) = sorted(endpoint.times)
    assert second_came >= first_answered, endpoint.times
    assert (tmp_path / "out-0.json").read_bytes() == (tmp_path / "out-1.json").read_bytes() == RECORDED


def nothing_saved(tmp_path: Path) -> bool:
    return not any(tmp_path.iterdir())


@pytest.mark.parametrize("answers, env, message", [
    ([Answer(500, b"java.util.concurrent.TimeoutException", {"Retry-After": "0"})], {"KB_FETCH_ATTEMPTS": "3"},
     "HTTP 500 Internal Server Error, 3 attempts made (KB_FETCH_ATTEMPTS)"),
    ([Answer(429, b"", {"Retry-After": "3600"})], {}, "asks to wait 3600 s"),
    ([Answer(400, b"MalformedQueryException: Encountered \" <VAR1> \n at line 3")], {},
     "HTTP 400 Bad Request: MalformedQueryException: Encountered \" <VAR1>"),
    ([Answer(200, RECORDED[: len(RECORDED) // 2])], {}, "answered the query sister-cities with malformed JSON (line "),
    ([Answer(200, b"<html>Rate limited</html>")], {}, "with malformed JSON (line 1 column 1: expecting an object"),
    ([Answer(200, b'{"head": {"vars": ["cn"]}, "results": {"bindings": []}}')], {}, "lacks the variables cn_country"),
    ([Answer(200, RECORDED, delay=3.0)], {"KB_FETCH_TIMEOUT": "0.5"}, "no complete answer within 0.5 s (KB_FETCH_TIMEOUT)"),
], ids=["5xx beyond the attempts", "a wait too long", "query refused", "malformed JSON", "not JSON",
        "other variables", "timeout"])
def test_a_failed_fetch_says_why_in_one_line_and_writes_nothing(endpoint, curated_db, tmp_path, monkeypatch,
                                                                 answers, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    endpoint.answer(*answers)
    before = graph_counts()
    result = fetch(tmp_path / "new folder" / "out.json", "--load")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(f"Error: {endpoint.url}") and message in lines[-1], result.stderr
    assert sum(line.startswith("Error:") for line in lines) == 1 and result.stdout == "", result.output
    assert nothing_saved(tmp_path) and graph_counts() == before
    assert len(endpoint.requests) == int(env.get("KB_FETCH_ATTEMPTS", 1))


def test_no_request_leaves_without_a_contact(endpoint, tmp_path, monkeypatch):
    monkeypatch.delenv("KB_CONTACT")
    result = fetch(tmp_path / "out.json")
    assert result.exit_code == 1 and "KB_CONTACT is not set" in result.stderr, result.output
    assert endpoint.requests == [] and nothing_saved(tmp_path)


def test_no_request_leaves_without_an_endpoint(endpoint, tmp_path, monkeypatch):
    monkeypatch.delenv("KB_WIKIDATA_ENDPOINT")
    result = fetch(tmp_path / "out.json")
    assert result.exit_code == 1 and "KB_WIKIDATA_ENDPOINT is not set" in result.stderr, result.output
    assert endpoint.requests == [] and nothing_saved(tmp_path)


def test_an_unknown_query_is_refused_before_sending(endpoint, tmp_path):
    result = kb("fetch", "wikidata", "--query", "twin-towns", "--out", tmp_path / "out.json")
    assert result.exit_code == 1 and "unknown query 'twin-towns'; known: " in result.stderr, result.output
    assert endpoint.requests == []


@pytest.mark.parametrize("header, seconds", [("120", 120), ("Wed, 21 Oct 2015 07:28:00 GMT", 0), ("soon", None)])
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    assert remote._wait_asked({"Retry-After": header}) == seconds
