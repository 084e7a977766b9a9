"""Without the shared corpus, each corpus test fails (never skips) with a line saying what is missing,
and the other tests of its module still run (tests/conftest.py's `corpus` marker)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SAMPLES

MODULE = """
import pytest

from tests.conftest import corpus_files


def test_on_a_sample():
    pass


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_on_the_corpus(path):
    assert path.is_file()
"""


def _pytest(tmp_path: Path, corpus: Path) -> tuple[int, str]:
    """pytest on a module of one sample test and one corpus test, with tests/conftest.py as a plugin."""
    module = tmp_path / "test_module.py"
    module.write_text(MODULE, encoding="utf-8")
    env = {**os.environ, "WBA_CORPUS": str(corpus), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", "-rA", str(module)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout


def test_a_missing_corpus_fails_its_tests_and_the_others_run(tmp_path: Path) -> None:
    empty = tmp_path / "no-corpus"
    empty.mkdir()
    code, out = _pytest(tmp_path, empty)
    assert code == 1, out
    assert "PASSED test_module.py::test_on_a_sample" in out
    assert "ERROR at setup of test_on_the_corpus[missing.evtx]" in out
    assert f"\nno .evtx files under {empty}: this test needs the shared corpus of real logs" in out
    assert "1 passed, 1 error" in out and "skipped" not in out


def test_a_present_corpus_runs_every_file(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "deep").mkdir(parents=True)
    shutil.copy(SAMPLES / "healthy.evtx", corpus / "a.evtx")
    shutil.copy(SAMPLES / "healthy.evtx", corpus / "deep" / "b.evtx")
    code, out = _pytest(tmp_path, corpus)
    assert code == 0, out
    assert "PASSED test_module.py::test_on_the_corpus[a.evtx]" in out
    assert "PASSED test_module.py::test_on_the_corpus[b.evtx]" in out
    assert "3 passed" in out
