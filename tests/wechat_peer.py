"""A loopback WeChat Official Account (公众号) server for end-to-end tests of the WeChat channel.

``async with WeChatPeer() as peer`` serves, on 127.0.0.1 and a free port, what the bot calls as
``https://api.weixin.qq.com`` under ``{peer.base_url}/cgi-bin/...`` (channels.md §2.5–2.8):

- ``POST /cgi-bin/stable_token`` and ``GET /cgi-bin/token``: access tokens that live 7200 s by
  the peer's clock (``clock``, ``advance``). The stable token is the same on every call until
  5 minutes before its expiry (then a new one; the old one lives out its time); ``force_refresh``
  and every classic call make a new token, and the one it replaces dies 5 minutes later.
  Every API call answers ``41001`` without a token, ``40001`` for an unknown or replaced one,
  ``42001`` for an expired one.
- ``POST /cgi-bin/message/custom/send``: text (≤2048 UTF-8 bytes, else ``45002``), image,
  voice, video (a ``media_id`` the peer knows), news, ``msgmenu``; verified accounts only
  (``48001``); the customer-service quota per user: a message pushed by the user opens 5 sends
  within 48 h (a follow, QR scan or menu click: 3 within 1 minute); a send with the time left
  but the count spent answers ``45047``, one with no open time ``45015`` (also after an
  ``unsubscribe``); an OpenID that never wrote ``40003``.
- ``GET /cgi-bin/media/get``: image and voice bytes with ``Content-disposition: attachment;
  filename="…"``, video as ``{"video_url": …}`` then ``GET /video/<id>``; verified accounts only;
  ``40007`` for an unknown media id or one older than 3 days. ``GET /pic/<id>`` serves the
  ``PicUrl`` of an image message (no token; it does not expire here).
- ``POST /cgi-bin/menu/create``: ≤3 buttons, ≤5 sub-buttons; names measured in display width
  (a CJK character 2, other characters 1): top ≤8 (4 Chinese characters), sub ≤16 (8), as in
  channels.md §2.8; key ≤128 bytes, url ≤1024 bytes. Verified accounts only here (``48001``).
  The menu is kept in ``peer.menu``.

Errors are WeChat's: HTTP 200 with ``{"errcode": N, "errmsg": "… rid: …"}``. Requests that
break the documented format or limits (bad JSON, unknown message type, content too long, menu
limits, non-ASCII characters sent as ``\\uXXXX`` escapes, which WeChat shows literally, an
unknown endpoint) are also recorded in ``peer.violations``. ``fail_next(errcode, api=…)``
injects errors (``-1`` system busy, ``45009`` frequency limit, ``40001``...);
``revoke_tokens()`` makes every token unknown (another process took a new one).

The other direction (WeChat calling the bot's callback URL): ``verify_url`` (the GET check,
``echostr`` echoed), ``push`` (a message, signed and, in safe mode, encrypted with wechatpy
1.8.18's ``WeChatCrypto``, an encoder independent of the bot's codec) and the builders
(``text``, ``image``, ``voice``, ``video``, ``location``, ``link``, ``event``) that give the
plaintext XML as WeChat writes it. ``push`` re-sends a message the bot does not answer within
``timeout`` (3 attempts in all, each with its own timestamp and nonce, channels.md §2.4) and
decodes the passive reply into a ``Reply``: the safe-mode envelope, its ``MsgSignature``, the
AppID, the PKCS#7 padding to 32-byte blocks, the swapped ``ToUserName``/``FromUserName``, the
2048-byte text limit; every breach is a violation. ``encoding_aes_key=None`` is plaintext
mode; compatible mode (plain and cipher in one body) is not modelled.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import io
import itertools
import json
import math
import re
import secrets
import time
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.peer.loopback import LoopbackPeer

with warnings.catch_warnings():
    # wechatpy 1.8.18 (2021) targets Python 2.7/3.5–3.7; keep any warning of its import (invalid
    # escapes, deprecated modules) from failing the tests, which run with warnings as errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
    from wechatpy.utils import WeChatSigner

JSON = dict[str, Any]
DEFAULT_AES_KEY = "62lQ6t9Li8DIcfJLnbFvNJnQOxB5hJz5PbUvW8Kxnpb"  # 43 characters, as WeChat's
ACCOUNT_ID = "gh_0123456789ab"
TOKEN_LIFETIME = 7200
TOKEN_OVERLAP = 300  # a replaced token works 5 more minutes; a stable one renews 5 min early
QUOTA_COUNT, QUOTA_SECONDS = 5, 48 * 3600  # after a user's message
EVENT_QUOTA_COUNT, EVENT_QUOTA_SECONDS = 3, 60  # after a follow, a QR scan, a menu click
QUOTA_EVENTS = frozenset({"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"})
MEDIA_LIFETIME = 3 * 24 * 3600
TEXT_LIMIT = 2048  # bytes of UTF-8, customer-service and passive text alike
PUSH_ATTEMPTS = 3
BUSY_PAGE = "该公众号暂时无法提供服务，请稍后再试"
JSON_TYPE = "application/json; encoding=utf-8"  # what api.weixin.qq.com answers with

ERRMSG: dict[int, str] = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40066: "invalid url",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41006: "media_id missing",
    42001: "access_token expired",
    43002: "require POST method",
    44002: "empty post data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    48001: "api unauthorized",
}

MENU_TYPES = frozenset(
    {
        "click",
        "view",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
        "media_id",
        "view_limited",
        "article_id",
        "article_view_limited",
        "miniprogram",
    }
)
KEYED_TYPES = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
REPLY_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "transfer_customer_service"}
)
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "audio/amr": "amr",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/speex": "speex",
    "video/mp4": "mp4",
}
_ESCAPE = re.compile(rb"(?<!\\)\\u([0-9a-fA-F]{4})")


# -- small helpers ----------------------------------------------------------------------------
def signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and joined (``token, timestamp, nonce`` for
    ``signature``; plus ``Encrypt`` for ``msg_signature``), computed by wechatpy."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def cdata(value: str) -> str:
    """``value`` in CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def jpeg_bytes(
    width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    """A small, valid JPEG (for image messages and video thumbnails)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG")
    return buffer.getvalue()


def amr_bytes(seconds: float = 1.0) -> bytes:
    """An AMR-NB file (RFC 4867 storage format: ``#!AMR\\n`` then one frame per 20 ms) of
    NO_DATA frames: well-formed, silent. The bot stores voice bytes; it does not decode them."""
    return b"#!AMR\n" + b"\x7c" * max(1, round(seconds * 50))


def mp4_bytes() -> bytes:
    """Bytes that start like an MP4 (an ``ftyp`` box); not a playable video."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _fields(root: ET.Element) -> dict[str, str]:
    return {child.tag: (child.text or "") for child in root}


def _rid() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(3))


# -- errors and the passive reply -------------------------------------------------------------
class WeChatError(Exception):
    """An API error answer: HTTP 200 with ``errcode`` and ``errmsg``."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "injected error")
        super().__init__(f"{errcode} {self.errmsg}")

    def body(self) -> JSON:
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg} rid: {_rid()}"}


@dataclass
class Reply:
    """What the bot answered to a ``push``: the last attempt's HTTP status, body and duration
    (``seconds``), the number of re-sends (``retries``), and the passive reply decoded (``xml``
    decrypted in safe mode; ``content`` of a text reply). A body ``success`` or empty means no
    message to the user: ``xml`` and ``content`` are None. ``timed_out``: the last attempt got no
    answer within the timeout (``status`` 0)."""

    status: int
    body: str
    seconds: float
    retries: int
    xml: str | None = None
    msg_type: str | None = None
    content: str | None = None
    to_user: str | None = None
    from_user: str | None = None
    media_id: str | None = None
    timed_out: bool = False


@dataclass
class _Token:
    expires: float
    dies: float | None = None  # replaced: unknown (40001) after this time


@dataclass
class _Media:
    data: bytes
    mime: str
    filename: str
    added: float

    @property
    def kind(self) -> str:
        major = self.mime.split("/", 1)[0]
        return {"image": "image", "audio": "voice", "video": "video"}.get(major, "file")


@dataclass
class _Grant:
    opened: float
    seconds: float
    count: int
    used: int = 0


# -- the peer ---------------------------------------------------------------------------------
class WeChatPeer(LoopbackPeer):
    """WeChat's servers for one Official Account on 127.0.0.1; ``async with WeChatPeer()``.

    What the bot did: ``sent`` (accepted ``message/custom/send`` bodies, in order), ``rejected``
    (``(body, errcode)`` of refused ones), ``replies`` (every ``Reply`` of ``push``),
    ``token_calls``, ``downloads``, ``menu`` and ``violations`` (breaches of WeChat's format and
    limits, on either side).
    """

    def __init__(
        self,
        *,
        token: str = "wx-token",
        app_id: str = "wx1234567890abcdef",
        app_secret: str = "wx-secret",
        encoding_aes_key: str | None = DEFAULT_AES_KEY,
        verified: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        if encoding_aes_key is not None:
            key = base64.b64decode(encoding_aes_key + "=")
            if len(encoding_aes_key) != 43 or len(key) != 32:
                raise ValueError("an EncodingAESKey has 43 characters (32 bytes in base64)")
        self.token, self.app_id, self.app_secret = token, app_id, app_secret
        self.encoding_aes_key = encoding_aes_key
        self.verified = verified
        self.account_id = ACCOUNT_ID
        self.sent: list[JSON] = []
        self.rejected: list[tuple[JSON, int]] = []
        self.replies: list[Reply] = []
        self.violations: list[str] = []
        self.menu: JSON | None = None
        self.token_calls = 0
        self.downloads = 0
        self.followers: set[str] = set()  # OpenIDs that wrote or followed and did not leave
        self.media: dict[str, _Media] = {}
        self.last_msg_id: str | None = None
        self.last_key: str | None = None  # MsgId, or FromUserName:CreateTime:Event:EventKey
        self._clock = clock or time.time
        self._offset = 0.0
        self._ids = itertools.count(1)
        self._msg_base = secrets.randbelow(10**17) + 23 * 10**17  # 19-digit MsgIds
        self._known: set[str] = set()  # OpenIDs that ever wrote (others: 40003)
        self._grants: dict[str, dict[str, _Grant]] = {}  # openid -> "message"/"event" -> grant
        self._tokens: dict[str, _Token] = {}
        self._stable: str | None = None
        self._classic: str | None = None
        self._fail: deque[tuple[str | None, WeChatError]] = deque()
        self._crypto = (
            WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key is not None else None
        )
        self._changed = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/cgi-bin/token", self._classic_token)
        app.router.add_route("*", "/cgi-bin/stable_token", self._stable_token)
        app.router.add_route("*", "/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_route("*", "/cgi-bin/media/get", self._media_get)
        app.router.add_route("*", "/cgi-bin/menu/create", self._menu_create)
        app.router.add_get("/video/{media_id}", self._video)
        app.router.add_get("/pic/{media_id}", self._pic)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    # -- clock --------------------------------------------------------------------------------
    def now(self) -> float:
        """The peer's time in seconds: ``clock()`` plus every ``advance``."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the peer's clock forward (token, quota and media expiry; CreateTime and the
        timestamps of pushes)."""
        self._offset += seconds

    # -- what the bot did ---------------------------------------------------------------------
    def sent_to(self, openid: str) -> list[JSON]:
        """Accepted customer-service messages to ``openid``, oldest first."""
        return [body for body in self.sent if body.get("touser") == openid]

    def quota_left(self, openid: str) -> int:
        """Customer-service messages ``openid`` may still receive now."""
        return sum(g.count - g.used for g in self._open_grants(openid))

    # -- faults and shortcuts -----------------------------------------------------------------
    def fail_next(self, errcode: int, *, times: int = 1, api: str | None = None) -> None:
        """Answer the next ``times`` calls of ``api`` (``"message/custom/send"``,
        ``"media/get"``, ``"menu/create"``, ``"stable_token"``, ``"token"``; None: any) with
        ``errcode``, after the token and account checks and before the quota."""
        self._fail.extend((api, WeChatError(errcode)) for _ in range(times))

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes unknown (``40001``), as when another process
        fetched a new classic token long ago."""
        for record in self._tokens.values():
            record.dies = min(record.dies or self.now(), self.now())
        self._stable = self._classic = None

    def issue_token(self) -> str:
        """A valid access token without an HTTP call (not counted in ``token_calls``)."""
        return self._new_token()

    def open_quota(self, openid: str) -> None:
        """Open ``openid``'s 5 / 48 h quota now, as a pushed message does."""
        self._known.add(openid)
        self.followers.add(openid)
        self._grants.setdefault(openid, {})["message"] = _Grant(
            self.now(), QUOTA_SECONDS, QUOTA_COUNT
        )

    # -- media and message builders -----------------------------------------------------------
    def add_media(self, data: bytes, mime: str, *, filename: str | None = None) -> str:
        """Keep media a user sent (3 days by the peer clock); return its media id."""
        media_id = f"{next(self._ids):04d}" + secrets.token_urlsafe(45)[:60]
        if filename is None:
            extension = EXTENSIONS.get(mime.split(";", 1)[0].strip().lower(), "bin")
            filename = f"{media_id[:20]}.{extension}"
        self.media[media_id] = _Media(data, mime, filename, self.now())
        return media_id

    def pic_url(self, media_id: str) -> str:
        """The ``PicUrl`` of an image: a plain GET, no token."""
        return f"{self.base_url}/pic/{media_id}"

    def text(self, openid: str, content: str) -> str:
        return self._message(openid, "text", [("Content", content)])

    def image(self, openid: str, media_id: str) -> str:
        self._need_media(media_id)
        return self._message(
            openid, "image", [("PicUrl", self.pic_url(media_id)), ("MediaId", media_id)]
        )

    def voice(
        self,
        openid: str,
        media_id: str,
        *,
        recognition: str | None = None,
        format: str = "amr",
    ) -> str:
        """A voice message; ``recognition``: the speech-to-text WeChat adds when it is on."""
        self._need_media(media_id)
        fields = [("MediaId", media_id), ("Format", format)]
        if recognition is not None:
            fields.append(("Recognition", recognition))
        return self._message(openid, "voice", fields)

    def video(
        self,
        openid: str,
        media_id: str,
        *,
        thumb_media_id: str | None = None,
        short: bool = False,
    ) -> str:
        """A video (``short``: MsgType ``shortvideo``); the thumbnail is a small JPEG kept as
        media unless ``thumb_media_id`` is given."""
        self._need_media(media_id)
        thumb = thumb_media_id or self.add_media(jpeg_bytes(), "image/jpeg")
        kind = "shortvideo" if short else "video"
        return self._message(openid, kind, [("MediaId", media_id), ("ThumbMediaId", thumb)])

    def location(self, openid: str, lat: float, lng: float, label: str = "") -> str:
        fields = [("Location_X", f"{lat:.6f}"), ("Location_Y", f"{lng:.6f}")]
        fields += [("Scale", "15"), ("Label", label)]
        return self._message(
            openid, "location", fields, plain={"Location_X", "Location_Y", "Scale"}
        )

    def link(self, openid: str, title: str, url: str, *, description: str = "") -> str:
        fields = [("Title", title), ("Description", description), ("Url", url)]
        return self._message(openid, "link", fields)

    def event(
        self,
        openid: str,
        event: str,
        event_key: str = "",
        *,
        extra: dict[str, str] | None = None,
    ) -> str:
        """An event (``subscribe``, ``unsubscribe``, ``SCAN``, ``CLICK``, ``VIEW``...), with
        ``extra`` fields (``Ticket``, ``MenuId``, ``Latitude``...). Events have no MsgId:
        ``last_msg_id`` becomes None and ``last_key`` the dedup key of channels.md §4.3."""
        created = str(int(self.now()))
        fields = [("Event", event), ("EventKey", event_key), *(extra or {}).items()]
        xml = self._xml(openid, created, "event", fields)
        self.last_msg_id = None
        self.last_key = f"{openid}:{created}:{event}:{event_key}"
        return xml

    # -- the push side ------------------------------------------------------------------------
    async def verify_url(
        self, url: str, *, token: str | None = None, echostr: str | None = None
    ) -> tuple[int, str]:
        """The GET check of a callback URL, signed with ``token`` (default: the peer's);
        returns (status, body): the bot must answer ``echostr``."""
        timestamp, nonce = str(int(self.now())), _nonce()
        echo = echostr if echostr is not None else str(secrets.randbelow(10**19))
        params = {
            "signature": signature(token if token is not None else self.token, timestamp, nonce),
            "echostr": echo,
            "timestamp": timestamp,
            "nonce": nonce,
        }
        async with self._client().get(url, params=params, headers=_HEADERS) as response:
            return response.status, await response.text()

    async def push(
        self,
        url: str,
        message_xml: str,
        *,
        wrong_signature: bool = False,
        timeout: float = 5.0,
    ) -> Reply:
        """POST ``message_xml`` to the bot's callback ``url`` as WeChat does and decode the
        answer. Without an answer within ``timeout`` s the connection is dropped and the message
        sent again, 3 attempts in all. The sender's quota opens (or the follow ends) first."""
        message = _fields(ET.fromstring(message_xml))
        openid = message.get("FromUserName", "")
        if not wrong_signature:  # a forged message opens nothing
            self._note_inbound(message)
        loop = asyncio.get_running_loop()
        retries, status, text, seconds, timed_out = 0, 0, "", 0.0, False
        for attempt in range(PUSH_ATTEMPTS):
            retries = attempt
            params, body = self._signed(message_xml, openid, wrong_signature)
            started = loop.time()
            try:
                async with self._client().post(
                    url,
                    params=params,
                    data=body.encode("utf-8"),
                    headers=_HEADERS | {"Content-Type": "text/xml"},
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as response:
                    raw = await response.read()
                status, timed_out = response.status, False
                seconds = loop.time() - started
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.violations.append("push: the reply is not UTF-8")
                    text = raw.decode("utf-8", "replace")
                break
            except (TimeoutError, aiohttp.ServerDisconnectedError):
                status, text, timed_out = 0, "", True
                seconds = loop.time() - started
        reply = Reply(status=status, body=text, seconds=seconds, retries=retries)
        reply.timed_out = timed_out
        if timed_out:
            self.violations.append(
                f"push: no answer within {timeout} s in {PUSH_ATTEMPTS} attempts; the user "
                f"sees {BUSY_PAGE}"
            )
        elif status == 200:
            self._decode(reply, message)
        self.replies.append(reply)
        return reply

    # -- HTTP handlers: tokens ----------------------------------------------------------------
    async def _classic_token(self, request: web.Request) -> web.Response:
        try:
            self._method(request, "GET")
            self.token_calls += 1
            query = request.query
            self._credentials(query.get("grant_type"), query.get("appid"), query.get("secret"))
            self._inject("token")
            if self._classic is not None:
                self._replace(self._classic)
            self._classic = self._new_token()
            return _json_response(
                {"access_token": self._classic, "expires_in": self._expires_in(self._classic)}
            )
        except WeChatError as error:
            return _error(error)

    async def _stable_token(self, request: web.Request) -> web.Response:
        try:
            self._method(request, "POST")
            self.token_calls += 1
            body = self._loads(await request.read(), "POST /cgi-bin/stable_token")
            self._credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
            force = body.get("force_refresh", False)
            if not isinstance(force, bool):
                raise self._refuse("POST /cgi-bin/stable_token", ["force_refresh must be a bool"])
            self._inject("stable_token")
            current = self._stable
            fresh = current is not None and self._valid(current, margin=TOKEN_OVERLAP)
            if force or not fresh:
                if force and current is not None:
                    self._replace(current)
                self._stable = self._new_token()
            assert self._stable is not None
            return _json_response(
                {"access_token": self._stable, "expires_in": self._expires_in(self._stable)}
            )
        except WeChatError as error:
            return _error(error)

    # -- HTTP handlers: customer service ------------------------------------------------------
    async def _custom_send(self, request: web.Request) -> web.Response:
        where = "POST /cgi-bin/message/custom/send"
        body: Any = None
        try:
            self._method(request, "POST")
            self._authorize(request)
            raw = await request.read()
            with contextlib.suppress(ValueError):
                body = json.loads(raw) if raw else None
            if not self.verified:
                raise WeChatError(48001)
            body = self._loads(raw, where)
            openid = self._check_send(body, where)
            self._inject("message/custom/send")
            self._consume(openid)
            self.sent.append(copy.deepcopy(body))
            return _json_response({"errcode": 0, "errmsg": "ok"})
        except WeChatError as error:
            if isinstance(body, dict):
                self.rejected.append((copy.deepcopy(body), error.errcode))
            return _error(error)
        finally:
            self._changed.set()

    def _check_send(self, body: JSON, where: str) -> str:
        openid = body.get("touser")
        if not isinstance(openid, str) or openid not in self._known:
            raise WeChatError(40003)
        kind = body.get("msgtype")
        content = body.get(kind) if isinstance(kind, str) else None
        extra = set(body) - {"touser", "msgtype", "customservice", str(kind)}
        if extra:
            self.violations.append(f"{where}: unexpected fields {sorted(extra)}")
        if kind not in ("text", "image", "voice", "video", "news", "msgmenu"):
            raise self._refuse(where, [f"msgtype {kind!r} is not one the peer knows"], 40008)
        if not isinstance(content, dict):
            raise self._refuse(where, [f"{kind!r}: an object is required"], 47001)
        if kind == "text":
            text = content.get("content")
            if not isinstance(text, str) or not text:
                raise self._refuse(where, ["text.content: a non-empty string is required"], 44004)
            if _utf8(text) > TEXT_LIMIT:
                problem = f"text.content: {_utf8(text)} bytes of UTF-8, at most {TEXT_LIMIT}"
                raise self._refuse(where, [problem], 45002)
        elif kind in ("image", "voice", "video"):
            media_id = content.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise self._refuse(where, [f"{kind}.media_id is required"], 41006)
            if not self._live_media(media_id):
                raise WeChatError(40007)
        elif kind == "news":
            articles = content.get("articles")
            if not isinstance(articles, list) or not articles:
                raise self._refuse(where, ["news.articles: a non-empty list is required"], 47001)
            if len(articles) > 1:
                raise self._refuse(where, [f"news: {len(articles)} articles, at most 1"], 45008)
        else:
            problems = _msgmenu_problems(content)
            if problems:
                raise self._refuse(where, problems, 47001)
        return openid

    def _consume(self, openid: str) -> None:
        grants = self._open_grants(openid)
        if not grants:
            raise WeChatError(45015)
        usable = [g for g in grants if g.used < g.count]
        if not usable:
            raise WeChatError(45047)
        min(usable, key=lambda g: g.opened + g.seconds).used += 1

    # -- HTTP handlers: media -----------------------------------------------------------------
    async def _media_get(self, request: web.Request) -> web.Response:
        try:
            self._method(request, "GET")
            self._authorize(request)
            if not self.verified:
                raise WeChatError(48001)
            media_id = request.query.get("media_id")
            if not media_id:
                raise WeChatError(41006)
            media = self._live_media(media_id)
            if media is None:
                raise WeChatError(40007)
            self._inject("media/get")
            if media.kind == "video":
                return _json_response({"video_url": f"{self.base_url}/video/{media_id}"})
            self.downloads += 1
            headers = {
                "Content-Type": media.mime,
                "Content-disposition": f'attachment; filename="{media.filename}"',
                "Cache-Control": "no-cache, must-revalidate",
            }
            return web.Response(body=media.data, headers=headers)
        except WeChatError as error:
            return _error(error)

    async def _video(self, request: web.Request) -> web.Response:
        media = self._live_media(request.match_info["media_id"])
        if media is None or media.kind != "video":
            return web.Response(status=404, text="not found")
        self.downloads += 1
        return web.Response(body=media.data, headers={"Content-Type": media.mime})

    async def _pic(self, request: web.Request) -> web.Response:
        media = self.media.get(request.match_info["media_id"])
        if media is None or media.kind != "image":
            return web.Response(status=404, text="not found")
        self.downloads += 1
        return web.Response(body=media.data, headers={"Content-Type": media.mime})

    # -- HTTP handlers: menu and the rest -----------------------------------------------------
    async def _menu_create(self, request: web.Request) -> web.Response:
        where = "POST /cgi-bin/menu/create"
        try:
            self._method(request, "POST")
            self._authorize(request)
            if not self.verified:
                raise WeChatError(48001)
            body = self._loads(await request.read(), where)
            problem = _menu_problem(body)
            if problem is not None:
                raise self._refuse(where, [problem[1]], problem[0])
            self._inject("menu/create")
            self.menu = copy.deepcopy(body)
            return _json_response({"errcode": 0, "errmsg": "ok"})
        except WeChatError as error:
            return _error(error)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.violations.append(f"{request.method} {request.path}: no such endpoint in WeChatPeer")
        return _error(WeChatError(40066), status=404)

    # -- helpers of the handlers --------------------------------------------------------------
    def _method(self, request: web.Request, method: str) -> None:
        if request.method != method:
            self.violations.append(f"{request.method} {request.path}: {method} is required")
            raise WeChatError(43002 if method == "POST" else 40066)

    def _authorize(self, request: web.Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise WeChatError(41001)
        record = self._tokens.get(token)
        if record is None or (record.dies is not None and self.now() >= record.dies):
            raise WeChatError(40001)
        if self.now() >= record.expires:
            raise WeChatError(42001)

    def _credentials(self, grant_type: Any, app_id: Any, secret: Any) -> None:
        if grant_type != "client_credential":
            raise WeChatError(40002)
        if not app_id:
            raise WeChatError(41002)
        if app_id != self.app_id:
            raise WeChatError(40013)
        if not secret:
            raise WeChatError(41004)
        if secret != self.app_secret:
            raise WeChatError(40125)

    def _new_token(self) -> str:
        token = f"{90 + next(self._ids) % 10}_" + secrets.token_urlsafe(120)[:150]
        self._tokens[token] = _Token(self.now() + TOKEN_LIFETIME)
        return token

    def _replace(self, token: str) -> None:
        record = self._tokens[token]
        if record.dies is None:
            record.dies = self.now() + TOKEN_OVERLAP

    def _valid(self, token: str, *, margin: float = 0.0) -> bool:
        record = self._tokens[token]
        if record.dies is not None and self.now() >= record.dies:
            return False
        return self.now() < record.expires - margin

    def _expires_in(self, token: str) -> int:
        return math.ceil(self._tokens[token].expires - self.now())

    def _inject(self, api: str) -> None:
        for i, (which, error) in enumerate(self._fail):
            if which is None or which == api:
                del self._fail[i]
                raise error

    def _loads(self, raw: bytes, where: str) -> JSON:
        if not raw:
            raise self._refuse(where, ["the body is empty"], 44002)
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise self._refuse(where, [f"the body is not JSON: {error}"], 47001) from None
        if not isinstance(body, dict):
            raise self._refuse(where, ["the body is not a JSON object"], 47001)
        escaped = [m for m in _ESCAPE.findall(raw) if int(m, 16) > 0x7F]
        if escaped:
            self.violations.append(
                f"{where}: non-ASCII characters sent as \\u escapes ({len(escaped)}); WeChat "
                "shows them literally: send UTF-8 (json.dumps(..., ensure_ascii=False))"
            )
        return body

    def _refuse(self, where: str, problems: list[str], errcode: int = 47001) -> WeChatError:
        self.violations += [f"{where}: {problem}" for problem in problems]
        return WeChatError(errcode)

    def _live_media(self, media_id: str) -> _Media | None:
        media = self.media.get(media_id)
        if media is None or self.now() - media.added > MEDIA_LIFETIME:
            return None
        return media

    def _need_media(self, media_id: str) -> None:
        if media_id not in self.media:
            raise KeyError(f"unknown media id {media_id!r}: register it with add_media first")

    def _open_grants(self, openid: str) -> list[_Grant]:
        grants = self._grants.get(openid, {}).values()
        return [g for g in grants if self.now() - g.opened <= g.seconds]

    def _note_inbound(self, message: dict[str, str]) -> None:
        openid = message.get("FromUserName", "")
        if message.get("MsgType") != "event":
            self.open_quota(openid)
            return
        event = message.get("Event", "").lower()
        if event == "unsubscribe":
            self.followers.discard(openid)
            self._grants.pop(openid, None)
            return
        self._known.add(openid)
        self.followers.add(openid)
        if event in QUOTA_EVENTS:
            self._grants.setdefault(openid, {})["event"] = _Grant(
                self.now(), EVENT_QUOTA_SECONDS, EVENT_QUOTA_COUNT
            )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("WeChatPeer is not started: use `async with WeChatPeer() as peer`")
        return self._session

    # -- helpers of the builders --------------------------------------------------------------
    def _xml(
        self,
        openid: str,
        created: str,
        kind: str,
        fields: list[tuple[str, str]],
        *,
        plain: frozenset[str] | set[str] = frozenset(),
    ) -> str:
        lines = [
            f"<ToUserName>{cdata(self.account_id)}</ToUserName>",
            f"<FromUserName>{cdata(openid)}</FromUserName>",
            f"<CreateTime>{created}</CreateTime>",
            f"<MsgType>{cdata(kind)}</MsgType>",
        ]
        for name, value in fields:
            shown = value if name in plain else cdata(value)
            lines.append(f"<{name}>{shown}</{name}>")
        return "<xml>\n" + "".join(f"  {line}\n" for line in lines) + "</xml>"

    def _message(
        self,
        openid: str,
        kind: str,
        fields: list[tuple[str, str]],
        *,
        plain: set[str] | None = None,
    ) -> str:
        msg_id = str(self._msg_base + next(self._ids))
        fields = [*fields, ("MsgId", msg_id)]
        xml = self._xml(
            openid, str(int(self.now())), kind, fields, plain={"MsgId", *(plain or set())}
        )
        self.last_msg_id = self.last_key = msg_id
        return xml

    # -- helpers of push ----------------------------------------------------------------------
    def _signed(self, message_xml: str, openid: str, wrong: bool) -> tuple[dict[str, str], str]:
        """The query and body of one attempt, with a fresh timestamp and nonce."""
        timestamp, nonce = str(int(self.now())), _nonce()
        sign = signature(self.token, timestamp, nonce)
        params = {"signature": sign, "timestamp": timestamp, "nonce": nonce, "openid": openid}
        if self._crypto is None:
            if wrong:
                params["signature"] = _spoil(sign)
            return params, message_xml
        envelope = ET.fromstring(self._crypto.encrypt_message(message_xml, nonce, timestamp))
        encrypted = envelope.findtext("Encrypt") or ""
        msg_signature = envelope.findtext("MsgSignature") or ""
        if wrong:
            params["signature"], msg_signature = _spoil(sign), _spoil(msg_signature)
        params |= {"encrypt_type": "aes", "msg_signature": msg_signature}
        body = (
            f"<xml>\n  <ToUserName>{cdata(self.account_id)}</ToUserName>\n"
            f"  <Encrypt>{cdata(encrypted)}</Encrypt>\n</xml>"
        )
        return params, body

    def _decode(self, reply: Reply, message: dict[str, str]) -> None:
        """Fill ``reply`` from its body; record what WeChat would refuse."""
        body = reply.body.strip()
        if body in ("", "success"):
            return
        try:
            root = ET.fromstring(body)
        except ET.ParseError as error:
            self._bad_reply(f"the body is neither 'success' nor XML ({error}): {body[:120]!r}")
            return
        if self._crypto is not None:
            xml = self._decrypt(root, body)
            if xml is None:
                return
            try:
                root = ET.fromstring(xml)
            except ET.ParseError as error:
                self._bad_reply(f"the decrypted reply is not XML ({error}): {xml[:120]!r}")
                return
        else:
            xml = body
            if root.find("Encrypt") is not None:
                self._bad_reply("an encrypted reply, but the account is in plaintext mode")
                return
        reply.xml = xml
        self._check_reply(reply, root, message)

    def _decrypt(self, root: ET.Element, body: str) -> str | None:
        assert self._crypto is not None and self.encoding_aes_key is not None
        fields = _fields(root)
        expected = {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        if root.tag != "xml" or set(fields) != expected:
            self._bad_reply(
                f"a safe-mode reply is <xml> with exactly {sorted(expected)}; got <{root.tag}> "
                f"with {sorted(fields)}"
            )
            if "Encrypt" not in fields:
                return None
        encrypted = fields.get("Encrypt", "")
        timestamp, nonce = fields.get("TimeStamp", ""), fields.get("Nonce", "")
        if not timestamp.isdigit():
            self._bad_reply(f"TimeStamp {timestamp!r} is not a number")
        expected_signature = signature(self.token, timestamp, nonce, encrypted)
        if fields.get("MsgSignature") != expected_signature:
            self._bad_reply("MsgSignature is not sha1(sorted([token, TimeStamp, Nonce, Encrypt]))")
            return None
        key = base64.b64decode(self.encoding_aes_key + "=")
        try:
            padded = _aes_decrypt(key, base64.b64decode(encrypted, validate=True))
        except ValueError as error:
            self._bad_reply(f"Encrypt is not base64 of AES-256-CBC blocks: {error}")
            return None
        pad = padded[-1] if padded else 0
        if not 1 <= pad <= 32 or padded[-pad:] != bytes([pad]) * pad:
            self._bad_reply(f"bad PKCS#7 padding (last byte {pad})")
            return None
        if len(padded) % 32:
            self._bad_reply(f"PKCS#7 padding to 16-byte blocks ({len(padded)} bytes); use 32")
        try:
            xml = self._crypto.decrypt_message(body, expected_signature, timestamp, nonce)
        except InvalidAppIdException:
            self._bad_reply(f"the AppID after the XML is not {self.app_id}")
            return None
        except InvalidSignatureException:
            self._bad_reply("wechatpy refuses the MsgSignature")
            return None
        except Exception as error:
            self._bad_reply(f"wechatpy cannot decrypt it: {type(error).__name__}: {error}")
            return None
        return str(xml)

    def _check_reply(self, reply: Reply, root: ET.Element, message: dict[str, str]) -> None:
        fields = _fields(root)
        reply.to_user, reply.from_user = fields.get("ToUserName"), fields.get("FromUserName")
        reply.msg_type = fields.get("MsgType")
        if root.tag != "xml":
            self._bad_reply(f"the root element is <{root.tag}>, not <xml>")
        if reply.to_user != message.get("FromUserName"):
            self._bad_reply(
                f"ToUserName {reply.to_user!r} is not the user ({message.get('FromUserName')!r},"
                " the FromUserName of the message)"
            )
        if reply.from_user != message.get("ToUserName"):
            self._bad_reply(
                f"FromUserName {reply.from_user!r} is not the account "
                f"({message.get('ToUserName')!r}, the ToUserName of the message)"
            )
        if not fields.get("CreateTime", "").strip().isdigit():
            self._bad_reply(f"CreateTime {fields.get('CreateTime')!r} is not a number")
        kind = reply.msg_type
        if kind not in REPLY_TYPES:
            self._bad_reply(f"MsgType {kind!r} is not one of {sorted(REPLY_TYPES)}")
            return
        if kind == "text":
            reply.content = fields.get("Content")
            if not reply.content:
                self._bad_reply("an empty text reply (answer 'success' to send nothing)")
            elif _utf8(reply.content) > TEXT_LIMIT:
                self._bad_reply(
                    f"Content is {_utf8(reply.content)} bytes of UTF-8, at most {TEXT_LIMIT}"
                )
        elif kind in ("image", "voice", "video"):
            reply.media_id = root.findtext(f"{kind.capitalize()}/MediaId")
            if not self.verified:
                self._bad_reply(f"a {kind} reply needs an uploaded media_id: verified accounts")
            elif not reply.media_id or reply.media_id not in self.media:
                self._bad_reply(f"{kind} reply: MediaId {reply.media_id!r} is unknown")
        elif kind == "news":
            items = root.findall("Articles/item")
            if fields.get("ArticleCount") != str(len(items)) or not 1 <= len(items) <= 8:
                self._bad_reply(
                    f"news reply: ArticleCount {fields.get('ArticleCount')!r}, "
                    f"{len(items)} items (1 to 8)"
                )

    def _bad_reply(self, problem: str) -> None:
        self.violations.append(f"push reply: {problem}")


# -- module helpers ---------------------------------------------------------------------------
_HEADERS = {"User-Agent": "Mozilla/4.0", "Accept": "*/*", "Pragma": "no-cache"}


def _nonce() -> str:
    return str(secrets.randbelow(9 * 10**9) + 10**9)


def _spoil(value: str) -> str:
    return hashlib.sha1(f"not {value}".encode()).hexdigest()


def _aes_decrypt(key: bytes, data: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _json_response(body: JSON) -> web.Response:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return web.Response(body=data, headers={"Content-Type": JSON_TYPE})


def _error(error: WeChatError, *, status: int = 200) -> web.Response:
    response = _json_response(error.body())
    response.set_status(status)
    return response


def _msgmenu_problems(content: JSON) -> list[str]:
    problems = []
    for name in ("head_content", "tail_content"):
        if name in content and not isinstance(content[name], str):
            problems.append(f"msgmenu.{name}: a string is required")
    items = content.get("list")
    if not isinstance(items, list) or not 1 <= len(items) <= 10:
        count = len(items) if isinstance(items, list) else "no"
        return [*problems, f"msgmenu.list: {count} items, 1 to 10 are allowed"]
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item.get(k) for k in ("id", "content")
        ):
            problems.append(f"msgmenu.list[{i}]: non-empty 'id' and 'content' are required")
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if len(set(map(str, ids))) != len(ids):
        problems.append(f"msgmenu.list: ids must be unique: {ids}")
    return problems


def _button_problem(button: Any, where: str, *, sub: bool) -> tuple[int, str] | None:
    """The first problem of one button: (errcode, description); the codes differ for a
    sub-button (40024–40027) and a top-level one (40017–40020)."""
    type_code, name_code, key_code, url_code = (
        (40024, 40025, 40026, 40027) if sub else (40017, 40018, 40019, 40020)
    )
    if not isinstance(button, dict):
        return type_code, f"{where}: an object is required"
    name, limit = button.get("name"), 16 if sub else 8
    if not isinstance(name, str) or not name or _width(name) > limit:
        shown = _width(name) if isinstance(name, str) else "no"
        return name_code, (
            f"{where}.name: {name!r} is {shown} wide, at most {limit} "
            f"({limit // 2} Chinese characters)"
        )
    kind = button.get("type")
    if kind not in MENU_TYPES:
        return type_code, f"{where}.type: {kind!r} is not a menu button type"
    key = button.get("key")
    if kind in KEYED_TYPES and (not isinstance(key, str) or not key or _utf8(key) > 128):
        return key_code, f"{where}.key: 1 to 128 bytes are required for {kind!r}"
    url = button.get("url")
    needs_url = kind == "view" or kind == "miniprogram"
    if needs_url and (not isinstance(url, str) or not url or _utf8(url) > 1024):
        return url_code, f"{where}.url: 1 to 1024 bytes are required for {kind!r}"
    if kind in ("media_id", "view_limited") and not button.get("media_id"):
        return type_code, f"{where}.media_id is required for {kind!r}"
    if kind in ("article_id", "article_view_limited") and not button.get("article_id"):
        return type_code, f"{where}.article_id is required for {kind!r}"
    if kind == "miniprogram" and not (button.get("appid") and button.get("pagepath")):
        return type_code, f"{where}: appid and pagepath are required for 'miniprogram'"
    return None


def _menu_problem(body: JSON) -> tuple[int, str] | None:
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        count = len(buttons) if isinstance(buttons, list) else "no"
        return 40016, f"button: {count} buttons, 1 to 3 are allowed"
    for i, button in enumerate(buttons):
        where = f"button[{i}]"
        subs = button.get("sub_button") if isinstance(button, dict) else None
        if not subs:  # a leaf (an empty sub_button list counts as none)
            problem = _button_problem(button, where, sub=False)
            if problem is not None:
                return problem
            continue
        name = button.get("name")
        if not isinstance(name, str) or not name or _width(name) > 8:
            return 40018, f"{where}.name: {name!r}, at most 8 wide (4 Chinese characters)"
        if not isinstance(subs, list) or len(subs) > 5:
            count = len(subs) if isinstance(subs, list) else "no"
            return 40023, f"{where}.sub_button: {count} sub-buttons, 1 to 5 are allowed"
        for j, child in enumerate(subs):
            problem = _button_problem(child, f"{where}.sub_button[{j}]", sub=True)
            if problem is not None:
                return problem
    return None
