"""Neo4j's command-line tools, cypher-shell and neo4j-admin, from Maven artifacts.

tools/ is a Maven project with one module per tool, so that their classpaths stay apart (cypher-shell's
driver wants another Netty than the database's). Each is built on first use and run as
`java -cp tools/<tool>/target/lib/* <main class>`.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from kb import config
from kb.errors import ToolError

TOOLS_DIR = config.PROJECT_ROOT / "tools"
# cypher-shell's jar names no main class in its manifest; its boot class only starts another java
# with org.neo4j.shell.Main, so that class is run directly.
MAIN_CLASSES = {"cypher-shell": "org.neo4j.shell.Main", "neo4j-admin": "org.neo4j.cli.AdminTool"}


def lib_dir(tool: str) -> Path:
    return TOOLS_DIR / tool / "target" / "lib"


def is_built(tool: str) -> bool:
    return any(lib_dir(tool).glob("*.jar"))


def build(tool: str, echo=print) -> None:
    """Fetch the tool's jars with Maven (once; a minute or so on a fresh machine)."""
    echo(f"Fetching {tool} with Maven (first use only)...")
    result = subprocess.run(["mvn", "-B", "-q", "-pl", tool, "package"], cwd=TOOLS_DIR, capture_output=True,
                            text=True)
    if result.returncode != 0 or not is_built(tool):
        errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
        raise ToolError(f"Building {tool} failed (mvn -pl {tool} package in {TOOLS_DIR}): "
                        f"{errors[0] if errors else 'no jars were fetched'}")


def ensure_built(tool: str, echo=print) -> None:
    if not is_built(tool):
        build(tool, echo)


def command(tool: str, arguments, heap: str | None = None, echo=print) -> list[str]:
    """The command line that runs the tool with the arguments (building the tool first if needed)."""
    ensure_built(tool, echo)
    memory = [f"-Xmx{heap}"] if heap else []
    return ["java", *memory, *config.java_options(), "-cp", f"{lib_dir(tool)}/*",
            MAIN_CLASSES[tool], *arguments]


def admin_environment(neo4j_home: Path) -> dict:
    """What neo4j-admin needs to find a store: NEO4J_HOME, and a configuration folder (an empty
    neo4j.conf is created when the home has none, so the defaults apply: the data under home/data)."""
    conf = neo4j_home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "neo4j.conf").touch()
    return {"NEO4J_HOME": str(neo4j_home), "NEO4J_CONF": str(conf)}
