"""Logging that never carries what users wrote, their numbers, files or the token.

Log records name event types and salted hashes of user ids, nothing else. httpx logs every
request URL at INFO, and Bot API URLs contain the token: its logger is raised to WARNING.
"""

from __future__ import annotations

import hashlib
import logging
import re

QUIET = ("httpx", "httpcore", "telegram", "aiosqlite", "asyncio", "hpack", "tornado")
"""Loggers kept at WARNING whatever the level: at DEBUG they print request URLs (with the
token), API parameters (message texts) and SQL arguments."""

_TOKEN = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    """A last line of defence: replace anything shaped like a bot token in a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("[token]", message), None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger and silence the loggers that could leak secrets."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def user_ref(channel: str, user_id: str, salt: str = "") -> str:
    """Return a short salted hash of a user id, for correlating log lines."""
    digest = hashlib.sha256(f"{salt}:{channel}:{user_id}".encode()).hexdigest()
    return digest[:12]
