"""Logging that never carries what users wrote, their numbers, files or the token.

Log records name event types and salted hashes of user ids, nothing else. httpx logs every
request URL at INFO, and Bot API URLs contain the token: its logger is raised to WARNING.
"""

from __future__ import annotations

import hashlib
import logging

QUIET = ("httpx", "httpcore", "telegram.ext.ExtBot", "aiosqlite", "asyncio")


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger and silence the loggers that could leak secrets."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def user_ref(channel: str, user_id: str, salt: str = "") -> str:
    """Return a short salted hash of a user id, for correlating log lines."""
    digest = hashlib.sha256(f"{salt}:{channel}:{user_id}".encode()).hexdigest()
    return digest[:12]
