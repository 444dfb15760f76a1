"""A thin async client for the parts of Meta's Graph API the bot uses (Cloud API v23.0).

About eight calls are needed: send a text, reply buttons, a list, a template or a document;
upload a file; read a media's metadata and download it; mark a message read with the typing
indicator. Existing libraries force Meta's host (tests need a loopback peer) or answer the
webhook before recording it; this client is small enough to own. The Graph version is pinned
and upgraded on purpose.

Errors come back as :class:`GraphError` with Meta's numeric code; :meth:`GraphError.kind`
sorts the codes the bot acts on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx

GRAPH_VERSION: Final = "v23.0"
DEFAULT_BASE_URL: Final = "https://graph.facebook.com"

THROTTLED: Final = frozenset({130429, 131056, 4, 80007})
"""Throughput (per number), pair rate (per user), and app or account call limits: wait."""
OUTSIDE_WINDOW: Final = 131047
"""More than 24 hours since the user last wrote: only a template may be sent."""
UNDELIVERABLE: Final = frozenset({131026})
OPERATOR: Final = frozenset({190, 131048, 131064, 368, 131031})
"""The token, the account or its templates need the operator's attention."""

log = logging.getLogger(__name__)


class GraphError(Exception):
    """An error answer from the Graph API (its code; never the request's content)."""

    def __init__(self, status: int, code: int | None, title: str = "") -> None:
        super().__init__(f"HTTP {status}, code {code}")
        self.status, self.code, self.title = status, code, title

    @property
    def kind(self) -> str:
        """ "throttled", "window", "undeliverable", "operator", "server" or "other"."""
        if self.code in THROTTLED:
            return "throttled"
        if self.code == OUTSIDE_WINDOW:
            return "window"
        if self.code in UNDELIVERABLE:
            return "undeliverable"
        if self.code in OPERATOR or self.status in (401, 403):
            return "operator"
        if self.status >= 500:
            return "server"
        return "other"


class GraphClient:
    """Calls for one business phone number."""

    def __init__(
        self,
        token: str,
        phone_number_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = GRAPH_VERSION,
        timeout: float = 30.0,
    ) -> None:
        self.phone_number_id = phone_number_id
        self._root = f"{base_url.rstrip('/')}/{version}"
        self._auth = {"Authorization": f"Bearer {token}"}
        self._http = httpx.AsyncClient(headers=self._auth, timeout=timeout, follow_redirects=False)

    async def close(self) -> None:
        await self._http.aclose()

    # -- sending ----------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> str:
        """Send one message (``recipient`` and the type's fields); return its ``wamid``."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        answer = await self._post(f"/{self.phone_number_id}/messages", json=body)
        messages = answer.get("messages") or [{}]
        return str(messages[0].get("id", ""))

    async def mark_read(self, message_id: str, *, typing: bool = True) -> None:
        """Mark the user's message (and those before it) read; show "typing…" up to 25 s."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp", "status": "read", "message_id": message_id,
        }  # fmt: skip
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._post(f"/{self.phone_number_id}/messages", json=body)

    async def upload(self, data: bytes, mime: str, filename: str) -> str:
        """Upload a file for sending; return its media id (kept 30 days by Meta)."""
        answer = await self._post(
            f"/{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
        )
        return str(answer["id"])

    # -- receiving media --------------------------------------------------------------------

    async def media(self, media_id: str) -> dict[str, Any]:
        """Return a received media's ``url`` (5 minutes), ``mime_type`` and ``file_size``."""
        response = await self._http.get(
            f"{self._root}/{media_id}", params={"phone_number_id": self.phone_number_id}
        )
        return _answer(response)

    async def download(self, url: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Stream a media URL from :meth:`media` (it needs the same bearer token)."""
        async with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                await response.aread()
                _answer(response)
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk

    async def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return _answer(await self._http.post(f"{self._root}{path}", **kwargs))


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    title = str(error.get("type", "")) if isinstance(error, dict) else ""
    raise GraphError(response.status_code, code if isinstance(code, int) else None, title)
