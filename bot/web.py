"""The web app that receives webhooks (``/telegram``, ``/whatsapp``) and answers ``/healthz``
and ``/readyz``, served by uvicorn.

Every request is checked before its body is read: the secret header first (compared in
constant time), then the declared length; the body is then read in pieces and refused once
it passes the cap, so that a stranger cannot make the bot hold a large body in memory. An
accepted update goes into the journaling update queue (recorded in the inbox) before the
200 goes back: from then on it is the bot's to apply, even across a crash. When the inbox
cannot be written in time, the answer is 503 and Telegram delivers the update again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.storage import StorageUnavailable

MAX_UPDATE_BYTES = 1024 * 1024
"""Telegram's updates are a few kilobytes; anything near this is not one."""
JOURNAL_PATIENCE_SECONDS = 10.0
"""How long a webhook request waits for the inbox before answering 503."""
SECRET_HEADER = "x-telegram-bot-api-secret-token"
LISTEN_BACKLOG = 1024
"""Connections waiting to be accepted: a burst of webhook deliveries (a campaign, Meta's or
WeChat's retries) is queued, not refused (128 dropped connections under 200 senders)."""

log = logging.getLogger(__name__)

Accept = Callable[[dict[str, Any]], Awaitable[None]]
"""Takes one update's JSON: records it and queues it, or raises StorageUnavailable when the
inbox stays unavailable for :data:`JOURNAL_PATIENCE_SECONDS`."""


class TooLarge(Exception):
    pass


async def read_capped(request: Request, cap: int) -> bytes:
    """Read the body, refusing (TooLarge) a declared or actual length above ``cap``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdecimal() or int(declared) > cap):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise TooLarge
    return bytes(body)


def telegram_endpoint(
    secret: str, accept: Accept, *, cap: int = MAX_UPDATE_BYTES
) -> Callable[[Request], Awaitable[Response]]:
    """Return the handler for Telegram's webhook requests."""
    expected = secret.encode()

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook request without the right secret refused")
            return Response(status_code=403)
        try:
            body = await read_capped(request, cap)
        except TooLarge:
            log.warning("webhook request over %d bytes refused", cap)
            return Response(status_code=413)
        try:
            update = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return Response(status_code=400)
        try:
            await accept(update)
        except StorageUnavailable:
            return Response(status_code=503)  # not recorded: Telegram will send it again
        return Response(status_code=200)

    return endpoint


async def healthz(request: Request) -> Response:
    """Alive: the process answers."""
    return PlainTextResponse("ok")


def readiness(ready: Callable[[], Awaitable[bool]]) -> Callable[[Request], Awaitable[Response]]:
    """Ready: the database answers, so what arrives can be recorded (else 503)."""

    async def readyz(request: Request) -> Response:
        try:
            ok = await ready()
        except Exception as error:  # any failure to answer is "not ready"; its type is logged
            log.warning("not ready: %s", type(error).__name__)
            ok = False
        return PlainTextResponse("ready" if ok else "not ready", status_code=200 if ok else 503)

    return readyz


def web_app(
    routes: dict[str, Callable[[Request], Awaitable[Response]]],
    ready: Callable[[], Awaitable[bool]] | None = None,
    more: Sequence[Route] = (),
) -> Starlette:
    """Build the app: one POST route per channel (and ``more`` routes, such as a channel's
    verification handshake), ``/healthz`` and ``/readyz``."""
    checks = [Route("/healthz", healthz, methods=["GET"])]
    if ready is not None:
        checks.append(Route("/readyz", readiness(ready), methods=["GET"]))
    return Starlette(
        routes=[
            *checks,
            *more,
            *(Route(path, handler, methods=["POST"]) for path, handler in routes.items()),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the bot's own handle SIGINT and SIGTERM
    (and stop the server with everything else)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """The web app on a socket the bot binds itself, so that a port in use is reported with
    its real cause; started, watched and stopped by the bot."""

    def __init__(self, app: Starlette, host: str, port: int, *, share_port: bool = False) -> None:
        self.app, self.host, self.port = app, host, port
        self.share_port = share_port
        self._task: asyncio.Task[None] | None = None
        self._server: _Server | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.share_port and hasattr(socket, "SO_REUSEPORT"):
            # several receivers on one machine take turns on one port (the kernel balances)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(LISTEN_BACKLOG)
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)

    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def failure(self) -> str:
        """Why the server task ended, for the log (its type only)."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return "stopped"
        error = self._task.exception()
        return type(error).__name__ if error else "stopped"

    async def stop(self) -> None:
        """Stop serving and close the socket, also after the server died mid-way."""
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
        if self._server is not None:
            for server in self._server.servers:  # left open when the task was cut short
                server.close()
        if self._sock is not None:
            self._sock.close()
        self._task = self._server = self._sock = None
