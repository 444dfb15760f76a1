"""The two databases the storage runs on, behind one small interface.

:class:`Storage <bot.storage.Storage>` speaks SQL that both engines understand (``?``
placeholders, ``INSERT ... ON CONFLICT``, ``RETURNING``) through a :class:`Transaction`;
everything that differs lives here:

- :class:`SQLiteDatabase` (the default, one process): one aiosqlite connection, operations
  taken in turn, write transactions started ``IMMEDIATE``, WAL with every commit synced,
  deleted rows overwritten (``secure_delete``) and the log emptied by :meth:`compact`.
- :class:`PostgresDatabase` (``DATABASE_URL=postgresql://...``, several processes): a psycopg 3
  connection pool; reads in one ``REPEATABLE READ`` snapshot; placeholders rewritten to
  psycopg's.

Both raise :class:`~bot.storage.StorageUnavailable` when waiting may help (locked, full,
connection lost) and :class:`DuplicateKey` when a unique key is already taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, Protocol

import aiosqlite
import psycopg
from psycopg import errors
from psycopg_pool import AsyncConnectionPool

BUSY_TIMEOUT_MS: Final = 10_000
"""How long SQLite waits for another writer's lock before giving up."""
POOL_SIZE: Final = 8
OPEN_TIMEOUT_SECONDS = 30.0
"""How long opening PostgreSQL waits for a first connection (it may be starting too)."""


class StorageError(Exception):
    """The storage cannot do what was asked."""


class StorageUnavailable(StorageError):
    """The storage cannot be used just now (locked by another writer, disk full, connection
    lost): nothing was changed, and the same operation can be tried again later."""


class DuplicateKey(StorageError):
    """A row with this unique key exists already; nothing was changed."""


class Transaction(Protocol):
    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class Database(Protocol):
    dialect: str

    def transaction(
        self, *, write: bool = True
    ) -> contextlib.AbstractAsyncContextManager[Transaction]: ...

    async def compact(self) -> None:
        """Leave no readable copy of deleted rows behind where the engine allows it."""
        ...

    async def close(self) -> None: ...


# -- SQLite ------------------------------------------------------------------------------------

_SQLITE_UNAVAILABLE: Final = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL,
})  # fmt: skip


def _sqlite_error(error: sqlite3.Error) -> Exception:
    """Translate what waiting may cure, and taken keys; return anything else unchanged."""
    code = getattr(error, "sqlite_errorcode", None)
    # An extended code keeps its primary code in the low byte.
    if isinstance(error, sqlite3.OperationalError) and code and code & 0xFF in _SQLITE_UNAVAILABLE:
        return StorageUnavailable(getattr(error, "sqlite_errorname", type(error).__name__))
    if isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error).upper():
        return DuplicateKey(str(error))
    return error


class _SQLiteTransaction:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in await self.db.execute_fetchall(sql, tuple(parameters))]
        except sqlite3.Error as error:
            raise _sqlite_error(error) from error

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        try:
            cursor = await self.db.execute(sql, tuple(parameters))
        except sqlite3.Error as error:
            raise _sqlite_error(error) from error
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        try:
            await self.db.executemany(sql, batch)
        except sqlite3.Error as error:
            raise _sqlite_error(error) from error


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One connection: operations must not interleave inside another one's transaction.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SQLiteDatabase:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)  # SQLite gives its -wal and -shm files the same mode
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = FULL")
            await db.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten, not left in free pages: /delete must leave nothing.
            await db.execute("PRAGMA secure_delete = ON")
        except BaseException:
            await db.close()
            raise
        return cls(db)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        """A transaction, committed on success and rolled back on any exception; a write
        transaction takes the write lock at once (``BEGIN IMMEDIATE``)."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield _SQLiteTransaction(self._db)
                await self._db.commit()
            except BaseException as error:
                with contextlib.suppress(sqlite3.Error):
                    await self._db.rollback()  # a no-op if BEGIN itself failed
                if isinstance(error, sqlite3.Error):
                    raise _sqlite_error(error) from error
                raise

    async def user_version(self) -> int:
        async with self._lock:
            ((version,),) = await self._db.execute_fetchall("PRAGMA user_version")
        return int(version)

    async def compact(self) -> None:
        """Copy the write-ahead log into the database and empty it, so that old versions of
        deleted rows do not stay readable in the log file."""
        async with self._lock:
            await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        await self._db.close()


# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_error(error: psycopg.Error) -> Exception:
    """Translate what waiting may cure (a lost connection, a full disk, a deadlock, no free
    connection in the pool), and taken keys; return anything else unchanged."""
    if isinstance(error, errors.UniqueViolation):
        return DuplicateKey(type(error).__name__)
    if isinstance(error, psycopg.OperationalError | errors.TransactionRollback):
        return StorageUnavailable(type(error).__name__)
    return error


def _pg_sql(sql: str) -> str:
    """psycopg's placeholders for ours (our statements hold no literal ``?`` or ``%``)."""
    return sql.replace("?", "%s")


class _PostgresTransaction:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = await self.conn.execute(_pg_sql(sql), tuple(parameters))
            return [tuple(row) for row in await cursor.fetchall()]
        except psycopg.Error as error:
            raise _pg_error(error) from error

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        try:
            cursor = await self.conn.execute(_pg_sql(sql), tuple(parameters))
        except psycopg.Error as error:
            raise _pg_error(error) from error
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        try:
            async with self.conn.cursor() as cursor:
                await cursor.executemany(_pg_sql(sql), batch)
        except psycopg.Error as error:
            raise _pg_error(error) from error


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresDatabase:
        pool = AsyncConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, timeout=30,
            kwargs={"autocommit": True, "connect_timeout": 10},
        )  # fmt: skip
        try:
            await pool.open(wait=True, timeout=OPEN_TIMEOUT_SECONDS)
        except psycopg.Error as error:
            await pool.close()
            raise _pg_error(error) from error
        return cls(pool)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Transaction]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                if not write:
                    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield _PostgresTransaction(conn)
        except psycopg.Error as error:
            raise _pg_error(error) from error

    async def compact(self) -> None:
        """Nothing to do at once: PostgreSQL's autovacuum reclaims deleted rows' space."""

    async def close(self) -> None:
        await self._pool.close()
