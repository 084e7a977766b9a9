"""Build samples/*.evtx from the scenarios with the project's EVTX writer, and docs/samples.md
(what each sample holds). samples/ holds the logs only, as a customer's folder of logs would, so
that `wba report samples/` reads every file of it.

python -m analyzer.testkit.samples            # (re)write the samples and docs/samples.md
python -m analyzer.testkit.samples --check    # fail if a rebuild would change any byte
"""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from analyzer.testkit import write_evtx
from analyzer.testkit.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "samples"
DOC = ROOT / "docs" / "samples.md"
HEAD = """# Sample logs

Binary `.evtx` files written by the project's own EVTX writer (`analyzer/testkit/`) from the
scenarios in `analyzer/testkit/scenarios.py`: each is shaped like the Application log of an Entra
Connect server (writeback events with field texts, ADSync sync cycles, password hash sync, other
providers). All names, tenants and users are invented. Both engines read every file identically
(`tests/test_samples.py`).

Rebuild byte-identically: `python -m analyzer.testkit.samples` (check only: add `--check`).

| file | records | what the diagnosis should find | sha256 |
| --- | ---: | --- | --- |
"""


def build() -> dict[str, tuple[bytes, int, str]]:
    built = {}
    for name, (make, finding) in SCENARIOS.items():
        buffer = io.BytesIO()
        count = write_evtx(buffer, make())
        built[f"{name}.evtx"] = (buffer.getvalue(), count, finding)
    return built


def main(argv: list[str]) -> int:
    built = build()
    rows = [
        f"| `{file}` | {count} | {finding} | `{hashlib.sha256(data).hexdigest()}` |"
        for file, (data, count, finding) in built.items()
    ]
    readme = HEAD + "\n".join(rows) + "\n"
    if "--check" in argv:
        stale = [f for f, (data, _, _) in built.items() if (HERE / f).read_bytes() != data]
        if DOC.read_text(encoding="utf-8") != readme:
            stale.append(str(DOC.relative_to(ROOT)))
        print("stale: " + ", ".join(stale) if stale else "samples are up to date")
        return 1 if stale else 0
    for file, (data, count, _) in built.items():
        (HERE / file).write_bytes(data)
        print(f"{file}: {count} records, {len(data)} bytes")
    DOC.write_text(readme, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
