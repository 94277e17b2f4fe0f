"""`GET /healthz` and `GET /metrics` for operators, on `service.listen` / `service.port` (polling and webhook mode).

/healthz answers 200 with a short JSON while the engine has a loaded, non-empty index, 503 otherwise (a load
balancer or Docker's HEALTHCHECK takes the replica out); /metrics is Prometheus text from bot.metrics.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import tornado.httpserver
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import METRICS, Metrics

logger = logging.getLogger("regiobot.telegram")


class _Health(tornado.web.RequestHandler):
    def initialize(self, status: Callable[[], dict[str, Any]]) -> None:
        self.status = status

    def get(self) -> None:
        try:
            body = self.status()
        except Exception as exc:  # the check itself failing is unhealthy, never a 500 with a traceback
            body = {"status": "fehler", "grund": type(exc).__name__}
        self.set_status(200 if body.get("status") == "ok" else 503)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body, ensure_ascii=False))


class _Metrics(tornado.web.RequestHandler):
    def initialize(self, metrics: Metrics, refresh: Callable[[], None]) -> None:
        self.metrics, self.refresh = metrics, refresh

    def get(self) -> None:
        self.refresh()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(self.metrics.text())


def serve(
    listen: str,
    port: int,
    status: Callable[[], dict[str, Any]],
    refresh: Callable[[], None] = lambda: None,
    metrics: Metrics = METRICS,
) -> tornado.httpserver.HTTPServer:
    """Start the server on the running event loop; `.stop()` ends it. Raises OSError when the port is taken."""
    app = tornado.web.Application(
        [
            (r"/healthz", _Health, {"status": status}),
            (r"/metrics", _Metrics, {"metrics": metrics, "refresh": refresh}),
        ],
        log_function=lambda handler: None,  # no access log: operators poll these every few seconds
    )
    server = tornado.httpserver.HTTPServer(
        app, idle_connection_timeout=10, body_timeout=5, max_body_size=1024
    )
    server.listen(port, address=listen)
    return server


def bound_port(server: tornado.httpserver.HTTPServer) -> int:
    """The port actually bound (for `service.port: 0` in tests)."""
    return next(iter(server._sockets.values())).getsockname()[1]
