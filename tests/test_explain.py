"""`wba explain` on what customers paste into a ticket (issue 11): Event Viewer's "Copy details as
text" block with its labels in the server's display language (with and without Event Xml), the XML of
events, a bare message; and `wba codes -f json`."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_main

# The labels Event Viewer writes in each display language (quoted from real pastes: en, de, ja,
# zh-CN; fr and es as Microsoft's pages show them), then the date as that locale writes it.
LABELS = {
    "en": ("Log Name:", "Source:", "Date:", "Event ID:", "Level:", "Computer:", "Description:", "11/20/2026 8:16:52 AM", "Error"),
    "de": ("Protokollname:", "Quelle:", "Datum:", "Ereignis-ID:", "Ebene:", "Computer:", "Beschreibung:", "20.11.2026 08:16:52", "Fehler"),
    "fr": ("Nom du journal :", "Source :", "Date :", "ID de l’événement :", "Niveau :", "Ordinateur :", "Description :", "20/11/2026 08:16:52", "Erreur"),
    "es": ("Nombre de registro:", "Origen:", "Fecha:", "Id. del evento:", "Nivel:", "Equipo:", "Descripción:", "20/11/2026 8:16:52", "Error"),
    "ja": ("ログの名前:", "ソース:", "日付:", "イベント ID:", "レベル:", "コンピューター:", "説明:", "2026/11/20 8:16:52", "エラー"),
    "zh-CN": ("日志名称:", "来源:", "日期:", "事件 ID:", "级别:", "计算机:", "描述:", "2026/11/20 8:16:52", "错误"),
}  # fmt: skip
# The message of each case as a server in that language writes it (the service's frame is English).
MESSAGES = {
    "en": ("The remote name could not be resolved: 'ssprdedicatedsbprodfra-1.servicebus.windows.net'", "dns-resolution"),
    "de": ("Der Remoteserver hat einen Fehler zurückgegeben: (407) Proxyauthentifizierung erforderlich.", "proxy-auth-required"),
    "fr": ("La demande a été abandonnée : Impossible de créer un canal sécurisé SSL/TLS.", "tls-handshake"),
    "es": ("El certificado remoto no es válido según el procedimiento de validación.", "tls-certificate-invalid"),
    "ja": ("リモート名を解決できませんでした。: 'ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn'", "dns-resolution"),
    "zh-CN": ("远程服务器返回错误: (403) 已禁止。", "proxy-forbidden"),
}  # fmt: skip
FRAME = "TrackingId: 7d1f0c2a-3b4e-4f5a-8c6d-9e0f1a2b3c4d, Error Connecting to ServiceBus., Details: System.Net.WebException: "


def details(lang: str, event_id: int = 32002, description: str | None = None, xml: str = "") -> str:
    log, source, date, eid, level, computer, desc, when, error = LABELS[lang]
    body = description if description is not None else FRAME + MESSAGES[lang][0]
    text = (
        f"{log} Application\n{source} PasswordResetService\n{date} {when}\n{eid} {event_id}\n{level} {error}\n"
        f"{computer} AADC01.contoso.com\n{desc}\n{body}\n"
    )
    return text + (f"Event Xml:\n{xml}\n" if xml else "")


@pytest.fixture
def explain(tmp_path, capsys):
    """`wba explain FILE ARGS` on a pasted text, through the real entry point."""

    def run(text: str, *args: str) -> tuple[int, str, str]:
        path = tmp_path / "ticket.txt"
        path.write_text(text, encoding="utf-8")
        return run_main(["explain", str(path), *args], capsys)

    return run


@pytest.mark.parametrize("lang", sorted(LABELS))
def test_a_details_block_in_each_display_language(explain, lang: str) -> None:
    code, out, err = explain("Hello, the event from the server:\n\n" + details(lang) + "\nThanks\n", "-f", "json")
    assert (code, err) == (0, "")
    [item] = json.loads(out)["events"]
    assert (item["provider"], item["event_id"], item["computer"]) == (
        "PasswordResetService",
        32002,
        "AADC01.contoso.com",
    )
    assert item["cause"]["id"] == MESSAGES[lang][1]
    assert item["cause"]["title"] and item["fixes"] and item["evidence"]
    assert item["tracking_id"] == "7d1f0c2a-3b4e-4f5a-8c6d-9e0f1a2b3c4d"


def test_the_fixes_name_the_cloud_the_text_names(explain) -> None:
    _, out, _ = explain(details("ja"), "-f", "json")
    fixes = " ".join(json.loads(out)["events"][0]["fixes"])
    assert "ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn" in fixes and "servicebus.windows.net" not in fixes


def test_a_block_with_its_event_xml_and_several_blocks(explain) -> None:
    xml = (
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="ADSync" />'
        '<EventID Qualifiers="0">6329</EventID><Level>2</Level><TimeCreated SystemTime="2026-11-20T07:16:52.1Z" />'
        "<EventRecordID>912</EventRecordID><Channel>Application</Channel><Computer>AADC01.contoso.com</Computer></System>"
        '<EventData><Data>An unexpected error has occurred during a password set operation. "ERR_: MMS(7104): '
        'admaexport.cpp(2944): Failed to acquire user information: CONTOSO\\MSOL_1a2b. Error Code: ERROR_ACCESS_DENIED"'
        "</Data></EventData></Event>"
    )
    text = details("en", 6329, "(see the XML)", xml) + "\n" + details("de")
    code, out, _ = explain(text, "-f", "json")
    assert code == 0
    first, second = json.loads(out)["events"]
    assert (first["provider"], first["event_id"], first["cause"]["id"]) == ("ADSync", 6329, "sam-remote-restricted")
    assert second["cause"]["id"] == "proxy-auth-required"


def test_the_xml_of_events(explain) -> None:
    xml = (
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
        '<Provider Name="PasswordResetService" /><EventID Qualifiers="0">33008</EventID><Level>2</Level>'
        '<TimeCreated SystemTime="2026-11-20T07:16:52.1Z" /><EventRecordID>77</EventRecordID><Channel>Application</Channel>'
        "<Computer>AADC01</Computer></System><EventData><Data>TrackingId: 1, Reason: Synchronization Engine returned an "
        "error hr=80230619, message=A restriction prevents the password from being changed.</Data></EventData></Event>"
    )
    code, out, _ = explain(xml, "-f", "json")
    assert code == 0
    [item] = json.loads(out)["events"]
    assert (item["event_id"], item["cause"]["id"], item["hresult"]) == (33008, "password-policy", "80230619")


def test_hostile_xml_is_refused_and_said_so(explain) -> None:
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><Event><System><EventID>1</EventID></System></Event>'
    code, out, err = explain(bomb, "-f", "json")
    assert code == 1 and "no event could be read" in err
    assert json.loads(out)["unreadable"]


def test_a_bare_message_by_code_or_by_what_it_shows(explain) -> None:
    text = FRAME + "Der Remotename konnte nicht aufgelöst werden: 'x.servicebus.usgovcloudapi.net'"
    code, out, _ = explain(text, "--code", "32002", "-f", "json")
    assert code == 0 and json.loads(out)["events"][0]["cause"]["id"] == "dns-resolution"
    code, out, _ = explain(text, "-f", "json")  # "Error Connecting to ServiceBus" shows 32002
    assert code == 0 and json.loads(out)["events"][0]["event_id"] == 32002
    code, _, err = explain("BAIL: MMS(5716): 0x80230626", "--code", "6329", "--provider", "ADSync")
    assert code == 0 and err == ""


def test_a_text_that_matches_nothing_says_so_and_exits_1(explain) -> None:
    code, out, err = explain("The printer is out of paper.")
    assert code == 1 and out == "" and "give its event id with --code" in err
    code, out, err = explain(details("en", 31999, "Something new"))
    assert code == 1 and "not in the catalogue: PasswordResetService 31999" in err
    assert "not in the catalogue" in out  # what was read is still shown
    code, _, err = explain("x", "--code", "99999")
    assert code == 1 and "no catalogue entry for event 99999" in err


def test_text_markdown_and_chinese(explain) -> None:
    code, out, _ = explain(details("zh-CN"), "--lang", "zh-CN")
    assert (
        code == 0 and "代理拒绝访问写回终结点 (HTTP 403)" in out and "原因:" in out
    )  # the cause and the labels in Chinese
    assert "1)" in out and "[proxy-forbidden, 高, 服务器]" in out  # severity and scope in Chinese too
    assert "“(403)”（与语言无关）" in out and "language-independent" not in out  # the evidence label too
    assert "learn.microsoft.com/zh-cn/" in out and "learn.microsoft.com/en-us/" not in out  # as the report links
    code, out, _ = explain(details("de"), "-f", "md")
    assert code == 0 and out.startswith("## PasswordResetService 32002") and "1. " in out


def test_codes_as_json_for_other_tools(capsys) -> None:
    code, out, _ = run_main(["codes", "33004", "-f", "json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["entries"][0]["event_id"] == 33004
    assert "connector-permissions" in doc["causes"] and doc["causes"]["connector-permissions"]["fixes"]
    code, out, _ = run_main(["codes", "-f", "json"], capsys)
    doc = json.loads(out)
    network = next(e for e in doc["entries"] if e["id"] == "network-evidence")
    assert any("name-resolution" in r["messages"] for r in network["rules"])
    assert len(doc["entries"]) > 60 and all("{" not in f for c in doc["causes"].values() for f in c["fixes"])


def test_the_json_is_written_from_the_model(explain) -> None:
    from analyzer.reports.json import dumps
    from analyzer.reports.model import Explanation

    code, out, _ = explain(details("en") + "\n" + details("en", 31999, "Something new"), "-f", "json")
    assert code == 1  # the second event is not in the catalogue
    doc = Explanation.from_json(json.loads(out))
    assert dumps(doc) == out and doc.events[0].cause is not None and doc.events[1].entry is None


def test_chinese_text_wraps_to_the_terminal_width(tmp_path) -> None:
    """Wide characters count two cells: a Chinese explanation fits an 80-column terminal."""
    from analyzer.reports.columns import width_of
    from tests.helpers import run_cli

    path = tmp_path / "ticket.txt"
    path.write_text(details("zh-CN"), encoding="utf-8")
    code, out, _ = run_cli("explain", str(path), "--lang", "zh-CN", env={"COLUMNS": "80"})
    # Links and other words longer than a line (a host list) are kept whole; the rest fits.
    lines = [line for line in out.splitlines() if max(map(width_of, line.split()), default=0) < 60]
    assert code == 0 and len(lines) > 5
    assert max(map(width_of, lines)) <= 80 < sum(map(width_of, lines)) / 3
