"""The two engines give identical events, file by file, on samples/ and on the shared real corpus.

Accounting is checked too: records the chunk headers declare = events + unreadable,
and both engines count the same unreadable records.
"""

from __future__ import annotations

import csv
import struct
import time
from pathlib import Path

import pytest

from analyzer.ingest.read import FileReport, read_file
from tests.conftest import CORPUS, SAMPLES, corpus_files

# Files where one engine truly cannot read a record the other reads: path -> reason.
# None: the python engine reads records through python-evtx by pyevtx-rs's rules (template-less
# BinXml of forwarded logs, records whose trailing size copy is damaged, ...). Records both engines lose in
# damaged chunks (e.g. 68 in the RdpCoreTS log, 198 in sample_with_a_bad_chunk_magic.evtx) are not
# differences: both count them as unreadable.
EXPECTED_DIFFERENCES: dict[str, str] = {}


def _both(path: Path) -> tuple[list, list, FileReport, FileReport]:
    reports = FileReport(str(path), "rust"), FileReport(str(path), "python")
    rust = list(read_file(path, "rust", reports[0]))
    python = list(read_file(path, "python", reports[1]))
    return rust, python, reports[0], reports[1]


def _first_difference(rust: list, python: list) -> str:
    by_id = {(e.event_record_id, e.time_created): e for e in python}
    for event in rust:
        twin = by_id.get((event.event_record_id, event.time_created))
        if twin is None:
            return f"record {event.event_record_id}: only the rust engine returned it"
        for name in event.__dataclass_fields__:
            if getattr(event, name) != getattr(twin, name):
                return f"record {event.event_record_id}: {name} differs"
    return f"rust {len(rust)} events, python {len(python)}"


def _check(path: Path) -> tuple[FileReport, FileReport]:
    rust, python, rust_report, python_report = _both(path)
    key = str(path.relative_to(CORPUS)) if path.is_relative_to(CORPUS) else path.name
    if key in EXPECTED_DIFFERENCES:
        assert rust != python, f"{key} now agrees: remove it from EXPECTED_DIFFERENCES"
        return rust_report, python_report
    assert rust == python, _first_difference(rust, python)
    assert rust_report.unreadable == python_report.unreadable
    for report in (rust_report, python_report):
        assert report.events + report.unreadable == report.expected, report.engine
    return rust_report, python_report


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.evtx")), ids=lambda p: p.name)
def test_engines_agree_on_samples(path: Path) -> None:
    rust_report, _ = _check(path)
    assert rust_report.status == "ok" and rust_report.events > 300


CORPUS_FILES = corpus_files()


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_engines_agree_on_the_corpus(path: Path) -> None:
    _check(path)


@pytest.mark.corpus
def test_the_corpus_is_all_there_and_matches_its_manifest() -> None:
    """Our rust-engine event count per file equals the manifest's pyevtx-rs record count,
    less records that are garbage (no EventRecordID or Provider), which we count unreadable."""
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        manifest = {row["path"]: int(row["records_evtx_rs"]) for row in csv.DictReader(fh, delimiter="\t")}
    assert len(CORPUS_FILES) == len(manifest) == 217
    total_events = total_declared = 0
    for path in CORPUS_FILES:
        report = FileReport(str(path), "rust")
        events = sum(1 for _ in read_file(path, "rust", report))
        garbage = sum(int(p.split(" ")[0]) for p in report.problems if "record(s): record lacks" in p)
        assert events + garbage == manifest[str(path.relative_to(CORPUS))], path.name
        total_events += events
        total_declared += report.expected
    assert total_events == 20_175 and total_declared == 20_661


@pytest.mark.corpus
def test_the_one_regex_reader_agrees_with_the_string_and_lxml_readers() -> None:
    """The rust engine reads records of the plain shape with one regex; on every record of the
    corpus and the samples it gives what the lxml reader (the exact path) gives."""
    from evtx import PyEvtxParser

    from analyzer.errors import RecordError
    from analyzer.ingest.engines.rust import plain_event, to_event, xml_to_tree

    plain = other = 0
    for path in [*CORPUS_FILES, *sorted(SAMPLES.glob("*.evtx"))]:
        records = PyEvtxParser(str(path), indent=False).records()
        while True:
            try:
                xml = next(records)["data"]
            except StopIteration:
                break
            except RuntimeError:
                continue
            event = plain_event(xml, "f")
            if event is None:
                other += 1
                continue
            plain += 1
            try:
                assert event == to_event(xml_to_tree(xml), "f"), xml[:300]
            except RecordError:
                pytest.fail(f"only the regex reader reads {xml[:300]}")
    assert plain > 20 * other > 0


# -- damaged and unusual input: both engines, the same answer (issue 12, issue 10 item 5) ------------

from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from analyzer.evtx.layout import scan  # noqa: E402
from analyzer.testkit.export_writer import evtx_bytes  # noqa: E402
from analyzer.testkit.scenarios import SCENARIOS  # noqa: E402
from tests.fuzz.structure import fix_checksums, sites  # noqa: E402


def _healthy() -> bytes:
    return evtx_bytes(SCENARIOS["healthy"][0]())


def _agree(path: Path) -> tuple[list, FileReport]:
    """Both engines' events and account, which must be the same; returns the rust engine's."""
    rust, python, rust_report, python_report = _both(path)
    assert rust == python, _first_difference(rust, python)
    for name in ("events", "unreadable", "expected", "problems", "error", "stray"):
        assert getattr(rust_report, name) == getattr(python_report, name), name
    return rust, rust_report


def test_issue_12_a_name_table_that_loops_is_not_handed_to_pyevtx_rs(tmp_path: Path) -> None:
    """Four bytes make pyevtx-rs spin forever: the last name of a hash chain linked back to the
    first. python-evtx's own chunk header spins on it too when it fills its name table. The chunk
    is read by the python engine instead, which never walks the chains (names are read where
    references point): nothing is lost, the file is marked damaged, and neither engine waits."""
    from analyzer.run import pool

    data = bytearray(_healthy())
    chunk = 0x1000
    for head in struct.unpack_from("<64I", data, chunk + 0x80):
        chain = []
        while head:
            chain.append(head)
            head = struct.unpack_from("<I", data, chunk + head)[0]
        if len(chain) >= 2:
            break
    struct.pack_into("<I", data, chunk + chain[-1], chain[0])  # the 4-byte change
    fix_checksums(data)
    looped = tmp_path / "looped.evtx"
    looped.write_bytes(data)
    (tmp_path / "clean.evtx").write_bytes(_healthy())
    for stuck in pool.run(_bare, [("pyevtx-rs", str(looped)), ("python-evtx", str(looped))], 2, 3.0):
        assert isinstance(stuck, pool.Failed) and "longer than 3 s" in stuck.reason  # the parsers alone hang
    assert scan(looped).chunks[0].tables == "name table loops"
    started = time.monotonic()
    events, report = _agree(looped)
    assert time.monotonic() - started < 30
    clean = list(read_file(tmp_path / "clean.evtx", "rust", FileReport("c", "rust")))
    assert [(e.event_record_id, e.data) for e in events] == [(e.event_record_id, e.data) for e in clean]
    assert report.unreadable == 0 and report.problems == ["chunk 0: name table loops"]
    assert report.status == "damaged"


def _bare(parser: str, path: str) -> int:
    """A parser on its own: pyevtx-rs's records, or python-evtx's first chunk's name table."""
    if parser == "pyevtx-rs":
        from evtx import PyEvtxParser

        return sum(1 for _ in PyEvtxParser(path).records())
    from Evtx.Evtx import ChunkHeader

    return len(ChunkHeader(Path(path).read_bytes(), 0x1000).strings())


def test_the_python_engine_reads_with_python_evtx() -> None:
    """Records, fragments and templates are python-evtx's objects: on sound chunks the python
    engine's tree of every template is the tree python-evtx builds on its own (the same kinds of
    node at the same offsets), and every record is a python-evtx `Record`."""
    from Evtx import Nodes
    from Evtx.Evtx import ChunkHeader, Record

    from analyzer.ingest.engines.python import ChunkDecoder, records

    def tree(node: object) -> list[tuple[int, object]]:
        found = []
        for child in node.children():
            found.append((child.offset(), child))
            if not isinstance(child, (Nodes.ValueNode, Nodes.TemplateInstanceNode)):
                found += tree(child)
        return found

    compared = 0
    for path in sorted(SAMPLES.glob("*.evtx"))[:3]:
        data = path.read_bytes()
        for chunk in scan(path).chunks[:2]:
            buf = data[chunk.offset : chunk.offset + 0x10000]
            decoder, stock = ChunkDecoder(buf), ChunkHeader(buf, 0)
            for pos, size, _ in records(decoder, chunk.last, chunk.free_offset):
                decoder.record(pos + 24, size - 28)
            assert isinstance(decoder.chunk, ChunkHeader) and decoder.templates
            for offset in decoder.templates:
                ours, theirs = (
                    tree(decoder.chunk.template_at(offset)),
                    tree(Nodes.TemplateNode(buf, offset, stock, stock)),
                )
                assert [o for o, _ in ours] == [o for o, _ in theirs]
                assert all(isinstance(a, type(b)) for (_, a), (_, b) in zip(ours, theirs, strict=True))
                compared += len(ours)
            walked = [
                Record(buf, pos, stock).record_num() for pos, _, _ in records(decoder, chunk.last, chunk.free_offset)
            ]
            assert walked == list(range(chunk.first, chunk.last + 1))
    assert compared > 500


def _deep(depth: int) -> bytes:
    """A log of one event whose template holds `depth` elements nested in one another."""
    import sys

    from analyzer.testkit import binxml_writer as bx
    from analyzer.testkit import evtx_writer

    event = SCENARIOS["healthy"][0]()[0]
    chain = bx.Element("Leaf", children=("x",))
    for _ in range(depth):
        chain = bx.Element("N", children=(chain,))
    usual = evtx_writer._instance(event)
    root = usual.template.root
    instance = bx.Instance(bx.Template(bx.Element(root.name, root.attrs, (*root.children, chain))), usual.values)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # the writer's template identity is the repr of its nested elements
    try:
        chunk = evtx_writer._Chunk(1)
        assert chunk.add(instance, 1, 131_000_000_000_000_000)
        return evtx_writer.file_header(1, 2) + chunk.build()
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(("depth", "events"), [(300, 1), (510, 1), (511, 0), (3000, 0)])
def test_elements_nest_as_deep_as_pyevtx_rs_reads_them(depth: int, events: int, tmp_path: Path) -> None:
    """pyevtx-rs reads up to 512 open elements in a fragment (here: Event, then the chain). python-evtx
    reads elements recursively; the python engine reaches as deep within Python's default recursion
    limit, and a template nested deeper is unreadable in both engines."""
    path = tmp_path / f"deep{depth}.evtx"
    path.write_bytes(_deep(depth))
    read, report = _agree(path)
    assert len(read) == events and report.unreadable == 1 - events


def test_templates_belong_to_their_chunk(tmp_path: Path) -> None:
    """A later chunk's template with the same GUID and size as an earlier chunk's but other
    content (here: its Level element renamed Task) is that chunk's own: the python engine used
    to reuse the earlier chunk's compiled template."""
    data = bytearray(_healthy())
    found = sites(bytes(data))
    second = [s for s in found if s.chunk == 1]
    names = {}
    for site in (s for s in second if s.kind == "string.link"):  # the name defined at this entry
        count = struct.unpack_from("<H", data, site.offset + 6)[0]
        names[data[site.offset + 8 : site.offset + 8 + 2 * count].decode("utf-16-le")] = site.offset
    base = 0x1000 + 0x10000
    level = next(  # references to the name defined earlier (not inline): the later templates'
        s
        for s in second
        if s.kind == "name.offset"
        and struct.unpack_from("<I", data, s.offset)[0] == names["Level"] - base
        and s.offset + 4 != names["Level"]
    )
    struct.pack_into("<I", data, level.offset, names["Task"] - base)
    fix_checksums(data)
    path = tmp_path / "renamed.evtx"
    path.write_bytes(data)
    events, report = _agree(path)
    assert report.status == "ok"
    moved = [e for e in events if e.level is None]
    assert moved and len(moved) < len(events)  # records of that template in that chunk: no Level any more
    assert {e.task for e in moved} <= {2, 3, 4}  # their first Task holds the level


def test_a_stale_chunk_range_reads_the_same_in_both_engines(tmp_path: Path) -> None:
    """A chunk header that says its last record is 20 before the one it holds last (a log copied
    while it was written): both engines stop where the header says, and read + unreadable never
    exceeds what the headers declare."""
    data = bytearray(_healthy())
    first, last = struct.unpack_from("<QQ", data, 0x1000 + 24)
    struct.pack_into("<Q", data, 0x1000 + 32, last - 20)
    fix_checksums(data)
    path = tmp_path / "stale.evtx"
    path.write_bytes(data)
    events, report = _agree(path)
    assert report.events + report.unreadable == report.expected
    assert sum(1 for e in events if e.event_record_id is not None) == report.events
    assert report.declared[0] == last - 20 - first + 1


def test_unpaired_surrogates_are_left_out_by_both_engines(tmp_path: Path) -> None:
    """One rule for text with an unpaired UTF-16 surrogate: the surrogate is left out (pyevtx-rs
    does so; the python engine follows), in EventData and in System values alike."""
    make = SCENARIOS["ad-permissions"][0]
    events = make()[:30]
    events[3] = replace(events[3], data=["a\ud800b", "\udc00tail\ud83d"], fields={})
    events[4] = replace(events[4], fields={"Message": "x\udfffy", "Other": "\ud800"})
    events[5] = replace(events[5], computer="HOST\ud800")
    path = tmp_path / "surrogates.evtx"
    path.write_bytes(evtx_bytes(events))
    read, report = _agree(path)
    assert report.status == "ok"
    assert read[3].data == ["ab", "tail"]
    assert read[4].fields == {"Message": "xy", "Other": ""}
    assert read[5].computer == "HOST"


def test_a_record_without_event_record_id_is_an_event(tmp_path: Path) -> None:
    """A forwarded-events bookmark (EventID 111) carries no EventRecordID: an event with a null
    record id in both engines, not an unreadable record; the file reads clean."""
    make = SCENARIOS["healthy"][0]
    events = make()[:20]
    bookmark = replace(
        events[0], provider="Microsoft-Windows-Forwarding", event_id=111, event_record_id=None, data=["bookmark"]
    )
    path = tmp_path / "forwarded.evtx"
    path.write_bytes(evtx_bytes([*events, bookmark]))
    read, report = _agree(path)
    assert report.status == "ok" and report.unreadable == 0 and report.events == 21
    assert read[-1].event_record_id is None and read[-1].event_id == 111


def test_issue_10_a_half_written_last_record_is_damage_not_an_event(tmp_path: Path) -> None:
    """A log copied while its last record was being written: the record's values are zeros
    (EventID 0 at 1601-01-01). It is unreadable in both engines, in every way of reading, and
    the server's coverage window does not start in 1601."""
    import json

    from typer.testing import CliRunner

    from analyzer.cli import app

    data = bytearray(_healthy())
    chunks = scan_bytes(data)
    last_chunk = chunks[-1]
    offset = struct.unpack_from("<I", data, last_chunk + 0x2C)[0]  # the chunk's last record
    record = last_chunk + offset
    size = struct.unpack_from("<I", data, record + 4)[0]
    table = next(s for s in sites(bytes(data)) if s.kind == "values.count" and record < s.offset < record + size)
    count = struct.unpack_from("<I", data, table.offset)[0]
    values = table.offset + 4 + 4 * count
    data[values : record + size] = bytes(record + size - values)  # written up to its value table
    fix_checksums(data)
    path = tmp_path / "dirty.evtx"
    path.write_bytes(data)
    events, report = _agree(path)
    assert report.unreadable == 1 and report.problems == ["1 record(s): a half-written record (TimeCreated is zero)"]
    assert min(e.time_created for e in events) > datetime(2000, 1, 1, tzinfo=UTC)
    for engine in ("rust", "python"):
        result = CliRunner().invoke(app, ["report", str(path), "-f", "json", "--engine", engine])
        assert result.exit_code == 4
        doc = json.loads(result.stdout)
        assert doc["inputs"][0]["unreadable"] == 1
        assert all(not server["first_event"].startswith("1601") for server in doc["servers"])


def scan_bytes(data: bytes | bytearray) -> list[int]:
    """Offsets of the chunks of a file held in memory."""
    return [o for o in range(0x1000, len(data), 0x10000) if data[o : o + 8] == b"ElfChnk\0"]


def test_accounting_is_the_same_in_files_report_triage_and_any_jobs(tmp_path: Path) -> None:
    """Damaged logs (a stale chunk range, a half-written record, records cut off by a broken
    record header): records read and unreadable per input are the same whichever command reads
    them, with either engine and any number of workers (a big log is read in pieces with 2)."""
    import json

    from typer.testing import CliRunner

    from analyzer.cli import app

    data = bytearray(_healthy())
    last = struct.unpack_from("<Q", data, 0x1000 + 32)[0]
    struct.pack_into("<Q", data, 0x1000 + 32, last - 20)  # chunk 0: stale range
    record = 0x1000 + 0x10000 + 0x200 + 3 * 0x100  # chunk 1: a smashed record header
    data[record : record + 0x40] = b"\xff" * 0x40
    fix_checksums(data)
    (tmp_path / "stale.evtx").write_bytes(data)
    (tmp_path / "clean.evtx").write_bytes((SAMPLES / "connectivity-outage.evtx").read_bytes())
    seen = set()
    runner = CliRunner()
    for engine in ("rust", "python"):
        files = json.loads(runner.invoke(app, ["files", str(tmp_path), "-f", "json", "--engine", engine]).stdout)
        seen.add(tuple((Path(f["path"]).name, f["records"], f["unreadable"]) for f in files))
        for command in ("report", "triage"):
            for jobs in ("1", "2"):
                args = [command, str(tmp_path), "-f", "json", "--engine", engine, "-j", jobs]
                doc = json.loads(runner.invoke(app, [*args, *(["-q"] if command == "triage" else [])]).stdout)
                seen.add(tuple((Path(i["path"]).name, i["records"], i["unreadable"]) for i in doc["inputs"]))
    assert len(seen) == 1, seen
    (_, *clean), (_, records, unreadable) = sorted(seen.pop())
    assert unreadable > 0 and records > 0 and clean[1] == 0


@pytest.mark.corpus
def test_real_dirty_and_damaged_logs_triage_the_same_in_both_engines() -> None:
    """The shared corpus's dirty and corrupt logs (stale headers, bad chunk magic, truncated,
    no CRCs...): `wba triage` gives byte-identical JSON whichever engine reads them."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    outputs = {
        engine: runner.invoke(app, ["triage", str(CORPUS), "-f", "json", "-q", "--engine", engine, "-j", "2"])
        for engine in ("rust", "python")
    }
    assert outputs["rust"].exit_code == outputs["python"].exit_code == 4
    assert outputs["rust"].stdout == outputs["python"].stdout
