"""Where command output goes: stdout, or a file written to a temporary name and renamed at the end."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def open_output(target: Path | None) -> Iterator[TextIO]:
    """Yield a text stream; for a file, nothing appears at `target` unless the command completes."""
    if target is None or str(target) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    directory = target.resolve().parent
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
