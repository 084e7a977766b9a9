"""Nothing English left in a zh-CN report: the sentences the analysis writes (evidence of findings,
notes on a server or an input) are rendered in Chinese in every text format, from logs the project's
writer builds and `wba` reads; the JSON and the English output keep the English sentence."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from analyzer import sentences
from analyzer.reports.i18n import SENTENCES_ZH, evidence, noted, said
from analyzer.testkit.export_writer import csv_export, evtx_bytes, xml_export
from analyzer.testkit.scenarios import INFO, SCENARIOS, Server, _clock
from tests.helpers import event, failure, prs, run_cli, start, success

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from analyzer.events import Event

FORMATS = ("table", "markdown", "html")
ADMIN = "Entra Connect Admin Actions"


def _flat(text: str) -> str:
    """Text without white space (the table format wraps long lines, Chinese anywhere) or Markdown's
    escapes (of the `_` in a path)."""
    return "".join(text.replace("\\", "").split())


def _report(paths: list[Path], fmt: str, lang: str = "zh-CN") -> str:
    code, out, err = run_cli("report", *map(str, paths), "-f", fmt, "--lang", lang, "-q")
    assert code == 0, err
    return out


def _log(tmp_path: Path, name: str, events: list[Event]) -> list[Path]:
    path = tmp_path / f"{name}.evtx"
    path.write_bytes(evtx_bytes(events))
    return [path]


# ----- each situation, built as a log -------------------------------------------------------------------


def _minimum_age(tmp_path: Path) -> list[Path]:
    events = [start("c1", "u@c.com", 0, "ChangePasswordRequestStart", 31006), success("c1", "u@c.com", 1, eid=31007)]
    events += [start("c2", "u@c.com", 25 * 60), failure("c2", "u@c.com", 25 * 60 + 31, hr="80230619", eid=33008)]
    events += [start("c3", "v@c.com", 0, "ChangePasswordRequestStart", 31006), success("c3", "v@c.com", 1, eid=31007)]
    events += [start("c4", "v@c.com", 40), failure("c4", "v@c.com", 42, hr="80230619", eid=33008)]
    events += [start("c5", "w@c.com", 0, "ChangePasswordRequestStart", 31006), success("c5", "w@c.com", 1, eid=31007)]
    events += [start("c6", "w@c.com", 5 * 3600), failure("c6", "w@c.com", 5 * 3600 + 1, hr="80230619", eid=33008)]
    return _log(tmp_path, "minimum-age", sorted(events, key=lambda e: e.time_created))


def _others_succeed(tmp_path: Path) -> list[Path]:
    events = [
        x for i, u in enumerate(["a@c.com", "b@c.com"]) for x in (start(f"e{i}", u, i), failure(f"e{i}", u, i + 1))
    ]
    events += [start("s", "c@c.com", 100), success("s", "c@c.com", 101)]
    return _log(tmp_path, "others-succeed", events)


def _cluster(tmp_path: Path) -> list[Path]:
    text = "The server encountered an unexpected error while performing an operation for the client."
    events = [
        event("ADSync", 6306, text, 0, level="error"),
        event(
            "ADSync", 6800, "The password management extension encountered an error. Couldn't connect", 1, level="error"
        ),
        prs(32001, "TrackingId: 3f3, Couldn't connect to any service bus endpoint(s), Details:", 2, level="error"),
        prs(31044, "TrackingId: 3f3 , Password writeback service is not in a healthy state.", 3, level="error"),
    ]
    return _log(tmp_path, "cluster", events)


def _admin_action(tmp_path: Path) -> list[Path]:
    s = Server("AADC09.contoso.com", "contoso.com", seed=9, start=_clock(20), hours=12)
    s.heartbeats(s.start, s.end)
    changed = s.start + timedelta(hours=4)
    s.add(changed, ADMIN, 2517, INFO, ["Set Permissions: Password writeback"])
    s.day_of_operations(changed + timedelta(minutes=5), s.end - timedelta(hours=1), 6, lambda k, u: "denied")
    return _log(tmp_path, "admin-action", s.events())


def _sync_only(tmp_path: Path) -> list[Path]:
    return _log(tmp_path, "sync-only", [event("ADSync", 2001, "The Microsoft Azure AD Sync service started.", 0)])


def _offboarded(tmp_path: Path) -> list[Path]:
    events = [
        prs(31019, "TrackingId: h, ServiceBusHeartBeat, Details: ok", 0),
        prs(31012, "TrackingId: o, OffboardingEventStart, Details:", 10),
        prs(31013, "TrackingId: o, OffboardingEventSuccess, Details:", 11),
    ]
    return _log(tmp_path, "offboarded", events)


def _quiet(tmp_path: Path) -> list[Path]:
    events = [prs(31019, "TrackingId: h, ServiceBusHeartBeat, Details: ok", hour * 3600) for hour in range(0, 60, 6)]
    events.append(
        event("Directory Synchronization", 656, "Password Change Request - Anchor : abcdefgh12, Dn : CN=x", 7200)
    )
    return _log(tmp_path, "quiet", sorted(events, key=lambda e: e.time_created))


def _filtered(tmp_path: Path) -> list[Path]:
    path = tmp_path / "errors.xml"
    path.write_text(xml_export([e for e in SCENARIOS["ad-permissions"][0]() if e.level == 2]), encoding="utf-8")
    return [path]


def _same_key(tmp_path: Path) -> list[Path]:
    events = SCENARIOS["ad-permissions"][0]()[:300]
    (tmp_path / "a.evtx").write_bytes(evtx_bytes(events))
    (tmp_path / "b.evtx").write_bytes(
        evtx_bytes([replace(e, time_created=e.time_created + timedelta(days=400)) for e in events[:50]])
    )
    return [tmp_path / "a.evtx", tmp_path / "b.evtx"]


# Each situation: its log, the English sentence (JSON and --lang en), the Chinese one (zh-CN).
CASES: dict[str, tuple[Callable[[Path], list[Path]], list[str], list[str]]] = {
    "minimum-age": (
        _minimum_age,
        [
            "previous change of the same user 5.0 h earlier",
            "previous change of the same user 25 min earlier",
            "previous change of the same user 41 s earlier",
        ],
        [
            "同一用户上一次成功更改密码在 5.0 小时前",
            "同一用户上一次成功更改密码在 25 分钟前",
            "同一用户上一次成功更改密码在 41 秒前",
        ],
    ),
    "others-succeed": (
        _others_succeed,
        ["1 operations of other users succeeded while these failed"],
        ["在这些操作失败期间，其他用户有 1 个操作成功"],
    ),
    "cluster": (
        _cluster,
        ["the cluster KB 3185990 shows when writeback cannot be enabled: 6306, 6800, 31044, 32001 within 10 min"],
        ["无法启用写回时 KB 3185990 所示的一组事件：6306, 6800, 31044, 32001 在 10 分钟内出现"],
    ),
    "admin-action": (
        _admin_action,
        ["2517 Set Permissions at 2026-11-20T04:00:00Z, before it was first seen"],
        ["2517 Set Permissions 于 2026-11-20T04:00:00Z，早于首次发现该原因的时间"],
    ),
    "sync-only": (
        _sync_only,
        ["the sync engine's events but none of the writeback service"],
        ["有同步引擎的事件，但没有写回服务的事件"],
    ),
    "offboarded": (
        _offboarded,
        ["writeback disabled in the wizard (31012, 31013) and not enabled again"],
        ["已在向导中禁用写回 (31012, 31013)，之后未再启用"],
    ),
    "quiet": (
        _quiet,
        ["10 heartbeats and 1 on-premises password changes (656) in 2.2 days, but no reset, change or admin reset"],
        ["2.2 天内有 10 个检测信号和 1 次本地密码更改 (656)，但没有任何自助式密码重置、密码更改或管理员密码重置"],
    ),
    "filtered": (
        _filtered,
        ["the inputs hold failures but no starts, successes or heartbeats (an export filtered to errors?)"],
        ["输入中有失败事件，但没有开始、成功或检测信号事件（是否为只筛选了错误的导出？）"],
    ),
    "same-key": (
        _same_key,
        ["15 events have the computer, channel and EventRecordID of events in {a} but other content"],
        [
            "15 个事件的计算机、通道和 EventRecordID 与 {a} 中的事件相同，但内容不同（同名的重建服务器、已清除的日志或伪造）：两者均已保留"
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_sentence_is_chinese_in_every_text_format(tmp_path: Path, case: str) -> None:
    build, english, chinese = CASES[case]
    paths = build(tmp_path)
    english = [e.format(a=paths[0]) for e in english]
    chinese = [c.format(a=paths[0]) for c in chinese]
    # An input's note is in the inputs table of Markdown and HTML (the table format lists only problems).
    for fmt in FORMATS[1:] if case == "same-key" else FORMATS:
        out = _flat(_report(paths, fmt))
        for text in chinese:
            assert _flat(text) in out, (fmt, text)
        for text in english:
            assert _flat(text) not in out, (fmt, text)
    # English and JSON keep the English sentence, in either language.
    assert all(_flat(text) in _flat(_report(paths, "markdown", "en")) for text in english)
    doc = _report(paths, "json", "zh-CN")
    assert all(text in doc for text in english) and not any(text in doc for text in chinese)


def test_every_sentence_has_its_chinese_and_reads_back_what_it_said() -> None:
    """Each sentence of the analysis has a Chinese text with the same places, and reads its values
    back from the English it wrote (so the renderers cannot drift from the analysis)."""
    assert set(SENTENCES_ZH) == {s.key for s in sentences.SENTENCES}
    for sentence in sentences.SENTENCES:
        assert set(re.findall(r"\{(\w+)\}", SENTENCES_ZH[sentence.key])) == set(sentence.slots), sentence.key
    said_en = sentences.ADMIN_ACTION.say(
        event_id=2518, name="Change ADDS Connector credential", stamp="2026-11-20T07:58:02Z", order="after"
    )
    assert sentences.ADMIN_ACTION.read(said_en) == {
        "event_id": "2518",
        "name": "Change ADDS Connector credential",
        "stamp": "2026-11-20T07:58:02Z",
        "order": "after",
    }
    assert (
        said(said_en, "zh-CN")
        == "2518 Change ADDS Connector credential 于 2026-11-20T07:58:02Z，晚于首次发现该原因的时间"
    )
    assert said(said_en, "en") == said_en
    # A note that holds several notes: each sentence in it is rendered (one holding "; " too), the rest kept.
    own = sentences.SAME_KEY.say(count=5, where=sentences.THIS_INPUT.say())
    note = f"no channel in this export; {own}; {sentences.LOCAL_TIMES.say()}; something else"
    assert noted(note, "zh-CN") == (
        "此导出不含 通道；5 个事件的计算机、通道和 EventRecordID 与此输入中的其他事件相同，但内容不同"
        "（同名的重建服务器、已清除的日志或伪造）：两者均已保留；"
        "时间为导出计算机的本地时间（未知时区；可用 --input-tz 转换）；something else"
    )
    # Two notes of open-ended values side by side (a PowerShell CSV missing a column notes two): each
    # is one sentence, not one sentence swallowing the next (review finding).
    carried = [sentences.NOT_CARRIED.say(fields=["computer"]), sentences.NOT_CARRIED.say(fields=["event data names"])]
    assert noted("; ".join(carried), "zh-CN") == "此导出不含 计算机；此导出不含 事件数据名称"
    converted = sentences.CONVERTED.say(zone="Europe/Berlin")
    assert noted(f"{converted}; {own}", "zh-CN").startswith("时间已从 Europe/Berlin 转换为 UTC；5 个事件")
    # A quote from the log keeps its words; only its label is Chinese.
    assert evidence("“hr=80230626” (language-independent)", "zh-CN") == "“hr=80230626”（与语言无关）"


def test_explain_in_chinese_names_the_default_cause_severity_and_scope_in_chinese() -> None:
    paste = b"TrackingId: a, Reason: Synchronization Engine returned an error hr=80230626, message=x"
    code, out, err = run_cli("explain", "--code", "33004", "--lang", "zh-CN", "-f", "markdown", stdin=paste)
    assert code == 0, err
    assert "(`connector-permissions`, 高, 服务器)" in out and "high, server" not in out
    code, out, err = run_cli("explain", "--code", "33004", "-f", "markdown", stdin=paste)
    assert code == 0 and "(`connector-permissions`, high, server)" in out
    paste = b"TrackingId: b, Error Connecting to ServiceBus"
    for fmt in ("table", "markdown"):
        code, out, err = run_cli("explain", "--code", "32002", "--lang", "zh-CN", "-f", fmt, stdin=paste)
        assert code == 0, err
        assert "PasswordResetService 32002 的默认原因" in out and "the default cause" not in out
    code, out, err = run_cli("explain", "--code", "32002", "--lang", "zh-CN", "-f", "json", stdin=paste)
    assert json.loads(out)["events"][0]["evidence"] == "the default cause of PasswordResetService 32002"


# ----- no English sentence in a zh-CN report --------------------------------------------------------------

# Three or more lowercase ASCII words in a row, each standing alone (not part of an id, host, path,
# option or code: those are joined by `-`, `.`, `/`, `_`, `=` and the like).
_SENTENCE = re.compile(r"(?<![\w\-./\\@=:])[a-z]+(?: [a-z]+){2,}(?![\w\-./\\@=])")
# What a report quotes and keeps as written: code spans, log text in “…”, and the English names of
# Windows dialogs the catalogue's fixes give after their Chinese ones, `“重置密码”(Reset password)`.
_KEPT = re.compile(r"`[^`]*`|“[^”]*”|”\([^)]*\)|\((?:[A-Z][\w ]*)\)")


def english_left(markdown: str) -> list[str]:
    """Runs of English words in a zh-CN Markdown report, outside what it quotes."""
    return [found.group() for line in markdown.splitlines() for found in _SENTENCE.finditer(_KEPT.sub(" ", line))]


def test_the_scanner_finds_english_and_passes_what_is_quoted() -> None:
    assert english_left("证据: previous change of the same user 10.1 h earlier") == ["previous change of the same user"]
    assert (
        english_left("证据: “The remote certificate is invalid according to the validation procedure”（en 消息）") == []
    )
    assert (
        english_left(
            "授予“不过期密码”扩展权限 (Unexpire Password)，应用于“此对象”(This object and all descendant objects)"
        )
        == []
    )
    assert (
        english_left("| `proxy-auth-required` | tls-certificate-invalid | ssprdedicatedsbprodscu-2 | /tmp/a b c.evtx |")
        == []
    )
    assert english_left("命令: `wba report samples --format markdown --lang zh-CN`") == []


def test_no_english_sentence_in_zh_reports_of_many_situations(tmp_path: Path) -> None:
    paths: list[Path] = []
    for name, (build, _) in sorted(SCENARIOS.items()):
        paths += _log(tmp_path, name, build())
    for case in sorted(CASES):
        folder = tmp_path / case
        folder.mkdir()
        paths += CASES[case][0](folder)
    out = _report(paths, "markdown")
    assert english_left(out) == []
    # The same scanner finds the English of the same report.
    assert "previous change of the same user" in english_left(_report(paths, "markdown", "en"))


def test_an_exports_notes_are_chinese(tmp_path: Path) -> None:
    """What an Event Viewer CSV cannot carry and its local clock, noted by the reader (ingest), in
    the inputs table of Markdown and HTML; English and JSON keep the English notes."""
    path = tmp_path / "de.csv"
    path.write_text(csv_export(SCENARIOS["password-policy"][0](), "de", "de-DE", timedelta(hours=1)), encoding="utf-8")
    english = [
        "no computer, channel, record ids, qualifiers or keywords in this export",
        "times are the exporting machine's local time (no time zone; give --input-tz to convert)",
    ]
    chinese = [
        "此导出不含 计算机、通道、记录 ID、限定符、关键字",
        "时间为导出计算机的本地时间（未知时区；可用 --input-tz 转换）",
    ]
    for fmt in FORMATS[1:]:
        out = _flat(_report([path], fmt))
        assert all(_flat(text) in out for text in chinese) and not any(_flat(text) in out for text in english)
    for fmt in FORMATS:  # and the server it stands for, named by the input for want of a computer
        out = _report([path], fmt)
        assert "（未知计算机：" in out and "(unknown computer" not in out, fmt
    assert all(_flat(text) in _flat(_report([path], "markdown", "en")) for text in english)
    doc = _report([path], "json")
    assert all(text in doc for text in english) and f'"(unknown computer: {path})"' in doc
    code, out, err = run_cli("report", str(path), "-f", "markdown", "--lang", "zh-CN", "--input-tz", "Europe/Berlin")
    assert code == 0, err
    assert "时间已从 Europe/Berlin 转换为 UTC" in out and "times converted" not in out
