"""Neo4j Browser as the local server serves it on its HTTP connector, driven in headless Chromium: it
loads from loopback alone, logs in with the knowledge base's password and counts the seeded graph."""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from base64 import b64encode
from urllib.parse import urlsplit

import pytest

from kb import config
from kb.ops import server
from tests.conftest import seed_totals
from tests.test_browser import LOOPBACK, only_loopback, shot

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="needs the project's local server")]

COUNT_QUERY = "MATCH (n) RETURN count(n)"
WAIT_MS = 120_000


def http_base() -> str:
    return f"http://127.0.0.1:{config.setting('http_port')}"


def post_cypher(statement: str, auth: tuple[str, str] | None) -> tuple[int, dict]:
    """One statement through the HTTP connector's transaction endpoint: (status, answer)."""
    body = json.dumps({"statements": [{"statement": statement}]}).encode()
    request = urllib.request.Request(f"{http_base()}/db/{config.connection().database}/tx/commit", data=body,
                                     headers={"Content-Type": "application/json"})
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, {}


def test_http_listens_on_loopback_and_announces_the_loopback_bolt_address(neo4j_server):
    with urllib.request.urlopen(f"{http_base()}/", timeout=30) as answer:
        discovery = json.load(answer)
    assert discovery["bolt_direct"] == neo4j_server.uri and discovery["neo4j_edition"] == "community"
    assert urlsplit(discovery["transaction"]).hostname == "127.0.0.1"


def test_http_queries_need_the_password(neo4j_server):
    assert post_cypher("RETURN 1 AS one", auth=None)[0] == 401
    assert post_cypher("RETURN 1 AS one", auth=("neo4j", "not-the-password"))[0] == 401
    status, answer = post_cypher("RETURN 1 AS one", auth=(neo4j_server.username, config.password()))
    assert status == 200 and answer["results"][0]["data"][0]["row"] == [1], answer


def test_browser_pages_forbid_other_hosts(neo4j_server):
    with urllib.request.urlopen(server.browser_url(), timeout=30) as answer:
        policy = answer.headers["Content-Security-Policy"]
        assert "<title>Neo4j Browser</title>" in answer.read().decode()
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for directive in ("default-src", "script-src", "style-src", "img-src", "font-src"):
        assert set(directives[directive].split()) <= {"'self'", "'unsafe-inline'", "data:"}, directives
    assert all(urlsplit(source.replace(":*", "")).hostname in LOOPBACK
               for source in directives["connect-src"].split() if source != "'self'"), directives


@pytest.fixture
def chromium_page(chromium):
    """A Chromium page that aborts and records every request to another host, and records what the
    page's Content-Security-Policy refused before any request left: yields (page, blocked, refused)."""
    blocked, refused = [], []

    def policy_refusals(message):
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", only_loopback(blocked))
    page = context.new_page()
    page.on("console", policy_refusals)
    page.set_default_timeout(WAIT_MS)
    yield page, blocked, refused
    context.close()


def test_browser_logs_in_and_counts_the_seeds(seeded_readonly, chromium_page):
    page, blocked, refused = chromium_page
    page.goto(server.browser_url())
    # The connect form is filled in from the server's discovery answer: the loopback Bolt address.
    address = page.get_by_test_id("boltaddress")
    address.wait_for()
    assert address.input_value() == urlsplit(seeded_readonly.uri).netloc
    page.get_by_test_id("username").fill(seeded_readonly.username)
    page.get_by_test_id("password").fill(config.password())
    page.get_by_test_id("connect").click()
    page.get_by_text("You are connected as user").wait_for()

    page.get_by_test_id("activeEditor").click()
    page.keyboard.type(COUNT_QUERY)
    page.get_by_test_id("editor-Run").click()
    frame = page.get_by_test_id("frame").filter(
        has=page.get_by_test_id("frameCommand").filter(has_text=COUNT_QUERY))
    try:
        frame.get_by_text("completed after").wait_for()
    finally:
        print("screenshot:", shot(page, "neo4j-browser-count"))
    entities, _ = seed_totals()
    assert frame.get_by_role("cell").all_inner_texts()[-1] == str(entities)

    # The policy refuses only other hosts' files (web fonts, analytics): nothing the server itself serves.
    # The refused file is the first quoted address of a message; the policy quoted after it names the
    # server's own addresses as allowed, and a refused inline script names no file at all.
    refused_urls = [found.group(1) for message in refused
                    if (found := re.search(r"'((?:https?|wss?)://[^\s'\"]+)'", message))
                    and message.index(found.group(0)) < message.find("Content Security Policy")]
    own = [url for url in refused_urls if urlsplit(url).hostname in ("127.0.0.1", "localhost")]
    assert own == [], f"the policy refused the Browser's own files: {own}"
    assert blocked == [], f"requests left loopback: {blocked}"
