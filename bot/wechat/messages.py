"""WeChat's message XML: reading what arrives (with defusedxml: no DTDs, no entities, no
external references) and writing passive replies (CDATA, with any ``]]>`` in user-derived text
split across two sections)."""

from __future__ import annotations

import time

from defusedxml import ElementTree

TEXT_BYTES = 2048
"""A passive or customer-service text holds at most this many bytes of UTF-8."""


class NotAMessage(Exception):
    pass


def parse(xml: str) -> dict[str, str]:
    """The message's fields by tag name (top level; ``SendPicsInfo`` and such are skipped)."""
    try:
        root = ElementTree.fromstring(xml)
    except Exception as error:  # malformed, or refused by defusedxml (a DTD, an entity)
        raise NotAMessage(type(error).__name__) from None
    if root.tag != "xml":
        raise NotAMessage("root")
    return {child.tag: (child.text or "") for child in root if len(child) == 0}


def dedupe_key(message: dict[str, str]) -> str:
    """``MsgId``; for events (which have none) the user, time, event and key."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    parts = (message.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey"))
    return "event:" + ":".join(parts)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: float | None = None) -> str:
    created = int(now if now is not None else time.time())
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def split_bytes(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """Cut a text into pieces of at most ``limit`` bytes of UTF-8, on character boundaries,
    at a line break where one is near."""
    pieces: list[str] = []
    while len(text.encode("utf-8")) > limit:
        cut, size = 0, 0
        for index, char in enumerate(text):
            size += len(char.encode("utf-8"))
            if size > limit:
                break
            cut = index + 1
        line = text.rfind("\n", 0, cut)
        if line > cut // 2:
            cut = line + 1
        pieces.append(text[:cut].rstrip("\n"))
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces
