"""Where output goes (`-o` checked before reading, devices written through, links refused, file
modes), formats named forgivingly, help with examples, and the README's usage lines."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import click
import pytest
import typer

from analyzer.cli import app
from tests.conftest import ROOT, SAMPLES
from tests.helpers import run_cli, run_main

HEALTHY = str(SAMPLES / "healthy.evtx")
COMMANDS = ["report", "triage", "timeline", "diff", "explain", "codes", "events", "files"]


def test_missing_directory_fails_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "report.html"
    # a log that does not exist yet would be a usage error; a real one shows nothing was read
    code, out, err = run_main(["report", HEALTHY, "-o", str(target)], capsys)
    assert code == 1 and out == ""
    assert err == f"error: {target}: directory {target.parent} does not exist\n"


def test_directory_target_and_symlink_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["files", HEALTHY, "-o", str(tmp_path)], capsys)
    assert (code, err) == (1, f"error: {tmp_path}: is a directory: give a file name\n")
    real = tmp_path / "real.txt"
    real.write_text("keep me", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    code, _, err = run_main(["files", HEALTHY, "-o", str(link)], capsys)
    assert code == 1 and err == f"error: {link}: is a symbolic link: not replaced (give the path it points to)\n"
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "keep me"


def test_a_device_is_written_through_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    code, out, err = run_main(["files", HEALTHY, "-f", "csv", "-o", str(fifo)], capsys)
    received = reader.communicate(timeout=60)[0].decode()
    assert (code, out, err) == (0, "", "")
    assert "healthy.evtx,ok" in received and stat.S_ISFIFO(fifo.lstat().st_mode)
    # a null device of our own (root may make one; CI runs as root), else the machine's
    null = tmp_path / "null"
    if os.geteuid() == 0:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        null = Path(os.devnull)
    assert stat.S_ISCHR(null.lstat().st_mode)
    code, _, _ = run_main(["files", HEALTHY, "-o", str(null)], capsys)
    assert code == 0 and stat.S_ISCHR(null.lstat().st_mode)
    assert not list(null.parent.glob(".null.*.part"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", [["report"], ["events", "-f", "jsonl"], ["timeline"]])
def test_a_full_disk_is_one_line_naming_the_output(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A write that fails is the output's error, not an internal one (found by a review)."""
    code, _, err = run_main([*command, HEALTHY, "-q", "-o", "/dev/full"], capsys)
    assert (code, err) == (1, "error: /dev/full: cannot write the output: No space left on device\n")


def test_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["files", HEALTHY, "-f", "csv", "-o", "-"], capsys)
    assert code == 0 and out.startswith("path,status,")


def test_new_report_files_are_private_and_existing_ones_keep_their_mode(tmp_path: Path) -> None:
    new = tmp_path / "new.md"
    assert run_cli("report", HEALTHY, "-o", str(new))[0] == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    shared = tmp_path / "shared.md"
    shared.write_text("old", encoding="utf-8")
    shared.chmod(0o644)
    assert run_cli("report", HEALTHY, "-o", str(shared))[0] == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644 and shared.read_text(encoding="utf-8").startswith("# ")


def test_unwritable_directory_fails_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    # root may write in any directory whatever its mode, but not in an immutable one
    lock = ["chattr", "+i", str(locked)] if os.geteuid() == 0 else ["chmod", "555", str(locked)]
    subprocess.run(lock, check=True)
    try:
        code, out, err = run_main(["report", HEALTHY, "-o", str(locked / "r.html")], capsys)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert (code, out) == (1, "")
    assert err == f"error: {locked / 'r.html'}: directory {locked} is not writable\n"


def test_suffix_of_the_output_picks_the_format(tmp_path: Path) -> None:
    for name, start in (("r.html", "<!DOCTYPE html>"), ("r.json", "{"), ("r.md", "# Password writeback report")):
        assert run_cli("report", HEALTHY, "-o", str(tmp_path / name))[0] == 0
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start), name
    assert run_cli("files", HEALTHY, "-o", str(tmp_path / "f.csv"))[0] == 0
    assert (tmp_path / "f.csv").read_text(encoding="utf-8").startswith("path,status,")
    # -f wins over the suffix; an unknown suffix gives the default
    assert run_cli("report", HEALTHY, "-f", "json", "-o", str(tmp_path / "x.html"))[0] == 0
    assert (tmp_path / "x.html").read_text(encoding="utf-8").startswith("{")
    assert run_cli("report", HEALTHY, "-o", str(tmp_path / "r.txt"))[0] == 0
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("server ")


def test_format_names_in_any_case_and_md() -> None:
    code, out, _ = run_cli("report", HEALTHY, "-f", "MD")
    assert code == 0 and out.startswith("# Password writeback report")
    code, out, _ = run_cli("report", HEALTHY, "-f", "Json", "--lang", "ZH-cn", "--engine", "PYTHON")
    assert code == 0 and '"command": "wba report ' in out and "--format json --lang zh-CN" in out
    code, _, err = run_cli("report", HEALTHY, "-f", "pdf")
    assert code == 2 and "'pdf' is not one of 'table', 'markdown', 'json', 'html'" in err
    code, _, err = run_cli("report", HEALTHY, "--lang", "fr")
    assert code == 2 and "'fr' is not one of 'en', 'zh-CN'" in err


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.json"
    for command in ("report", "triage", "timeline", "events", "files"):
        code, out, err = run_main([command, str(tmp_path / "nope.evtx"), "-o", str(target)], capsys)
        assert code == 2 and out == "" and "does not exist" in err, command
    code, _, err = run_main(["diff", str(tmp_path / "nope.json"), HEALTHY], capsys)
    assert code == 2 and "does not exist" in err
    assert not target.exists()


def test_h_is_help_and_every_command_help_ends_with_an_example() -> None:
    code, out, _ = run_cli("-h")
    assert code == 0 and out.startswith("Usage: wba [OPTIONS] COMMAND")
    for command in COMMANDS:
        code, out, _ = run_cli(command, "-h")
        assert code == 0 and "\\[" not in out, command
        description = out.split("\nArguments:")[0].split("\nOptions:")[0].rstrip()
        last = description.splitlines()[-1].strip()
        assert last.startswith(f"wba {command} "), (command, last)


def _usage(command: str) -> str:
    out = run_cli(command, "--help")[1]
    block = out.split("\n\n", 1)[0].removeprefix("Usage: ")
    return " ".join(block.split())


def test_readme_usage_lines_match_help() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Usage\n\n```sh\n(.*?)```", readme, re.S)
    assert block, "README.md has no usage block"
    lines, current = [], ""
    for line in block.group(1).splitlines():
        text = line.split("  #", 1)[0].strip()
        if text.startswith("wba ") or text.startswith("python "):
            if current:
                lines.append(current)
            current = text
        elif text:
            current += " " + text
    lines.append(current)
    documented = {line.split()[1]: " ".join(line.split()) for line in lines if line.startswith("wba ")}
    assert set(documented) == set(COMMANDS)
    for command in COMMANDS:
        assert documented[command] == _usage(command), command


def test_usage_names_only_real_options() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    for command in COMMANDS:
        sub = group.commands[command]
        names = {name for param in sub.params for name in getattr(param, "opts", [])}
        for option in re.findall(r"\[(-[-\w]+)", sub.options_metavar or ""):
            assert option in names, (command, option)
