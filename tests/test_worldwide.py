"""Diagnosis that is right for every customer (issue 9): servers in other display languages, TLS as
its own family, sovereign clouds, specific evidence over generic, the 6306 rule and status by scope.

Each case is a real `.evtx` log written by the project's writer, with the exception texts servers
in those languages really write (quoted in forum posts, program output and Microsoft's localized
pages), read by both engines through `wba report`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analyzer.events import Event
from analyzer.testkit import write_evtx
from tests.helpers import run_cli

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
FRAME = "TrackingId: 7d1f0c2a-3b4e-4f5a-8c6d-9e0f1a2b3c4d, Error Connecting to ServiceBus., Details: "
SB = "'ssprdedicatedsbprodfra-1.servicebus.windows.net'"
# Each (language, expected cause) gives the .NET exception text inside a 32002 event of a server in that
# language.
TEXTS: dict[tuple[str, str], str] = {
    # Name resolution fails.
    ("de", "dns-resolution"): f"System.Net.WebException: Der Remotename konnte nicht aufgelöst werden: {SB}",
    ("fr", "dns-resolution"): f"System.Net.WebException: Le nom distant n'a pas pu être résolu: {SB}",
    ("ja", "dns-resolution"): f"System.Net.WebException: リモート名を解決できませんでした。: {SB}",
    ("zh-CN", "dns-resolution"): f"System.Net.WebException: 未能解析此远程名称: {SB}",
    ("es", "dns-resolution"): f"System.Net.WebException: No se puede resolver el nombre remoto: {SB}",
    # TLS fails: the secure channel, the handshake, "unexpected error on a send".
    ("de", "tls-handshake"): "System.Net.WebException: Die Anfrage wurde abgebrochen: Es konnte kein geschützter "
    "SSL/TLS-Kanal erstellt werden.",
    (
        "ja",
        "tls-handshake",
    ): "System.Net.WebException: 要求は中止されました: SSL/TLS のセキュリティで保護されているチャネルを"
    "作成できませんでした。",
    (
        "zh-CN",
        "tls-handshake",
    ): "System.Net.WebException: 基础连接已经关闭: 发送时发生错误。 ---> System.IO.IOException: "
    "由于远程方已关闭传输流，身份验证失败。",
    ("fr", "tls-handshake"): "System.Net.WebException: La connexion sous-jacente a été fermée : Une erreur inattendue "
    "s'est produite lors d'un envoi.",
    (
        "ru",
        "tls-handshake",
    ): "System.Net.WebException: Запрос был прерван: Не удалось создать защищенный канал SSL/TLS.",
    ("en", "tls-handshake"): "System.Net.WebException: The underlying connection was closed: An unexpected error "
    "occurred on a send. ---> System.IO.IOException: Authentication failed because the remote party has closed the "
    "transport stream.",
    # The certificate is not trusted (the stack frames are a handshake failure's, so the words decide).
    ("de", "tls-certificate-invalid"): "System.Net.WebException: Die zugrunde liegende Verbindung wurde geschlossen: "
    "Für den geschützten SSL/TLS-Kanal konnte keine Vertrauensstellung hergestellt werden. ---> "
    "System.Security.Authentication.AuthenticationException: Das Remotezertifikat ist laut Validierungsverfahren "
    "ungültig.\r\n   bei System.Net.Security.SslState.StartSendAuthResetSignal(ProtocolToken message)",
    ("fr", "tls-certificate-invalid"): "System.Security.Authentication.AuthenticationException: Le certificat "
    "distant n'est pas valide selon la procédure de validation.\r\n   à System.Net.Security.SslState.ProcessReceivedBlob",
    (
        "zh-CN",
        "tls-certificate-invalid",
    ): "System.Net.WebException: 基础连接已经关闭: 未能为 SSL/TLS 安全通道建立信任关系。 ---> "
    "System.Security.Authentication.AuthenticationException: 根据验证过程，远程证书无效。",
    ("es", "tls-certificate-invalid"): "System.Security.Authentication.AuthenticationException: El certificado remoto "
    "no es válido según el procedimiento de validación.",
    # Proxy authentication, forbidden, bad gateway, service unavailable: the status code is the evidence.
    ("de", "proxy-auth-required"): "System.Net.WebException: Der Remoteserver hat einen Fehler zurückgegeben: (407) "
    "Proxyauthentifizierung erforderlich.",
    ("fr", "proxy-auth-required"): "System.Net.WebException: Le serveur distant a retourné une erreur : (407) "
    "Authentification proxy requise.",
    ("ko", "proxy-auth-required"): "System.Net.WebException: 원격 서버에서 (407) 프록시 인증 필요 오류를 반환했습니다.",
    ("zh-CN", "proxy-auth-required"): "System.Net.WebException: 远程服务器返回错误: (407) 需要代理身份验证。",
    ("zh-CN", "proxy-forbidden"): "System.Net.WebException: 远程服务器返回错误: (403) 已禁止。",
    ("fr", "proxy-forbidden"): "System.Net.WebException: Le serveur distant a retourné une erreur : (403) Interdit.",
    ("es", "proxy-forbidden"): "System.Net.WebException: Error en el servidor remoto: (403) Prohibido.",
    ("zh-TW", "proxy-forbidden"): "System.Net.WebException: 遠端伺服器傳回一個錯誤: (403) 禁止。",
    ("it", "proxy-upstream-error"): "System.Net.WebException: Errore del server remoto: (502) Gateway non valido.",
    ("zh-CN", "proxy-upstream-error"): "System.Net.WebException: 远程服务器返回错误: (502) 错误的网关。",
    (
        "ru",
        "proxy-upstream-error",
    ): "System.Net.WebException: Удаленный сервер возвратил ошибку: (502) Недопустимый шлюз.",
    (
        "ko",
        "proxy-upstream-error",
    ): "System.Net.WebException: 원격 서버에서 (502) 잘못된 게이트웨이 오류를 반환했습니다.",
    ("de", "service-unavailable"): "System.Net.WebException: Der Remoteserver hat einen Fehler zurückgegeben: (503) "
    "Server nicht verfügbar.",
    (
        "es",
        "service-unavailable",
    ): "System.Net.WebException: Error en el servidor remoto: (503) Servidor no disponible.",
    ("zh-CN", "service-unavailable"): "System.Net.WebException: 远程服务器返回错误: (503) 服务器不可用。",
    ("zh-TW", "service-unavailable"): "System.Net.WebException: 遠端伺服器傳回一個錯誤: (503) 伺服器無法使用。",
    # The operation times out.
    ("de", "network-timeout"): "System.Net.WebException: Die Verbindung mit dem Remoteserver kann nicht hergestellt "
    "werden. ---> System.Net.Sockets.SocketException: Ein Verbindungsversuch ist fehlgeschlagen, da die Gegenstelle "
    "nach einer bestimmten Zeitspanne nicht richtig reagiert hat, oder die hergestellte Verbindung war fehlerhaft, da "
    "der verbundene Host nicht reagiert hat 40.113.1.10:443",
    ("zh-CN", "network-timeout"): "System.Net.WebException: 操作超时",
    ("es", "network-timeout"): "System.Net.WebException: Se excedió el tiempo de espera de la operación",
    (
        "ja",
        "network-timeout",
    ): "System.Net.Sockets.SocketException: 接続済みの呼び出し先が一定の時間を過ぎても正しく応答しなかった"
    "ため、接続できませんでした。または接続済みのホストが応答しなかったため、確立された接続は失敗しました。 40.113.1.10:443",
    # The connection is refused, or the host unreachable.
    ("de", "endpoint-unreachable"): "System.Net.WebException: Die Verbindung mit dem Remoteserver kann nicht "
    "hergestellt werden. ---> System.Net.Sockets.SocketException: Es konnte keine Verbindung hergestellt werden, da "
    "der Zielcomputer die Verbindung verweigerte 10.0.0.8:8080",
    ("fr", "endpoint-unreachable"): "System.Net.WebException: Impossible de se connecter au serveur distant",
    ("ja", "endpoint-unreachable"): "System.Net.WebException: リモート サーバーに接続できません。 ---> "
    "System.Net.Sockets.SocketException: 対象のコンピューターによって拒否されたため、接続できませんでした。 10.0.0.8:8080",
    ("pt-BR", "endpoint-unreachable"): "System.Net.WebException: Impossível conectar-se ao servidor remoto",
    # The other side closes the underlying connection.
    ("de", "connection-reset"): "System.IO.IOException: Von der Übertragungsverbindung können keine Daten gelesen "
    "werden: Eine vorhandene Verbindung wurde vom Remotehost geschlossen.",
    ("es", "connection-reset"): "System.Net.WebException: Se ha terminado la conexión: Error inesperado de recepción.",
    (
        "ja",
        "connection-reset",
    ): "System.Net.Sockets.SocketException: 既存の接続はリモート ホストに強制的に切断されました。",
    (
        "zh-CN",
        "connection-reset",
    ): "System.IO.IOException: 无法从传输连接中读取数据: 远程主机强迫关闭了一个现有的连接。。",
}
FAMILIES = sorted({cause for _, cause in TEXTS})


class Log:
    """One server's Application log: events added at minutes after T0, numbered in order."""

    def __init__(self, computer: str) -> None:
        self.computer, self.events = computer, []

    def add(self, minute: float, provider: str, event_id: int, text: str, level: int = 4) -> None:
        self.events.append((minute, provider, event_id, text, level))

    def built(self) -> list[Event]:
        ordered = sorted(self.events, key=lambda e: e[0])
        return [
            Event(
                "x.evtx",
                500_000 + i,
                T0 + timedelta(minutes=minute),
                provider,
                event_id,
                0,
                level,
                0,
                0x80000000000000,
                "Application",
                self.computer,
                [text],
                {},
            )
            for i, (minute, provider, event_id, text, level) in enumerate(ordered)
        ]

    def heartbeat(self, minute: float, host: str = "ssprdedicatedsbprodfra-1.servicebus.windows.net") -> None:
        self.add(minute, "PasswordResetService", 31019, f"TrackingId: 0, ServiceBusHeartBeat, Details: sb://{host}/")

    def operation(self, minute: float, tid: str, user: str, failure: str | None = None, companion: str = "") -> None:
        self.add(
            minute, "PasswordResetService", 31001, f"TrackingId: {tid}, PasswordResetRequestStart, Details: {user}"
        )
        if failure is None:
            text = f"TrackingId: {tid}, PasswordResetSuccess, Details: Context: cloudAnchor: User_1, UserPrincipalName: {user}"
            self.add(minute + 0.01, "PasswordResetService", 31002, text)
            return
        self.add(
            minute + 0.01,
            "PasswordResetService",
            33004,
            f"TrackingId: {tid}, Reason: Synchronization Engine returned an error {failure}, Context: cloudAnchor: "
            f"User_1, SourceAnchorValue: F39SWQrM2EidaboN, UserPrincipalName: {user}, Details: PasswordResetException",
            2,
        )
        if companion:
            self.add(minute + 0.012, "ADSync", 6329, companion, 2)


def _cases() -> dict[str, tuple[Log, dict]]:
    """Every server of the test log, with what its report must say."""
    cases: dict[str, tuple[Log, dict]] = {}
    for (lang, cause), text in TEXTS.items():
        log = Log(f"AADC-{lang}-{cause}.contoso.test")
        log.heartbeat(0)
        log.add(10, "PasswordResetService", 32002, FRAME + text, 2)
        log.heartbeat(60)
        cases[log.computer] = (log, {"top": cause, "lang": lang})
    china = Log("AADC-SH02.contoso.cn")
    china.heartbeat(0, "ssprdedicatedsbmcprodcnn.servicebus.chinacloudapi.cn")
    china.add(
        5,
        "PasswordResetService",
        32002,
        FRAME + "System.Net.WebException: 远程服务器返回错误: (407) 需要代理身份验证。",
        2,
    )
    china.add(
        6, "PasswordResetService", 32002, FRAME + "System.Net.WebException: 远程服务器返回错误: (403) 已禁止。", 2
    )
    cases[china.computer] = (china, {"cloud": "china", "host": "chinacloudapi.cn", "not": ["servicebus.windows.net"]})
    usgov = Log("AADC-GOV01.contoso.us")
    usgov.heartbeat(0, "contososspr-gov.servicebus.usgovcloudapi.net")
    usgov.add(
        5, "PasswordResetService", 32002, FRAME + "System.Net.WebException: Unable to connect to the remote server", 2
    )
    cases[usgov.computer] = (usgov, {"cloud": "usgov", "host": "usgovcloudapi.net", "not": ["servicebus.windows.net"]})
    sam = Log("AADC-SAM.contoso.test")
    sam.heartbeat(0)
    sam.operation(
        5,
        "5a1",
        "olga@contoso.test",
        "hr=80230626, message=The password could not be updated because the management agent credentials were denied "
        "access.",
        'An unexpected error has occurred during a password set operation. "ERR_: MMS(7104): admaexport.cpp(2944): '
        'Failed to acquire user information: CONTOSO\\MSOL_1a2b3c4d5e6f. Error Code: ERROR_ACCESS_DENIED" "BAIL: '
        "MMS(7104): admaexport.cpp(3050): 0x80230626 (The password could not be updated because the management agent "
        'credentials were denied access.)"',
    )
    cases[sam.computer] = (sam, {"top": "sam-remote-restricted", "status": "failing"})
    lone = Log("AADC-6306-ALONE.contoso.test")
    lone.heartbeat(0)
    lone.add(
        30,
        "ADSync",
        6306,
        "The server encountered an unexpected error while performing an operation for the client.",
        2,
    )
    lone.heartbeat(60)
    cases[lone.computer] = (lone, {"causes": [], "status": "healthy"})
    cluster = Log("AADC-6306-KB.contoso.test")
    cluster.heartbeat(0)
    cluster.add(
        30,
        "ADSync",
        6306,
        "The server encountered an unexpected error while performing an operation for the client.",
        2,
    )
    cluster.add(
        31,
        "PasswordResetService",
        32001,
        "TrackingId: 3f3, Couldn't connect to any service bus endpoint(s), Details:",
        2,
    )
    cluster.heartbeat(60)
    cases[cluster.computer] = (cluster, {"has": "sync-server-error"})
    everyone = Log("AADC-EVERYONE.contoso.test")
    everyone.heartbeat(0)
    for i, user in enumerate(["a@contoso.test", "b@contoso.test", "a@contoso.test"]):
        everyone.operation(10 + i * 10, f"e{i}", user, "hr=80230626, message=denied")
    cases[everyone.computer] = (everyone, {"status": "failing"})
    one = Log("AADC-ONE-USER.contoso.test")
    one.heartbeat(0)
    one.operation(10, "o1", "a@contoso.test", "hr=80230626, message=denied")
    one.operation(20, "o2", "b@contoso.test")
    one.operation(30, "o3", "a@contoso.test", "hr=80230626, message=denied")
    cases[one.computer] = (one, {"status": "degraded"})
    return cases


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`wba report -f json` of one log holding every case, by each engine."""
    path: Path = tmp_path_factory.mktemp("worldwide") / "Application.evtx"
    with path.open("wb") as out:
        write_evtx(out, [e for log, _ in _cases().values() for e in log.built()])
    found = {}
    for engine in ("rust", "python"):
        code, out, err = run_cli("report", str(path), "-f", "json", "--engine", engine, "-j", "1")
        assert (code, err) == (0, ""), engine
        found[engine] = out
    return found


@pytest.fixture(scope="module")
def servers(reports: dict[str, str]) -> dict[str, dict]:
    return {s["computer"]: s for s in json.loads(reports["rust"])["servers"]}


def test_both_engines_give_the_same_report(reports: dict[str, str]) -> None:
    assert reports["rust"] == reports["python"]


def test_every_family_in_four_languages_besides_english() -> None:
    for family in FAMILIES:
        langs = {lang for lang, cause in TEXTS if cause == family and lang != "en"}
        assert len(langs) >= 4, (family, langs)


@pytest.mark.parametrize(("lang", "cause"), sorted(TEXTS))
def test_localized_text_gets_the_specific_cause(servers: dict[str, dict], lang: str, cause: str) -> None:
    server = servers[f"AADC-{lang}-{cause}.contoso.test"]
    assert [c["id"] for c in server["causes"]] == [cause]
    top = server["causes"][0]
    assert top["evidence"], "the report says what picked the cause"
    assert server["health"]["outages"][0]["cause"] == cause


@pytest.mark.parametrize("computer", ["AADC-SH02.contoso.cn", "AADC-GOV01.contoso.us"])
def test_sovereign_clouds_get_their_own_endpoints(servers: dict[str, dict], computer: str) -> None:
    _, want = _cases()[computer]
    server = servers[computer]
    assert server["cloud"]["id"] == want["cloud"]
    fixes = " ".join(f for c in server["causes"] for f in c["fixes"])
    assert want["host"] in fixes
    for wrong in want["not"]:
        assert wrong not in fixes, (computer, wrong)
    assert "microsoftonline.com" not in fixes


def test_a_global_server_names_its_namespace_in_the_fix(servers: dict[str, dict]) -> None:
    server = servers["AADC-de-dns-resolution.contoso.test"]
    assert server["cloud"]["id"] == "global"
    assert any("ssprdedicatedsbprodfra-1.servicebus.windows.net" in f for f in server["causes"][0]["fixes"])


def test_sam_policy_beats_the_denied_hresult_after_it(servers: dict[str, dict]) -> None:
    server = servers["AADC-SAM.contoso.test"]
    assert [c["id"] for c in server["causes"]] == ["sam-remote-restricted"]
    assert server["status"] == "failing"  # A policy on the server stops everyone's writeback.


def test_a_lone_6306_is_sync_noise_but_counts_next_to_32001(servers: dict[str, dict]) -> None:
    lone = servers["AADC-6306-ALONE.contoso.test"]
    assert (lone["causes"], lone["status"]) == ([], "healthy")
    cluster = servers["AADC-6306-KB.contoso.test"]
    assert "sync-server-error" in {c["id"] for c in cluster["causes"]}


def test_status_by_scope(servers: dict[str, dict]) -> None:
    assert servers["AADC-EVERYONE.contoso.test"]["status"] == "failing"
    assert servers["AADC-ONE-USER.contoso.test"]["status"] == "degraded"
