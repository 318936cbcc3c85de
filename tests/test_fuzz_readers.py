"""Fuzzing the YAML and CSV readers with hypothesis: every input is either accepted or refused with
InvalidRecord naming the file and the line (and the field where there is one), never another
exception; through a real load into the test server, a refused load writes nothing.

Inputs are random bytes, and a small valid input with one to three mutations: a byte-order mark,
CRLF or CR line ends, truncation, inserted bytes (bad UTF-8, NUL, quotes), huge fields, deep
nesting, an alias bomb, a surrogate escape, and values of any type where the schema expects
another. Reading and validating alone is cheap, so it gets twenty times the examples of a load.
KB_FUZZ_EXAMPLES sets the loads per reader (25: about a minute in all on an idle machine).
The counts are printed at the end of the module, whatever pytest captures.
"""
from __future__ import annotations

import os
import re
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kb import ddl
from kb.errors import InvalidRecord
from kb.schema import schema
from loaders import by_path, pipeline
from loaders.records import Validator
from tests.conftest import graph_counts, wipe

EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "25"))
# Reading and validating without the database costs milliseconds: many more inputs.
READ_EXAMPLES = EXAMPLES * 20
# No shrinking: on a busy machine it can take minutes; the failing input is shown as found.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])

SEED_FILE = """\
entities:
  - id: src-fuzz
    type: Source
    name: Fuzz source
    title: Fuzz source
    kind: dataset
  - id: city-fuzz
    type: City
    name: Fuzzstadt
    aliases: [Fuzz City, 模糊市]
    country: DE
    sources: [src-fuzz]
  - id: org-fuzz
    type: Organization
    name: Fuzz alliance
    member_count: 3
    sources: [src-fuzz]
relations:
  - type: MEMBER_OF
    from: city-fuzz
    to: org-fuzz
    since: "2019-05"
    founding: true
    sources: [src-fuzz]
""".encode()

NODE_FILE = """\
id:ID,:LABEL,name,aliases:string[],country,sources:string[],member_count:int,title,kind
src-fuzz,Source,Fuzz source,,,,,Fuzz source,dataset
city-fuzz,City,Fuzzstadt,Fuzz City;模糊市,DE,src-fuzz,,,
org-fuzz,Organization,"Fuzz alliance, ""the"" one",,,src-fuzz,3,,
""".encode()

RELATION_FILE = """\
:START_ID,:END_ID,:TYPE,since:date,founding:boolean,sources:string[]
city-fuzz,org-fuzz,MEMBER_OF,2019-05,true,src-fuzz
""".encode()

# Values as a YAML file may hold them, of every type the schema might not expect.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)

MUTATION_KINDS = ["bom", "crlf", "cr", "truncate", "insert", "delete", "bad-utf8", "nul", "quote",
                  "huge", "deep", "alias-bomb", "value", "text", "surrogate"]
MUTATIONS = st.tuples(st.sampled_from(MUTATION_KINDS), st.integers(0, 10 ** 6), st.binary(min_size=1, max_size=6),
                      st.integers(1, 300_000), VALUES, st.text(max_size=40))


YAML_VALUE = re.compile(rb": ([^\r\n]*)")
CSV_VALUE = re.compile(rb"(?:^|,)([^,\r\n]*)", re.MULTILINE)


def _value_slots(data: bytes, yaml_file: bool) -> list[tuple[int, int]]:
    """Where the values sit: after `key: ` in YAML, between commas in CSV."""
    found = (YAML_VALUE if yaml_file else CSV_VALUE).finditer(data)
    return [m.span(1) for m in found] or [(len(data), len(data))]


def mutate(data: bytes, mutation, yaml_file: bool) -> bytes:
    kind, position, payload, size, value, text = mutation
    at = position % (len(data) + 1)
    slots = _value_slots(data, yaml_file)
    start, end = slots[position % len(slots)]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "cr":
        return data.replace(b"\n", b"\r")
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + payload + data[at:]
    if kind == "delete":
        return data[:at] + data[at + size % 40:]
    if kind == "bad-utf8":
        return data[:at] + b"\xff\xc3" + data[at:]
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    if kind == "quote":
        return data[:at] + (b'"' if size % 2 else b"'") + data[at:]
    if kind == "huge":
        return data[:start] + (payload * (size // len(payload) + 1))[:size].replace(b"\n", b" ") + data[end:]
    if kind == "deep":
        depth = size % 20_000
        nested = b"[" * depth + b"]" * depth if yaml_file else b'"' + b"(" * depth + b'"'
        return data[:start] + nested + data[end:]
    if kind == "alias-bomb":
        if not yaml_file:
            return data[:start] + b'"' + b"\n" * (size % 1000) + b'"' + data[end:]
        # Nine levels of nine aliases each: 9**9 strings if expanded. Anchors come before their use.
        levels = [b"&a0 [x, x, x, x, x, x, x, x, x]"] + [
            b"&a%d [" % n + b", ".join([b"*a%d" % (n - 1)] * 9) + b"]" for n in range(1, 9)]
        return data[:start] + b"[" + b", ".join(levels) + b"]" + data[end:]
    if kind == "value":
        dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10 ** 9).strip()
        dumped = dumped.removesuffix("...").strip().replace("\n", " ")
        return data[:start] + dumped.encode("utf-8", "surrogatepass") + data[end:]
    if kind == "surrogate":
        # YAML's escapes can spell a lone surrogate, which no UTF-8 text (and no Neo4j string) holds.
        return data[:start] + (b'"\\ud800 x"' if yaml_file else "\ud800".encode("utf-8", "surrogatepass")) + data[end:]
    return data[:start] + text.encode("utf-8", "surrogatepass") + data[end:]


@st.composite
def yaml_inputs(draw) -> dict:
    """A seed file: random bytes, or the valid one mutated."""
    if draw(st.booleans()):
        return {"fuzz.yaml": draw(st.binary(max_size=3000))}
    data = SEED_FILE
    for mutation in draw(st.lists(MUTATIONS, min_size=1, max_size=3)):
        data = mutate(data, mutation, yaml_file=True)
    return {"fuzz.yaml": data}


@st.composite
def csv_inputs(draw) -> dict:
    """A node file and a relationship file: one of them mutated, or the second random bytes."""
    files = {"nodes.csv": NODE_FILE, "relationships.csv": RELATION_FILE}
    target = draw(st.sampled_from(["nodes.csv", "relationships.csv", "random"]))
    if target == "random":
        files["relationships.csv"] = draw(st.binary(max_size=3000))
        return files
    for mutation in draw(st.lists(MUTATIONS, min_size=1, max_size=3)):
        files[target] = mutate(files[target], mutation, yaml_file=False)
    return files


INPUTS = {"yaml": yaml_inputs(), "csv": csv_inputs()}
TALLY = {(reader, stage): Counter() for reader in INPUTS for stage in ("read", "load")}


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """Print how many inputs were tried, refused and accepted, whatever pytest captures."""
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for (reader, stage), counted in TALLY.items():
            what = "read and validated (no database)" if stage == "read" else "loaded into the test server"
            print(f"\nfuzzing the {reader} reader, {what}: {sum(counted.values())} inputs tried, "
                  f"{counted['refused']} refused with file, line and field, {counted['accepted']} accepted", end="")
        print()


def _write(files: dict, folder) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)


WHERE = re.compile(r"(?:line|record) \d+")


def _check_refusal(refusal: InvalidRecord, files: dict, folder) -> None:
    """Every problem names its file and where in it (a line, or a record's number)."""
    for problem in refusal.problems:
        assert any(str(folder / name) in problem for name in files) and WHERE.search(problem), problem


def read_or_refuse(files: dict, folder, counted: Counter) -> None:
    """Read and validate the files record by record, as a load does before it asks the database."""
    _write(files, folder)
    validator = Validator(schema())
    try:
        for _ in by_path.reader_for([folder])(validator):
            pass
        if validator.problems:
            raise InvalidRecord(validator.problems, validator.problem_count)
    except InvalidRecord as refusal:
        _check_refusal(refusal, files, folder)
        counted["refused"] += 1
        return
    counted["accepted"] += 1


def load_or_refuse(files: dict, folder, counted: Counter) -> None:
    """Load the files; a refusal must name a file of the input in every problem and write nothing."""
    _write(files, folder)
    before = graph_counts()
    try:
        pipeline.load(by_path.reader_for([folder]), show_progress=False)
    except InvalidRecord as refusal:
        assert graph_counts() == before, "a refused load wrote something"
        _check_refusal(refusal, files, folder)
        counted["refused"] += 1
        return
    counted["accepted"] += 1


@pytest.fixture(scope="module")
def database(neo4j_server):
    wipe()
    ddl.init()


@pytest.mark.parametrize("name, data", [("fuzz.yaml", SEED_FILE), ("nodes.csv", NODE_FILE)])
def test_the_unmutated_inputs_load(database, tmp_path, name, data):
    files = {name: data, **({"relationships.csv": RELATION_FILE} if name.endswith(".csv") else {})}
    counted = Counter()
    load_or_refuse(files, tmp_path, counted)
    assert counted == Counter(accepted=1), "the inputs the fuzzer mutates must be valid"


ALIAS_BOMB = b"[" + b", ".join([b"&a0 [x, x, x, x, x, x, x, x, x]"] + [
    b"&a%d [" % n + b", ".join([b"*a%d" % (n - 1)] * 9) + b"]" for n in range(1, 9)]) + b"]"
# Inputs the fuzzer found a reader mishandling (a traceback, a hang, a problem without its line, or a
# value the database refuses in the middle of the write): each is now refused up front, where it is.
REGRESSIONS = {
    "alias bomb as a name": ({"fuzz.yaml": SEED_FILE.replace(b"name: Fuzzstadt", b"name: " + ALIAS_BOMB)},
                             "line 7 (entity city-fuzz), field 'name': expected a single string, got [["),
    "alias bomb as a type": ({"fuzz.yaml": SEED_FILE.replace(b"type: City", b"type: " + ALIAS_BOMB)},
                             "line 7 (entity city-fuzz), field 'type': must be a type name, got [["),
    "an id of 5000 characters": ({"nodes.csv": NODE_FILE.replace(b"city-fuzz", b"c" * 5000),
                                  "relationships.csv": RELATION_FILE},
                                 "nodes.csv line 3, field 'id': 'cccc"),
    "nesting 5000 deep": ({"fuzz.yaml": SEED_FILE.replace(b"country: DE", b"country: " + b"[" * 5000 + b"]" * 5000)},
                          "fuzz.yaml line 11: malformed YAML: nested more than 50 levels deep"),
    "lone surrogate escape": ({"fuzz.yaml": SEED_FILE.replace(b"name: Fuzzstadt", b'name: "Fuzz\\udc80"')},
                              "fuzz.yaml line 9: malformed YAML: a \\uD800-\\uDFFF escape is not a character"),
    "NUL character": ({"fuzz.yaml": SEED_FILE.replace(b"kind: dataset", b"kind: data\x00set")},
                      "fuzz.yaml line 6: malformed YAML: the character U+0000 is not allowed"),
    "bad UTF-8 in YAML": ({"fuzz.yaml": SEED_FILE.replace(b"Fuzz alliance", b"Fuzz \xff alliance")},
                          "fuzz.yaml line 15: not UTF-8 text (byte 0xff)"),
    "bad UTF-8 after the CSV header": ({"nodes.csv": NODE_FILE.replace(b"Fuzz alliance", b"Fuzz \xc3( alliance"),
                                        "relationships.csv": RELATION_FILE},
                                       "nodes.csv line 4: not UTF-8 text (byte 0xc3)"),
    "huge CSV field": ({"nodes.csv": NODE_FILE.replace(b"Fuzzstadt", b"F" * 200_000),
                        "relationships.csv": RELATION_FILE},
                       "nodes.csv line 3: malformed CSV: field larger than field limit"),
    "a list where an id belongs": ({"fuzz.yaml": SEED_FILE.replace(b"to: org-fuzz", b"to: []")},
                                   "line 19 (relation 1), field 'to': must be one entity id, got []"),
    "empty CSV file": ({"nodes.csv": NODE_FILE, "relationships.csv": b""},
                       "relationships.csv line 1: empty file, a header line is required"),
    "integer beyond 64 bits in YAML": ({"fuzz.yaml": SEED_FILE.replace(b"member_count: 3",
                                                                       b"member_count: 99999999999999999999")},
                                       "field 'member_count': 99999999999999999999 is out of range"),
    "integer beyond 64 bits in CSV": ({"nodes.csv": NODE_FILE.replace(b"src-fuzz,3,,", b"src-fuzz,-9223372036854775809,,"),
                                       "relationships.csv": RELATION_FILE},
                                      "nodes.csv line 4, field 'member_count': -9223372036854775809 is out of range"),
    "integer too large for a float": ({"fuzz.yaml": SEED_FILE.replace(b"relations:", b"  - {id: ev-fuzz, type: Event, "
                                                                      b"name: Fair, sources: [src-fuzz], area_m2: "
                                                                      + b"9" * 400 + b"}\nrelations:")},
                                      "line 18 (entity ev-fuzz), field 'area_m2': expected a number, got 999"),
}


@pytest.mark.parametrize("files, says", REGRESSIONS.values(), ids=REGRESSIONS)
def test_what_the_fuzzer_found_is_refused_where_it_is(database, tmp_path, files, says):
    with pytest.raises(InvalidRecord) as refusal:
        _write(files, tmp_path)
        before = graph_counts()
        try:
            pipeline.load(by_path.reader_for([tmp_path]), show_progress=False)
        finally:
            assert graph_counts() == before
    problems = refusal.value.problems
    assert any(says in problem for problem in problems), problems
    assert all(len(problem) < 1000 for problem in problems), "a message quotes the start of a value only"
    _check_refusal(refusal.value, files, tmp_path)


@pytest.mark.parametrize("reader", INPUTS)
def test_reader_reads_or_refuses(reader, tmp_path_factory):
    @settings(FUZZ, max_examples=READ_EXAMPLES)
    @given(files=INPUTS[reader])
    def check(files):
        read_or_refuse(files, tmp_path_factory.mktemp(reader), TALLY[reader, "read"])
    check()


@pytest.mark.parametrize("reader", INPUTS)
def test_load_writes_all_or_nothing(database, reader, tmp_path_factory):
    @FUZZ
    @given(files=INPUTS[reader])
    def check(files):
        load_or_refuse(files, tmp_path_factory.mktemp(reader), TALLY[reader, "load"])
    check()
