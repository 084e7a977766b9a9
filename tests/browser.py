"""A minimal headless-Chromium driver over the DevTools protocol (for the HTML report tests).

Loads a page, and reports console errors, uncaught exceptions and every network
request the page made, plus values of JavaScript expressions evaluated by DevTools.
`picture` reads a screenshot (PNG) whole, to tell a drawn page from a blank or broken one.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--remote-debugging-port=0",
]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageRun:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


def load(page: Path, expressions: list[str], screenshot: bool = False, timeout: float = 30) -> PageRun:
    import base64

    import websocket

    binary = chromium()
    assert binary, "chromium is not installed"
    profile = Path(tempfile.mkdtemp(prefix="wba-chromium-"))
    # Chromium's own temporary files (its singleton socket) go into the profile, removed below.
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1600", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(profile)},
    )
    run = PageRun()
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            target = next(t for t in json.load(reply) if t["type"] == "page")
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=timeout)
        counter = iter(range(1, 10_000))

        def send(method: str, **params: Any) -> int:
            ident = next(counter)
            ws.send(json.dumps({"id": ident, "method": method, "params": params}))
            return ident

        def handle(message: dict[str, Any]) -> None:
            method, params = message.get("method"), message.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                run.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                run.exceptions.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                run.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                run.requests.append(params["request"]["url"])

        def wait(ident: int | None = None, event: str | None = None) -> dict[str, Any]:
            while True:
                message = json.loads(ws.recv())
                handle(message)
                if ident is not None and message.get("id") == ident:
                    return message
                if event is not None and message.get("method") == event:
                    return message

        for method in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            wait(send(method))
        wait(send("Page.navigate", url=page.resolve().as_uri()))
        wait(event="Page.loadEventFired")
        time.sleep(0.3)
        for expression in expressions:
            reply = wait(send("Runtime.evaluate", expression=expression, returnByValue=True))
            run.values[expression] = reply["result"]["result"].get("value")
        if screenshot:
            reply = wait(send("Page.captureScreenshot", format="png"))
            run.screenshot = base64.b64decode(reply["result"]["data"])
        ws.settimeout(0.5)
        try:
            while True:
                handle(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        ws.close()
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)
    run.requests = [u for u in run.requests if u != page.resolve().as_uri()]
    return run


def required() -> bool:
    """In CI the browser must be there (.ci/run installs it); elsewhere its absence skips."""
    return os.environ.get("CI") == "true"


@dataclass
class Picture:
    width: int
    height: int
    # A blank page has one or two different rows of (filtered) pixels, a report hundreds.
    distinct_rows: int


def picture(data: bytes) -> Picture:
    """A PNG read whole: its signature, every chunk's CRC, and image data of the size its header
    states (8-bit, not interlaced, as Chromium writes them). Raises ValueError otherwise."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, header, compressed = 8, None, b""
    while True:
        length, kind = struct.unpack_from(">I4s", data, pos) if pos + 8 <= len(data) else (0, b"")
        if not kind or pos + 12 + length > len(data):
            raise ValueError("truncated PNG: no IEND chunk")
        body = data[pos + 8 : pos + 8 + length]
        if struct.unpack_from(">I", data, pos + 8 + length)[0] != zlib.crc32(kind + body):
            raise ValueError(f"damaged PNG chunk {kind!r} at {pos}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unexpected PNG format: depth {depth}, colour type {colour}, interlace {interlace}")
    raw = zlib.decompress(compressed)
    stride = 1 + width * channels  # Each row is a filter byte, then its pixels.
    if len(raw) != stride * height:
        raise ValueError(f"PNG image data of {len(raw)} bytes for {width} x {height}")
    return Picture(width, height, len({raw[i : i + stride] for i in range(0, len(raw), stride)}))
