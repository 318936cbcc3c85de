"""The `kb` command: run the server, load and validate data, search, query, count and export."""
from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path

import click

from kb import config, tabular
from kb.errors import KBError, QueryRefused, RunawayQuery
from kb.saved_queries import SAVED_QUERIES, parameter_value


def _explained(error: Exception) -> KBError | None:
    """The one clear error for a failure a user can act on: a file that cannot be read or written, or
    anything the Neo4j driver raised; None for what would be a bug of ours (its traceback is shown)."""
    if isinstance(error, KBError):
        return error
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return KBError(f"{where}{error.strerror or error}")
    from kb import db
    return db.explain(error) if isinstance(error, db.DRIVER_ERRORS) else None


def reports_errors(command):
    """Turn every failure a user can act on into one clear message on stderr and exit code 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            config.check_settings()
            return command(*args, **kwargs)
        except Exception as error:
            explained = _explained(error)
            if explained is None:
                raise
            click.echo(f"Error: {explained}", err=True)
            sys.exit(1)
    return wrapper


# The Neo4j driver imports numpy, pandas and pyarrow when they are installed (the app needs them), which
# is most of a quick command's start-up (0.8 s of 1.3 s); these commands use none of them.
QUICK_COMMANDS = ("search", "stats", "query")
DRIVER_EXTRAS = ("numpy", "pandas", "pyarrow")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Also show debug messages, such as the driver's retries.")
@click.pass_context
def main(ctx, verbose):
    """Sino-German Ties knowledge base: a cited graph of industrial ties on Neo4j.

    Uses the project's local Neo4j server, or the database named by NEO4J_URI,
    NEO4J_USERNAME, NEO4J_PASSWORD and NEO4J_DATABASE when NEO4J_URI is set.
    """
    if ctx.invoked_subcommand in QUICK_COMMANDS:
        for name in DRIVER_EXTRAS:
            # None in sys.modules makes `import name` fail, which the driver takes as "not installed".
            sys.modules.setdefault(name, None)
    if verbose:
        # A handler on the root logger passes the driver's retry notices, which kb.db demotes to debug.
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.group()
def server():
    """Manage the project's local Neo4j Community server (not used when NEO4J_URI is set)."""


@server.command("start")
@reports_errors
def server_start():
    """Start the local server in the background and wait until it answers."""
    from kb.ops import server as local
    click.echo(local.start(echo=click.echo).describe())


@server.command("stop")
@reports_errors
def server_stop():
    """Stop the local server cleanly."""
    from kb.ops import server as local
    click.echo(local.stop())


@server.command("status")
@reports_errors
def server_status():
    """Say whether the local server runs, where, and which Neo4j version (exit code 3 when it does not run)."""
    from kb.ops import server as local
    status = local.status()
    click.echo(status.describe())
    if not status.running:
        sys.exit(3)     # as `neo4j status` does


@main.command()
@reports_errors
def init():
    """Create the schema's constraints and full-text index (idempotent)."""
    from kb import ddl
    count = ddl.init()
    click.echo(f"{count} constraints and indexes are in place on {config.connection().describe()}.")


# Named sources, `kb load NAME FILE...`: the module whose reader(paths) reads them (imported when used).
SOURCE_READERS = {
    "document": "loaders.document",
    "gleif": "loaders.gleif",
    "wikidata": "loaders.wikidata",
}


def _reader(paths, options: dict):
    """The record source for the paths: a named source's reader, or seed YAML and CSV by path.

    options: the named source's own options that were given (e.g. wikidata's query)."""
    import importlib
    import inspect
    if paths and str(paths[0]) in SOURCE_READERS:
        if len(paths) < 2:
            raise click.UsageError(f"kb load {paths[0]} needs at least one FILE")
        reader = importlib.import_module(SOURCE_READERS[str(paths[0])]).reader
        unknown = sorted(set(options) - set(inspect.signature(reader).parameters))
        if unknown:
            raise click.UsageError(f"kb load {paths[0]} takes no --{unknown[0]}")
        return reader(paths[1:], **options)
    if options:
        raise click.UsageError(f"--{sorted(options)[0]} is for a named source: {', '.join(SOURCE_READERS)}")
    from loaders import by_path
    return by_path.reader_for(paths)


def _load(paths, dry_run: bool, batch_size: int | None, options: dict | None = None,
          report_file: Path | None = None, decisions_file: Path | None = None, mode: str = "auto") -> None:
    from loaders import decisions, pipeline
    records = _reader(paths, {name: value for name, value in (options or {}).items() if value is not None})
    if (report_file or decisions_file) and records.source_name is None:
        raise click.UsageError("--report and --decisions are for named sources, whose ids reconciliation "
                               "decides; seed and CSV files carry their own ids")
    decided = decisions.read_decisions(decisions_file) if decisions_file else None
    from kb.ops import admin
    report = pipeline.load(records, dry_run=dry_run, batch_size=batch_size, decisions=decided, mode=mode,
                           offline_import=admin.bulk_import)
    click.echo(report.describe())
    if report.reconciliation:
        click.echo(decisions.summary(report.reconciliation))
    if report_file and not dry_run:
        decisions.write_report(report_file, report.reconciliation)
        click.echo(f"Reconciliation report written to {report_file}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per write transaction (default KB_BATCH_SIZE).")
@click.option("--query", help="wikidata: the query the results file answers, a name of loaders/wikidata/*.rq.")
@click.option("--retrieved", help="wikidata: when the results were downloaded (YYYY-MM-DD; default the file's time).")
@click.option("--report", "report_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Named sources: write the reconciliation report (created, matched on what, ambiguous with the "
              "candidates) to this .csv or .json file.")
@click.option("--decisions", "decisions_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Named sources: a report whose 'decision' column says 'same-as <id>' or 'new'; applied now "
              "and kept in the graph for later loads.")
@click.option("--mode", type=click.Choice(["auto", "bulk", "incremental"]), default="auto", show_default=True,
              help="bulk: a first load into the empty local database through neo4j-admin's offline import "
              "(the server is stopped and started again); incremental: batched writes into any database; "
              "auto: bulk for a large first load, else incremental.")
@reports_errors
def load(paths, dry_run, batch_size, query, retrieved, report_file, decisions_file, mode):
    """Validate, then load YAML seed files, CSV files or folders of them (all or nothing on bad input).

    Named sources: `kb load document FILE...` (text or Markdown articles: Documents and the entities
    they mention), `kb load gleif FILE...` (GLEIF golden copy LEI-CDF and relationship record CSV),
    `kb load wikidata FILE --query NAME` (SPARQL JSON results of a query of loaders/wikidata/).
    Their records are reconciled with the stored entities; see --report and --decisions.
    """
    _load(paths, dry_run, batch_size, {"query": query, "retrieved": retrieved}, report_file, decisions_file, mode)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@reports_errors
def validate(paths):
    """Check seed or CSV files against the schema and the database without writing anything."""
    _load(paths, dry_run=True, batch_size=None)


@main.group()
def fetch():
    """Download open data from public services, saved as files that `kb load` reads (and reads again)."""


@fetch.command("wikidata")
@click.option("--query", "query_name", required=True,
              help="The query to send, a name of loaders/wikidata/*.rq (sister-cities, headquarters, ...).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="The results file to write (default NAME-YYYY-MM-DD.json here); NAME-YYYY-MM-DD.fetch.json "
              "beside it records the query, endpoint and retrieval date, which `kb load wikidata` then uses.")
@click.option("--load", "then_load", is_flag=True, help="Then load the results as `kb load wikidata` does.")
@click.option("--report", "report_file", type=click.Path(path_type=Path, dir_okay=False),
              help="With --load: write the reconciliation report to this .csv or .json file.")
@click.option("--decisions", "decisions_file", type=click.Path(path_type=Path, dir_okay=False),
              help="With --load: apply a decisions file, as `kb load --decisions` does.")
@reports_errors
def fetch_wikidata(query_name, out, then_load, report_file, decisions_file):
    """Send a shipped query to the Wikidata Query Service (KB_WIKIDATA_ENDPOINT) and save its results.

    Needs KB_CONTACT (your e-mail address or web page, sent in the User-Agent). One request, retried
    on 429 and 5xx as the service asks; nothing is saved unless the answer is complete and well-formed.
    """
    from loaders import wikidata
    if (report_file or decisions_file) and not then_load:
        raise click.UsageError("--report and --decisions go with --load")
    fetched = wikidata.fetch(query_name, out, echo=lambda message: click.echo(message, err=True))
    click.echo(fetched.describe())
    if then_load:
        _load(["wikidata", fetched.path], False, None, {"query": query_name, "retrieved": fetched.retrieved},
              report_file, decisions_file)


@main.command()
@click.argument("text")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Hits to show.")
@reports_errors
def search(text, limit):
    """Find entities by any spelling: English, German, Chinese, with or without umlauts."""
    from kb.search import search as find
    hits = find(text, limit=limit)
    if not hits:
        click.echo(f"No entity matches {text!r}.")
        return
    _print_table(["id", "name", "type", "country"], [[h.id, h.name, h.type, h.country or ""] for h in hits])


def _param(value: str) -> tuple[str, object]:
    if "=" not in value:
        raise click.BadParameter(f"{value!r}: write a parameter as name=value")
    name, raw = value.split("=", 1)
    return name, parameter_value(raw)


@main.command()
@click.argument("cypher", required=False)
@click.option("--file", "query_file", type=click.Path(path_type=Path, readable=False),
              help="Read the query from a file.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter; the value is read as JSON if it can be, else as text. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@click.option("--timeout", type=click.FloatRange(min=0.1), help="Seconds before the server stops the query "
              "(default KB_QUERY_TIMEOUT).")
@click.option("--max-rows", type=click.IntRange(min=1), help="Rows returned at most (default KB_MAX_ROWS).")
@click.option("--year", type=int, help="Only ties in force that year; for the saved queries that take one: "
              + ", ".join(q.name for q in SAVED_QUERIES if q.takes_year) + ".")
@click.option("--undated", type=click.Choice(["show", "hide"]), default="show", show_default=True,
              help="With --year: keep or leave out ties without a `since`.")
@reports_errors
def query(cypher, query_file, params, fmt, timeout, max_rows, year, undated):
    """Run a read-only Cypher query, or a saved query by its name (`kb query city-ties --param
    city=city-foshan --year 2015`); anything that would write is refused before it runs."""
    from kb.cypher import run_read_only
    if bool(cypher) == bool(query_file):
        raise click.UsageError("give the query either as an argument or with --file, not both")
    saved = next((q for q in SAVED_QUERIES if q.name == cypher), None)
    text = saved.cypher if saved else cypher or _read_text(query_file)
    values = {**(saved.params if saved else {}), **dict(_param(p) for p in params)}
    if year is not None or undated == "hide":
        if not (saved and saved.takes_year):
            raise click.UsageError("--year and --undated apply to the saved queries that take a year: "
                                   + ", ".join(q.name for q in SAVED_QUERIES if q.takes_year))
        if year is None:
            raise click.UsageError("--undated hide needs --year")
        values.update(year=year, undated=undated == "show")
    try:
        result = run_read_only(text, values, timeout=timeout, max_rows=max_rows)
    except RunawayQuery as error:
        from kb.ops import runaway
        raise runaway.end(error) from None
    _print_result(result, fmt)
    if result.truncated:
        click.echo(result.notice(), err=True)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise QueryRefused(f"{path}: not UTF-8 text (byte {error.start})") from None


def _print_result(result, fmt: str) -> None:
    if fmt == "json":
        click.echo(tabular.to_json(tabular.records(result.columns, result.rows)))
    elif fmt == "csv":
        click.echo(tabular.to_csv(result.columns, result.rows), nl=False)
    else:
        _print_table(result.columns, [["" if v is None else tabular.cell(v) for v in row] for row in result.rows])


def _print_table(columns, rows) -> None:
    widths = [max([len(str(c))] + [len(str(row[i])) for row in rows]) for i, c in enumerate(columns)]
    widths = [min(w, 60) for w in widths]

    def line(cells):
        return "  ".join(str(cell)[:w].ljust(w) for cell, w in zip(cells, widths)).rstrip()
    click.echo(line(columns))
    click.echo(line(["-" * w for w in widths]))
    for row in rows:
        click.echo(line(row))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@reports_errors
def stats(fmt):
    """Count entities by type, relations by type and entities by the source they cite."""
    from kb import queries
    counts = {**queries.counts(), "entities_per_source": queries.entities_per_source()}
    if fmt == "json":
        click.echo(json.dumps(counts, indent=2))
        return
    for kind in ("entities", "relations"):
        rows = [[name, count] for name, count in counts[kind].items()]
        rows.append(["total", sum(counts[kind].values())])
        _print_table([("entity" if kind == "entities" else "relation") + " type", "count"], rows)
        click.echo()
    _print_table(["source", "entities citing it"], [[name, count] for name, count in counts["entities_per_source"].items()])


def _names(values) -> tuple:
    """Repeatable options that also take comma-separated lists: --types City,Company --types Region."""
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


@main.command()
@click.option("--measure", type=click.Choice(["degree", "betweenness", "brokerage", "communities", "kcore"]),
              default="betweenness", show_default=True,
              help="degree; betweenness (brokers of the whole graph); brokerage (betweenness on shortest paths "
              "from Chinese to German entities only); communities (Leiden); kcore (coreness).")
@click.option("--top", "top_n", type=click.IntRange(min=1), default=10, show_default=True,
              help="Rows shown: entities, or communities by size.")
@click.option("--types", multiple=True, metavar="TYPE[,TYPE]", help="Only entities of these types (repeatable).")
@click.option("--relations", multiple=True, metavar="TYPE[,TYPE]", help="Only ties of these types (repeatable).")
@click.option("--year", type=int, help="Only ties in force that year (since <= YEAR <= until); undated ties kept.")
@click.option("--no-undated", is_flag=True, help="With --year: leave out ties without a `since`.")
@click.option("--sample", type=click.IntRange(min=0), help="Betweenness and brokerage: estimate from K sampled "
              "source entities; 0 = exact. Default: exact up to 5000 entities, 100 sources above.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the sampling and of Leiden.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@reports_errors
def analyse(measure, top_n, types, relations, year, no_undated, sample, seed, fmt):
    """Structure of the graph: top entities by degree, betweenness, brokerage or k-core, or the largest
    communities, on the whole graph or a filtered part; says which algorithm and parameters it used."""
    from kb import analysis
    filters = analysis.Filters(_names(types), _names(relations), year, not no_undated)
    found = analysis.report(analysis.scores(measure, filters, sample=sample, seed=seed), top_n)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    projection = found["projection"]
    click.echo(f"Projection: {projection['entities']} entities, {projection['tied_pairs']} tied pairs "
               f"({projection['ties']} ties) read in {projection['seconds']:.1f} s; {filters.describe()}.")
    rows = found["rows"]
    _print_table(list(rows[0]) if rows else [measure], [[tabular.cell(v) for v in row.values()] for row in rows])
    click.echo(f"Algorithm: {found['algorithm']} ({found['seconds']:.1f} s)")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "graphml"]), default="jsonl",
              show_default=True, help="jsonl: one JSON object per line; csv: neo4j-admin import files that "
              "`kb load` reads back; graphml: for Gephi, yEd and networkx.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output file (a folder for csv). Default: export/graph.<format> (export/csv for csv).")
@reports_errors
def export(fmt, out):
    """Write the whole graph to a file (or a folder of CSV files)."""
    from kb.export import export as write
    out = out or Path("export") / ("csv" if fmt == "csv" else f"graph.{fmt}")
    try:
        counts = write(fmt, out)
    except OSError as error:
        error.filename = error.filename or str(out)     # a failed write (a full disk) names no file
        raise
    click.echo(f"Exported {counts['entities']} entities and {counts['relations']} relations to {out}")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@reports_errors
def shell(arguments):
    """Open cypher-shell on the knowledge base (`kb shell -- ARGS...` passes ARGS to cypher-shell).

    It connects to the local server, or to NEO4J_URI with NEO4J_USERNAME and NEO4J_DATABASE; the
    password goes in the environment, never on a command line. Unlike `kb query`, it can write.
    Built from Maven on first use. Example: kb shell -- --format plain "MATCH (n) RETURN count(n)".
    """
    from kb import db
    from kb.ops import shell as cypher_shell
    db.ping()       # one clear message when the database is down or refuses the credentials
    db.close()
    cypher_shell.run(arguments, echo=lambda message: click.echo(message, err=True))


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@reports_errors
def backup(file):
    """Back up the whole knowledge base to FILE (a tar archive with a manifest of what it holds).

    The local server: a neo4j-admin dump, for which the server is stopped and started again
    (Neo4j Community dumps only a database no server holds). A database named by NEO4J_URI: its
    CSV export (a logical backup), which `kb restore` loads back through the loader.
    """
    from kb.ops.backup import backup as write
    write(file, echo=click.echo)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace what the database holds; without it a database that is "
              "not empty is left alone.")
@reports_errors
def restore(file, force):
    """Restore a backup written by `kb backup` and check its counts and ids against the backup's manifest.

    A dump loads into the local server (stopped and started again around it); a logical backup loads
    through the loader into the local server or NEO4J_URI.
    """
    from kb.ops.backup import restore as read
    from loaders import by_path, pipeline
    read(file, lambda folder: pipeline.load(by_path.reader_for([folder])).describe(), force=force, echo=click.echo)


@main.group()
def story():
    """Stories for live demos: stories/NAME.yaml, played on the app's Story page (?story=NAME)."""


@story.command("list")
@reports_errors
def story_list():
    """List the stories (name, steps, title); a broken file says what is wrong with it."""
    from kb.render import stories
    from kb.errors import StoryError
    for name in stories.names():
        try:
            found = stories.load(name)
            click.echo(f"{name}\t{len(found.steps)} steps\t{found.title.english}")
        except StoryError as error:
            click.echo(f"{name}\tbroken\t{error}")


class Language(click.ParamType):
    """One of the schema's languages, checked when used (importing the schema up front would slow every command)."""
    name = "language"

    def convert(self, value, param, ctx):
        from kb.schema import LANGUAGES
        if value in LANGUAGES:
            return value
        self.fail(f"{value!r} is not one of the languages {', '.join(LANGUAGES)}", param, ctx)


STORY_LANGUAGE = click.option("--lang", "language", type=Language(), default="en", show_default=True,
                              help="The language of titles, notes and labels: en, de or zh (a line the story "
                              "does not translate stays English).")


@story.command("show")
@click.argument("name")
@STORY_LANGUAGE
@reports_errors
def story_show(name, language):
    """Check stories/NAME.yaml and print its steps: number, title, the view, the note."""
    from kb.render import stories
    found = stories.load(name)
    click.echo(f"{found.title.in_language(language)} ({found.path}, {len(found.steps)} steps)")
    for number, step in enumerate(found.steps, start=1):
        note = step.note.in_language(language)
        click.echo(f"{number}. {step.title.in_language(language)}\n   {step.describe()}" + (f"\n   {note}" if note else ""))


@story.command("export")
@click.argument("name")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The HTML file to write: one page holding every step, that plays offline (Left/Right keys).")
@STORY_LANGUAGE
@reports_errors
def story_export(name, out, language):
    """Write the story as one self-contained HTML file, every step's graph inlined, checked against the database."""
    from kb.render import stories
    found = stories.load(name)
    stories.check_ids(found)
    out.write_text(stories.export(found, language), encoding="utf-8")
    click.echo(f"Exported {len(found.steps)} steps of {name!r} to {out}")


@main.command()
@click.option("--port", type=int, default=8501, show_default=True, help="Port of the app (on 127.0.0.1).")
@click.option("--shared", is_flag=True, help="The app is served to others: a runaway console query never "
              "restarts the local server (sets KB_RESTART_RUNAWAY=0 for the app).")
@reports_errors
def demo(port, shared):
    """Start the server, create the schema, load the seeds and serve the app."""
    from kb import ddl
    from kb.ops import server as local
    from loaders import pipeline, seed
    if config.connection().local:
        click.echo(local.start(echo=click.echo).describe())
    ddl.init()
    click.echo(pipeline.load(seed.reader([config.PROJECT_ROOT / "seeds"])).describe())
    click.echo(f"Serving the app at http://localhost:{port} (Ctrl-C stops the app; `kb server stop` the database).")
    app = str(config.PROJECT_ROOT / "app.py")
    if shared:
        os.environ["KB_RESTART_RUNAWAY"] = "0"
    os.execvp(sys.executable, [sys.executable, "-m", "streamlit", "run", app, "--server.address", "127.0.0.1",
                               "--server.port", str(port), "--server.headless", "true",
                               "--browser.gatherUsageStats", "false"])


# Facts from reading: `kb extract` proposes ties an article states; `kb review` judges them.

def _extracted(paths, queue: bool):
    """(article, language, candidates not judged yet) of every file, all read before any is linked."""
    from loaders import extract, review
    articles = [extract.read(path) for path in paths]
    languages = [extract.detect_language(a.body, a.meta.get("language"), str(a.path)) for a in articles]
    extractor = extract.Extractor()
    judgements = review.judged(a.document_id for a in articles)
    found = []
    for article, language in zip(articles, languages):
        candidates = extractor.candidates(article.text, article.body_start, language, article.document_id)
        found.append((article, language, review.unjudged(candidates, judgements)))
    if queue:
        for article, _, candidates in found:
            review.queue(article, candidates, extract.source_records(article))
    return found


def _tie_text(record: dict) -> str:
    """A tie's properties but its ends and type, as name=value, for tables."""
    return ", ".join(f"{k}={v}" for k, v in record.items() if k not in ("type", "from", "to", "sources"))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, readable=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: one line a candidate; json: a list of relation records with evidence, cue, "
              "confidence and document.")
@click.option("--queue", is_flag=True, help="Also keep the candidates in the review queue (`kb review list`).")
@reports_errors
def extract(paths, fmt, queue):
    """Propose the ties that text or Markdown articles state (cues of loaders/cues.yaml), each with the
    sentence that states it; ties accepted or rejected in the review queue are not proposed again."""
    found = _extracted(paths, queue)
    if fmt == "json":
        click.echo(json.dumps([c.as_record() for _, _, candidates in found for c in candidates],
                              indent=2, ensure_ascii=False))
    else:
        rows = [[c.type, c.start, c.end, _tie_text(c.props), f"{c.confidence:.2f}",
                 f"{c.evidence['start']}:{c.evidence['end']}", article.path.name]
                for article, _, candidates in found for c in candidates]
        _print_table(["type", "from", "to", "properties", "confidence", "evidence", "document"], rows)
    summary = "; ".join(f"{a.path}: {len(c)} candidates ({lang.code})" for a, lang, c in found)
    click.echo(summary + (" queued for review" if queue else ""), err=True)


@main.group()
def review():
    """The review queue of extracted ties (`kb extract --queue`): list, show, accept, reject, export."""


@review.command("list")
@click.option("--state", type=click.Choice(["pending", "accepted", "rejected", "added", "all"]), default="pending",
              show_default=True, help="Which items to list (added: facts added by hand with `kb fact add`).")
@click.option("--document", help="Only the items of this document id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@reports_errors
def review_list(state, document, fmt):
    """List review items by document, most confident first."""
    from loaders import review as queue
    found = queue.items(None if state == "all" else state, document)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False, default=str))
        return
    _print_table(["id", "state", "type", "from", "to", "properties", "confidence", "document"],
                 [[i["id"], i["state"], i["type"], i["from"], i["to"], _tie_text(i["props"]),
                   f"{i['confidence']:.2f}", i["document"]] for i in found])


@review.command("show")
@click.argument("review_id")
@reports_errors
def review_show(review_id):
    """Show one review item: the tie, the evidence sentence, the cue and the document."""
    from loaders import review as queue
    item = queue.get(review_id)
    new = {n["id"]: n for n in item["proposed"]}
    ends = [f"{item[end]} ({item['names'][end]!r}" + (f", new {new[item[end]]['type']})" if item[end] in new else ")")
            for end in ("from", "to")]
    lines = [f"{item['id']} ({item['state']}" + (f" on {item['reviewed']}" if item.get("reviewed") else "") + ")",
             f"  {ends[0]} -[{item['type']}]-> {ends[1]}",
             f"  properties: {_tie_text(item['props']) or '-'}",
             f"  evidence ({item['path']} {item['offsets']}): {item['sentence']}",
             f"  cue: {item['cue']}  confidence: {item['confidence']:.2f}",
             f"  document: {item['document']} {item['title']!r}"]
    if item.get("reason"):
        lines.append(f"  reason: {item['reason']}")
    had = queue.existing(item) if item["state"] == "pending" else None
    if had is not None:
        lines.append(f"  in the graph already: {_tie_text(had) or '-'}; sources {', '.join(had.get('sources') or [])}")
    click.echo("\n".join(lines))


def _sets(values) -> dict:
    found = {}
    for value in values:
        if "=" not in value:
            raise click.BadParameter(f"{value!r}: write an edit as NAME=VALUE", param_hint="--set")
        name, text = value.split("=", 1)
        found[name.strip()] = text
    return found


@review.command("accept")
@click.argument("review_id")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Edit the tie before it is written: a property (since=2017, share=0.25, status=completed), "
              "or from=ID, to=ID, type=TYPE. Repeatable.")
@reports_errors
def review_accept(review_id, sets):
    """Write the item's tie through the load path (validated, reconciled), citing its document, and mark it accepted."""
    from loaders import review as queue
    written = queue.accept(review_id, _sets(sets))
    click.echo(f"Accepted {review_id}: {written['from']} -[{written['type']}]-> {written['to']}"
               + (f" ({_tie_text(written)})" if _tie_text(written) else ""))


@review.command("reject")
@click.argument("review_id")
@click.option("--reason", help="Why the tie is wrong; kept with the judgement.")
@reports_errors
def review_reject(review_id, reason):
    """Mark the item rejected: extracting its document again does not propose the tie."""
    from loaders import review as queue
    queue.reject(review_id, reason)
    click.echo(f"Rejected {review_id}" + (f": {reason}" if reason else ""))


@review.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The seed file (.yaml) to write.")
@reports_errors
def review_export(out):
    """Write every accepted or added tie, with its Source, Document and new entities, and every retracted
    tie, as a seed file `kb load` reads."""
    from loaders import facts
    if out.suffix not in (".yaml", ".yml"):
        raise click.BadParameter(f"{out}: a seed file ends in .yaml or .yml", param_hint="--out")
    entities, relations, retracted = facts.export(out)
    click.echo(f"Exported {relations} accepted ties and {entities} entities to {out}"
               + (f", and {retracted} retracted ties" if retracted else ""))


@main.group()
def fact():
    """Add a fact by hand, retract a tie (kept, hidden from the graph), list the retracted ties."""


@fact.command("add")
@click.argument("relation_type", metavar="TYPE")
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("--source", "source_id", help="The id of a Source in the graph that states the fact.")
@click.option("--source-url", help="A new source: the URL of the page read.")
@click.option("--source-title", help="A new source: its title.")
@click.option("--source-publisher", help="A new source: who published it.")
@click.option("--source-kind", default="news", show_default=True,
              help="A new source: news, report, dataset or reference (the schema's kinds of Source).")
@click.option("--read-date", help="A new source: when it was read (YYYY-MM-DD).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="A property of the tie: since=2017, until=2020, share=0.25, status=completed, note=TEXT. Repeatable.")
@reports_errors
def fact_add(relation_type, start, end, source_id, source_url, source_title, source_publisher, source_kind,
             read_date, sets):
    """Write the tie FROM -[TYPE]-> TO, validated as every load is, citing a Source; kept for `kb review export`."""
    from loaders import facts
    new = (source_url, source_title, source_publisher, read_date)
    if bool(source_id) == any(new):
        raise click.UsageError("give either --source ID or a new source (--source-url, --source-title, "
                               "--source-publisher, --read-date)")
    source = source_id or facts.new_source(source_url, source_title, source_publisher, read_date, source_kind)
    written = facts.add(relation_type, start, end, _sets(sets), source)
    click.echo(f"Added {written['from']} -[{written['type']}]-> {written['to']}"
               + (f" ({_tie_text(written)})" if _tie_text(written) else ""))


@fact.command("retract")
@click.argument("relation_type", metavar="TYPE")
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("--reason", required=True, help="Why the tie is wrong.")
@click.option("--source", "source_id", required=True, help="The id of the Source that shows it is wrong.")
@click.option("--key", help="For a type whose ties between the same ends differ by a key (kind, role, level): its value.")
@reports_errors
def fact_retract(relation_type, start, end, reason, source_id, key):
    """Take the tie out of the graph, keeping it with the reason, source and date (see `kb fact retracted`)."""
    from loaders import facts
    found = facts.retract(relation_type, start, end, reason, source_id, key)
    click.echo(f"Retracted {found['from']} -[{found['type']}]-> {found['to']}: {found['reason']}")


@fact.command("retracted")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@reports_errors
def fact_retracted(fmt):
    """List the retracted ties, oldest first, with the reason, the source and the date."""
    from loaders import facts
    found = facts.retracted()
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False, default=str))
        return
    _print_table(["date", "type", "from", "to", "properties", "reason", "source"],
                 [[x["date"], x["type"], x["from"], x["to"], _tie_text(x["tie"]), x["reason"], x["source"]]
                  for x in found])
