"""A small fake Telegram Bot API server for end-to-end tests of the real python-telegram-bot Application.

Runs aiohttp on 127.0.0.1 (random port) in its own thread and event loop, so it serves in-process
applications and a `regiobot run` subprocess alike. It records every call, validates what the bot
sends like Telegram does (HTML parse mode, 4,096 characters, non-empty text) and injects faults:

    api.fail("sendMessage", "429", times=1, retry_after=1)   # 429 Too Many Requests + retry_after
    api.fail("sendMessage", "500")                           # 500 Internal Server Error
    api.fail("sendMessage", "json")                          # 200 with a malformed JSON body
    api.fail("sendMessage", "reset")                         # connection dropped without a response
    api.fail("sendMessage", "timeout", delay=2.0)            # no answer for `delay` s, then dropped
    api.fail("sendMessage", "delay", delay=0.5)              # slow but successful

A faulted call is recorded (with `fault` set) and *not* carried out, as when the request never
reached Telegram; so "answered exactly once" means exactly one successful sendMessage per question.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAHfakeTokenForTests_abcdefghijklmnopq"
BOT_ID = 123456789
BOT_USERNAME = "regio_test_bot"

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"<>]*")?)*)\s*>')
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def html_problem(text: str) -> str | None:
    """Why Telegram would reject `text` in HTML parse mode (strictly), or None if it is fine."""
    visible: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m:
                return f"Bad Request: can't parse entities: unexpected '<' at byte offset {i}"
            closing, name, attrs = m[1], m[2].lower(), m[3]
            if name not in ALLOWED_TAGS:
                return f'Bad Request: can\'t parse entities: unsupported start tag "{name}" at {i}'
            if closing:
                if not stack or stack[-1] != name:
                    return f"Bad Request: can't parse entities: can't find start tag for \"{name}\" at {i}"
                stack.pop()
            else:
                if name == "a" and not re.search(r'href="[^"]+"', attrs):
                    return "Bad Request: can't parse entities: <a> without href"
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                return f"Bad Request: can't parse entities: bare '&' at {i}"
            visible.append(html.unescape(m[0]))
            i = m.end()
        elif ch == ">":
            return f"Bad Request: can't parse entities: unexpected '>' at {i}"
        else:
            visible.append(ch)
            i += 1
    if stack:
        return f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
    return text_problem("".join(visible))


def text_problem(visible: str) -> str | None:
    if not visible.strip():
        return "Bad Request: message text is empty"
    if utf16_len(visible) > 4096:
        return "Bad Request: message is too long"
    return None


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    fault: str | None = None
    error: str | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Uploaded files (sendDocument): field name → (file name, content)."""

    @property
    def ok(self) -> bool:
        return self.fault is None and self.error is None


@dataclass
class Fault:
    kind: str
    times: int
    retry_after: int = 1
    delay: float = 0.0
    until: float | None = None
    """A time-based fault (an outage, a slow period) applies to every call until this monotonic time."""


_JSON_FIELDS = {"reply_markup", "commands", "entities", "link_preview_options", "reply_parameters", "scope"}


def _parse_params(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


@dataclass(repr=False)
class FakeBotAPI:
    token: str = TOKEN
    bot_id: int = BOT_ID
    username: str = BOT_USERNAME
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._delivered = 0  # highest update_id handed out by getUpdates
        self._confirmed = 0  # highest update_id confirmed via offset
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._faults: dict[str, list[Fault]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # what the bot sent, by (chat, id)
        self.webhook: dict[str, Any] = {}
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeBotAPI:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True, name="fake-bot-api")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Bot API did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def stop(self) -> None:
        if self._loop and self._thread:
            self._closing = True
            if self._runner is not None:
                future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
                with suppress(Exception):
                    future.result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- faults

    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 1, delay: float = 0.0) -> None:
        assert kind in {"403", "429", "500", "json", "reset", "timeout", "delay"}, kind
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(kind, times, retry_after, delay))

    def fail_for(
        self, method: str, kind: str, seconds: float, retry_after: int = 1, delay: float = 0.0
    ) -> None:
        """Every `method` call fails (or is slow: kind "delay") with `kind` for the next `seconds`."""
        assert kind in {"429", "500", "json", "reset", "timeout", "delay"}, kind
        until = time.monotonic() + seconds
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(kind, 1 << 30, retry_after, delay, until))

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            while queue and queue[0].until is not None and time.monotonic() >= queue[0].until:
                queue.pop(0)
            if not queue:
                return None
            fault = queue[0]
            if fault.until is not None:
                return fault
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    # ----------------------------------------------------------------- updates (what users do)

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"Nutzer{chat_id}"
        else:
            chat["title"] = f"Gruppe {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"Nutzer{user_id}", "language_code": "de"}

    def add_update(self, update: dict[str, Any]) -> int:
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            return update["update_id"]

    def message(
        self,
        text: str | None = None,
        *,
        chat_id: int = 1001,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: dict[str, Any] | None = None,
        edited: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a user's message (text or e.g. sticker=...) and return the message dict."""
        user_id = user_id if user_id is not None else (chat_id if chat_type == "private" else 2001)
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": self._user(user_id),
            **extra,
        }
        if text is not None:
            msg["text"] = text
            entities = []
            if m := re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text):
                entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m[0])})
            for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{3,}", text):
                entities.append(
                    {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
                )
            if entities:
                msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        if edited:
            msg["edit_date"] = int(time.time())
        self.add_update({"edited_message" if edited else "message": msg})
        return msg

    def press(self, data: str, message: dict[str, Any], user_id: int | None = None) -> str:
        """Queue a callback query: `user_id` presses the button with `data` under the bot's `message`."""
        chat_id = message["chat"]["id"]
        user_id = user_id if user_id is not None else chat_id
        query_id = str(next(self._callback_ids))
        self.add_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id),
                    "chat_instance": f"ci{chat_id}",
                    "message": message,
                    "data": data,
                }
            }
        )
        return query_id

    # ----------------------------------------------------------------- inspection

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent successfully (sendMessage results), oldest first."""
        with self._lock:
            return [
                m
                for m in self.messages.values()
                if chat_id is None or m["chat"]["id"] == chat_id
                if m.get("_kind") == "send"
            ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m["_raw_text"] for m in self.sent(chat_id)]

    @property
    def all_delivered(self) -> bool:
        with self._lock:
            last = self._updates[-1]["update_id"] if self._updates else 0
            return self._delivered >= last

    def wait(self, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; calls: {self.summary()}")

    async def await_(
        self, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; calls: {self.summary()}")

    async def replies(self, chat_id: int, n: int = 1, timeout: float = 15.0) -> list[str]:
        """Wait until the bot has sent at least n messages to chat_id; return their texts."""
        await self.await_(lambda: len(self.texts(chat_id)) >= n, timeout, f"{n} message(s) to chat {chat_id}")
        return self.texts(chat_id)

    def summary(self) -> str:
        with self._lock:
            tail = self.calls[-15:]
        return ", ".join(f"{c.method}{'!' + (c.fault or c.error or '') if not c.ok else ''}" for c in tail)

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        if request.content_type == "application/json":
            raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()}
        else:
            form = await request.post()
            raw = {k: v for k, v in form.items() if isinstance(v, str)}
            files = {k: (v.filename, v.file.read()) for k, v in form.items() if isinstance(v, web.FileField)}
        call = Call(method, _parse_params(raw), time.time())
        if request.content_type != "application/json":
            call.files = files
        with self._lock:
            self.calls.append(call)
        fault = self._take_fault(method)
        if fault is not None:
            call.fault = fault.kind
            if fault.kind == "429":
                return _error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            if fault.kind == "500":
                return _error(500, "Internal Server Error")
            if fault.kind == "403":
                return _error(403, "Forbidden: bot was blocked by the user")
            if fault.kind == "json":
                return web.Response(
                    status=200, text='{"ok": true, "result": {broken', content_type="application/json"
                )
            if fault.kind in {"reset", "timeout"}:
                if fault.kind == "timeout":
                    await asyncio.sleep(fault.delay)
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            if fault.kind == "delay":
                call.fault = None
                await asyncio.sleep(fault.delay)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.error = "not found"
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(call.params)
        except ApiError as exc:
            call.error = exc.description
            return _error(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    # ----------------------------------------------------------------- Bot API methods

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Regiobot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self._me()

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)  # short polls keep shutdown fast
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._confirmed = max(self._confirmed, offset - 1)
                batch = [u for u in self._updates if u["update_id"] >= offset][:limit]
                if batch:
                    self._delivered = max(self._delivered, batch[-1]["update_id"])
                    return batch
            if time.monotonic() >= deadline or self._closing:
                return []
            await asyncio.sleep(0.01)

    def _chat_of(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError) as exc:
            raise ApiError(400, "Bad Request: chat_id is empty") from exc
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_text(self, params: dict[str, Any]) -> str:
        text = params.get("text", "")
        problem = html_problem(text) if params.get("parse_mode") == "HTML" else text_problem(text)
        if params.get("parse_mode") not in (None, "HTML"):
            problem = f"unexpected parse_mode {params.get('parse_mode')}"
        if problem:
            raise ApiError(400, problem)
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return text

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat_of(params)
        text = self._check_text(params)
        msg = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._me(),
            "text": _visible(text) if params.get("parse_mode") == "HTML" else text,
        }
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            msg["reply_markup"] = params["reply_markup"]
        stored = {**msg, "_kind": "send", "_raw_text": text, "_params": params}
        with self._lock:
            self.messages[(chat["id"], msg["message_id"])] = stored
        return msg

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        chat = self._chat_of(params)
        msg = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._me(),
            "document": {"file_id": "doc", "file_unique_id": "doc"},
        }
        return msg

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_of(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        stored = self._existing(params)
        text = self._check_text(params)
        with self._lock:
            stored["_raw_text"] = text
            stored["text"] = _visible(text) if params.get("parse_mode") == "HTML" else text
            stored["reply_markup"] = params.get("reply_markup")
        return {k: v for k, v in stored.items() if not k.startswith("_") and v is not None}

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        stored = self._existing(params)
        with self._lock:
            stored["reply_markup"] = params.get("reply_markup")
        return {k: v for k, v in stored.items() if not k.startswith("_") and v is not None}

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", cmd.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True


class ApiError(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------- test knowledge and config

TODAY = "2024-03-01"
LONG_PARAGRAPH = (
    "Der Leitfaden Kooperationsraum Saale-Unstrut beschreibt Schritt für Schritt, wie Gemeinden, "
    "Vereine & Unternehmen <gemeinsam> Projekte anstoßen, Mittel beantragen und Ergebnisse teilen. "
)
KNOWLEDGE = {
    "test.yaml": f"""\
defaults:
  source:
    document: "SEG Mansfeld-Südharz: Regionaldialog"
    url: https://www.seg-msh.de/regionaldialog
    as_of: 2024-02
  updated: 2024-02-20
entries:
  - id: regionaldialog-9
    type: event
    title: "9. Regionaldialog Mansfeld-Südharz"
    text: >-
      Der 9. Regionaldialog findet am 15.05.2024 in Sangerhausen statt. Thema ist die
      Fachkräftesicherung in der Region.
    questions: ["Wann ist der nächste Regionaldialog?", "Wo findet der 9. Regionaldialog statt?"]
    tags: [Regionaldialog, Fachkräfte]
    series: Regionaldialog
    number: 9
    date: 2024-05-15
    status: geplant
    place: Sangerhausen
    topic: Fachkräftesicherung
    contacts: [madlen-beyer]
  - id: regionaldialog-8
    type: event
    title: "8. Regionaldialog Mansfeld-Südharz"
    text: Der 8. Regionaldialog fand am 20.02.2024 in Lutherstadt Eisleben statt, Thema war Tourismus.
    tags: [Regionaldialog, Tourismus]
    series: Regionaldialog
    number: 8
    date: 2024-02-20
    place: Lutherstadt Eisleben
    topic: Tourismus
  - id: madlen-beyer
    type: contact
    title: "Madlen Beyer, Wirtschaftsförderung der SEG"
    text: >-
      Madlen Beyer leitet die Wirtschaftsförderung der Standortentwicklungsgesellschaft
      Mansfeld-Südharz und organisiert den Regionaldialog.
    questions: ["Wer organisiert den Regionaldialog?", "Wer ist Ansprechpartnerin für Wirtschaftsförderung?"]
    tags: [Wirtschaftsförderung]
    person: Madlen Beyer
    role: Leiterin Wirtschaftsförderung
    organisation_name: SEG Mansfeld-Südharz
    email: beyer@seg-msh.de
    topics: [Wirtschaftsförderung, Regionaldialog]
  - id: regionalbudget-2024
    type: funding_call
    title: "Regionalbudget 2024: Kleinprojekte im ländlichen Raum"
    text: >-
      Über das Regionalbudget 2024 werden Kleinprojekte im ländlichen Raum mit bis zu 20.000 Euro
      gefördert. Anträge stellen Vereine, Kommunen und Unternehmen.
    questions: ["Welche Förderung gibt es für Kleinprojekte?", "Bis wann kann man das Regionalbudget beantragen?"]
    tags: [Förderung, Ländlicher Raum]
    programme: Regionalbudget 2024
    opens: 2024-02-01
    closes: 2024-04-30
    topics: [Kleinprojekte, Dorfentwicklung]
    contacts: [madlen-beyer]
  - id: landkreis-msh
    type: organisation
    title: "Landkreis Mansfeld-Südharz"
    text: Der Landkreis Mansfeld-Südharz liegt im Süden Sachsen-Anhalts; Kreisstadt ist Sangerhausen.
    name: Landkreis Mansfeld-Südharz
    kind: landkreis
  - id: regionalforum
    type: organisation
    title: "Regionalforum Halle"
    text: Das Regionalforum Halle ist ein informelles Gremium für regionale Zusammenarbeit.
    name: Regionalforum Halle
    kind: forum
  - id: geschaeftsstelle
    type: info
    title: "Geschäftsstelle des Regionalforums in Halle"
    text: >-
      Die Geschäftsstelle des Regionalforums befindet sich am Hansering 15 in Halle (Saale).
      Sie ist montags bis freitags von 9 bis 15 Uhr erreichbar.
    questions: ["Wo ist die Geschäftsstelle des Regionalforums?", "Wann ist die Geschäftsstelle geöffnet?"]
    tags: [Regionalforum]
    source:
      document: "Regionalforum Halle (Webseite)"
  - id: leitfaden-kooperation
    type: info
    title: "Leitfaden Kooperationsraum Saale-Unstrut"
    text: |-
{chr(10).join("      " + LONG_PARAGRAPH * 6 + chr(10) for _ in range(10))}
    questions: ["Was steht im Leitfaden Kooperationsraum Saale-Unstrut?"]
    tags: [Leitfaden]
""",
}

NEW_ENTRY = """\
entries:
  - id: radwegenetz
    type: info
    title: "Radwegenetz Kyffhäuser"
    text: Das Radwegenetz Kyffhäuser wird bis 2026 um 120 Kilometer Radwege erweitert.
    questions: ["Wie lang wird das Radwegenetz Kyffhäuser erweitert?"]
    source:
      document: "Kreisentwicklungskonzept Kyffhäuser"
    updated: 2024-02-01
"""

BROKEN_ENTRY = """\
entries:
  - id: kaputt
    type: info
    title: "Kaputter Eintrag"
    text: Dieser Eintrag hat ein falsches Datum.
    source:
      document: "Test"
    updated: 31.12.2023
"""


def write_knowledge(folder: Any) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in KNOWLEDGE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def config_yaml(root: Any, base_url: str, admin_ids: tuple[int, ...] = (), **telegram: Any) -> str:
    """A config.yaml for tests: knowledge/index/data under `root`, fixed today."""
    tg = {
        "base_url": base_url,
        "admin_ids": list(admin_ids),
        "max_question_chars": 500,
        "rate_limit_messages": 30,
        "rate_limit_seconds": 60,
        "max_retries": 5,
        "request_timeout": 3,
        "max_messages_per_second": 0,
        **telegram,
    }
    import yaml

    return yaml.safe_dump(
        {
            "knowledge_dir": str(root / "knowledge"),
            "index_dir": str(root / "index"),
            "data_dir": str(root / "data"),
            "today": TODAY,
            "answer": {"max_chars": 20_000},  # whole passages: the long entry must stay > 4,096 characters
            "service": {"port": 0},  # /healthz and /metrics on any free port: tests never collide
            "telegram": tg,
        },
        allow_unicode=True,
    )


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    """Run a built Application with long polling against the fake server, like run_polling does."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def settle(app: Any, api: FakeBotAPI, timeout: float = 15.0) -> None:
    """Wait until every queued update was fetched and fully processed."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        busy = (
            not api.all_delivered
            or app.update_queue.qsize() > 0
            or app.update_processor.current_concurrent_updates > 0
        )
        quiet = 0 if busy else quiet + 1
        if quiet >= 5:
            return
        await asyncio.sleep(0.03)
    raise AssertionError(f"bot did not settle within {timeout} s; calls: {api.summary()}")


def make_world(root: Any, encoder: Any, admin_ids: tuple[int, ...] = ()) -> tuple[Any, Any]:
    """Test knowledge under `root`, its config (fixed today) and a real Engine built on it."""
    from bot.answer import Engine
    from bot.config import load_config

    write_knowledge(root / "knowledge")
    (root / "config.yaml").write_text(config_yaml(root, "http://127.0.0.1:9/bot", admin_ids=admin_ids))
    config = load_config(root / "config.yaml")
    return config, Engine.load(config, encoder=encoder)


def config_for(config: Any, api: FakeBotAPI, data_dir: Any, **telegram: Any) -> Any:
    """`config` pointed at the fake server, with its own data folder and telegram overrides."""
    tg = config.telegram.model_copy(update={"base_url": api.base_url, **telegram})
    service = config.service.model_copy(update={"port": 0})  # any free port: tests never collide
    return config.model_copy(update={"data_dir": data_dir, "telegram": tg, "service": service})
