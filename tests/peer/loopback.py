"""What the tests' fake platforms share: an aiohttp app on 127.0.0.1 (a free port), a client
session for calling the bot back (webhooks), started and stopped as an async context."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Self

import aiohttp
from aiohttp import web


class LoopbackPeer:
    """Subclasses add their routes in :meth:`routes`, and keep what they accepted in
    ``sent`` (``sent_to`` filters it), what they refused in ``rejected``, what broke the
    platform's rules in ``violations``, and set ``_changed`` at every change."""

    sent: list[dict[str, Any]]
    rejected: list[Any]
    violations: list[str]
    _changed: asyncio.Event

    def sent_to(self, recipient: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    max_body = 2 * 1024 * 1024

    def __init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application(client_max_size=self.max_body)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_sent(
        self, count: int, *, to: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` messages (to ``to`` only, if given) were accepted; return
        them all. Raises TimeoutError, with what happened, after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = self.sent_to(to) if to is not None else list(self.sent)
            if len(got) >= count:
                return got
            remaining = deadline - loop.time()
            if remaining <= 0:
                whom = f" to {to}" if to is not None else ""
                raise TimeoutError(
                    f"{len(got)} of {count} sends{whom} within {timeout} s: {got}; "
                    f"rejected: {self.rejected}; violations: {self.violations}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
