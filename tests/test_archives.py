"""Archives customers send (issue 10 item 1): every format read, nested to any depth, passwords;
anything not read is named on stderr with why. Caps hold for the whole run (issue 12 item 3):
each attack of "Archive caps leak" reproduced small, with low caps."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest

from analyzer.testkit.archive_writer import cab, rar
from analyzer.testkit.export_writer import evtx_bytes, renamed
from analyzer.testkit.scenarios import SCENARIOS
from tests.conftest import ROOT
from tests.helpers import run_cli

HEALTHY = SCENARIOS["healthy"][0]()


def _log(computer: str) -> bytes:
    return evtx_bytes(renamed(HEALTHY, computer))


def _servers(out: str) -> list[str]:
    return sorted(s["computer"] for s in json.loads(out)["servers"])


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _7z(path: Path, members: list[tuple[str, bytes]], password: str | None = None, headers: bool = False) -> Path:
    with py7zr.SevenZipFile(path, "w", password=password, header_encryption=headers) as archive:
        for name, data in members:
            archive.writestr(data, name)
    return path


def _build(fmt: str, members: list[tuple[str, bytes]], folder: Path) -> Path:
    """An archive of `fmt` holding `members` (single-stream formats hold the first one)."""
    path = folder / f"bundle.{fmt}"
    single = members[0][1]
    writers = {
        "zip": lambda: _zip(members),
        "tar": lambda: _tar(members),
        "tgz": lambda: _tar(members, "w:gz"),
        "tar.bz2": lambda: _tar(members, "w:bz2"),
        "tar.xz": lambda: _tar(members, "w:xz"),
        "evtx.gz": lambda: gzip.compress(single),
        "evtx.bz2": lambda: bz2.compress(single),
        "evtx.xz": lambda: lzma.compress(single),
        "rar": lambda: rar(members),
        "cab": lambda: cab(members),
        "stored.cab": lambda: cab(members, compress=False),
    }
    if fmt == "7z":
        return _7z(path, members)
    path.write_bytes(writers[fmt]())
    return path


FORMATS = ["zip", "tar", "tgz", "tar.bz2", "tar.xz", "evtx.gz", "evtx.bz2", "evtx.xz", "7z", "rar", "cab", "stored.cab"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_read(tmp_path: Path, fmt: str) -> None:
    members = [("SRV1/Application.evtx", _log("SRV1.contoso.com")), ("SRV2/Application.evtx", _log("SRV2.contoso.com"))]
    path = _build(fmt, members, tmp_path)
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert (code, err) == (0, "")
    single = fmt.startswith("evtx.")
    assert _servers(out) == (["SRV1.contoso.com"] if single else ["SRV1.contoso.com", "SRV2.contoso.com"])
    shown = [i["path"] for i in json.loads(out)["inputs"]]
    assert shown == (
        [f"{path}!bundle.evtx"] if single else [f"{path}!SRV1/Application.evtx", f"{path}!SRV2/Application.evtx"]
    )


def test_issue_10_directory_of_bundles_reads_every_server(tmp_path: Path) -> None:
    """The report of issue 10: a healthy log beside .7z, .rar, .cab and .evtx.gz bundles."""
    failing = SCENARIOS["ad-permissions"][0]()
    (tmp_path / "healthy.evtx").write_bytes(evtx_bytes(HEALTHY))
    _7z(tmp_path / "a.7z", [("a/Application.evtx", evtx_bytes(renamed(failing, "SEVEN")))])
    (tmp_path / "b.rar").write_bytes(rar([("Application.evtx", evtx_bytes(renamed(failing, "RAR")))]))
    (tmp_path / "c.cab").write_bytes(cab([("Application.evtx", evtx_bytes(renamed(failing, "CAB")))]))
    (tmp_path / "d.evtx.gz").write_bytes(gzip.compress(evtx_bytes(renamed(failing, "GZ"))))
    code, out, err = run_cli("triage", str(tmp_path), "-f", "json", "-q")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    statuses = {s["computer"]: s["status"] for s in doc["servers"]}
    assert statuses == {
        "AADC01.contoso.com": "healthy",
        "SEVEN": "failing",
        "RAR": "failing",
        "CAB": "failing",
        "GZ": "failing",
    }


def test_issue_10_zip_with_an_inner_7z_and_a_gz(tmp_path: Path) -> None:
    inner = tmp_path / "inner.7z"
    _7z(inner, [("Application.evtx", _log("INNER7Z"))])
    path = tmp_path / "upload.zip"
    path.write_bytes(_zip([("logs/inner.7z", inner.read_bytes()), ("Application.evtx.gz", gzip.compress(_log("GZ")))]))
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert (code, err) == (0, "")
    assert _servers(out) == ["GZ", "INNER7Z"]
    assert sorted(i["path"] for i in json.loads(out)["inputs"]) == [
        f"{path}!Application.evtx.gz!Application.evtx",
        f"{path}!logs/inner.7z!Application.evtx",
    ]


def test_nested_several_levels_deep(tmp_path: Path) -> None:
    level3 = tmp_path / "l3.7z"
    _7z(level3, [("Application.evtx", _log("DEEP"))])
    level2 = _zip([("l3.7z", level3.read_bytes())])
    path = tmp_path / "l1.tgz"
    path.write_bytes(_tar([("l2.zip", level2)], "w:gz"))
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert (code, err, _servers(out)) == (0, "", ["DEEP"])
    nested = tmp_path / "n0.zip"
    data = _log("TOO-DEEP")
    for _ in range(10):
        data = _zip([("inner.zip", data)])
    nested.write_bytes(data)
    code, _, err = run_cli("files", str(nested))
    assert code == 4 and "archive nested more than 8 levels deep: not read" in err


def test_members_that_are_not_logs_are_named_and_skipped(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
    path = tmp_path / "upload.zip"
    path.write_bytes(
        _zip(
            [
                ("Application.evtx", _log("SRV")),
                ("README.txt", b"Logs from the customer, collected on Monday.\r\n"),
                ("screenshot.png", png),
                ("LocaleMetaData/Application_1033.MTA", b"\0\x01\x02MTA" * 50),
                ("config/sync-rules.xml", b'<?xml version="1.0"?><rules><rule name="In from AD"/></rules>'),
                ("config/settings.json", b'{"connector": "contoso.com", "writeback": true}'),
                ("notes.docx", _zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")])),
                ("mail.msg", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
            ]
        )
    )
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert code == 4 and _servers(out) == ["SRV"]  # issue 10: any member not read makes the run exit 4
    skipped = [i for i in json.loads(out)["inputs"] if i["kind"] == "skipped"]  # and the report names them
    assert len(skipped) == 7 and all(i["error"].endswith("not a log") and i["records"] == 0 for i in skipped)
    assert sorted(err.splitlines()) == [
        f"skipped: {path}!LocaleMetaData/Application_1033.MTA: not a log",
        f"skipped: {path}!README.txt: not a log",
        f"skipped: {path}!config/settings.json: not a log",
        f"skipped: {path}!config/sync-rules.xml: not a log",
        f"skipped: {path}!mail.msg: a document, not a log",
        f"skipped: {path}!notes.docx: a document, not a log",
        f"skipped: {path}!screenshot.png: not a log",
    ]


def test_a_folders_files_that_are_not_logs_are_named_and_skipped(tmp_path: Path) -> None:
    """A case folder as customers send it: the files that are no log get a line each, as an
    archive's members do, and the run exits 4 (the report was made without them); a folder without
    logs is an error."""
    folder = tmp_path / "case"
    (folder / "srv1").mkdir(parents=True)
    (folder / "srv1" / "Application.evtx").write_bytes(_log("SRV"))
    (folder / "notes.txt").write_bytes(b"Customer says writeback fails since Monday.\r\n")
    (folder / "srv1" / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    code, out, err = run_cli("report", str(folder), "-f", "json")
    assert code == 4 and _servers(out) == ["SRV"]
    assert sorted(err.splitlines()) == [
        f"skipped: {folder / 'notes.txt'}: not a log",
        f"skipped: {folder / 'srv1' / 'screenshot.png'}: not a log",
    ]
    (folder / "srv1" / "Application.evtx").unlink()
    code, _, err = run_cli("report", str(folder))
    assert code == 4 and err.splitlines()[-1] == f"error: {folder}: no logs, exports or archives in this directory"


def test_what_a_mac_and_wba_leave_beside_the_logs_is_skipped_in_a_line(tmp_path: Path) -> None:
    """A Mac's zip has `__MACOSX/._<name>` resource forks (one line for them all), a copy to a USB
    disk leaves `._<name>` beside each file, a case folder may hold a `.git` folder and wba's own
    JSON report of an earlier run: none is a log, none is an `error:` (one `skipped:` line each, and
    one for a whole `__MACOSX/` or hidden folder; exit 4, as for any file not read)."""
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 200
    bundle = tmp_path / "case" / "mac.zip"
    bundle.parent.mkdir()
    bundle.write_bytes(
        _zip(
            [
                ("logs/Application.evtx", _log("MAC")),
                ("__MACOSX/logs/._Application.evtx", fork),
                ("__MACOSX/logs/._notes.txt", fork),
            ]
        )
    )
    folder = bundle.parent
    (folder / "._mac.zip").write_bytes(fork)
    (folder / ".git" / "objects").mkdir(parents=True)
    (folder / ".git" / "objects" / "f1").write_bytes(b"x\x01" + b"\0" * 40)
    code, out, err = run_cli("report", str(folder), "-f", "json")
    assert code == 4, err
    (folder / "report.json").write_text(out, encoding="utf-8")
    code, again, err = run_cli("report", str(folder), "-f", "json")
    assert code == 4 and _servers(again) == _servers(out) == ["MAC"]
    assert sorted(err.splitlines()) == sorted(
        [
            f"skipped: {folder / '.git'}: a hidden folder, not read",
            f"skipped: {folder / '._mac.zip'}: a macOS resource fork (AppleDouble), not a log",
            f"skipped: {bundle}!__MACOSX/: macOS resource forks, not logs",
            f"skipped: {folder / 'report.json'}: a wba report, not a log",
        ]
    )


def test_an_archive_without_logs_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    path.write_bytes(_zip([("README.txt", b"nothing here")]))
    code, _, err = run_cli("report", str(path))
    assert code == 4
    assert err.splitlines() == [
        f"skipped: {path}!README.txt: not a log",
        f"error: {path}: no logs or exports in this archive",
    ]


def test_unsupported_and_unrecognised_members_are_refused(tmp_path: Path) -> None:
    legacy = b"\x30\0\0\0LfLe" + b"\0" * 100
    path = tmp_path / "upload.zip"
    path.write_bytes(
        _zip(
            [
                ("Application.evtx", _log("SRV")),
                ("old/AppEvent.evt", legacy),
                ("Application.evtx.zst", b"\x28\xb5\x2f\xfd" + b"\0" * 50),
                ("pasted.txt", b"Some lines about PasswordResetService 31001 in no known layout\n"),
                ("events.json", b'{"Source": "PasswordResetService", "Text": "not in PowerShell\'s layout"}'),
            ]
        )
    )
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert code == 4 and _servers(out) == ["SRV"]
    assert sorted(err.splitlines()) == [
        f"error: {path}!Application.evtx.zst: zstd-compressed: not supported; decompress it first",
        f"error: {path}!events.json: .json file in no log or export format wba knows",
        f"error: {path}!old/AppEvent.evt: a legacy .evt log (Windows 2003 and older): not supported; "
        "export it as .evtx or XML",
        f"error: {path}!pasted.txt: .txt file in no log or export format wba knows",
    ]


def test_a_directory_reads_by_content_and_names_its_notes(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# what the customer said\n")
    (tmp_path / "Application").write_bytes(_log("NONAME"))  # A file without a type is judged by its content.
    (tmp_path / "bundle.bin").write_bytes(_zip([("x/Application.evtx", _log("ZIPPED"))]))
    (tmp_path / "System.evtx.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 50)
    code, out, err = run_cli("report", str(tmp_path), "-f", "json")
    assert _servers(out) == ["NONAME", "ZIPPED"]
    assert (code, err.splitlines()) == (
        4,
        [
            f"skipped: {tmp_path / 'notes.md'}: not a log",
            f"error: {tmp_path / 'System.evtx.zst'}: zstd-compressed: not supported; decompress it first",
        ],
    )


def test_standard_input_may_be_an_archive(tmp_path: Path) -> None:
    code, out, err = run_cli("report", "-", "-f", "json", stdin=_tar([("srv/App.evtx", _log("PIPED"))], "w:gz"))
    assert (code, err, _servers(out)) == (0, "", ["PIPED"])
    assert [i["path"] for i in json.loads(out)["inputs"]] == ["(stdin)!srv/App.evtx"]


# ----- passwords ----------------------------------------------------------------------------------------


def _aes_zip(path: Path, members: list[tuple[str, bytes]], password: str) -> Path:
    import pyzipper

    with pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password.encode())
        for name, data in members:
            archive.writestr(name, data)
    return path


def _zipcrypto_zip(path: Path, members: list[tuple[str, bytes]], password: str) -> Path:
    import libarchive

    with libarchive.file_writer(str(path), "zip", options="encryption=zipcrypt", passphrase=password) as archive:
        for name, data in members:
            archive.add_file_from_memory(name, len(data), data)
    return path


@pytest.mark.parametrize("kind", ["aes-zip", "zipcrypto-zip", "7z", "7z-headers"])
def test_archive_password(tmp_path: Path, kind: str) -> None:
    members = [("srv/Application.evtx", _log("LOCKED"))]
    path = tmp_path / ("upload.7z" if kind.startswith("7z") else "upload.zip")
    if kind == "aes-zip":
        _aes_zip(path, members, "s3cret")
    elif kind == "zipcrypto-zip":
        _zipcrypto_zip(path, members, "s3cret")
    else:
        _7z(path, members, "s3cret", headers=kind == "7z-headers")
    shown = f"{path}!srv/Application.evtx" if kind.endswith("zip") else str(path)
    code, _, err = run_cli("files", str(path))
    assert (code, err.splitlines()) == (
        4,
        [f"error: {shown}: encrypted archive member: not read (give the password with --archive-password)"],
    )
    code, _, err = run_cli("files", str(path), "--archive-password", "wrong")
    assert code == 4 and len(err.splitlines()) == 1 and "wrong --archive-password" in err
    code, out, err = run_cli("report", str(path), "-f", "json", "--archive-password", "s3cret")
    assert (code, err, _servers(out)) == (0, "", ["LOCKED"])
    code, out, err = run_cli("report", str(path), "-f", "json", env={"WBA_ARCHIVE_PASSWORD": "s3cret"})
    assert (code, err, _servers(out)) == (0, "", ["LOCKED"])
    assert "s3cret" not in out  # The reproducible command leaves the password out.


def test_encrypted_rar_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "upload.rar"
    path.write_bytes(rar([("Application.evtx", _log("RAR"))], encrypted=True))
    code, _, err = run_cli("files", str(path), "--archive-password", "anything")
    assert code == 4
    assert err.splitlines() == [
        f"error: {path}!Application.evtx: encrypted RAR member: wba cannot decrypt RAR (libarchive cannot); "
        "unpack it with the password and give wba the files"
    ]


def test_without_libarchive_rar_and_cab_get_a_clear_line(tmp_path: Path) -> None:
    (tmp_path / "a.rar").write_bytes(rar([("Application.evtx", _log("RAR"))]))
    (tmp_path / "b.evtx").write_bytes(_log("PLAIN"))
    env = {**os.environ, "LIBARCHIVE": str(tmp_path / "no-such-libarchive.so")}
    result = subprocess.run(
        [sys.executable, "-m", "analyzer", "report", str(tmp_path), "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 4
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'a.rar'}: rar archives need the libarchive library "
        "(Debian/Ubuntu: apt install libarchive13; see README): not read"
    ]
    assert _servers(result.stdout) == ["PLAIN"]


# ----- caps (issue 12: "Archive caps leak") -----------------------------------------------------------------


def test_tgz_with_a_huge_member(tmp_path: Path) -> None:
    """Issue 12: a 2 MB .tgz with a 2 GiB member (here 32 MiB of zeros: ratio ~1000)."""
    path = tmp_path / "bomb.tgz"
    path.write_bytes(_tar([("ok.evtx", _log("OK")), ("big.evtx", bytes(32 << 20))], "w:gz"))
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert code == 4 and _servers(out) == ["OK"]
    assert err.splitlines() == [
        f"error: {path}!big.evtx: unpacks to more than 200 times the packed bytes read (zip bomb?): "
        "not read, nor the rest of this archive"
    ]
    code, _, err = run_cli("report", str(path), "--max-ratio", "100000", "--max-archive-mb", "5")
    assert code == 4
    assert err.splitlines() == [
        f"error: {path}: unpacking goes beyond --max-archive-mb 5: the rest of this archive was not read"
    ]


def test_sparse_tar_member_counts_by_its_real_size(tmp_path: Path) -> None:
    """Issue 12: a 10 KB GNU sparse tar that becomes GiBs on disk (here 256 MiB)."""
    if shutil.which("tar") is None:
        raise RuntimeError("GNU tar is needed to build a sparse tar (Debian: apt install tar)")
    source = tmp_path / "src"
    source.mkdir()
    with (source / "sparse.evtx").open("wb") as fh:
        fh.write(b"ElfFile\0")
        fh.truncate(256 << 20)
    path = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", "-cf", str(path), "-C", str(source), "sparse.evtx"], check=True)
    assert path.stat().st_size < 64 << 10
    code, _, err = run_cli("report", str(path))
    assert (code, err.splitlines()) == (
        4,
        [
            f"error: {path}!sparse.evtx: expands more than 200 times its packed size (zip bomb?): not read",
        ],
    )
    code, _, err = run_cli("report", str(path), "--max-ratio", "1000000000", "--max-archive-mb", "16")
    assert (code, err.splitlines()) == (
        4,
        [f"error: {path}: unpacking goes beyond --max-archive-mb 16: the rest of this archive was not read"],
    )


def test_many_small_members_each_checked(tmp_path: Path) -> None:
    """Issue 12: 2,000 x 1 MiB members slipped past a ratio check for members over 1 MiB."""
    path = tmp_path / "small.zip"
    path.write_bytes(_zip([(f"{i:02d}.evtx", bytes(256 << 10)) for i in range(40)]))
    code, _, err = run_cli("files", str(path))
    lines = err.splitlines()
    assert code == 4 and 1 < len(lines) < 40
    assert lines[:-1] == [
        f"error: {path}!{i:02d}.evtx: expands more than 200 times its packed size (zip bomb?): not read"
        for i in range(len(lines) - 1)
    ]
    assert lines[-1] == (
        f"error: {path}!{len(lines) - 1:02d}.evtx: unpacks to more than 200 times the packed bytes read (zip bomb?): "
        "not read, nor the rest of this archive"
    )


def test_overlapping_zip_entries_are_refused(tmp_path: Path) -> None:
    """Issue 12: 3,000 directory entries pointing at one local entry (here 300)."""
    data = _zip([("a.evtx", bytes(1 << 20))])
    central = data.index(b"PK\x01\x02")
    end = data.index(b"PK\x05\x06")
    entry = data[central:end]
    name_length = struct.unpack_from("<H", entry, 28)[0]
    copies = [
        entry[:46] + f"{i:05d}".encode()[:name_length].ljust(name_length, b"x") + entry[46 + name_length :]
        for i in range(300)
    ]
    directory = b"".join(copies)
    tail = bytearray(data[end:])
    struct.pack_into("<HHII", tail, 8, 300, 300, len(directory), central)
    path = tmp_path / "overlap.zip"
    path.write_bytes(data[:central] + directory + bytes(tail))
    assert len(zipfile.ZipFile(path).infolist()) == 300
    code, _, err = run_cli("files", str(path))
    assert (code, err.splitlines()) == (4, [f"error: {path}: entries overlap one another (zip bomb?)"])


def test_nested_archives_share_the_runs_budget(tmp_path: Path) -> None:
    """Issue 12: nested archives each got a fresh budget. Stored (incompressible) members: only
    the byte cap can stop them."""
    log = _log("SRV")
    inner = _zip([(f"srv{i}/Application.evtx", log) for i in range(4)], zipfile.ZIP_STORED)
    path = tmp_path / "outer.zip"
    path.write_bytes(_zip([("a.zip", inner), ("b.zip", inner), ("c.zip", inner)], zipfile.ZIP_STORED))
    megabytes = (len(inner) * 3 + len(log) * 4) >> 20  # This is room for a.zip, its members and b.zip, but not for all.
    code, _, err = run_cli("report", str(path), "--max-archive-mb", str(megabytes))
    assert code == 4
    assert f"unpacking goes beyond --max-archive-mb {megabytes}" in err
    members = tmp_path / "members.zip"
    small = _zip([(f"{i}.evtx", log) for i in range(10)])
    members.write_bytes(_zip([("a.zip", small), ("b.zip", small), ("c.zip", small)]))
    code, _, err = run_cli("report", str(members), "--max-archive-members", "20")
    assert code == 4 and "more than --max-archive-members 20 members in this run" in err


def test_7z_that_declares_a_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = _7z(tmp_path / "bomb.7z", [("big.evtx", bytes(32 << 20))])
    code, _, err = run_cli("files", str(path))
    assert (code, err.splitlines()) == (
        4,
        [
            f"error: {path}: the archive says it expands more than 200 times its size (zip bomb?): "
            "the rest of this archive was not read"
        ],
    )


def test_a_member_that_is_no_log_still_counts_against_its_archives_ratio(tmp_path: Path) -> None:
    """A bomb named like a video is not kept, but unpacking it through is stopped all the same."""
    path = tmp_path / "video.tgz"
    path.write_bytes(_tar([("ok.evtx", _log("OK")), ("movie.mp4", bytes(32 << 20))], "w:gz"))
    code, out, err = run_cli("report", str(path), "-f", "json")
    assert code == 4 and _servers(out) == ["OK"]
    assert err.splitlines() == [
        f"error: {path}!movie.mp4: unpacks to more than 200 times the packed bytes read (zip bomb?): "
        "not read, nor the rest of this archive"
    ]
