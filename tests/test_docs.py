"""The README documents every setting, every schema type and every command."""
import pytest

from kb.cli import main
from kb.config import CONNECTION_VARIABLES, PROJECT_ROOT, SETTINGS
from kb.schema import schema

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    assert f"`{setting.env}` | `{setting.name}`" in README


@pytest.mark.parametrize("variable", sorted(CONNECTION_VARIABLES))
def test_every_connection_variable_is_documented(variable):
    assert f"`{variable}`" in README


@pytest.mark.parametrize("name", sorted(schema().entities) + sorted(schema().relations))
def test_every_schema_type_is_documented(name):
    assert f"| {name} |" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented(command):
    assert f"`kb {command}" in README


def test_the_two_commands_are_in_ci():
    assert "make demo" in README and "make test" in README
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
