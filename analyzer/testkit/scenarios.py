"""Scenario logs shaped like the Application log of a real Entra Connect server.

Each scenario is a deterministic list of `Event`s (seeded random, fixed clock):
writeback events with the texts seen in the field (quoted by Microsoft's pages and
support articles, and by real events in blog posts) among the usual noise of such a server: ADSync
sync cycles, password hash sync batches and other Application providers.
`python -m analyzer.testkit.samples` writes them to samples/ with the project's EVTX writer.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from analyzer.events import Event

if TYPE_CHECKING:
    from collections.abc import Callable

PRS = "PasswordResetService"
ADSYNC = "ADSync"
DIRSYNC = "Directory Synchronization"
INFO, WARNING, ERROR = 4, 3, 2
VERSION_LINE = "Microsoft Entra Connect Sync 2.4.27.0"
USERS = [
    "alex.wong",
    "maria.garcia",
    "li.na",
    "samir.haddad",
    "olga.petrova",
    "james.obrien",
    "chen.wei",
    "fatima.zahra",
    "lukas.becker",
    "priya.nair",
    "tom.hughes",
    "ana.souza",
    "kenji.sato",
    "emma.dubois",
    "noah.kim",
    "sofia.rossi",
]
DENIED = (
    "hr=80230626, message=The password could not be updated because the management agent "
    "credentials were denied access."
)
POLICY = "hr=80230619, message=A restriction prevents the password from being changed to the current one specified."
STACK = (
    "\r\n   at AADPasswordReset.SynchronizationEngineManagedHandle.ThrowSyncEngineError(Int32 hr)"
    "\r\n   at AADPasswordReset.SynchronizationEngineManagedHandle.{op}(String cloudAnchor, String sourceAnchor, "
    "String oldPassword, String newPassword)"
    "\r\n   at Microsoft.CredentialManagement.OnPremisesPasswordReset.PasswordResetCredentialManager.{op}("
    "String encryptedChangePasswordRequestString, String publicKeyEncryptedSymmetricKey, "
    "String publicKeyEncryptedSymmetricIV)"
)
KINDS = {  # start id, start token, success id, success token, generic failure id
    "reset": (31001, "PasswordResetRequestStart", 31002, "PasswordResetSuccess", 31003),
    "change": (31006, "ChangePasswordRequestStart", 31007, "ChangePasswordSuccess", 31008),
    "admin_reset": (31009, "ResetUserPasswordByAdminStart", 31010, "ResetUserPasswordByAdminSuccess", 31011),
}


@dataclass
class Server:
    """Builds one server's Application log: add events at times, then `events()` numbers them."""

    computer: str
    domain: str
    seed: int
    start: datetime
    hours: int
    namespace: str = "ssprdedicatedsbprodfra-1"
    servicebus: str = "servicebus.windows.net"  # The cloud's Service Bus suffix (codes/clouds.yaml).
    first_record_id: int = 148_230
    zh_cn: bool = False
    rows: list[tuple[datetime, str, int, int, int, list[str] | dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.end = self.start + timedelta(hours=self.hours)
        self.anchors: dict[str, tuple[str, str]] = {}

    def add(
        self,
        at: datetime,
        provider: str,
        event_id: int,
        level: int,
        strings: list[str] | dict[str, str],
        qualifiers: int = 0,
    ) -> None:
        self.rows.append((at, provider, event_id, level, qualifiers, strings))

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def upn(self, name: str) -> str:
        return f"{name}@{self.domain}"

    def anchor(self, name: str) -> tuple[str, str]:
        """cloudAnchor and SourceAnchorValue of a user, stable within the log."""
        if name not in self.anchors:
            raw = self.rng.getrandbits(128).to_bytes(16, "little")
            self.anchors[name] = (f"User_{self.guid()}", base64.b64encode(raw).decode())
        return self.anchors[name]

    def context(self, name: str) -> str:
        cloud, source = self.anchor(name)
        return f"Context: cloudAnchor: {cloud}, SourceAnchorValue: {source}, UserPrincipalName: {self.upn(name)}"

    @property
    def namespace_host(self) -> str:
        return f"{self.namespace}.{self.servicebus}"

    def jitter(self, at: datetime, seconds: float) -> datetime:
        return at + timedelta(microseconds=self.rng.randrange(int(seconds * 1_000_000)))

    def events(self) -> list[Event]:
        ordered = sorted(self.rows, key=lambda r: r[0])
        return [
            Event(
                "",
                self.first_record_id + i,
                at,
                provider,
                eid,
                q,
                level,
                0,
                0x80000000000000,
                "Application",
                self.computer,
                list(strings) if isinstance(strings, list) else list(strings.values()),
                {} if isinstance(strings, list) else dict(strings),
            )
            for i, (at, provider, eid, level, q, strings) in enumerate(ordered)
        ]

    # --- writeback service -------------------------------------------------------------------
    def service(self, at: datetime, event_id: int, token: str, level: int = INFO, details: str = "") -> None:
        self.add(at, PRS, event_id, level, [f"TrackingId: {self.guid()}, {token}, Details: {details}"])

    def heartbeats(self, start: datetime, end: datetime, every_minutes: int = 30) -> None:
        at = start
        while at < end:
            self.service(
                self.jitter(at, 20),
                31019,
                "ServiceBusHeartBeat",
                details=f"Service bus endpoint: sb://{self.namespace_host}/, Status: Success",
            )
            at += timedelta(minutes=every_minutes)

    def operation(
        self, at: datetime, kind: str, name: str, outcome: str = "success", admin: str = "helpdesk.admin"
    ) -> None:
        """One writeback operation: the start event and, unless unfinished, its outcome."""
        start_id, start_token, ok_id, ok_token, _ = KINDS[kind]
        tracking = self.guid()
        self.add(at, PRS, start_id, INFO, [f"TrackingId: {tracking}, {start_token}, Details: {self.upn(name)}"])
        done = at + timedelta(milliseconds=self.rng.randrange(300, 2500))
        if outcome == "success":
            if kind == "admin_reset":
                cloud, source = self.anchor(name)
                text = (
                    f"TrackingId: {tracking}, {ok_token}, Details: Context: cloudAnchor: {cloud}, "
                    f"SourceAnchorValue: {source}, AdminUpn: {self.upn(admin)}, UserPrincipalName "
                    f"{self.upn(name)}, ForcePasswordChange: False"
                )
            else:
                text = f"TrackingId: {tracking}, {ok_token}, Details: {self.context(name)}"
            self.add(done, PRS, ok_id, INFO, [text])
            self.phs(done + timedelta(seconds=self.rng.randrange(40, 110)), name)
        elif outcome in ("denied", "policy"):
            code, hr, mms = (33004, DENIED, 5716) if outcome == "denied" else (33008, POLICY, 4924)
            op = "ChangePassword" if kind == "change" else "SetPassword"
            message = hr.split(", message=")[1]
            text = (
                f"TrackingId: {tracking}, Reason: Synchronization Engine returned an error {hr}, "
                f"{self.context(name)}, Details: Microsoft.CredentialManagement.OnPremisesPasswordReset."
                f"Shared.PasswordResetException: Synchronization Engine returned an error {hr}" + STACK.format(op=op)
            )
            bail = (
                f"An unexpected error has occurred during a password set operation. \r\n "
                f'"BAIL: MMS({mms}): ..\\server.cpp(11139): 0x{hr[3:11].lower()} ({message})"'
            )
            # The 6329 sometimes lands a moment before the 33xxx: logs are not strictly ordered.
            self.add(
                done - timedelta(milliseconds=self.rng.randrange(0, 900)),
                ADSYNC,
                6329,
                ERROR,
                [bail, VERSION_LINE],
            )
            self.add(done, PRS, code, ERROR, [text])
        elif outcome == "decrypt":
            self.add(
                done,
                PRS,
                32004,
                ERROR,
                [
                    f"TrackingId: {tracking}, DecryptionError, Details: System.Security.Cryptography."
                    f"CryptographicException: Bad Data.\r\n   at System.Security.Cryptography.RSACryptoServiceProvider"
                    f".DecryptKey(SafeKeyHandle pKeyContext, Byte[] pbEncryptedKey, Int32 cbEncryptedKey), "
                    f"{self.context(name)}"
                ],
            )

    def phs(self, at: datetime, name: str) -> None:
        """Password hash sync pushes the new hash back to the cloud after a writeback."""
        _, source = self.anchor(name)
        dn = f"CN={name.replace('.', ' ').title()},OU=Staff,DC={self.domain.split('.')[0]},DC=com"
        self.add(
            at,
            DIRSYNC,
            656,
            INFO,
            [f"Password Change Request - Anchor : {source}, Dn : {dn}, Change Date : {at:%m/%d/%Y %H:%M:%S}"],
        )
        self.add(
            at + timedelta(seconds=2),
            DIRSYNC,
            657,
            INFO,
            [f"Password Change Result - Anchor : {source}, Dn : {dn}, PwdChangeOnLogon=False, Result : Success."],
        )

    # --- noise ---------------------------------------------------------------------------------
    def noise(self) -> None:
        """Sync cycles every 30 minutes, PHS pings, and other Application providers."""
        at = self.start
        while at < self.end:
            cycle = self.jitter(at, 30)
            for i, stage in enumerate(("a Delta Import", "a Delta Synchronization", "an Export")):
                self.add(
                    cycle + timedelta(seconds=20 * i),
                    ADSYNC,
                    904,
                    INFO,
                    [
                        f"Scheduler::SchedulerThreadMain : Started {stage} cycle on connector {self.domain}.",
                        "",
                    ],
                )
            self.add(
                cycle + timedelta(seconds=75),
                ADSYNC,
                904,
                INFO,
                ["Scheduler::SchedulerThreadMain : Completed configured scheduler operations.", ""],
            )
            self.add(
                cycle + timedelta(seconds=80),
                DIRSYNC,
                654,
                INFO,
                ["Provision credentials ping end."],
            )
            at += timedelta(minutes=30)
        for hour in range(0, self.hours, 6):
            moment = self.jitter(self.start + timedelta(hours=hour), 3600)
            if self.zh_cn:
                text = f"已成功计划软件保护服务在 {moment + timedelta(days=3):%Y-%m-%dT%H:%M:%SZ} 重新启动。原因: RulesEngine。"
                self.add(moment, "Microsoft-Windows-Security-SPP", 16384, INFO, [text], qualifiers=16384)
            else:
                text = (
                    f"Successfully scheduled Software Protection service for re-start at "
                    f"{moment + timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}. Reason: RulesEngine."
                )
                self.add(moment, "Microsoft-Windows-Security-SPP", 16384, INFO, [text], qualifiers=16384)
            self.add(
                moment + timedelta(minutes=2),
                "Microsoft-Windows-RestartManager",
                10000,
                INFO,
                {"RmSessionId": "0", "UTCStartTime": f"{moment:%Y-%m-%dT%H:%M:%S.%f}0Z"},
            )
            self.add(
                moment + timedelta(minutes=3),
                "Microsoft-Windows-RestartManager",
                10001,
                INFO,
                {"RmSessionId": "0", "UTCStartTime": f"{moment:%Y-%m-%dT%H:%M:%S.%f}0Z"},
            )
        crash = self.jitter(self.start + timedelta(hours=self.hours // 2), 3600)
        # Windows Error Reporting strings start with an empty bucket id when none was assigned.
        self.add(
            crash,
            "Windows Error Reporting",
            1001,
            INFO,
            [
                "",
                "0",
                "APPCRASH",
                "Not available",
                "0",
                "miiserver.exe",
                "2.4.27.0",
                "",
                "",
                "",
                "",
                "",
                "C:\\ProgramData\\Microsoft\\Windows\\WER\\ReportArchive",
                "",
                "0",
                "4f1a-一Ā-😀",
                "0",
            ],
        )
        self.add(
            self.jitter(self.start, 600),
            "ESENT",
            326,
            INFO,
            [
                "svchost",
                "3392",
                "",
                "1",
                "C:\\Windows\\system32\\LogFiles\\Sum\\Svc.mdb",
                "0",
                "[1] 0.000, [2] 0.000, [3] 0.000.",
                "1 0",
            ],
            qualifiers=0,
        )
        self.add(
            self.jitter(self.start, 600),
            "VSS",
            8224,
            INFO,
            ["The VSS service is shutting down due to idle timeout. ", "\r\n"],
        )

    def day_of_operations(
        self, start: datetime, end: datetime, count: int, outcome_for: Callable[[str, str], str]
    ) -> None:
        """`count` operations spread over [start, end); outcome_for(kind, user) picks each outcome."""
        span = (end - start).total_seconds()
        for _ in range(count):
            at = start + timedelta(seconds=self.rng.uniform(0, span))
            kind = self.rng.choices(list(KINDS), weights=[6, 3, 1])[0]
            name = self.rng.choice(USERS)
            self.operation(at, kind, name, outcome_for(kind, name))


def _clock(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def healthy() -> list[Event]:
    s = Server("AADC01.contoso.com", "contoso.com", seed=1, start=_clock(16), hours=48)
    s.noise()
    s.service(s.start + timedelta(minutes=3), 31015, "WriteBackServiceStarted")
    s.heartbeats(s.start + timedelta(minutes=5), s.end)
    s.day_of_operations(s.start + timedelta(hours=7), s.end - timedelta(hours=1), 40, lambda k, u: "success")
    return s.events()


def permissions() -> list[Event]:
    """The AD DS connector account lost its reset-password rights: every operation is denied."""
    s = Server(
        "AADC02.corp.fabrikam.com",
        "fabrikam.com",
        seed=2,
        start=_clock(18),
        hours=36,
        namespace="ssprdedicatedsbprodneu-4",
        first_record_id=90_412,
    )
    s.noise()
    s.heartbeats(s.start, s.end)
    rights_removed = s.start + timedelta(hours=8)
    s.day_of_operations(s.start + timedelta(hours=1), rights_removed, 8, lambda k, u: "success")
    s.day_of_operations(rights_removed, s.end - timedelta(hours=1), 30, lambda k, u: "denied")
    return s.events()


def password_policy() -> list[Event]:
    """Users change their password again within the domain's minimum password age (1 day)."""
    s = Server(
        "ENTRACONNECT01.contoso.com",
        "contoso.com",
        seed=3,
        start=_clock(19),
        hours=30,
        namespace="ssprdedicatedsbprodscu-2",
        first_record_id=512_007,
    )
    s.noise()
    s.heartbeats(s.start, s.end)
    seen: set[str] = set()

    def outcome(kind: str, user: str) -> str:
        again = user in seen
        seen.add(user)
        return "policy" if again and kind != "admin_reset" else "success"

    s.day_of_operations(s.start + timedelta(hours=1), s.end - timedelta(hours=1), 50, outcome)
    return s.events()


def connectivity_outage() -> list[Event]:
    """A zh-CN server loses Service Bus: proxy 407, then TLS inspection breaks certificates; recovery."""
    s = Server(
        "AADC-SH01.contoso.cn",
        "contoso.cn",
        seed=4,
        start=_clock(20),
        hours=30,
        namespace="ssprdedicatedsbmcprodcne",
        servicebus="servicebus.chinacloudapi.cn",
        first_record_id=23_551,
        zh_cn=True,
    )
    s.noise()
    outage, fixed = s.start + timedelta(hours=9), s.start + timedelta(hours=17, minutes=40)
    s.heartbeats(s.start, outage)
    s.day_of_operations(s.start + timedelta(hours=1), outage, 12, lambda k, u: "success")
    ns = s.namespace_host
    at = outage
    while at < fixed:
        proxy = at < outage + timedelta(hours=4)
        cause = (
            (
                "System.Net.WebException: The remote server returned an error: (407) Proxy Authentication "
                "Required.\r\n   at System.Net.HttpWebRequest.GetResponse()"
            )
            if proxy
            else (
                "System.Security.Authentication.AuthenticationException: The remote certificate is invalid "
                "according to the validation procedure."
            )
        )
        s.service(
            s.jitter(at, 30),
            32002,
            "Error Connecting to ServiceBus. The token provider was unable to provide a security token.",
            ERROR,
            f"Endpoint: sb://{ns}/, {cause}",
        )
        if not proxy:
            s.service(
                s.jitter(at + timedelta(minutes=1), 30),
                31034,
                "ServiceBusListenerError",
                ERROR,
                f"Namespace: {ns}, {cause}",
            )
        s.service(
            s.jitter(at + timedelta(minutes=2), 30),
            32014,
            "ServiceBusWarning",
            WARNING,
            f"Retrying connection to sb://{ns}/, attempt {s.rng.randrange(2, 6)}.",
        )
        at += timedelta(minutes=20)
    s.add(
        outage + timedelta(minutes=25),
        PRS,
        31044,
        ERROR,
        [
            f"TrackingId: {s.guid()} , Password writeback service is not in a healthy state. No serviceHost for "
            "service bus endpoints are in running state. Please refer aka.ms/ssprtroubleshoot, Details: Version: "
            "5.0.0.686"
        ],
    )
    s.add(
        outage + timedelta(minutes=26),
        ADSYNC,
        6800,
        ERROR,
        [
            "The password management extension encountered an error. The stack trace is: "
            '"Couldn\'t connect to any service bus endpoint(s)"'
        ],
    )
    # Requests that arrive during the outage never get an outcome on this server.
    for _ in range(6):
        at = outage + timedelta(seconds=s.rng.uniform(600, (fixed - outage).total_seconds()))
        s.operation(at, "reset", s.rng.choice(USERS), "unfinished")
    s.service(fixed, 31015, "WriteBackServiceStarted")
    s.heartbeats(fixed + timedelta(minutes=2), s.end)
    s.day_of_operations(fixed + timedelta(minutes=10), s.end - timedelta(minutes=30), 10, lambda k, u: "success")
    return s.events()


def disable_reenable() -> list[Event]:
    """Keys out of step (32004 on every request) until an admin disables and re-enables writeback."""
    s = Server(
        "AADC03.contoso.com",
        "contoso.com",
        seed=5,
        start=_clock(21),
        hours=24,
        namespace="ssprdedicatedsbprodweu-7",
        first_record_id=7_760,
    )
    s.noise()
    fix = s.start + timedelta(hours=10)
    s.heartbeats(s.start, fix)
    s.day_of_operations(s.start + timedelta(hours=1), fix - timedelta(minutes=20), 14, lambda k, u: "decrypt")
    steps = [
        (31012, "OffboardingEventStart"),
        (31017, "AuthTokenSuccess"),
        (31013, "OffboardingEventSuccess"),
        (31016, "WriteBackServiceStopped"),
        (31004, "OnboardingEventStart"),
        (31017, "AuthTokenSuccess"),
        (31018, "KeyPairCreationSuccess"),
        (31005, "OnboardingEventSuccess"),
        (31015, "WriteBackServiceStarted"),
    ]
    for i, (event_id, token) in enumerate(steps):
        s.service(fix + timedelta(seconds=40 * i), event_id, token)
    s.add(fix + timedelta(seconds=130), ADSYNC, 2002, INFO, ["The Microsoft Azure AD Sync service stopped.", ""])
    s.add(fix + timedelta(seconds=170), ADSYNC, 2001, INFO, ["The Microsoft Azure AD Sync service started.", ""])
    # Enabling writeback the first time triggers a PHS batch with no real change.
    s.phs(fix + timedelta(minutes=8), s.rng.choice(USERS))
    s.heartbeats(fix + timedelta(minutes=10), s.end)
    s.day_of_operations(fix + timedelta(minutes=30), s.end - timedelta(minutes=30), 16, lambda k, u: "success")
    return s.events()


SCENARIOS: dict[str, tuple[Callable[[], list[Event]], str]] = {
    "healthy": (
        healthy,
        "healthy server: every reset, change and admin reset succeeds; heartbeats throughout",
    ),
    "ad-permissions": (
        permissions,
        "failing: from hour 8 every operation fails with 33004 + ADSync 6329 "
        "0x80230626 (connector account denied access); fix = writeback permissions",
    ),
    "password-policy": (
        password_policy,
        "failing: 33008 + 6329 0x80230619 when users change again within the minimum password age; by the end "
        "most users are back within it, and the last operations all fail, for several users",
    ),
    "connectivity-outage": (
        connectivity_outage,
        "degraded: Service Bus outage (32002 proxy 407, then 31034 "
        "certificate invalid, 32014 retries, 31044, 6800), unfinished "
        "resets during it, then recovery; zh-CN server",
    ),
    "disable-reenable": (
        disable_reenable,
        "degraded: 32004 decryption errors until writeback is disabled "
        "(31012/31013) and re-enabled (31004/31017/31018/31005), then success",
    ),
}
