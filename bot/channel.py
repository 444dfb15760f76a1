"""What every channel's adapter does the same way with the core's replies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core import CHAT_LIMIT, Out, OutText

MERGE_LIMIT = CHAT_LIMIT
"""Consecutive short replies of one update go out as one message up to this length."""


def merge_short(outs: Sequence[Out]) -> list[Out]:
    """Join consecutive dialog replies (no buttons before the last) into one message: one
    request to Telegram instead of several, and one notification for the user."""
    merged: list[Out] = []
    for out in outs:
        last = merged[-1] if merged else None
        joinable = (
            isinstance(out, OutText)
            and isinstance(last, OutText)
            and last.key is not None
            and out.key is not None
            and not last.buttons
            and last.group is None
            and out.group is None
            and len(last.text) + len(out.text) < MERGE_LIMIT
        )
        if joinable:
            assert isinstance(last, OutText) and isinstance(out, OutText)
            merged[-1] = OutText(
                f"{last.text}\n\n{out.text}", out.lang, out.buttons, out.case, out.key,
                short=out.short,
            )  # fmt: skip
        else:
            merged.append(out)
    return merged


@dataclass(frozen=True)
class Inbound:
    """One message of a webhook channel as it is journaled and applied: its key (applied
    once), its user (whose order is kept), the message as the platform sent it, and the
    user's phone number when the platform gives one (data, never the key)."""

    key: str
    user: str
    message: dict[str, Any]
    phone: str | None = None

    def payload(self) -> str:
        return json.dumps(
            {"key": self.key, "user": self.user, "phone": self.phone, "message": self.message},
            ensure_ascii=False,
        )

    @classmethod
    def from_payload(cls, payload: str) -> Inbound:
        data = json.loads(payload)
        return cls(data["key"], data["user"], data["message"], data.get("phone"))
