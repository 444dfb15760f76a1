"""The console channel: the whole dialog in a terminal, for trying the bot without a phone.

Typed lines are messages. Buttons are shown numbered; answer with the number or the label.
``/attach PATH [caption]`` sends a file as evidence (its kind from its MIME type) and
``/forward TEXT`` sends text as if forwarded from the collectors' chat. Files the bot sends
are written under the data directory and their paths printed. Works interactively and with
stdin piped from a file; it exits cleanly at the end of input.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO

from bot.choices import letter, read_choice
from bot.core import Core, Out, OutFile, OutLater, OutText
from dialogs import (
    Choice,
    Command,
    Event,
    EvidenceKind,
    EvidenceReceived,
    ForwardOrigin,
    Start,
    StoredFile,
    Text,
)

CHANNEL = "console"
_TAG = re.compile(r"</?(b|i|u|s|code|pre)>")
VOICE_SUFFIXES = {".ogg", ".oga", ".opus"}


def kind_of(mime: str | None, path: Path) -> EvidenceKind:
    """Return the evidence kind of a file from its MIME type."""
    major = (mime or "").split("/")[0]
    if major == "image":
        return EvidenceKind.SCREENSHOT
    if major == "audio":
        return EvidenceKind.VOICE if path.suffix.lower() in VOICE_SUFFIXES else EvidenceKind.AUDIO
    if major == "video":
        return EvidenceKind.VIDEO
    return EvidenceKind.DOCUMENT


def client_language() -> str | None:
    """Return the terminal's language (from LANG), if it names one."""
    value = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    tag = value.split(".")[0].replace("_", "-")
    return None if tag in ("", "C", "POSIX") else tag


class Console:
    def __init__(
        self, core: Core, exports: Path, *, out: TextIO = sys.stdout, user_id: str = "local"
    ) -> None:
        self.core = core
        self.exports = exports
        self.out = out
        self.user_id = user_id
        self.lang: str | None = None
        self.buttons: tuple[tuple[str, str], ...] = ()
        self.buttons_case: int | None = None

    async def run(self, lines: AsyncIterator[str], *, echo: bool = False) -> None:
        """Read lines until the end of input, answering each; ``echo`` prints each line."""
        self.print("console.intro")
        async for line in lines:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if echo:
                self.out.write(f"> {line}\n")
            event = await self.event_for(line.strip())
            if event is not None:
                await self.show_all(await self.core.handle(CHANNEL, self.user_id, event))
            for _, user_id, outs in await self.core.remind(CHANNEL):
                if user_id == self.user_id:
                    await self.show_all(outs)
        kept = await self.core.storage.load(CHANNEL, self.user_id)
        self.print("console.bye" if kept is not None and kept.cases else "console.bye_nothing")

    async def event_for(self, line: str) -> Event | None:
        """Translate a typed line into a dialog event (None if the line was handled here)."""
        at = self.core.clock()
        lang = client_language()
        chosen = self._button(line)
        if chosen is not None:
            return Choice(at=at, client_lang=lang, choice=chosen, case=self.buttons_case)
        if not line.startswith("/"):
            return Text(at=at, client_lang=lang, text=line)
        name, _, args = line[1:].partition(" ")
        name = name.lower()
        if name == "start":
            return Start(at=at, client_lang=lang, payload=args.strip() or None)
        if name == "attach":
            return await self._attach(args, lang)
        if name == "forward":
            # Typed here, not forwarded by a messenger: neither the sender nor the date is known.
            origin = ForwardOrigin(kind="hidden_user")
            return Text(at=at, client_lang=lang, text=args.strip() or "-", forward=origin)
        return Command(at=at, client_lang=lang, name=name, args=args.strip())

    async def _attach(self, args: str, lang: str | None) -> Event | None:
        try:
            parts = shlex.split(args)
        except ValueError:
            parts = args.split()
        if not parts:
            self.print("console.attach_usage")
            return None
        path = Path(parts[0]).expanduser()
        caption = " ".join(parts[1:]) or None
        if not path.is_file():
            self.print("console.attach_missing")
            return None
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        file = StoredFile(sha256=None, size=path.stat().st_size, mime=mime, name=path.name)

        def make_event(stored: StoredFile) -> Event:
            return EvidenceReceived(
                at=self.core.clock(),
                client_lang=lang,
                kind=kind_of(mime, path),
                file=stored,
                caption=caption,
            )

        await self.show_all(
            await self.core.handle_file(
                CHANNEL, self.user_id, lambda: _read(path), file, make_event
            )
        )
        return None

    def _button(self, line: str) -> str | None:
        return read_choice(line, self.buttons, "letters", lambda label: _plain(label).strip())

    def show(self, items: Sequence[Out]) -> None:
        """Print texts and buttons; write files under the exports directory."""
        for item in items:
            self.lang = item.lang
            if isinstance(item, OutText):
                self.out.write(_plain(item.text) + "\n")
                if item.buttons:
                    self.buttons, self.buttons_case = item.buttons, item.case
                    for number, (_, label) in enumerate(item.buttons):
                        self.out.write(f"  [{letter(number)}] {_plain(label)}\n")
            elif isinstance(item, OutFile):
                path = self._write(item)
                self.out.write(self._text("console.file_saved", path=str(path)) + "\n")
            self.out.write("\n")
        self.out.flush()

    async def show_all(self, items: list[Out]) -> None:
        """Show items, building the slow ones (the dossier) on the way."""
        for item in items:
            if isinstance(item, OutLater):
                self.show(await item.build(None))
                item.delivered()
            else:
                self.show([item])

    def print(self, key: str) -> None:
        self.out.write(self._text(key) + "\n\n")
        self.out.flush()

    def _text(self, key: str, **params: str) -> str:
        lang = self.lang or self.core.content.index.pick_language(client_language())
        return _plain(self.core.content.text(key, lang, params))

    def _write(self, item: OutFile) -> Path:
        self.exports.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.exports / Path(item.name).name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(item.data)
        return path


async def _read(path: Path, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, chunk_size):
            yield chunk


def _plain(text: str) -> str:
    return _TAG.sub("", text)


def _read_line(interactive: bool) -> str | None:
    try:
        return input("> ") if interactive else (sys.stdin.readline() or None)
    except EOFError:
        return None


async def stdin_lines(interactive: bool) -> AsyncIterator[str]:
    """Yield lines from stdin without blocking the event loop; None ends the input."""
    while (line := await asyncio.to_thread(_read_line, interactive)) is not None:
        yield line


async def run_console(core: Core, exports: Path) -> None:
    """Run the console chat on stdin and stdout."""
    interactive = sys.stdin.isatty()
    console = Console(core, exports)
    await console.run(stdin_lines(interactive), echo=not interactive)
