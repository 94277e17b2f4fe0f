"""Our own webhook server for `regiobot run` in webhook mode (instead of PTB's run_webhook).

PTB's server buffers bodies up to 100 MB before it checks the secret, keeps any number of slow
connections open until the process runs out of file descriptors (and then logs a traceback per
event loop turn), answers invalid JSON with 500 and logs malformed updates in full. This one:

* checks `X-Telegram-Bot-Api-Secret-Token` before a byte of the body is read (403; a body of at most
  `Limits.drain` bytes is then read and dropped so the client sees the 403, a larger one is cut off),
* refuses bodies over `Limits.max_body` (413), declared or streamed,
* answers 400 for anything that is not a JSON object with an integer update_id,
* answers 200 only after `accept(data)` returned (500 if it raised, so Telegram retries),
* bounds open connections (at the cap the connection waiting longest for a request head is closed)
  and the time a client may take for head and body,
* logs sizes and status codes only, at most a few lines per kind of problem and minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import logging
import re
import resource
import signal
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tornado.web
from telegram import Update
from tornado import httputil, netutil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

from bot.telegram.delivery import MAILBOX

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import WebhookSettings

logger = logging.getLogger("regiobot.telegram.webhook")  # INFO even when the CLI logs warnings only

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Accept = Callable[[dict[str, Any]], Awaitable[None]]
# tornado's own loggers; they log per request or per connection and need the same budget
LIBRARY_LOGGERS = ("tornado.access", "tornado.application", "tornado.general", "asyncio")
OUT_OF_FILES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


@dataclass(frozen=True)
class Limits:
    """Defaults sized for Telegram: updates are a few KB, Telegram opens at most 100 connections."""

    max_body: int = 1024 * 1024  # bytes; larger bodies get 413
    header_timeout: float = 10.0  # seconds for the whole request head (and for idle keep-alive)
    body_timeout: float = 10.0  # seconds for the whole body
    max_connections: int = 256  # open sockets; also at most half the process's file descriptor limit
    max_header_size: int = 16 * 1024
    drain: int = 64 * 1024  # a refused request's body up to this size is read and dropped (see refuse_early)
    log_lines: int = 3  # lines per kind of problem and window, then one "suppressed" line
    log_window: float = 60.0
    drain_timeout: float = 5.0  # on stop: seconds for requests already inside accept()


class Rejected(ValueError):
    """Raised by an accept hook for an update that can never be processed: 400 instead of 500."""


class LogBudget(logging.Filter):
    """At most `lines` records per kind (logger, level, template, `kind` extra) and window, then one
    line saying the rest is suppressed; the first record of the next window says how many were."""

    def __init__(self, lines: int, window: float) -> None:
        super().__init__()
        self.lines, self.window = lines, window
        self._seen: dict[tuple[Any, ...], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg)[:60], getattr(record, "kind", None))
        now = time.monotonic()
        if len(self._seen) > 1000:  # many distinct messages: forget, stay bounded
            self._seen.clear()
        start, count = self._seen.get(key, (now, 0))
        if now - start >= self.window:
            if count > self.lines + 1:
                record.msg = (
                    f"{record.msg} (davor {int(count - self.lines - 1)} gleichartige Meldungen unterdrückt)"
                )
            start, count = now, 0
        self._seen[key] = [start, count + 1]
        if count < self.lines:
            return True
        if count == self.lines:
            text = record.getMessage()[:100]
            record.msg = f"Weitere Meldungen wie „{text}“ werden {self.window:.0f} s lang unterdrückt"
            record.args, record.exc_info, record.exc_text = (), None, None
            return True
        return False


class _Watched(httputil.HTTPMessageDelegate):
    """Passes a request through and tells the server when its head has arrived."""

    def __init__(self, inner: httputil.HTTPMessageDelegate, on_head: Callable[[], None]) -> None:
        self.inner, self.on_head = inner, on_head

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Awaitable[None] | None:
        self.on_head()
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()


class _BoundedHTTPServer(HTTPServer):
    """HTTPServer with a cap on open connections. At the cap, the connection that has waited longest
    for a request head is closed: slow or idle clients make room, requests in progress stay."""

    cap = 256
    stats: Counter[str]

    def prepare_limits(self, cap: int, stats: Counter[str]) -> None:
        self.cap, self.stats = cap, stats
        self.open = 0
        self.waiting: dict[Any, float] = {}  # connection → since when it waits for a request head

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        if self.open >= self.cap and not self.evict():
            self.stats["überlastet"] += 1
            stream.close()
            return
        self.open += 1
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> Any:
        self.waiting[server_conn] = time.monotonic()
        inner = super().start_request(server_conn, request_conn)
        return _Watched(inner, lambda: self.waiting.pop(server_conn, None))

    def on_close(self, server_conn: object) -> None:
        self.open -= 1
        self.waiting.pop(server_conn, None)
        super().on_close(server_conn)

    def evict(self) -> bool:
        """Close the connection waiting longest for a request head; False if none waits."""
        if not self.waiting:
            return False
        oldest = min(self.waiting, key=self.waiting.__getitem__)
        del self.waiting[oldest]
        oldest.stream.close()  # type: ignore[attr-defined]
        self.stats["verdrängt"] += 1
        return True


class _Quiet(tornado.web.RequestHandler):
    """Empty error bodies, no server banner, no tracebacks (they could quote the request)."""

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.clear_header("Content-Type")  # the answers have no body

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:
            self.set_header("Allow", "POST")
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, tornado.web.HTTPError):  # 405 and the like are counted, not logged
            logger.error("Webhook: Fehler %s", getattr(typ, "__name__", typ), extra={"kind": "exc"})


@tornado.web.stream_request_body
class _NotFound(_Quiet):
    """Every other path: 404 before the body is read (tornado's default handler would buffer it)."""

    def prepare(self) -> None:
        self.send_error(404)


@tornado.web.stream_request_body
class _UpdateHandler(_Quiet):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]  # anything else: 405

    def initialize(self, server: WebhookServer) -> None:
        self.server = server
        self.body = bytearray()
        self.refusal: tuple[int, str] | None = None

    def prepare(self) -> None:
        """Runs after the head, before the body is read: refusing here means it is never buffered."""
        given = self.request.headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self.server.secret):
            return self.refuse_early(403, "ohne gültiges Geheimnis")
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.server.limits.max_body:
            return self.refuse(413, "zu groß")
        return None

    def refuse_early(self, status: int, reason: str) -> None:
        """A small body is read and dropped (never kept) before the answer: closing on unread data resets the
        connection, and the client would never see the status. A larger or streamed one is cut off at once."""
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) <= self.server.limits.drain:
            self.refusal = (status, reason)
        else:
            self.refuse(status, reason)

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self.refusal:
            return
        if len(self.body) + len(chunk) > self.server.limits.max_body:
            self.refuse(413, "zu groß")
            self.body.clear()
            return
        self.body += chunk

    async def post(self) -> None:
        if self._finished:
            return
        if self.refusal:
            return self.refuse(*self.refusal)
        data = parse_update(bytes(self.body))
        if data is None:
            return self.refuse(400, "kein gültiges Update")
        self.server.inflight += 1
        try:
            await self.server.accept(data)
        except Rejected:
            return self.refuse(400, "Update nicht verwertbar")
        except Exception as exc:
            return self.refuse(500, f"Annahme gescheitert: {type(exc).__name__}")
        finally:
            self.server.inflight -= 1
        self.finish()

    def refuse(self, status: int, reason: str) -> None:
        declared = self.request.headers.get("Content-Length", "")
        size = max(len(self.body), int(declared) if declared.isdigit() else 0)
        logger.warning(
            "Webhook-Anfrage abgewiesen: %d %s (%d Bytes)", status, reason, size, extra={"kind": status}
        )
        self.send_error(status)


def parse_update(body: bytes) -> dict[str, Any] | None:
    """The JSON object with an integer update_id, or None."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    return data


class WebhookServer:
    """Accepts Telegram updates on http://listen:port/path and hands each to `accept`."""

    def __init__(self, accept: Accept, secret: str, path: str, limits: Limits | None = None) -> None:
        self.accept, self.secret = accept, secret.encode()
        self.path = "/" + path.strip("/")
        self.limits = limits or Limits()
        self.stats: Counter[str] = Counter()
        self.inflight = 0
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._paused = False
        self._budget = LogBudget(self.limits.log_lines, self.limits.log_window)
        self._summary: asyncio.Task[None] | None = None
        self._http = self._build_http()

    def _build_http(self) -> _BoundedHTTPServer:
        app = tornado.web.Application(
            [(re.escape(self.path), _UpdateHandler, {"server": self})],
            default_handler_class=_NotFound,
            log_function=lambda handler: self.stats.update([str(handler.get_status())]),
        )
        limits = self.limits
        http = _BoundedHTTPServer(
            app,
            idle_connection_timeout=limits.header_timeout,
            body_timeout=limits.body_timeout,
            max_header_size=limits.max_header_size,
            max_buffer_size=4 * limits.max_header_size + 64 * 1024,  # bodies are streamed in chunks
            max_body_size=1 << 40,  # the handler enforces max_body itself, with a proper 403/413 first
        )
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        cap = (
            limits.max_connections
            if soft == resource.RLIM_INFINITY
            else min(limits.max_connections, soft // 2)
        )
        http.prepare_limits(max(cap, 8), self.stats)
        return http

    async def start(self, listen: str, port: int) -> None:
        """Bind (OSError if the port is taken) and start accepting."""
        self._sockets = netutil.bind_sockets(port, address=listen)
        self.port = self._sockets[0].getsockname()[1]
        for name in (logger.name, *LIBRARY_LOGGERS):
            logging.getLogger(name).addFilter(self._budget)
        self._accepting(True)
        self._summary = asyncio.create_task(self._summarize())
        logger.info("Webhook-Server lauscht auf %s:%d%s", listen, self.port, self.path)

    def _accepting(self, on: bool) -> None:
        loop = IOLoop.current()
        for sock in self._sockets:
            if on:
                loop.add_handler(sock, self._on_readable, IOLoop.READ)
            else:
                loop.remove_handler(sock)

    def _on_readable(self, sock: socket.socket, events: int) -> None:
        for _ in range(64):  # a bounded batch, then other work gets its turn
            try:
                conn, address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                return self._out_of_files(exc)
            self._http.handle_stream(IOStream(conn, max_buffer_size=self._http.max_buffer_size), address)

    def _out_of_files(self, exc: OSError) -> None:
        """No descriptor left: free one, pause accepting briefly, log within the budget (no traceback)."""
        if exc.errno not in OUT_OF_FILES:
            logger.error("Webhook: accept() fehlgeschlagen (%s)", exc.strerror, extra={"kind": "accept"})
        else:
            logger.error("Webhook: keine Dateideskriptoren frei (%s)", exc.strerror, extra={"kind": "files"})
            self._http.evict()
        if not self._paused:
            self._paused = True
            self._accepting(False)
            IOLoop.current().call_later(0.2, self._resume)

    def _resume(self) -> None:
        if self._paused and self._sockets:
            self._paused = False
            self._accepting(True)

    async def _summarize(self) -> None:
        """Once per window: totals by status, when anything was refused."""
        while True:
            await asyncio.sleep(self.limits.log_window)
            counts, self.stats = dict(self.stats), Counter()
            self._http.stats = self.stats
            if any(key != "200" for key in counts):
                text = ", ".join(f"{key}: {n}" for key, n in sorted(counts.items()))
                logger.info("Webhook in den letzten %.0f s: %s", self.limits.log_window, text)

    async def stop(self) -> None:
        """Stop accepting, give requests inside accept() a moment, then close every connection."""
        if self._sockets and not self._paused:
            self._accepting(False)
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        deadline = time.monotonic() + self.limits.drain_timeout
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self._http.close_all_connections()
        if self._summary:
            self._summary.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._summary
        for name in (logger.name, *LIBRARY_LOGGERS):
            logging.getLogger(name).removeFilter(self._budget)


def update_queue_hook(app: Application) -> Accept:
    """The default accept: a PTB Update on the application's queue (a malformed one is Rejected). With an
    inbox (bot_data[MAILBOX]) the update is stored first, and one received before (a replay) is skipped."""

    async def accept(data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # its text may quote the payload: only the type goes on
            raise Rejected(type(exc).__name__) from None
        mailbox = app.bot_data.get(MAILBOX)
        if mailbox is not None and not mailbox.receive([data])[0]:
            return
        await app.update_queue.put(update)

    return accept


STOP_TIMEOUT = 20.0  # seconds for updates already accepted to be answered after SIGTERM


async def serve_application(
    app: Application,
    settings: WebhookSettings,
    secret: str,
    allowed_updates: list[str],
    stop: asyncio.Event | None = None,
) -> None:
    """What run_webhook did, with our server: start the app, set the webhook, serve until SIGTERM/SIGINT
    (or `stop`), then stop the server and let the app finish accepted updates (bounded) and shut down."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    server = WebhookServer(update_queue_hook(app), secret, settings.path)
    try:
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.start()
        await server.start(settings.listen, settings.port)
        await app.bot.set_webhook(
            settings.url or "",
            secret_token=secret,
            allowed_updates=allowed_updates,
            max_connections=settings.max_connections,
        )
        logger.info("Webhook bei Telegram angemeldet: %s", settings.url)
        await stop.wait()
        logger.info("Beende: keine neuen Updates mehr, angenommene werden noch beantwortet …")
    finally:
        await server.stop()
        await _stop_app(app)
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def _stop_app(app: Application) -> None:
    if app.running:
        try:
            await asyncio.wait_for(app.stop(), STOP_TIMEOUT)
        except TimeoutError:
            logger.warning(
                "Nicht alle angenommenen Updates in %.0f s beantwortet; beende trotzdem", STOP_TIMEOUT
            )
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
