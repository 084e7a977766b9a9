"""Paths and fixtures every test module shares: the samples, the shared corpus of real logs
(CORPUS, outside the repository), golden-file updates, and what a test does when something it
needs is missing."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# The shared corpus of real logs (217 files and their MANIFEST.tsv) lives beside the repository, not in
# it; WBA_CORPUS names another place.
CORPUS = Path(os.environ.get("WBA_CORPUS") or ROOT.parent / "shared" / "corpus")


@pytest.fixture(scope="session")
def sample_files() -> list[Path]:
    files = sorted(SAMPLES.glob("*.evtx"))
    assert len(files) >= 5, "samples/ is missing its .evtx files (python -m analyzer.testkit.samples)"
    return files


@functools.cache
def corpus_present() -> bool:
    return any(CORPUS.rglob("*.evtx"))


def corpus_files() -> list[Path]:
    """The shared corpus's logs, to parametrize the tests marked `corpus`.

    Without the corpus this gives one path that does not exist, so that each such test is still
    collected once and fails at setup (see `pytest_runtest_setup`), loudly and never as a skip, while
    the other tests of its module run."""
    return sorted(CORPUS.rglob("*.evtx")) or [CORPUS / "missing.evtx"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "corpus: reads the shared corpus of real logs; fails if it is missing")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("corpus") and not corpus_present():
        pytest.fail(
            f"no .evtx files under {CORPUS}: this test needs the shared corpus of real logs "
            "(CORPUS in tests/conftest.py)",
            pytrace=False,
        )


def unavailable(reason: str) -> NoReturn:
    """A test that cannot run on this machine: skipped here, but a failure in CI (CI=true), where
    `.ci/run` installs everything the tests need, so nothing is skipped there unnoticed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


# The property tests draw the same examples on every run (CI must not fail at random, nor depend
# on timing). HYPOTHESIS_PROFILE=deep explores: random examples, many more of them.
settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("deep", max_examples=3000, deadline=None, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
