"""The routing driver (neo4j:// URIs, what Aura and clusters need) against the local server: the CLI's
and the app's reads give what the direct bolt:// connection gives."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kb import config, db

KB = str(Path(sys.executable).with_name("kb"))
READS = [["search", "Kuka"], ["stats", "--format", "json"],
         ["query", "MATCH (c:City {country: 'DE'}) RETURN c.id AS id ORDER BY id", "--format", "csv"]]

pytestmark = pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="routes to the project's local test server")


def routed_environment() -> dict:
    conn = config.connection()
    return {"NEO4J_URI": f"neo4j://127.0.0.1:{urlsplit(conn.uri).port}", "NEO4J_USERNAME": conn.username,
            "NEO4J_PASSWORD": config.password(conn), "NEO4J_DATABASE": conn.database}


def kb(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([KB, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **env})


@pytest.mark.parametrize("args", READS, ids=lambda a: a[0])
def test_cli_reads_through_the_routing_driver(seeded_readonly, args):
    direct, routed = kb(args, {}), kb(args, routed_environment())
    assert direct.returncode == 0 and direct.stdout.strip(), direct.stderr
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout == direct.stdout


def test_app_reads_through_the_routing_driver(seeded_readonly, monkeypatch):
    for name, value in routed_environment().items():
        monkeypatch.setenv(name, value)
    db.close()
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        assert config.connection().uri.startswith("neo4j://")
        at = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"id": "firm-kuka", "depth": "1"})
        at.run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        drawn = at.get("iframe")[0].proto.srcdoc
        assert '"id": "firm-midea"' in drawn, "Kuka's neighbourhood, read through the routing driver, holds Midea"
    finally:
        db.close()
        st.cache_resource.clear()
        st.cache_data.clear()
