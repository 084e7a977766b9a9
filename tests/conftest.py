from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def sample_files() -> list[Path]:
    files = sorted(SAMPLES.glob("*.evtx"))
    assert len(files) >= 5, "samples/ is missing its .evtx files (python samples/build.py)"
    return files


def corpus_files() -> list[Path]:
    """The shared real-world corpus; its absence is an error, never a silent skip."""
    files = sorted(CORPUS.rglob("*.evtx"))
    if not files:
        raise RuntimeError(f"no .evtx files under {CORPUS}: the corpus tests need ../shared/corpus")
    return files


# HYPOTHESIS_PROFILE=deep runs the property tests much longer than CI does.
settings.register_profile("deep", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
