"""The part every channel shares: load the conversation, step the dialog, save, present.

A channel adapter turns what it received into a :mod:`dialogs` event (after writing any file
to the evidence store) and calls :meth:`Core.handle`; it gets back :class:`OutText` and
:class:`OutFile` items to send, already in the user's language and escaped for the channel.
One user's events are handled strictly one after the other (a lock per user); the
conversation is saved, in one transaction, before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.content import Content
from bot.documents import DOCUMENTS
from bot.evidence_store import BlobStore, TooLarge
from bot.ocr import Page
from bot.render import Renderer, split_message
from bot.storage import CorruptConversation, StaleConversation, Storage
from dialogs import Conversation, Event, EvidenceKind, Reply, Result, StoredFile, Tick, step
from dialogs.case import Case
from dialogs.followup import RETENTION_WARNING_DAYS
from dialogs.steps.report import DOSSIER

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

CHAT_LIMIT = 1500
"""Characters (UTF-16 units) of one chat message the bot writes unasked: a phone screen or two."""
FULL_TEXT_LIMIT = 4000
"""Per message when the user asked for a whole document (Telegram's limit is 4096)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _cut_short(marker: Path) -> bool:
    """Whether the export a marker stands for was cut short: nobody holds the marker's lock
    (its maker holds it until the files are sent; a process that dies lets go of it)."""
    try:
        fd = os.open(marker, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # being made now, here or by another process
    finally:
        os.close(fd)
    return True


STALE_RETRIES = 3
READ_WAIT_SECONDS = 120.0
"""How long an export waits for the case's pictures to be read (30 take about 36 s here)."""
"""Tries of one event when another process saved the same conversation meanwhile."""


def _short_key(label: str) -> str:
    """The content key of an option's short label: ``option_short.*`` beside ``option.*``;
    other labels (a language's or a jurisdiction's name) are their own short label."""
    return (
        "option_short." + label.removeprefix("option.") if label.startswith("option.") else label
    )


def _owner(channel: str, user_id: str) -> str:
    """A name for a user's temporary files that does not reveal who they are."""
    return hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OutText:
    text: str
    lang: str
    buttons: tuple[tuple[str, str], ...] = ()
    """(option id, label) pairs."""
    case: int | None = None
    key: str | None = None
    """The content key, for adapters that merge replies (album acknowledgements)."""
    group: str | None = None
    number: int | None = None
    """The evidence number an acknowledgement is about."""
    short: tuple[str, ...] = ()
    """A short label (at most 20 characters) for each button, for channels with narrow
    buttons (WhatsApp); empty when the content has none."""


@dataclass(frozen=True)
class OutFile:
    name: str
    data: bytes
    lang: str


Progress = Callable[[int, int], Awaitable[None]]
"""(done, total): how far a slow build has come."""


@dataclass(frozen=True)
class OutLater:
    """Files that take a while to build (the dossier): the adapter shows progress, then sends
    what ``build`` returns."""

    lang: str
    build: Callable[[Progress | None], Awaitable[list[OutFile]]]
    delivered: Callable[[], None] = lambda: None
    """To call once every file was sent: the export is no longer pending."""


Out = OutText | OutFile | OutLater


class FileGate:
    """Many writers of evidence files at once, or one remover of unreferenced files.

    A file stored for one user may already exist for another; if it were removed as that
    other user's orphan before the first user's record is saved, the record would point at
    nothing. Writers hold the gate from storing the file until their record is saved.
    """

    def __init__(self) -> None:
        self._writers = 0
        self._removing = False
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._removing)
            self._writers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._writers -= 1
                self._changed.notify_all()

    @asynccontextmanager
    async def removing(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._removing and self._writers == 0)
            self._removing = True
        try:
            yield
        finally:
            async with self._changed:
                self._removing = False
                self._changed.notify_all()


@dataclass
class Core:
    content: Content
    storage: Storage
    evidence: BlobStore
    clock: Clock = utcnow
    renderer: Renderer = field(init=False)
    max_download_bytes: int = 20 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    work_dir: Path = Path("data/tmp")
    """Where the dossier is built (removed after sending); on the data directory's disk."""
    retention_days: int = 0
    pending_dir: Path | None = None
    """Where an export in progress leaves a marker (owner and case, nothing else), locked by
    the process making it until it is delivered: a marker nobody holds was cut short, and
    its user is told at their next message."""
    exports_dir: Path | None = None
    """Where a single-user channel (the console) keeps the files it was sent, named
    ``case<N>-...``; they go with their case."""
    _locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, init=False
    )
    """A lock lives while someone holds or waits for it: idle users are forgotten."""
    _files: FileGate = field(default_factory=FileGate, init=False)
    picture_kept: Callable[[], None] = lambda: None
    """Called when a picture was recorded (the reader, bot/reading.py, then reads it)."""

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.content)

    def lock(self, channel: str, user_id: str) -> asyncio.Lock:
        """Return the lock that keeps one user's events in order."""
        lock = self._locks.get((channel, user_id))
        if lock is None:
            lock = self._locks[(channel, user_id)] = asyncio.Lock()
        return lock

    async def handle(
        self,
        channel: str,
        user_id: str,
        event: Event,
        *,
        update_key: str | None = None,
        escape: Callable[[str], str] = str,
    ) -> list[Out]:
        """Apply one event for one user and return what to send; [] for a repeated update."""
        async with self.lock(channel, user_id):
            if update_key and await self.storage.is_processed(channel, update_key):
                await self.storage.unjournal(channel, update_key)
                return []
            async with self._files.writing():
                result = await self._apply(channel, user_id, event, update_key)
            return await self._finish(result, escape)

    async def remind(
        self,
        channel: str | None = None,
        *,
        reachable: Callable[[str], Awaitable[bool]] | None = None,
    ) -> list[tuple[str, str, list[Out]]]:
        """Apply a Tick to every user with a follow-up due or a case near its retention limit;
        return what to send to whom. ``reachable`` (a channel's): whether the user can be
        written to now; one who cannot keeps their reminders and warnings due for a later
        tick, but a case whose retention period is over is deleted all the same."""
        now = self.clock()
        users = set(await self.storage.due(now))
        expired: set[tuple[str, str]] = set()
        if self.retention_days > 0:
            warn_from = now - timedelta(days=max(self.retention_days - RETENTION_WARNING_DAYS, 0))
            users |= {(c, u) for c, u, _ in await self.storage.untouched_since(warn_from)}
            ended = now - timedelta(days=self.retention_days)
            expired = {(c, u) for c, u, _ in await self.storage.untouched_since(ended)}
        sent: list[tuple[str, str, list[Out]]] = []
        for due_channel, user_id in sorted(users):
            if channel is not None and due_channel != channel:
                continue
            able = reachable is None or await reachable(user_id)
            if not able and (due_channel, user_id) not in expired:
                continue
            tick = Tick(at=now, retention_days=self.retention_days, reachable=able)
            outs = await self.handle(due_channel, user_id, tick)
            if outs and able:
                sent.append((due_channel, user_id, outs))
        return sent

    async def handle_file(
        self,
        channel: str,
        user_id: str,
        chunks: Callable[[], AsyncIterable[bytes]],
        file: StoredFile,
        make_event: Callable[[StoredFile], Event],
        *,
        update_key: str | None = None,
        escape: Callable[[str], str] = str,
    ) -> list[Out]:
        """Store a file's bytes, then apply the event made from it (see :meth:`handle`).

        ``file`` carries what the channel knows before download (name, MIME, size, unique
        id); a file over the download limit is recorded without its bytes.
        """
        async with self.lock(channel, user_id):
            if update_key and await self.storage.is_processed(channel, update_key):
                await self.storage.unjournal(channel, update_key)
                return []
            async with self._files.writing():
                if file.size is not None and file.size > self.max_download_bytes:
                    file = file.model_copy(update={"too_large": True, "sha256": None})
                else:
                    try:
                        stored = await self.evidence.put_stream(
                            chunks(), max_bytes=self.max_download_bytes
                        )
                        file = file.model_copy(
                            update={"sha256": stored.sha256, "size": stored.size}
                        )
                    except TooLarge:
                        file = file.model_copy(update={"too_large": True, "sha256": None})
                event = make_event(file)
                result = await self._apply(channel, user_id, event, update_key)
            if file.sha256 and getattr(event, "kind", None) == EvidenceKind.SCREENSHOT:
                self.picture_kept()
            return await self._finish(result, escape)

    async def _apply(
        self, channel: str, user_id: str, event: Event, update_key: str | None
    ) -> tuple[Result, list[str]]:
        """Load, step, save; again from what is stored if another process saved this
        conversation meanwhile (its updates are ordered, so this is rare)."""
        for attempt in range(STALE_RETRIES):
            try:
                return await self._apply_once(channel, user_id, event, update_key)
            except StaleConversation:
                if attempt == STALE_RETRIES - 1:
                    raise
                log.warning("conversation saved elsewhere meanwhile: applying the event again")
        raise AssertionError("unreachable")

    async def _apply_once(
        self, channel: str, user_id: str, event: Event, update_key: str | None
    ) -> tuple[Result, list[str]]:
        try:
            conv = await self.storage.load(channel, user_id, shared=True)  # step() copies it
        except CorruptConversation as error:
            log.error("a stored conversation could not be read (%s): moved aside", error)
            await self.storage.quarantine(channel, user_id)
            conv, unreadable = None, True
        else:
            unreadable = False
        if conv is None:
            conv = Conversation(channel=channel, user_id=user_id)
        result = step(conv, event, self.content.index)
        if unreadable:  # say so before anything else, in the user's language
            notice = Reply(key="common.record_unreadable")
            result = result.model_copy(update={"replies": (notice, *result.replies)})
        kept = {case.number for case in result.conversation.cases}
        if result.erase_user:
            orphans = await self.storage.delete_user(channel, user_id, update_key=update_key)
            kept = set()
        else:
            orphans = await self.storage.save(
                result.conversation,
                update_key=update_key,
                content_present=self.evidence.exists,
                hand_over=True,  # only read from now on
            )
            if len(result.conversation.cases) < len(conv.cases):
                await self.storage.scrub()  # a deleted case leaves nothing in the log
        gone = {case.number for case in conv.cases} - kept
        if gone or result.erase_user:
            await asyncio.to_thread(
                self._remove_exports, _owner(channel, user_id), gone, result.erase_user
            )
        return result, orphans

    def _remove_exports(self, owner: str, cases: set[int], everything: bool) -> None:
        """Delete the exported files of deleted cases (all of them when the user is erased),
        and any dossier of this user still in the work directory."""
        if self.exports_dir is not None and self.exports_dir.is_dir():
            for path in self.exports_dir.iterdir():
                number = path.name.removeprefix("case").partition("-")[0]
                if everything or (number.isdecimal() and int(number) in cases):
                    path.unlink(missing_ok=True)
        if self.pending_dir is not None and self.pending_dir.is_dir():
            for marker in self.pending_dir.glob(f"{owner}-case*"):
                number = marker.name.rpartition("-case")[2]
                if everything or (number.isdecimal() and int(number) in cases):
                    marker.unlink(missing_ok=True)
        if self.work_dir.is_dir():
            for child in self.work_dir.glob(f"{owner}-*"):
                shutil.rmtree(child, ignore_errors=True)

    async def _finish(
        self, applied: tuple[Result, list[str]], escape: Callable[[str], str]
    ) -> list[Out]:
        result, orphans = applied
        notices = self._interruption_notices(result)
        if orphans:
            async with self._files.removing():
                await self.storage.remove_orphans(orphans, self.evidence.remove)
        return [*notices, *self.present(result, escape)]

    def _interruption_notices(self, result: Result) -> list[Out]:
        """Tell the user once about their exports a crash or restart cut short (none if
        erased): a marker left and held by nobody."""
        if self.pending_dir is None or not self.pending_dir.is_dir():
            return []
        conv = result.conversation
        owner = _owner(conv.channel, conv.user_id)
        cases = set()
        for marker in self.pending_dir.glob(f"{owner}-case*"):
            number = marker.name.rpartition("-case")[2]
            if number.isdecimal() and _cut_short(marker):
                marker.unlink(missing_ok=True)
                cases.add(int(number))
        if result.erase_user:
            return []
        key = "export.interrupted"
        return [
            OutText(self.content.text(key, result.lang, {"case": case}), result.lang, key=key)
            for case in sorted(cases)
            if conv.case(case) is not None
        ]

    def _pending_marker(self, owner: str, case: int) -> Path:
        assert self.pending_dir is not None
        return self.pending_dir / f"{owner}-case{case}"

    def _export_pending(self, owner: str, case: int) -> Callable[[], None]:
        """Leave the marker of an export in progress; return what removes it."""
        if self.pending_dir is None:
            return lambda: None
        self.pending_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker = self._pending_marker(owner, case)
        fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o600)
        # the same export asked for again while the first is being made finds it held
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def delivered() -> None:
            marker.unlink(missing_ok=True)
            release()

        # Let go of it when sent, or when the export is dropped unsent, or when we die.
        release = weakref.finalize(delivered, os.close, fd)
        return delivered

    def present(self, result: Result, escape: Callable[[str], str] = str) -> list[Out]:
        """Turn the dialog's replies into texts and files in the user's language."""
        out: list[Out] = []
        for reply in result.replies:
            out.extend(self._present(reply, result, escape))
        return out

    def _dossier_builder(
        self, case: Case, lang: str, owner: str, user: tuple[str, str]
    ) -> Callable[[Progress | None], Awaitable[list[OutFile]]]:
        async def build(progress: Progress | None) -> list[OutFile]:
            # Imported here: the PDF and chart libraries cost ~80 MiB and half a second,
            # and only /export needs them.
            from bot.dossier import build_dossier

            self.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            exported = case
            if await self._read_first(*user, case.number):  # what was read joined the case
                stored = await self.storage.load(*user)
                exported = (stored.case(case.number) if stored else None) or case
            pages = await self._pages(exported)
            with tempfile.TemporaryDirectory(dir=self.work_dir, prefix=f"{owner}-") as tmp:
                dossier = await build_dossier(
                    exported, lang=lang, store=self.evidence, renderer=self.renderer,
                    content=self.content, now=self.clock(), out_dir=Path(tmp),
                    progress=progress, max_bytes=self.max_upload_bytes, pages=pages,
                )  # fmt: skip
                paths = [*dossier.zip_paths, dossier.pdf_path]
                return [
                    OutFile(f"case{case.number}-{p.name}", p.read_bytes(), lang) for p in paths
                ]

        return build

    async def _read_first(self, channel: str, user_id: str, case: int) -> bool:
        """Wait (at most READ_WAIT_SECONDS) until the case's pictures are read, so that the
        export can hide the private numbers they show: a user who exports right after a
        burst of screenshots would otherwise get some unread, and uncovered."""
        if not self.storage.reads_pictures:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READ_WAIT_SECONDS
        waited = False
        while await self.storage.reading_jobs(channel, user_id, case):
            if loop.time() > deadline:
                log.warning("case %d exported with pictures not read yet", case)
                break
            self.picture_kept()  # the reader looks at once
            await asyncio.sleep(0.5)
            waited = True
        return waited

    async def _pages(self, case: Case) -> dict[str, Page]:
        """What the case's pictures were read to say, by content (those read so far)."""
        pages: dict[str, Page] = {}
        for item in case.evidence:
            if item.kind == EvidenceKind.SCREENSHOT and item.sha256 and item.sha256 not in pages:
                data = await self.storage.reading(item.sha256)
                if data is not None:
                    pages[item.sha256] = Page.from_json(data)
        return pages

    def _present(self, reply: Reply, result: Result, escape: Callable[[str], str]) -> list[Out]:
        lang = result.lang
        text = self.content.text(reply.key, lang, reply.params, escape) if reply.key else ""
        buttons = tuple(
            (o.id, self.content.text(o.label, lang, o.params, escape)) for o in reply.options
        )
        texts = self.content.texts.get(lang, {})
        shorts = [_short_key(o.label) for o in reply.options]
        short = (
            tuple(
                self.content.text(key, lang, o.params, escape)
                for key, o in zip(shorts, reply.options, strict=True)
            )
            if all(key in texts for key in shorts)
            else ()
        )
        number = reply.params.get("number")
        head = OutText(
            text, lang, buttons, reply.case, reply.key, reply.group,
            number if isinstance(number, int) else None, short,
        )  # fmt: skip
        if reply.render is None:
            return [head]
        case = result.conversation.case(reply.render.case)
        if case is None:
            return []
        if reply.render.template == DOSSIER:
            conv = result.conversation
            owner = _owner(conv.channel, conv.user_id)
            delivered = self._export_pending(owner, case.number)
            build = self._dossier_builder(case, lang, owner, (conv.channel, conv.user_id))
            return [head, OutLater(lang, build, delivered)]
        render, now = reply.render, self.clock()
        out: list[Out] = [head] if text.strip() else []
        if render.in_chat:
            document = self.renderer.render(
                render.template, case, lang, now, item=render.item, user_lang=lang
            )
            limit = FULL_TEXT_LIMIT if render.full else CHAT_LIMIT
            out.extend(OutText(escape(chunk), lang) for chunk in split_message(document, limit))
        if render.as_file:
            langs = [lang]
            if render.template in DOCUMENTS:
                langs = list(dict.fromkeys([self.renderer.document_lang(case, lang), lang]))
            for file_lang in langs:
                document = self.renderer.render(
                    render.template, case, file_lang, now, user_lang=lang
                )
                name = f"case{case.number}-{render.template.replace('_', '-')}-{file_lang}.txt"
                out.append(OutFile(name, document.encode("utf-8"), lang))
        return out
