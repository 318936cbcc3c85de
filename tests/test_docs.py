"""The docs are a guide to the current state: short where they must be, every command, option,
setting and schema type named, and the generated pages (docs/generate.py) up to date."""
import importlib.util

import click
import pytest

from kb.cli import main
from kb.config import CONNECTION_VARIABLES, PROJECT_ROOT, SETTINGS
from kb.schema import schema

DOCS = PROJECT_ROOT / "docs"
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
ALL_DOCS = README + "".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")))


def generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commands(group=main, prefix="kb"):
    """Every command path with its long options, e.g. ("kb story export", ["--out"])."""
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        yield path, [opt for param in command.params if isinstance(param, click.Option)
                     for opt in param.opts if opt.startswith("--")]
        yield from commands(command, path)


def test_readme_and_benchmarks_stay_short():
    assert len(README.splitlines()) <= 250
    assert len((DOCS / "BENCHMARKS.md").read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    assert f"| `{setting.env}` | `{setting.name}` |" in (DOCS / "operations.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("variable", sorted(CONNECTION_VARIABLES))
def test_every_connection_variable_is_documented(variable):
    assert f"`{variable}`" in (DOCS / "operations.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(schema().entities) + sorted(schema().relations))
def test_every_schema_type_is_documented(name):
    assert f"| {name} |" in (DOCS / "data-model.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command, options", list(commands()), ids=lambda c: c if isinstance(c, str) else "")
def test_every_command_and_option_is_named(command, options):
    named = command if command.count(" ") < 2 else command.rsplit(" ", 1)[0]
    assert f"`{named}" in ALL_DOCS or f"{named} " in ALL_DOCS, f"{command} is named nowhere in README.md or docs/"
    assert command.rsplit(" ", 1)[1] in ALL_DOCS
    missing = [option for option in options if option not in ALL_DOCS]
    assert not missing, f"{command}: options named nowhere in the docs: {missing}"


def test_generated_pages_are_up_to_date():
    generate = generator()
    assert (DOCS / "data-model.md").read_text(encoding="utf-8") == generate.data_model(), \
        "run `python docs/generate.py`"
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    assert generate.operations(operations) == operations, "run `python docs/generate.py`"


def test_the_commands_of_the_readme_are_those_of_make_and_ci():
    assert "make demo" in README and "make test" in README and "make test-fast" in README
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo:" in makefile and "\ntest:" in makefile and "\ntest-fast:" in makefile
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
