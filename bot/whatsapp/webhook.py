"""WhatsApp's webhook: the verification handshake and the signed deliveries.

``GET /whatsapp`` answers Meta's handshake (``hub.mode=subscribe`` and our verify token, in
constant time) with the challenge. ``POST /whatsapp`` checks ``X-Hub-Signature-256`` (HMAC-SHA256
of the raw body with the app secret) before anything is parsed, then records every message
of the delivery in the inbox, keyed by its ``wamid``, and only then answers 200: from then on
the message is the bot's to apply, even across a crash. When the inbox cannot be written the
answer is 500 and Meta delivers again (for up to 7 days). Meta delivers at least once and in
no guaranteed order: a repeated ``wamid`` is recorded once and applied once.

Statuses of what the bot sent (sent, delivered, read, failed) are counted in the log, never
journaled; a failed one is logged with its error code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.channel import Inbound
from bot.storage import StorageUnavailable
from bot.web import TooLarge, read_capped

MAX_DELIVERY_BYTES = 1024 * 1024
"""A delivery holds a few messages' JSON; media come by id, never inline."""
SIGNATURE_HEADER = "x-hub-signature-256"

log = logging.getLogger(__name__)


Accept = Callable[[list[Inbound]], Awaitable[None]]
"""Records the messages in the inbox and hands them on; raises StorageUnavailable if the
inbox cannot be written in time."""


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256 of body>`` under the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").encode(), expected.encode())


def messages_of(delivery: Any) -> list[Inbound]:
    """The messages of a delivery (several entries, changes and messages may come in one)."""
    found: list[Inbound] = []
    if not isinstance(delivery, dict):
        return found
    for entry in _dicts(delivery.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = list(_dicts(value.get("contacts")))
            for message in _dicts(value.get("messages")):
                inbound = _inbound(message, contacts)
                if inbound is not None:
                    found.append(inbound)
            _log_statuses(list(_dicts(value.get("statuses"))))
    return found


def _inbound(message: dict[str, Any], contacts: list[dict[str, Any]]) -> Inbound | None:
    key = message.get("id")
    if not isinstance(key, str) or not key:
        return None
    phone = message.get("from") if isinstance(message.get("from"), str) else None
    user = message.get("from_user_id")
    if not isinstance(user, str) or not user:
        match = [c for c in contacts if phone and c.get("wa_id") == phone]
        chosen = match[0] if match else (contacts[0] if len(contacts) == 1 else None)
        user = chosen.get("user_id") if chosen else None
    if message.get("type") == "system":
        system = message.get("system")
        if not user and isinstance(system, dict):
            user = system.get("user_id")
    if not isinstance(user, str) or not user:
        user = phone  # an old delivery without a BSUID: the number is all there is
    if not user:
        return None
    return Inbound(key=key, user=user, message=message, phone=phone)


def _log_statuses(statuses: list[dict[str, Any]]) -> None:
    for status in statuses:
        if status.get("status") == "failed":
            codes = [e.get("code") for e in _dicts(status.get("errors"))]
            log.warning("a message was not delivered (codes %s)", codes)
    if statuses:
        log.debug("%d delivery statuses", len(statuses))


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def handshake(verify_token: str) -> Callable[[Request], Awaitable[Response]]:
    """``GET``: answer Meta's subscription check with the challenge, or 403."""
    expected = verify_token.encode()

    async def endpoint(request: Request) -> Response:
        query = request.query_params
        given = query.get("hub.verify_token", "").encode()
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, expected):
            log.warning("webhook verification with a wrong token refused")
            return Response(status_code=403)
        return PlainTextResponse(query.get("hub.challenge", ""))

    return endpoint


def deliveries(
    app_secret: str, accept: Accept, *, cap: int = MAX_DELIVERY_BYTES
) -> Callable[[Request], Awaitable[Response]]:
    """``POST``: check the signature on the raw body, journal the messages, then 200."""
    secret = app_secret.encode()

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_capped(request, cap)
        except TooLarge:
            log.warning("webhook request over %d bytes refused", cap)
            return Response(status_code=413)
        if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("webhook request with a wrong signature refused")
            return Response(status_code=403)
        try:
            delivery = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        found = messages_of(delivery)
        if found:
            started = time.monotonic()
            try:
                await accept(found)
            except StorageUnavailable:
                return Response(status_code=500)  # not recorded: Meta delivers it again
            log.debug("%d messages journaled in %.3f s", len(found), time.monotonic() - started)
        return Response(status_code=200)

    return endpoint
