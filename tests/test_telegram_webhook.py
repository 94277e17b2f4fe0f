"""The webhook server (bot.telegram.webhook) under attack: the secret before the body, size caps, invalid JSON,
slow and many connections, log floods, payloads and URL-encoded secrets kept out of logs.

Servers listen on 127.0.0.1 only, each in its own thread and event loop, so the tests can use plain blocking
sockets as clients and measure the process's memory.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import select
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from fake_bot_api import TOKEN

from bot.telegram.redact import install, protect_secrets, redact
from bot.telegram.webhook import SECRET_HEADER, Accept, Limits, LogBudget, Rejected, WebhookServer

ROOT = Path(__file__).resolve().parents[1]
SECRET = "richtiges-geheimnis_42"
UPDATE = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}}
OK_HEADERS = {SECRET_HEADER: SECRET}
WEBHOOK_LOGGERS = ("regiobot.telegram.webhook", "tornado", "asyncio")


@dataclass
class Served:
    server: WebhookServer
    port: int
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def serving(accept: Accept | None = None, limits: Limits | None = None) -> Iterator[Served]:
    """A WebhookServer on 127.0.0.1 (random port) in its own thread and event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    calls: list[dict[str, Any]] = []

    async def record(data: dict[str, Any]) -> None:
        calls.append(data)

    server = WebhookServer(accept or record, SECRET, "hook", limits)
    asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(5)
    try:
        yield Served(server, server.port, calls)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def head(length: int | None, headers: dict[str, str], chunked: bool = False) -> bytes:
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(sock: socket.socket) -> int:
    """The status code of the first response on `sock`."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except (BlockingIOError, TimeoutError):
        return False


# --------------------------------------------------------------------------- secret, size, JSON


def test_missing_or_wrong_secret_refused_before_the_body_is_read():
    """A 50 MB body announced without the secret: 403 at once, the body is never read, memory stays flat."""
    megabyte = b"x" * (1 << 20)
    with serving() as s:
        assert httpx.post(s.url, json=UPDATE, headers=OK_HEADERS).status_code == 200  # warm-up
        before = rss()
        for headers in [{}, {SECRET_HEADER: "falsch"}, {SECRET_HEADER: SECRET[:-1]}] * 3:
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
                sock.sendall(head(50_000_000, headers))
                assert status_of(sock) == 403
                assert time.monotonic() - started < 1.0
                sent = 0
                with pytest.raises(OSError):  # the server closed the connection: the body goes nowhere
                    while sent < 50_000_000:
                        sock.sendall(megabyte)
                        sent += len(megabyte)
                        time.sleep(0.001)
                assert sent < 20_000_000
        assert rss() - before < 5 * (1 << 20)
        assert len(s.calls) == 1


def test_body_over_the_cap_gets_413_declared_or_streamed():
    with serving(limits=Limits(max_body=1000)) as s:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(head(2_000_000, OK_HEADERS))
            assert status_of(sock) == 413
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(head(None, OK_HEADERS, chunked=True) + b"7d0\r\n" + b"x" * 2000)
            assert status_of(sock) == 413
        assert s.calls == []


BAD_BODIES = {
    "truncated": b"{",
    "empty": b"",
    "not-utf8": b"\xff\xfe{",
    "list": b"[]",
    "string": b'"text"',
    "no-id": b'{"message": {}}',
    "id-text": b'{"update_id": "7"}',
    "id-bool": b'{"update_id": true}',
    "deep": b"[" * 100_000,
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_invalid_json_or_no_update_gets_400(body):
    with serving() as s:
        response = httpx.post(s.url, content=body, headers=OK_HEADERS)
        assert response.status_code == 400 and response.content == b""
        assert s.calls == []


def test_valid_update_200_only_after_accept_returned():
    calls: list[dict[str, Any]] = []

    async def accept(data: dict[str, Any]) -> None:
        await asyncio.sleep(0.3)
        calls.append(data)

    with serving(accept) as s:
        started = time.monotonic()
        response = httpx.post(s.url, json=UPDATE, headers=OK_HEADERS)
        assert response.status_code == 200 and time.monotonic() - started >= 0.3
    assert calls == [UPDATE]


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("Platte voll"), 500), (Rejected("TypeError"), 400)]
)
def test_accept_failure_answers_so_telegram_retries_or_not(error, status):
    async def accept(data: dict[str, Any]) -> None:
        raise error

    with serving(accept) as s:
        assert httpx.post(s.url, json=UPDATE, headers=OK_HEADERS).status_code == status


def test_other_methods_and_paths():
    with serving() as s:
        get = httpx.get(s.url, headers=OK_HEADERS)
        assert get.status_code == 405 and get.headers["allow"] == "POST"
        assert httpx.post(s.url + "x", json=UPDATE, headers=OK_HEADERS).status_code == 404
        assert "server" not in get.headers
        assert s.calls == []


# --------------------------------------------------------------------------- connections


@pytest.mark.slow
def test_slow_connections_do_not_block_updates_and_time_out():
    """200 clients that connect and send (almost) nothing: a real update still gets through at once,
    also with the connection cap below 200 (the slowest make room), and every slow socket is closed."""
    limits = Limits(header_timeout=1.5, max_connections=64)
    with serving(limits=limits) as s:
        slow = []
        for i in range(200):
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            if i % 2:
                sock.sendall(b"POST /hook HTTP/1.1\r\nHost: 127.")  # an unfinished head
            slow.append(sock)
        time.sleep(0.2)
        started = time.monotonic()
        assert httpx.post(s.url, json=UPDATE, headers=OK_HEADERS, timeout=5).status_code == 200
        assert time.monotonic() - started < 2.0
        deadline = time.monotonic() + limits.header_timeout + 3
        open_ = list(slow)
        while open_ and time.monotonic() < deadline:
            readable, _, _ = select.select(open_, [], [], 0.2)
            open_ = [sock for sock in open_ if sock not in readable or not closed_by_peer(sock)]
        assert open_ == []
        assert s.server.stats["verdrängt"] > 0
        for sock in slow:
            sock.close()
        assert s.calls == [UPDATE]


SUBPROCESS_SERVER = textwrap.dedent(
    """
    import asyncio, logging, resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from bot.telegram.webhook import WebhookServer

    async def main():
        async def accept(data):
            print("angenommen", data["update_id"], flush=True)
        server = WebhookServer(accept, sys.argv[1], "hook")
        await server.start("127.0.0.1", 0)
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.stop()

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_more_connections_than_file_descriptors():
    """The attack that broke PTB's server: more idle connections than the process may open files. The
    server caps its connections below the limit, so updates still get through and the log stays short."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SUBPROCESS_SERVER, SECRET],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    idle: list[socket.socket] = []
    try:
        port = int(proc.stdout.readline())
        for _ in range(600):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        url = f"http://127.0.0.1:{port}/hook"
        for update_id in (1, 2, 3):
            started = time.monotonic()
            response = httpx.post(url, json={**UPDATE, "update_id": update_id}, headers=OK_HEADERS, timeout=5)
            assert response.status_code == 200 and time.monotonic() - started < 3.0
    finally:
        for sock in idle:
            sock.close()
        out, err = proc.communicate("", timeout=20)
    assert out.splitlines() == ["angenommen 1", "angenommen 2", "angenommen 3"]
    assert "Traceback" not in err and len(err.splitlines()) < 20, err


def test_out_of_file_descriptors_pauses_accepting_and_logs_little(caplog):
    class Exhausted:
        def accept(self) -> Any:
            raise OSError(errno.EMFILE, "Too many open files")

    caplog.set_level(logging.DEBUG)
    with serving() as s:
        for _ in range(1000):
            s.server._on_readable(Exhausted(), 0)  # type: ignore[arg-type]
        assert httpx.post(s.url, json=UPDATE, headers=OK_HEADERS, timeout=5).status_code == 200
    lines = [
        r
        for r in caplog.records
        if r.name.startswith(WEBHOOK_LOGGERS) and "Dateideskriptoren" in r.getMessage()
    ]
    assert 1 <= len(lines) <= 4


# --------------------------------------------------------------------------- logs


def test_flood_of_bad_requests_logs_a_few_lines(caplog):
    caplog.set_level(logging.DEBUG)
    bad = [
        ({}, b'{"update_id": 1}'),  # 403
        (OK_HEADERS, b"{"),  # 400
        ({SECRET_HEADER: "x" * 300}, b"[]"),  # 403
    ]
    with serving() as s, httpx.Client(timeout=5) as client:
        for i in range(500):
            headers, body = bad[i % len(bad)]
            assert client.post(s.url, content=body, headers=headers).status_code in (400, 403)
    lines = [r for r in caplog.records if r.name.startswith(WEBHOOK_LOGGERS)]
    assert len(lines) < 20, [r.getMessage() for r in lines]
    assert any("unterdrückt" in r.getMessage() for r in lines)
    text = caplog.text
    assert SECRET not in text and "x" * 300 not in text


def test_log_budget_reports_how_many_were_suppressed():
    budget = LogBudget(lines=2, window=0.2)
    log = logging.getLogger("test.budget")

    def record(n: int) -> logging.LogRecord:
        return log.makeRecord(log.name, logging.WARNING, __file__, 1, "Fehler %d", (n,), None)

    passed = [r.getMessage() for r in map(record, range(10)) if budget.filter(r)]
    assert passed[:2] == ["Fehler 0", "Fehler 1"] and "unterdrückt" in passed[2] and len(passed) == 3
    time.sleep(0.25)
    later = record(10)
    assert budget.filter(later) and "davor 7 gleichartige Meldungen unterdrückt" in later.getMessage()


MALFORMED = {
    "update_id": 31337,
    "message": {
        "message_id": 4242,
        "text": "Hallo",
        "from": {"first_name": "Annegret", "username": "annegret_k", "id": 987654321},
        "chat": {"id": 987654321, "type": "private"},
    },
}


def test_malformed_update_never_in_the_log(caplog):
    """Through the default accept (PTB's Update.de_json) and as PTB and tornado would log it."""
    from telegram.ext import ApplicationBuilder

    from bot.telegram.webhook import update_queue_hook

    install()
    caplog.set_level(logging.DEBUG)
    app = ApplicationBuilder().token(TOKEN).updater(None).build()
    with serving(update_queue_hook(app)) as s:
        assert httpx.post(s.url, json=MALFORMED, headers=OK_HEADERS).status_code == 400
        assert httpx.post(s.url, json=[MALFORMED], headers=OK_HEADERS).status_code == 400
    assert app.update_queue.qsize() == 0
    try:
        raise TypeError(f"kaputt: {MALFORMED}")
    except TypeError as exc:
        logging.getLogger("telegram.ext._utils.webhookhandler").critical(
            "Something went wrong processing the data received from Telegram. Received data was: %r",
            MALFORMED,
            exc_info=exc,
        )
    logging.getLogger("telegram.Bot").debug(
        "Call to Bot API endpoint `getUpdates` returned `%s`", [MALFORMED]
    )
    logging.getLogger("tornado.general").info("Malformed body: %s", json.dumps(MALFORMED))
    logging.getLogger("asyncio").error(f"Task exception: {MALFORMED!r}")
    text = caplog.text
    for private in ("Annegret", "annegret_k", "987654321", "4242", "Hallo"):
        assert private not in text, private
    assert "Received data was" in text and "TypeError" in text and "Traceback" in text


# --------------------------------------------------------------------------- secrets


def test_secrets_redacted_in_url_encoded_forms(caplog):
    protect_secrets(TOKEN, "geheim/mit+zeichen")
    bot_id, rest = TOKEN.split(":")
    forms = [
        TOKEN,
        quote(TOKEN, safe=""),
        quote(TOKEN),
        quote_plus(TOKEN),
        f"{bot_id}%3a{rest}",
        f"{bot_id}%253A{rest}",
        quote("geheim/mit+zeichen", safe=""),
        quote_plus("geheim/mit+zeichen"),
    ]
    for form in forms:
        assert (
            redact(f"https://api.example.org/bot{form}/getMe") == "https://api.example.org/bot<geheim>/getMe"
        )
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").warning("GET %s", "https://x/bot" + quote(TOKEN, safe="") + "/getMe")
    assert rest not in caplog.text and "<geheim>" in caplog.text
