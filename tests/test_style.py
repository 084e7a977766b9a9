"""ruff keeps the code base clean; run as a test so that CI enforces it, with the version that
pyproject.toml pins (a new release may format differently)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    """The ruff installed beside this Python (the test extra's), never another one on PATH."""
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_the_pinned_version() -> None:
    pin = re.search(r'"ruff==([0-9][0-9.]*)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pin, "pyproject.toml's test extra must pin ruff to one version (ruff==X.Y.Z)"
    assert _ruff("--version").stdout.split() == ["ruff", pin.group(1)]


def test_ruff_check() -> None:
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
