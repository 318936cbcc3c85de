"""`make test` on a machine without Chromium: .ci/ensure-chromium installs it when it may, else it stops
at once with one sentence saying what to install (never a stack trace from the browser tests)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kb import config

SCRIPT = config.PROJECT_ROOT / ".ci" / "ensure-chromium"
FONT_SCRIPT = config.PROJECT_ROOT / ".ci" / "ensure-cjk-font"
ADVICE = ("The browser tests need Chromium: install Debian's chromium and chromium-driver packages "
          "(sudo apt-get install chromium chromium-driver), then run make test again.")
FONT_ADVICE = ("Chinese names need a CJK font: install Debian's fonts-noto-cjk package (sudo apt-get install "
               "fonts-noto-cjk; fonts-wqy-zenhei also does), then run make test again.")


def run(path: str, script=SCRIPT, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(script)], capture_output=True, text=True, timeout=30,
                          env={"PATH": path, **env})


@pytest.fixture
def bare_path(tmp_path):
    """A PATH with `id` (the script asks who it runs as) and nothing else: no chromium, no apt-get."""
    (tmp_path / "id").symlink_to(shutil.which("id"))
    return str(tmp_path)


@pytest.mark.parametrize("env", [{"KB_BROWSER_NO_INSTALL": "1"}, {}], ids=["may not install", "no apt-get"])
def test_without_chromium_it_stops_at_once_with_one_sentence(bare_path, env):
    result = run(bare_path, **env)
    # At once: nothing was tried (no package manager on this PATH), only the one sentence said.
    assert (result.returncode, result.stdout, result.stderr) == (1, "", ADVICE + "\n"), result


def test_with_chromium_on_the_path_it_says_nothing(tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("this machine has no chromium")
    (tmp_path / "chromium").symlink_to(chromium)
    result = run(str(tmp_path), KB_BROWSER_NO_INSTALL="1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result


@pytest.mark.parametrize("env", [{"KB_BROWSER_NO_INSTALL": "1"}, {}], ids=["may not install", "no apt-get"])
def test_without_a_cjk_font_it_stops_at_once_with_one_sentence(bare_path, env):
    result = run(bare_path, FONT_SCRIPT, **env)
    # No fc-list and no package manager on this PATH: nothing was tried, only the one sentence said.
    assert (result.returncode, result.stdout, result.stderr) == (1, "", FONT_ADVICE + "\n"), result


def test_with_a_cjk_font_it_says_nothing(tmp_path):
    fc_list = shutil.which("fc-list")
    if not fc_list or not subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout.strip():
        pytest.skip("this machine has no CJK font")
    (tmp_path / "fc-list").symlink_to(fc_list)
    result = run(str(tmp_path), FONT_SCRIPT, KB_BROWSER_NO_INSTALL="1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result


def test_make_test_runs_them_before_pytest():
    recipe = subprocess.run(["make", "-n", "test"], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "MAKEFLAGS": ""}).stdout.splitlines()
    steps = [line for line in recipe if ".ci/ensure-" in line or "pytest" in line]
    assert steps[:2] == [".ci/ensure-chromium", ".ci/ensure-cjk-font"] and "pytest" in steps[-1], recipe
