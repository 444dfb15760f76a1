"""Logging that never carries what users wrote, their numbers, files or the token.

Log records name event types and salted hashes of user ids, nothing else. httpx logs every
request URL at INFO, and Bot API URLs contain the token: its logger is raised to WARNING, as
are the libraries that echo what they process (fontTools names every glyph it subsets, from
which the Chinese text of a document can be read back). python-telegram-bot logs, at
CRITICAL, the whole update it could not parse: records of its loggers keep their message
but lose their arguments and tracebacks. The salt of the user hashes is the operator's
``LOG_SALT`` or, when unset, a random one made at first start and kept in the data
directory (a hash without a salt is reversed to the user id at once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from pathlib import Path

QUIET = (
    "httpx", "httpcore", "telegram", "aiosqlite", "asyncio", "hpack", "uvicorn", "starlette",
    "fontTools", "fpdf", "PIL", "matplotlib", "psycopg",
)  # fmt: skip
"""Loggers kept at WARNING whatever the level: at DEBUG they print request URLs (with the
token), API parameters (message texts) and SQL arguments."""

_TOKEN = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}")


def redact(text: str) -> str:
    """Return ``text`` with anything shaped like a bot token replaced."""
    return _TOKEN.sub("[token]", text)


class RedactTokens(logging.Filter):
    """A last line of defence: replace anything shaped like a bot token in a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("[token]", message), None
        return True


_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


class WithoutData(logging.Filter):
    """Keep only the wording of records from libraries that put the data they were handling
    into their messages (python-telegram-bot): no arguments, no traceback text."""

    def __init__(self, prefixes: tuple[str, ...] = ("telegram",)) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        message = str(record.msg)
        if record.args:
            message = _PLACEHOLDER.sub("[…]", message)
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message} ({record.exc_info[0].__name__})"
        record.msg, record.args = message, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger and silence the loggers that could leak secrets."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(WithoutData())
        handler.addFilter(RedactTokens())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def log_salt(configured: str | None, data_dir: Path) -> str:
    """Return the salt of logged user hashes: the configured one, else one made at first
    start and kept in ``data_dir/log-salt`` (readable by the owner only)."""
    if configured:
        return configured
    path = data_dir / "log-salt"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(salt)
    return salt


def user_ref(channel: str, user_id: str, salt: str = "") -> str:
    """Return a short salted hash of a user id, for correlating log lines."""
    digest = hashlib.sha256(f"{salt}:{channel}:{user_id}".encode()).hexdigest()
    return digest[:12]
