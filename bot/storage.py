"""Conversations, cases and evidence records, in SQLite or PostgreSQL.

One :class:`Storage` per process, on a :class:`~bot.db.Database`: SQLite by default (one
aiosqlite connection), PostgreSQL when opened with a ``postgresql://`` URL (a connection
pool; several processes may share it). The SQL here is understood by both. A whole
:class:`~dialogs.case.Conversation` is loaded and saved at a time; :meth:`Storage.save` writes it
in one transaction, so a crash leaves either the old conversation or the new one. Evidence rows
are append-only: once recorded, an item is never rewritten, only deleted with its case.

Durability: WAL journal with ``synchronous=FULL``. In WAL mode ``NORMAL`` may lose the last
commits on power loss; the user is told their evidence is kept once the save commits, so every
commit is synced.

The schema is versioned: :data:`MIGRATIONS` lists the steps, step ``i`` takes the database
from version ``i`` to ``i + 1`` (SQLite keeps the version in ``PRAGMA user_version``,
PostgreSQL in a ``schema_version`` table, and takes each statement through
:func:`postgres_statement`). Add a step, never edit a released one.

Exceptions::

    StorageError
    ├── StorageUnavailable  locked, full, connection lost: nothing changed, try again later
    ├── AlreadyProcessed    the update key was already recorded; nothing was saved
    ├── StaleConversation   saved by another process since it was loaded; nothing was saved
    └── EvidenceConflict    a recorded evidence item would change; nothing was saved
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from bot.db import (
    Database,
    DuplicateKey,
    PostgresDatabase,
    SQLiteDatabase,
    StorageError,
    StorageUnavailable,
    Transaction,
)
from dialogs.case import Case, Conversation, EvidenceItem


class CorruptConversation(ValueError):
    """A stored conversation that cannot be read back (damaged JSON, an impossible value)."""


def _aside_prefix(user_id: str) -> str:
    """The user id under which an unreadable conversation is kept aside."""
    return f"quarantine:{user_id}:"


MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 0 -> 1: conversations, cases, evidence.
    (
        """CREATE TABLE conversations (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (channel, user_id)
        )""",
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (channel, user_id, number),
            FOREIGN KEY (channel, user_id)
                REFERENCES conversations (channel, user_id) ON DELETE CASCADE
        )""",
        """CREATE TABLE evidence (
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            kind TEXT NOT NULL,
            mime TEXT,
            size INTEGER,
            sha256 TEXT,
            unique_id TEXT,
            too_large INTEGER NOT NULL,
            received_at TEXT NOT NULL,
            forward TEXT,
            caption TEXT,
            album_id TEXT,
            text TEXT,
            file_name TEXT,
            PRIMARY KEY (case_id, number)
        )""",
        "CREATE INDEX evidence_sha256 ON evidence (sha256)",
    ),
    # 1 -> 2: updates applied once; retention.
    (
        """CREATE TABLE processed_updates (
            channel TEXT NOT NULL,
            update_key TEXT NOT NULL,
            processed_at TEXT NOT NULL,
            PRIMARY KEY (channel, update_key)
        )""",
        "CREATE INDEX processed_updates_processed_at ON processed_updates (processed_at)",
        "CREATE INDEX cases_updated_at ON cases (updated_at)",
    ),
    # 2 -> 3: an inbox of updates fetched from the channel but not yet applied, so that a
    # crash between fetching (which confirms them to the channel) and applying loses none.
    (
        """CREATE TABLE inbox (
            channel TEXT NOT NULL,
            update_key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            payload TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (channel, update_key)
        )""",
    ),
    # 3 -> 4: follow-up reminders, found without reading every case.
    (
        "ALTER TABLE cases ADD COLUMN next_due TEXT",
        "CREATE INDEX cases_next_due ON cases (next_due)",
    ),
    # 4 -> 5: a version per conversation, raised by every save: a save made from an older
    # version is refused, and an unchanged conversation need not be read again.
    ("ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0",),
    # 5 -> 6: the inbox as a work queue: each update's chat (the order to keep), and when
    # an update that could not be applied is to be tried again.
    (
        "ALTER TABLE inbox ADD COLUMN chat TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE inbox ADD COLUMN available_at TEXT",
        "ALTER TABLE inbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX inbox_chat ON inbox (channel, chat, seq)",
        "CREATE INDEX inbox_seq ON inbox (channel, seq)",
    ),
    # 6 -> 7: the pacing of messages shared by several processes (used on PostgreSQL).
    ("CREATE TABLE pacing (key TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL)",),
    # 7 -> 8: what an update kept for a later try waits for ("download": the chat's later
    # updates may go first, as they do in one process; anything else holds them back).
    ("ALTER TABLE inbox ADD COLUMN waiting TEXT",),
    # 8 -> 9: answers a channel could not deliver when they were made (WeChat: too late for
    # the passive reply, and no way to write first), kept until the user's next message.
    (
        """CREATE TABLE outbox (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            text TEXT NOT NULL,
            held_at TEXT NOT NULL,
            PRIMARY KEY (channel, user_id, seq)
        )""",
    ),
    # 9 -> 10: the options last offered to a user as text (typed back by letter or number),
    # so that whichever process applies the answer reads it the same (bot/choices.py).
    (
        """CREATE TABLE offered (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            options TEXT NOT NULL,
            case_number INTEGER,
            offered_at TEXT NOT NULL,
            PRIMARY KEY (channel, user_id)
        )""",
    ),
    # 10 -> 11: reading the screenshots (bot/reading.py): what is waiting to be read, one
    # row per new image item, written with the item; and what a content was read to say,
    # once per content (any case holding the same file shares it), gone with the file.
    (
        """CREATE TABLE reading_jobs (
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            available_at TEXT,
            leased_until TEXT,
            PRIMARY KEY (case_id, number)
        )""",
        """CREATE TABLE readings (
            sha256 TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            read_at TEXT NOT NULL
        )""",
        # the pictures kept before reading existed are read too, once reading is on
        "INSERT INTO reading_jobs (case_id, number, sha256) SELECT case_id, number, sha256 "
        "FROM evidence WHERE kind = 'screenshot' AND sha256 IS NOT NULL AND too_large = 0",
    ),
)
"""Schema steps; step ``i`` migrates version ``i`` to ``i + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)


def postgres_statement(statement: str) -> str:
    """A schema statement written for SQLite, as PostgreSQL takes it: integers are 64-bit,
    and the case id an identity column (SQLite's INTEGER PRIMARY KEY is its row id)."""
    statement = statement.replace(
        "id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    return re.sub(r"\bINTEGER\b", "BIGINT", statement)


INBOX_NOTICE: Final = "inbox"
"""The PostgreSQL notification sent when updates were added to the inbox."""
_PG_LOCK: Final = 0x626F74  # the advisory lock that keeps two processes from migrating at once

EVIDENCE_COLUMNS: Final = (
    "number",
    "kind",
    "mime",
    "size",
    "sha256",
    "unique_id",
    "too_large",
    "received_at",
    "forward",
    "caption",
    "album_id",
    "text",
    "file_name",
)
"""The columns of ``evidence`` besides ``case_id``: exactly the fields of EvidenceItem."""
_KIND, _SHA256, _TOO_LARGE = (
    1 + EVIDENCE_COLUMNS.index(c) for c in ("kind", "sha256", "too_large")
)
"""Where these are in an evidence row (after ``case_id``)."""

_INSERT_EVIDENCE: Final = (
    f"INSERT INTO evidence (case_id, {', '.join(EVIDENCE_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in EVIDENCE_COLUMNS)})"
)
_USER_EVIDENCE: Final = (
    f"SELECT e.case_id, {', '.join('e.' + c for c in EVIDENCE_COLUMNS)} "
    "FROM evidence e JOIN cases c ON c.id = e.case_id "
    "WHERE c.channel = ? AND c.user_id = ? ORDER BY c.number, e.number"
)


READ_KINDS: Final = frozenset({"screenshot"})
"""The evidence kinds a reading job is made for: pictures (screenshots and photos)."""


@dataclass(frozen=True)
class ReadingJob:
    """One stored picture waiting to be read, and the case item it belongs to."""

    case_id: int
    channel: str
    user_id: str
    case: int
    item: int
    sha256: str
    tries: int


class AlreadyProcessed(StorageError):
    """The update was already applied; the transaction was rolled back."""


class ContentGone(StorageUnavailable):
    """A file the record would point to was removed (as another user's orphan) before the
    record was saved; nothing was saved. Fetch the file again and retry."""


class StaleConversation(StorageError):
    """The conversation was saved by someone else since it was loaded; nothing was saved.
    Load it again and apply the event to what is stored now."""


class EvidenceConflict(StorageError):
    """A recorded evidence item differs from the one being saved (evidence is append-only)."""


def _stamp(moment: datetime) -> str:
    """A moment as stored for comparison: UTC, ISO 8601, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _conversation_data(conv: Conversation) -> str:
    return conv.model_dump_json(exclude={"channel", "user_id", "cases"})


def _content_key(sha256: str) -> int:
    """The advisory-lock key of a content: the first 64 bits of its hash, signed."""
    return int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc_text(moment: datetime) -> str:
    """Return a sortable UTC timestamp (fixed width, microseconds)."""
    if moment.utcoffset() is None:
        raise ValueError("storage needs timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _next_due(case: Case) -> str | None:
    """Return when the case's next follow-up reminder is due, if any: a sent complaint's, or
    the one the user asked for at the report step."""
    due = [sent.due_at for sent in case.sent if not sent.reminded]
    if case.report.remind_at is not None and not case.report.reminded:
        due.append(case.report.remind_at)
    return _utc_text(min(due)) if due else None


def _evidence_row(case_id: int, item: EvidenceItem) -> tuple[Any, ...]:
    data = item.model_dump(mode="json")
    data["too_large"] = int(item.too_large)
    if data["forward"] is not None:
        data["forward"] = json.dumps(data["forward"], ensure_ascii=False)
    return (case_id, *(data[column] for column in EVIDENCE_COLUMNS))


def _evidence_item(row: Iterable[Any]) -> EvidenceItem:
    data = dict(zip(EVIDENCE_COLUMNS, row, strict=True))
    data["too_large"] = bool(data["too_large"])
    if data["forward"] is not None:
        data["forward"] = json.loads(data["forward"])
    return EvidenceItem.model_validate(data)


def _diff_evidence(
    case: Case, stored: dict[int, EvidenceItem]
) -> tuple[list[EvidenceItem], list[EvidenceItem]]:
    """Return the case's new and removed items; raise if a recorded item would change."""
    new = []
    for item in case.evidence:
        recorded = stored.get(item.number)
        if recorded is None:
            new.append(item)
        elif recorded != item:
            raise EvidenceConflict(f"case {case.number}, item {item.number} would change")
    present = {item.number for item in case.evidence}
    removed = [item for number, item in stored.items() if number not in present]
    return new, removed


def _diff_known(
    case: Case, before: list[EvidenceItem]
) -> tuple[list[EvidenceItem], list[EvidenceItem]]:
    """Like :func:`_diff_evidence`, against the items as last loaded or saved: the items
    kept are the very same objects (items are immutable), so checking them is cheap."""
    kept = len(before)
    if case.evidence[:kept] == before:  # items only added (list equality checks identity first)
        return case.evidence[kept:], []
    old = {item.number: item for item in before}
    new = []
    for item in case.evidence:
        recorded = old.pop(item.number, None)
        if recorded is None:
            new.append(item)
        elif recorded is not item and recorded != item:
            raise EvidenceConflict(f"case {case.number}, item {item.number} would change")
    return new, list(old.values())


def _shares_evidence(conv: Conversation, cached: Conversation) -> bool:
    """Whether ``conv`` holds an evidence list of the cached conversation itself (it was
    changed in place rather than copied, so the cached lists no longer show what was
    stored)."""
    lists = {id(case.evidence) for case in cached.cases}
    return any(id(case.evidence) in lists for case in conv.cases)


LOADED_VERSIONS: Final = 4096
CACHE_CONVERSATIONS: Final = 256
CACHE_ITEMS: Final = 50_000
"""At most this many conversations, holding at most this many evidence items in all, are
kept in memory between two updates of their user."""


class _Recent:
    """Conversations this process loaded or saved lately, by (channel, user), each with the
    version it had then; the least recently used go first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[int, Conversation, int]] = OrderedDict()
        self._items = 0

    def entry(self, scope: tuple[str, str]) -> tuple[int, Conversation] | None:
        found = self._entries.get(scope)
        return (found[0], found[1]) if found is not None else None

    def get(self, scope: tuple[str, str], version: int) -> Conversation | None:
        found = self._entries.get(scope)
        if found is None or found[0] != version:
            return None
        self._entries.move_to_end(scope)
        return found[1]

    def put(self, scope: tuple[str, str], version: int, conv: Conversation) -> None:
        self.forget(scope)
        items = sum(len(case.evidence) for case in conv.cases)
        self._entries[scope] = (version, conv, items)
        self._items += items
        while self._entries and (
            len(self._entries) > CACHE_CONVERSATIONS or self._items > CACHE_ITEMS
        ):
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self._items -= dropped

    def forget(self, scope: tuple[str, str]) -> None:
        found = self._entries.pop(scope, None)
        if found is not None:
            self._items -= found[2]


class Storage:
    """Conversations of all users, each user's data isolated by (channel, user_id).

    A conversation this process loaded or saved lately is kept in memory, as a copy of its
    own. A caller that never changes what it loads (the core: ``dialogs.step`` works on a
    deep copy) may skip the copies: ``load(shared=True)`` hands out the kept object itself,
    and ``save(hand_over=True)`` keeps the saved object itself.
    """

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._cache = _Recent()
        self._loaded: OrderedDict[tuple[str, str], int] = OrderedDict()
        """The version each conversation had when this process last loaded or saved it,
        kept apart from the cache (which may drop it) for the check on saving."""
        self._journal_waiting: list[tuple[list[tuple[Any, ...]], asyncio.Future[None]]] = []
        self._journal_task: asyncio.Task[None] | None = None
        self.reads_pictures = False
        """Whether each new picture of a case gets a reading job, in the transaction that
        records it (set when reading is on: bot/reading.py)."""

    @classmethod
    async def open(cls, where: Path | str, *, clock: Callable[[], datetime] = _utc_now) -> Self:
        """Open (or create) the database and migrate it to the latest schema: a SQLite file
        at a path, or PostgreSQL at a ``postgresql://`` URL."""
        db: Database
        if isinstance(where, str) and where.startswith(("postgresql://", "postgres://")):
            db = await PostgresDatabase.open(where)
        else:
            db = await SQLiteDatabase.open(Path(where))
        try:
            if isinstance(db, SQLiteDatabase):
                await _migrate_sqlite(db)
            else:
                await _migrate_postgres(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, clock)

    @property
    def dialect(self) -> str:
        return self._db.dialect

    @property
    def _inbox_delete(self) -> str:
        """Drop an update from the inbox; on PostgreSQL, not while a worker holds it (the
        worker drops it when done: waiting for it here would wait for ourselves)."""
        if self.dialect == "postgresql":
            return (
                "DELETE FROM inbox WHERE ctid = ANY(ARRAY(SELECT ctid FROM inbox "
                "WHERE channel = ? AND update_key = ? FOR UPDATE SKIP LOCKED))"
            )
        return "DELETE FROM inbox WHERE channel = ? AND update_key = ?"

    async def ping(self) -> bool:
        """Whether the database answers now."""
        async with self._db.transaction(write=False) as tx:
            return (await tx.fetch("SELECT 1")) == [(1,)]

    async def close(self) -> None:
        """Close the connection (after the journal commit in progress); safe to call twice."""
        if self._journal_task is not None and not self._journal_task.done():
            await asyncio.wait([self._journal_task])
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def load(
        self, channel: str, user_id: str, *, shared: bool = False
    ) -> Conversation | None:
        """Return the user's conversation with its cases and evidence, or None if unknown.

        A conversation saved or loaded lately by this process and not saved since by anyone
        (its version unchanged) is not read again: the cost stays flat as a case grows.
        ``shared``: the caller will not change what it gets, so the kept object itself may
        be returned rather than a copy."""
        scope = (channel, user_id)
        async with self._db.transaction(write=False) as tx:  # one snapshot for three reads
            conv_rows = await tx.fetch(
                "SELECT data, version FROM conversations WHERE channel = ? AND user_id = ?", scope
            )
            if not conv_rows:
                self._forget(scope)
                return None
            data, version = conv_rows[0]
            self._remember(scope, version)
            known = self._cache.get(scope, version)
            if known is not None:  # the evidence items are shared even in a copy
                return known if shared else known.model_copy(deep=True)
            case_rows = await tx.fetch(
                "SELECT id, data FROM cases WHERE channel = ? AND user_id = ? ORDER BY number",
                scope,
            )
            evidence_rows = await tx.fetch(_USER_EVIDENCE, scope)
        try:
            evidence: dict[int, list[EvidenceItem]] = {case_id: [] for case_id, _ in case_rows}
            for case_id, *row in evidence_rows:
                evidence[case_id].append(_evidence_item(row))
            cases = [
                Case.model_validate({**json.loads(data), "evidence": evidence[case_id]})
                for case_id, data in case_rows
            ]
            conv = Conversation.model_validate(
                {**json.loads(data), "channel": channel, "user_id": user_id, "cases": cases}
            )
        except (ValueError, TypeError, KeyError) as error:  # JSON and validation errors
            raise CorruptConversation(type(error).__name__) from None
        self._cache.put(scope, version, conv if shared else conv.model_copy(deep=True))
        return conv

    async def quarantine(self, channel: str, user_id: str) -> None:
        """Move an unreadable conversation aside, with its cases and evidence, for the
        operator to look at: the user starts afresh, and /delete still erases it."""
        aside = f"{_aside_prefix(user_id)}{self._now()}"
        self._forget((channel, user_id))
        async with self._db.transaction() as tx:
            await self._move_user(tx, channel, user_id, aside)

    async def save(
        self,
        conv: Conversation,
        *,
        update_key: str | None = None,
        content_present: Callable[[str], Awaitable[bool]] | None = None,
        hand_over: bool = False,
    ) -> list[str]:
        """Save the whole conversation atomically; return the sha256s no longer referenced.

        With ``update_key``, also record that update as processed, in the same transaction;
        raise :class:`AlreadyProcessed` (and save nothing) if it already was.

        On PostgreSQL (several processes), each new file record holds its content's lock
        until the save commits, and ``content_present`` is asked, under it, whether the file
        is still there: another process's :meth:`remove_orphans` may have taken it between
        storing and saving (:class:`ContentGone`, nothing saved).

        ``hand_over``: the caller will not change ``conv`` any more, so it is kept in memory
        as it is rather than copied.
        """
        numbers = [case.number for case in conv.cases]
        if len(set(numbers)) != len(numbers):
            raise ValueError("case numbers must be unique within a conversation")
        scope = (conv.channel, conv.user_id)
        expected = self._loaded.get(scope)
        cached = self._cache.entry(scope)
        base = cached if cached is not None and cached[0] == expected else None
        if base is not None and _shares_evidence(conv, base[1]):
            base = None  # changed in place: what is new is known only from the stored rows
        try:
            async with self._db.transaction() as tx:
                if update_key is not None:
                    await self._record_update(tx, conv.channel, update_key)
                version, orphans = await self._write(tx, conv, expected, base, content_present)
        except BaseException:
            self._forget(scope)  # what is stored now is read again next time
            raise
        self._remember(scope, version)
        self._cache.put(scope, version, conv if hand_over else conv.model_copy(deep=True))
        return orphans

    def _remember(self, scope: tuple[str, str], version: int) -> None:
        self._loaded[scope] = version
        self._loaded.move_to_end(scope)
        while len(self._loaded) > LOADED_VERSIONS:
            self._loaded.popitem(last=False)

    def _forget(self, scope: tuple[str, str]) -> None:
        self._loaded.pop(scope, None)
        self._cache.forget(scope)

    async def hold(self, channel: str, user_id: str, texts: Sequence[str]) -> None:
        """Keep answers that could not be delivered yet, in order, until :meth:`take_held`."""
        if not texts:
            return
        first = time.time_ns() // 1000 * 1000
        rows = [(channel, user_id, first + n, text, self._now()) for n, text in enumerate(texts)]
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO outbox (channel, user_id, seq, text, held_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def take_held(self, channel: str, user_id: str) -> list[str]:
        """Return the answers held for the user, oldest first, and forget them."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT text FROM outbox WHERE channel = ? AND user_id = ? ORDER BY seq",
                (channel, user_id),
            )
            if rows:
                await tx.execute(
                    "DELETE FROM outbox WHERE channel = ? AND user_id = ?", (channel, user_id)
                )
        return [text for (text,) in rows]

    async def offer(
        self, channel: str, user_id: str, options: str | None, case: int | None
    ) -> None:
        """Keep the options (JSON) last offered to the user as text, or forget them (None)."""
        async with self._db.transaction() as tx:
            if options is None:
                await tx.execute(
                    "DELETE FROM offered WHERE channel = ? AND user_id = ?", (channel, user_id)
                )
                return
            await tx.execute(
                "INSERT INTO offered (channel, user_id, options, case_number, offered_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, user_id) DO UPDATE SET "
                "options = excluded.options, case_number = excluded.case_number, "
                "offered_at = excluded.offered_at",
                (channel, user_id, options, case, self._now()),
            )

    async def offered(self, channel: str, user_id: str) -> tuple[str, int | None] | None:
        """The options (JSON) and case last offered to the user as text, if any."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT options, case_number FROM offered WHERE channel = ? AND user_id = ?",
                (channel, user_id),
            )
        if not rows:
            return None
        options, case = rows[0]
        return str(options), None if case is None else int(case)

    # -- reading the pictures (bot/reading.py) -------------------------------------------

    async def claim_reading(self, lease_seconds: float) -> ReadingJob | None:
        """Take the oldest picture waiting to be read and not taken by another reader, for
        ``lease_seconds`` (a reader that dies lets it go when the lease ends)."""
        now = self._clock()
        skip = " FOR UPDATE OF j SKIP LOCKED" if self.dialect == "postgresql" else ""
        async with self._db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT j.case_id, c.channel, c.user_id, c.number, j.number, j.sha256, j.tries "
                "FROM reading_jobs j JOIN cases c ON c.id = j.case_id "
                "WHERE (j.available_at IS NULL OR j.available_at <= ?) "
                "AND (j.leased_until IS NULL OR j.leased_until <= ?) "
                f"ORDER BY j.case_id, j.number LIMIT 1{skip}",
                (_stamp(now), _stamp(now)),
            )
            if not rows:
                return None
            case_id, channel, user_id, case, item, sha256, tries = rows[0]
            until = _stamp(now + timedelta(seconds=lease_seconds))
            await tx.execute(
                "UPDATE reading_jobs SET leased_until = ? WHERE case_id = ? AND number = ?",
                (until, case_id, item),
            )
        return ReadingJob(int(case_id), str(channel), str(user_id), int(case), int(item),
                          str(sha256), int(tries))  # fmt: skip

    async def reading_done(self, job: ReadingJob) -> None:
        """The picture was read and its reading applied to its case: drop the job."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM reading_jobs WHERE case_id = ? AND number = ?",
                (job.case_id, job.item),
            )

    async def reading_later(self, job: ReadingJob, seconds: float) -> None:
        """Reading failed: try again in ``seconds``."""
        later = _stamp(self._clock() + timedelta(seconds=seconds))
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE reading_jobs SET tries = tries + 1, available_at = ?, leased_until = NULL "
                "WHERE case_id = ? AND number = ?",
                (later, job.case_id, job.item),
            )

    async def reading_jobs(
        self, channel: str | None = None, user_id: str = "", case: int = 0
    ) -> int:
        """How many pictures wait to be read: in all, or of one user's case."""
        async with self._db.transaction(write=False) as tx:
            if channel is None:
                ((count,),) = await tx.fetch("SELECT count(*) FROM reading_jobs")
            else:
                ((count,),) = await tx.fetch(
                    "SELECT count(*) FROM reading_jobs j JOIN cases c ON c.id = j.case_id "
                    "WHERE c.channel = ? AND c.user_id = ? AND c.number = ?",
                    (channel, user_id, case),
                )
        return int(count)

    async def store_reading(self, sha256: str, data: str) -> None:
        """Keep what a content was read to say (JSON), once per content."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO readings (sha256, data, read_at) VALUES (?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                (sha256, data, self._now()),
            )

    async def reading(self, sha256: str) -> str | None:
        """What a content was read to say (JSON), if it was read."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch("SELECT data FROM readings WHERE sha256 = ?", (sha256,))
        return str(rows[0][0]) if rows else None

    async def rekey(self, channel: str, old: str, new: str) -> bool:
        """Move a user's conversation, cases and evidence to a new id (the channel changed
        the user's id); False, and nothing moved, if the new id already has a conversation."""
        self._forget((channel, old))
        self._forget((channel, new))
        async with self._db.transaction() as tx:
            taken = await tx.fetch(
                "SELECT 1 FROM conversations WHERE channel = ? AND user_id = ?", (channel, new)
            )
            if taken:
                return False
            await self._move_user(tx, channel, old, new)
            await tx.execute(
                "UPDATE inbox SET chat = ? WHERE channel = ? AND chat = ?", (new, channel, old)
            )
            for table in ("outbox", "offered"):
                await tx.execute(
                    f"UPDATE {table} SET user_id = ? WHERE channel = ? AND user_id = ?",
                    (new, channel, old),
                )
        return True

    async def delete_user(
        self, channel: str, user_id: str, *, update_key: str | None = None
    ) -> list[str]:
        """Delete the user's conversation, cases and evidence; return the orphaned sha256s."""
        self._forget((channel, user_id))
        async with self._db.transaction() as tx:
            if update_key is not None:
                await self._record_update(tx, channel, update_key)
            # the user's own rows, and any moved aside as unreadable: theirs too
            aside = _aside_prefix(user_id)
            mine = "channel = ? AND (user_id = ? OR (user_id >= ? AND user_id < ?))"
            params = (channel, user_id, aside, aside[:-1] + ";")
            rows = await tx.fetch(
                "SELECT e.sha256 FROM evidence e JOIN cases c ON c.id = e.case_id WHERE "
                + mine.replace("channel", "c.channel").replace("user_id", "c.user_id"),
                params,
            )
            await tx.execute(f"DELETE FROM cases WHERE {mine}", params)
            await tx.execute(f"DELETE FROM conversations WHERE {mine}", params)
            await tx.execute(f"DELETE FROM outbox WHERE {mine}", params)
            await tx.execute(f"DELETE FROM offered WHERE {mine}", params)
            orphans = await self._orphans(tx, (sha256 for (sha256,) in rows))
        await self.scrub()
        return orphans

    async def scrub(self) -> None:
        """Leave no readable copy of deleted rows where the engine allows it (SQLite: the
        write-ahead log is copied into the database and emptied)."""
        await self._db.compact()

    async def is_processed(self, channel: str, update_key: str) -> bool:
        """Return whether the update with this key was already applied."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?",
                (channel, update_key),
            )
        return bool(rows)

    async def journal(
        self, channel: str, entries: Iterable[tuple[str, int, str] | tuple[str, int, str, str]]
    ) -> None:
        """Keep fetched updates (key, order, JSON payload, and the chat whose order they
        keep) until they are applied; return once they are committed. On PostgreSQL, workers
        waiting for work are woken.

        Callers at the same moment share one transaction (group commit): while one commit
        is in progress the next callers' rows gather, and go in the next one. An idle inbox
        commits at once; a busy one makes one commit, not one per webhook request."""
        now = self._now()
        rows = [
            (channel, entry[0], entry[1], entry[2], entry[3] if len(entry) > 3 else "", now)
            for entry in entries
        ]
        if not rows:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(lambda f: f.cancelled() or f.exception())  # read, even if alone
        self._journal_waiting.append((rows, done))
        if self._journal_task is None or self._journal_task.done():
            self._journal_task = asyncio.create_task(self._commit_journal())
        await asyncio.shield(done)  # a caller that gives up does not take the others along

    async def _commit_journal(self) -> None:
        while self._journal_waiting:
            batch, self._journal_waiting = self._journal_waiting, []
            try:
                await self._insert_inbox([row for rows, _ in batch for row in rows])
            except Exception as error:
                if len(batch) == 1 or isinstance(error, StorageUnavailable):
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                # One bad entry must not fail the others: each on its own.
                for rows, done in batch:
                    try:
                        await self._insert_inbox(rows)
                    except Exception as alone:
                        if not done.done():
                            done.set_exception(alone)
                    else:
                        if not done.done():
                            done.set_result(None)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _insert_inbox(self, rows: list[tuple[Any, ...]]) -> None:
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO inbox (channel, update_key, seq, payload, chat, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, update_key) DO NOTHING",
                rows,
            )
            if self.dialect == "postgresql":
                for channel in sorted({row[0] for row in rows}):
                    await tx.fetch("SELECT pg_notify(?, ?)", (INBOX_NOTICE, channel))

    async def unjournal(self, channel: str, update_key: str) -> None:
        """Drop an update from the inbox once it was applied (or needs no applying)."""
        async with self._db.transaction() as tx:
            await tx.execute(self._inbox_delete, (channel, update_key))

    async def pending(self, channel: str) -> list[tuple[str, str]]:
        """Return the (key, payload) of fetched updates not applied yet, in order."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT update_key, payload FROM inbox WHERE channel = ? AND update_key NOT IN "
                "(SELECT update_key FROM processed_updates WHERE channel = ?) ORDER BY seq",
                (channel, channel),
            )
        return [(key, payload) for key, payload in rows]

    async def due(self, now: datetime) -> list[tuple[str, str]]:
        """Return the (channel, user) pairs with a follow-up reminder due at ``now``."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT DISTINCT channel, user_id FROM cases "
                "WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY channel, user_id",
                (_utc_text(now),),
            )
        return [(channel, user_id) for channel, user_id in rows]

    async def due_for(self, channel: str, user_id: str, now: datetime) -> bool:
        """Whether this user has a follow-up reminder due at ``now``."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT 1 FROM cases WHERE channel = ? AND user_id = ? "
                "AND next_due IS NOT NULL AND next_due <= ?",
                (channel, user_id, _utc_text(now)),
            )
        return bool(rows)

    async def forget_processed(self, before: datetime) -> int:
        """Delete the update keys recorded before ``before``; return how many."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "DELETE FROM processed_updates WHERE processed_at < ?", (_utc_text(before),)
            )

    async def untouched_since(self, cutoff: datetime) -> list[tuple[str, str, int]]:
        """Return (channel, user_id, case number) of every case last updated before cutoff."""
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetch(
                "SELECT channel, user_id, number FROM cases WHERE updated_at < ? "
                "ORDER BY channel, user_id, number",
                (_utc_text(cutoff),),
            )
        return [(channel, user_id, number) for channel, user_id, number in rows]

    async def remove_orphans(
        self, candidates: Iterable[str], remove: Callable[[list[str]], Awaitable[None]]
    ) -> None:
        """Remove (with ``remove``) the contents no record references. On PostgreSQL each
        is checked and removed under its content's lock, so that no other process's save
        of a record pointing to it is in progress meanwhile."""
        for sha256 in sorted(set(candidates)):
            async with self._db.transaction() as tx:
                if self.dialect == "postgresql":
                    await tx.fetch("SELECT pg_advisory_xact_lock(?)", (_content_key(sha256),))
                if not await self._referenced(tx, sha256):
                    await tx.execute("DELETE FROM readings WHERE sha256 = ?", (sha256,))
                    await remove([sha256])

    async def sha256_referenced(self, sha256: str) -> bool:
        """Return whether any evidence row of any user references this content."""
        async with self._db.transaction(write=False) as tx:
            return await self._referenced(tx, sha256)

    # -- inside a transaction -------------------------------------------------------------

    async def _move_user(self, tx: Transaction, channel: str, old: str, new: str) -> None:
        """Give a conversation and its cases (with their evidence) another user id."""
        await tx.execute(
            "INSERT INTO conversations (channel, user_id, data, updated_at, version) "
            "SELECT channel, ?, data, updated_at, version FROM conversations "
            "WHERE channel = ? AND user_id = ?",
            (new, channel, old),
        )
        await tx.execute(
            "UPDATE cases SET user_id = ? WHERE channel = ? AND user_id = ?", (new, channel, old)
        )
        await tx.execute(
            "DELETE FROM conversations WHERE channel = ? AND user_id = ?", (channel, old)
        )

    async def _write(
        self,
        tx: Transaction,
        conv: Conversation,
        expected: int | None,
        loaded: tuple[int, Conversation] | None,
        content_present: Callable[[str], Awaitable[bool]] | None = None,
    ) -> tuple[int, list[str]]:
        """Write the conversation; return its new version and the orphaned hashes.
        ``expected`` is the version this process last read or wrote: if the stored one is
        another, someone else saved since (:class:`StaleConversation`). ``loaded`` is that
        version's conversation if still in memory: then only the new evidence is written,
        without reading the recorded one."""
        lock = " FOR UPDATE" if self.dialect == "postgresql" else ""  # SQLite: one writer
        rows = await tx.fetch(
            f"SELECT version FROM conversations WHERE channel = ? AND user_id = ?{lock}",
            (conv.channel, conv.user_id),
        )
        stored_version = int(rows[0][0]) if rows else None
        if expected is not None and stored_version != expected:
            raise StaleConversation("saved elsewhere since it was loaded")
        # Never a version seen before, even after /delete: a process holding an old copy
        # cannot take it for the current one.
        version = secrets.randbits(30) + 1  # fits the INTEGER column on both engines
        if stored_version is None:
            inserted = await tx.execute(
                "INSERT INTO conversations (channel, user_id, data, updated_at, version) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, user_id) DO NOTHING",
                (conv.channel, conv.user_id, _conversation_data(conv), self._now(), version),
            )
            if inserted != 1:  # another process made it meanwhile
                raise StaleConversation("made elsewhere meanwhile")
        else:
            await tx.execute(
                "UPDATE conversations SET data = ?, updated_at = ?, version = ? "
                "WHERE channel = ? AND user_id = ?",
                (_conversation_data(conv), self._now(), version, conv.channel, conv.user_id),
            )
        candidates = await self._delete_cases_not_in(tx, conv)
        before = None
        if loaded is not None:
            before = {case.number: case.evidence for case in loaded[1].cases}
        stored = None if before is not None else await self._stored_evidence(tx, conv)
        new_rows: list[tuple[Any, ...]] = []
        for case in conv.cases:
            case_id = await self._upsert_case(tx, conv, case)
            if before is not None:
                new, removed = _diff_known(case, before.get(case.number, []))
            else:
                assert stored is not None
                new, removed = _diff_evidence(case, stored.get(case_id, {}))
            new_rows += [_evidence_row(case_id, item) for item in new]
            candidates += [item.sha256 for item in removed]
            await tx.executemany(
                "DELETE FROM evidence WHERE case_id = ? AND number = ?",
                [(case_id, item.number) for item in removed],
            )
        if self.dialect == "postgresql":
            files = sorted({row[5] for row in new_rows if row[5] and row[12] is None})
            for sha256 in files:  # sha256 and text columns: a stored file, not a text
                await tx.fetch("SELECT pg_advisory_xact_lock_shared(?)", (_content_key(sha256),))
                if content_present is not None and not await content_present(sha256):
                    raise ContentGone("a file was removed before its record was saved")
        await tx.executemany(_INSERT_EVIDENCE, new_rows)
        if self.reads_pictures:
            kind, sha, large = _KIND, _SHA256, _TOO_LARGE
            await tx.executemany(
                "INSERT INTO reading_jobs (case_id, number, sha256) VALUES (?, ?, ?)",
                [(row[0], row[1], row[sha]) for row in new_rows
                 if row[kind] in READ_KINDS and row[sha] and not row[large]],
            )  # fmt: skip
        return version, await self._orphans(tx, candidates)

    async def _delete_cases_not_in(self, tx: Transaction, conv: Conversation) -> list[str | None]:
        """Delete the user's cases missing from ``conv``; return their evidence hashes."""
        kept = [case.number for case in conv.cases] or [0]  # case numbers start at 1
        scope = f"channel = ? AND user_id = ? AND number NOT IN ({', '.join('?' * len(kept))})"
        parameters = (conv.channel, conv.user_id, *kept)
        rows = await tx.fetch(
            f"SELECT sha256 FROM evidence WHERE case_id IN (SELECT id FROM cases WHERE {scope})",
            parameters,
        )
        await tx.execute(f"DELETE FROM cases WHERE {scope}", parameters)
        return [sha256 for (sha256,) in rows]

    async def _stored_evidence(
        self, tx: Transaction, conv: Conversation
    ) -> dict[int, dict[int, EvidenceItem]]:
        """Return the user's recorded evidence by case id and item number."""
        stored: dict[int, dict[int, EvidenceItem]] = {}
        for case_id, *row in await tx.fetch(_USER_EVIDENCE, (conv.channel, conv.user_id)):
            item = _evidence_item(row)
            stored.setdefault(case_id, {})[item.number] = item
        return stored

    async def _upsert_case(self, tx: Transaction, conv: Conversation, case: Case) -> int:
        rows = await tx.fetch(
            "INSERT INTO cases (channel, user_id, number, data, created_at, updated_at, next_due) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (channel, user_id, number) DO UPDATE SET data = excluded.data, "
            "created_at = excluded.created_at, updated_at = excluded.updated_at, "
            "next_due = excluded.next_due "
            "RETURNING id",
            (
                conv.channel,
                conv.user_id,
                case.number,
                case.model_dump_json(exclude={"evidence"}),
                _utc_text(case.created_at),
                _utc_text(case.updated_at),
                _next_due(case),
            ),
        )
        return int(rows[0][0])

    async def _record_update(self, tx: Transaction, channel: str, update_key: str) -> None:
        """Record the update as applied and drop it from the inbox (same transaction)."""
        await tx.execute(self._inbox_delete, (channel, update_key))
        try:
            await tx.execute(
                "INSERT INTO processed_updates (channel, update_key, processed_at) "
                "VALUES (?, ?, ?)",
                (channel, update_key, self._now()),
            )
        except DuplicateKey as error:
            raise AlreadyProcessed(f"update already processed on {channel}") from error

    async def _orphans(self, tx: Transaction, candidates: Iterable[str | None]) -> list[str]:
        unique = sorted({sha256 for sha256 in candidates if sha256 is not None})
        return [sha256 for sha256 in unique if not await self._referenced(tx, sha256)]

    async def _referenced(self, tx: Transaction, sha256: str) -> bool:
        rows = await tx.fetch("SELECT EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?)", (sha256,))
        return bool(rows[0][0])

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> str:
        return _utc_text(self._clock())


async def _migrate_sqlite(db: SQLiteDatabase) -> None:
    """Apply the missing schema steps in one transaction (none, and no write lock taken,
    when the schema is current: the bot starts while another program holds the lock)."""
    version = await db.user_version()
    if version == SCHEMA_VERSION:
        return
    async with db.transaction() as tx:
        ((version,),) = await tx.fetch("PRAGMA user_version")
        _check_version(version)
        for step in MIGRATIONS[version:]:
            for statement in step:
                await tx.execute(statement)
        if version != SCHEMA_VERSION:
            await tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


async def _migrate_postgres(db: Database) -> None:
    """Create or migrate the schema, one process at a time (an advisory lock)."""
    async with db.transaction() as tx:
        await tx.fetch("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK,))
        await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = await tx.fetch("SELECT version FROM schema_version")
        version = int(rows[0][0]) if rows else 0
        _check_version(version)
        for step in MIGRATIONS[version:]:
            for statement in step:
                await tx.execute(postgres_statement(statement))
        if not rows:
            await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif version != SCHEMA_VERSION:
            await tx.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"database schema version {version} is newer than this code's {SCHEMA_VERSION}"
        )


__all__ = [
    "AlreadyProcessed",
    "ContentGone",
    "CorruptConversation",
    "EvidenceConflict",
    "StaleConversation",
    "Storage",
    "StorageError",
    "StorageUnavailable",
]
