"""A thin async client for the WeChat Official Account API calls the bot makes.

The access token comes from ``stable_token`` (repeat calls return the same token while it is
valid, so several processes do not invalidate each other's), kept until shortly before it
expires and fetched again when WeChat says it expired (40001, 42001). Errors come back as
:class:`WeChatError` with WeChat's ``errcode``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx

DEFAULT_BASE_URL: Final = "https://api.weixin.qq.com"
TOKEN_EXPIRED: Final = frozenset({40001, 40014, 42001})
UNAUTHORIZED: Final = frozenset({48001, 40200})
"""The account type does not allow the call (an unverified account)."""
OUT_OF_QUOTA: Final = frozenset({45015, 45047})
"""Customer-service messages: outside the 48 hours after the user's message, or past five."""
MEDIA_GONE: Final = frozenset({40007})


class WeChatError(Exception):
    def __init__(self, code: int | None, status: int = 200) -> None:
        super().__init__(f"errcode {code}, HTTP {status}")
        self.code, self.status = code, status


class WeChatClient:
    def __init__(self, app_id: str, app_secret: str, *, base_url: str = DEFAULT_BASE_URL) -> None:
        self._app_id, self._secret = app_id, app_secret
        self._root = base_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def token(self, *, renew: bool = False) -> str:
        async with self._lock:
            if self._token is not None and not renew and time.monotonic() < self._token[1]:
                return self._token[0]
            response = await self._http.post(
                f"{self._root}/cgi-bin/stable_token",
                json={"grant_type": "client_credential", "appid": self._app_id,
                      "secret": self._secret, "force_refresh": False},
            )  # fmt: skip
            data = _answer(response)
            lifetime = float(data.get("expires_in", 7200))
            self._token = (str(data["access_token"]), time.monotonic() + lifetime - 120)
            return self._token[0]

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service message (verified accounts, within the user's quota)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        await self._call("POST", "/cgi-bin/message/custom/send", json=body)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/menu/create", json=menu)

    async def media(self, media_id: str) -> AsyncIterator[bytes]:
        """Stream a received media (images and voice; a video through its ``video_url``)."""
        for attempt in (1, 2):
            token = await self.token(renew=attempt == 2)
            url = f"{self._root}/cgi-bin/media/get"
            params = {"access_token": token, "media_id": media_id}
            async with self._http.stream("GET", url, params=params) as response:
                kind = response.headers.get("content-type", "")
                answer = kind.startswith(("application/json", "text/plain"))
                if response.status_code == 200 and not answer:
                    async for chunk in response.aiter_bytes(1 << 20):
                        yield chunk
                    return
                await response.aread()
                data = _json(response)
            if isinstance(data.get("video_url"), str):
                async for chunk in self.download(data["video_url"]):
                    yield chunk
                return
            code = data.get("errcode")
            if code in TOKEN_EXPIRED and attempt == 1:
                continue
            raise WeChatError(code if isinstance(code, int) else None, response.status_code)

    async def download(self, url: str) -> AsyncIterator[bytes]:
        """Stream a plain address WeChat gave (``PicUrl``, a video's ``video_url``)."""
        async with self._http.stream("GET", url) as response:
            if response.status_code != 200:
                await response.aread()
                raise WeChatError(None, response.status_code)
            async for chunk in response.aiter_bytes(1 << 20):
                yield chunk

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.token(renew=attempt == 2)
            response = await self._http.request(
                method, f"{self._root}{path}", params={"access_token": token}, **kwargs
            )
            try:
                return _answer(response)
            except WeChatError as error:
                if error.code in TOKEN_EXPIRED and attempt == 1:
                    continue
                raise
        raise AssertionError("unreachable")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _answer(response: httpx.Response) -> dict[str, Any]:
    data = _json(response)
    code = data.get("errcode", 0)
    if response.status_code != 200 or (isinstance(code, int) and code != 0):
        raise WeChatError(code if isinstance(code, int) else None, response.status_code)
    return data
