"""The Review page and facts by hand, end to end in headless Chromium against `streamlit run app.py` on
loopback: accept, edit then accept, reject a queued candidate; add a fact (and a refused one); retract a
tie, hidden until asked for."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from kb import db
from kb.cli import main
from kb.schema import schema
from loaders import facts, review
from tests import articles
from tests.conftest import graph_counts
from tests.test_browser import app_url, browser_page, shot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PLANTS = articles.ARTICLES / "plants-en.md"


def run(*arguments):
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    assert result.exit_code == 0, (result.output, result.exception)


def queued() -> dict:
    """(type, from, to) -> review item."""
    return {(i["type"], i["from"], i["to"]): i for i in review.items(state=None)}


def tie(start: str, relation: str, end: str) -> dict | None:
    found = db.read(f"MATCH (:Entity {{id: $a}})-[r:{relation}]->(:Entity {{id: $b}}) RETURN properties(r) AS p",
                    a=start, b=end)
    return dict(found[0]["p"]) if found else None


def button(page, key: str):
    """The button of that Streamlit key (Streamlit marks its element with the class st-key-KEY)."""
    return page.locator(f".st-key-{key} button")


def judged(page, key: str) -> None:
    """Click the button and wait for the rerun that takes its item out of the pending list."""
    button(page, key).click()
    page.locator(f".st-key-{key}").wait_for(state="detached")


def test_review_page_accept_edit_then_accept_and_reject(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    run("extract", PLANTS, "--queue")
    items = queued()
    accepted = items[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    edited = items[("PARENT_OF", "firm-vw", "firm-vw-anhui")]
    rejected = items[("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang")]
    page.goto(f"{app_url}/review")
    page.get_by_text(accepted["sentence"][:40]).first.wait_for()
    assert page.locator("mark", has_text="Shenyang").count() > 0, "the names are marked"

    judged(page, f"accept-{accepted['id']}")
    assert review.get(accepted["id"])["state"] == "accepted"
    assert tie("firm-bba", "PRODUCTION_BASE_IN", "city-shenyang")["sources"][-1] == accepted["records"][0]["id"]

    card = page.locator(f".st-key-accept-edited-{edited['id']}").locator("xpath=ancestor::details[1]")
    card.locator("summary").click()
    share = page.locator(f".st-key-{edited['id']}-share input")
    share.fill("0.75")
    share.press("Enter")
    judged(page, f"accept-edited-{edited['id']}")
    assert review.get(edited["id"])["state"] == "accepted"
    assert tie("firm-vw", "PARENT_OF", "firm-vw-anhui")["share"] == float("0.75")

    judged(page, f"reject-{rejected['id']}")
    assert review.get(rejected["id"])["state"] == "rejected"
    print("screenshot:", shot(page, "review-judged"))
    assert blocked == [], f"requests left loopback: {blocked}"


def choose_entity(page, label: str, text: str) -> None:
    """Type a name into the search box of that label; its best hit is chosen."""
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    page.get_by_label(f"{label}: matches").wait_for()


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def test_add_a_fact_in_the_form_and_a_refused_one_writes_nothing(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(f"{app_url}/review")
    page.get_by_role("tab", name="Add a fact").click()
    choose_entity(page, "Subject", "Kuka")
    choose_entity(page, "Object", "Foshan")
    page.get_by_label("Relation type").click()
    page.get_by_role("option", name="(PRODUCTION_BASE_IN)").click()
    page.get_by_text("A new source").click()
    given = {"URL": "https://example.org/kuka-plant", "Title": "Kuka builds robots in Foshan", "Publisher": "Example News"}
    for label, value in given.items():
        fill(page, label, value)

    before = graph_counts(), review.items(state=None)
    fill(page, "since", "yesterday")
    button(page, "fact-add").click()
    refusal = page.locator("[data-testid='stAlert']", has_text="since")
    refusal.wait_for()
    # Beside the field: the refusal stands below the since input and above the next one (until).
    since, until = (page.locator(f".st-key-fact-PRODUCTION_BASE_IN-{name}").bounding_box() for name in ("since", "until"))
    at = refusal.bounding_box()
    assert since["y"] < at["y"] < until["y"], (since, at, until)
    print("screenshot:", shot(page, "add-fact-refused"))
    assert (graph_counts(), review.items(state=None)) == before, "a refused fact writes nothing"

    fill(page, "since", "2018")
    button(page, "fact-add").click()
    page.get_by_text("Added firm-kuka -[PRODUCTION_BASE_IN]-> city-foshan").wait_for()
    written = tie("firm-kuka", "PRODUCTION_BASE_IN", "city-foshan")
    source = facts.new_source(given["URL"], given["Title"], given["Publisher"], dt.date.today().isoformat())
    assert (written["since"], written["sources"]) == ("2018", [source["id"]]), written
    assert [(i["type"], i["from"], i["to"]) for i in review.items(state="added")] == \
        [("PRODUCTION_BASE_IN", "firm-kuka", "city-foshan")]
    assert blocked == [], f"requests left loopback: {blocked}"


def test_retract_a_tie_hidden_then_shown_on_demand(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    reason = "The ACQUIRED tie states the ownership already"
    page.goto(f"{app_url}/entity?id=firm-midea")
    page.get_by_role("heading", name="Midea").wait_for()
    page.get_by_text("Retract a tie").click()
    owns = f"{schema().relation('OWNS').label['en']} · Kuka"
    page.get_by_label("Tie", exact=True).click()
    page.keyboard.type(owns)  # the list holds every tie of Midea's: typing narrows it to the one wanted
    page.get_by_role("option", name=owns, exact=True).click()
    fill(page, "Reason", reason)
    page.get_by_label("Source showing it is wrong").click()
    page.get_by_role("option", name="(src-reference)").click()
    button(page, "retract-firm-midea").click()
    page.get_by_text("Retracted firm-midea -[OWNS]-> firm-kuka").wait_for()
    show = page.get_by_text("Show retracted ties")
    assert tie("firm-midea", "OWNS", "firm-kuka") is None
    [kept] = facts.retracted()
    assert (kept["type"], kept["from"], kept["to"], kept["reason"], kept["source"]) == \
        ("OWNS", "firm-midea", "firm-kuka", reason, "src-reference"), kept
    assert page.get_by_role("cell", name=reason).count() == 0, "retracted ties are hidden by default"
    show.click()
    page.get_by_role("cell", name=reason).wait_for()
    print("screenshot:", shot(page, "entity-retracted-shown"))
    page.goto(f"{app_url}/review")
    page.get_by_role("tab", name="Retracted ties").click()
    page.get_by_role("cell", name=reason).wait_for()
    assert blocked == [], f"requests left loopback: {blocked}"
