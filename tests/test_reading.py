"""Reading the screenshots (bot/reading.py, bot/ocr.py) with the real engine, offline.

The engine is rapidocr with the models inside its wheel; a test builds and runs it in a
process whose network is made to fail, so that a future release that downloads anything is
caught. A screenshot kept in a case is read after it was acknowledged, by the reader, and
what it shows reaches the case; a reading job left by a stop is done after the restart; a
file that is no picture is left unread without starting the engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_core
from bot.ocr import OcrEngine, Page
from bot.reading import Reader, reading
from bot.settings import Settings
from dialogs import Start
from tests.conftest import REPO
from tests.screenshots import chat_screenshot
from tests.test_privacy import User

NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access is not allowed here")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
from tests.screenshots import chat_screenshot
from bot.ocr import build_engine, read_picture
shot = chat_screenshot(3, lang="zh-Hans", style="wechat")
page = read_picture(shot.data, build_engine())
print(page.engine, len(page.lines))
print("\\n".join(line.text for line in page.lines))
"""


async def start(user: User, lang: str, jurisdiction: str) -> None:
    """Start a conversation and choose the language and the country."""
    await user.do(lambda at: Start(at=at, client_lang=lang))
    await user.choose(f"lang:{lang}")
    await user.choose(f"jur:{jurisdiction}")


def settings(tmp_path: Path, **more: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **more)  # type: ignore[call-arg]


def test_the_engine_builds_and_reads_with_the_network_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], cwd=REPO, capture_output=True, text=True,
        timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    engine, *lines = done.stdout.splitlines()
    assert engine.startswith("rapidocr 3.10.0")
    assert len(lines) > 5 and any("136 9040 4796" in line for line in lines), lines


async def test_a_kept_screenshot_is_read_and_what_it_shows_reaches_the_case(tmp_path) -> None:
    shot = chat_screenshot(3, lang="zh-Hans", style="wechat")
    phones = {e.value for e in shot.entities if e.kind == "phone"}
    async with open_core(settings(tmp_path)) as core, reading(core, True) as reader:
        assert reader is not None
        user = User(core, "reader-1")
        await start(user, "zh-Hans", "cn")
        await user.choose("who:borrower")
        acknowledged = await user.attach(shot.data)
        assert acknowledged  # answered at once, before any reading
        for _ in range(600):
            if reader.read_count:
                break
            await asyncio.sleep(0.1)
        conv = await core.storage.load("console", "reader-1")
        assert conv is not None
        (read,) = conv.cases[0].readings
        assert read.item == 1
        found = {"+" + "".join(ch for ch in number if ch.isdigit()) for number, _ in read.phones}
        assert phones <= found, (phones, found)
        sha256 = conv.cases[0].evidence[0].sha256
        assert sha256 is not None
        page = Page.from_json(await core.storage.reading(sha256) or "")
        assert page.width == shot.width and page.lines
        assert await core.storage.reading_jobs() == 0


async def test_a_job_left_by_a_stop_is_read_after_the_restart(tmp_path) -> None:
    shot = chat_screenshot(5, lang="es", style="whatsapp")
    config = settings(tmp_path)
    async with open_core(config) as core:
        core.storage.reads_pictures = True  # reading on, but the bot stops before reading
        user = User(core, "reader-2")
        await start(user, "es", "mx")
        await user.attach(shot.data)
        assert await core.storage.reading_jobs() == 1
    async with open_core(config) as core:
        engine = OcrEngine()
        try:
            assert await Reader(core, engine).drain() == 1
        finally:
            await engine.close()
        conv = await core.storage.load("console", "reader-2")
        assert conv is not None and [r.item for r in conv.cases[0].readings] == [1]
        assert await core.storage.reading_jobs() == 0


async def test_no_jobs_when_reading_is_off_and_no_picture_is_no_reading(tmp_path) -> None:
    async with open_core(settings(tmp_path, ocr=False)) as core, reading(core, False) as off:
        assert off is None
        user = User(core, "reader-3")
        await user.report_case("AlphaLoans", "note", b"\x89PNG\r\n\x1a\n" + b"x" * 500)
        assert await core.storage.reading_jobs() == 0
    async with open_core(settings(tmp_path)) as core:
        core.storage.reads_pictures = True
        user = User(core, "reader-4")
        await user.report_case("AlphaLoans", "note", b"\x89PNG\r\n\x1a\n" + b"y" * 500)
        engine = OcrEngine()
        try:
            assert await Reader(core, engine).drain() == 1
            assert engine._pool is None  # never started for a file that is no picture
        finally:
            await engine.close()
        conv = await core.storage.load("console", "reader-4")
        assert conv is not None and conv.cases[0].readings[0].phones == []
        assert await core.storage.reading_jobs() == 0


def test_a_page_round_trips_through_json() -> None:
    page = Page("rapidocr 3.10.0", 10, 20, [])
    assert Page.from_json(page.to_json()) == page
    assert json.loads(page.to_json())["engine"] == "rapidocr 3.10.0"
    assert datetime.now(UTC)  # the module's clock is real


async def test_an_exported_screenshot_hides_the_victims_id_card_and_phone(tmp_path) -> None:
    """The collector quotes the victim's resident ID, card and phone in a screenshot, and the
    user exports at once, before it was read: the export waits for the reading and carries a
    redacted copy in which the same engine reads none of them, the manifest
    keeps the untouched original's fingerprint and lists the boxes, and the original itself
    is not in the archive."""
    import io
    import zipfile

    from bot.core import OutLater
    from bot.ocr import build_engine, read_picture
    from dialogs import Command
    from tests.screenshots import id_screenshot

    shot = id_screenshot(1, lang="zh-Hans")
    secrets = {e.kind: e.value for e in shot.entities if e.owner == "victim"}
    assert {"resident_id", "card", "phone"} <= set(secrets)
    async with open_core(settings(tmp_path)) as core, reading(core, True) as reader:
        assert reader is not None
        user = User(core, "reader-5")
        await user.report_case("快易贷", "note", shot.data)
        # exported at once: the export waits for the picture to be read
        outs = await user.do(lambda at: Command(at=at, name="export"))
        later = next(out for out in outs if isinstance(out, OutLater))
        files = await later.build(None)
    archive = next(f for f in files if f.name.endswith(".zip"))
    with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
        names = opened.namelist()
        contents = {name: opened.read(name) for name in names}
    manifest = json.loads(contents["manifest.json"])
    (entry,) = [e for e in manifest["items"] if e["kind"] == "screenshot"]
    assert entry["sha256_original"] == hashlib.sha256(shot.data).hexdigest()
    assert entry["export"] == "redacted" and entry["redacted_boxes"]
    assert shot.data not in contents.values()
    redacted = contents[entry["file"]]
    page = read_picture(redacted, build_engine())
    text = "".join("".join(ch for ch in line.text if ch.isalnum()) for line in page.lines)
    for kind, value in secrets.items():
        digits = value.lstrip("+")
        national = digits[2:] if kind == "phone" else digits
        assert national not in text, (kind, value)
    assert any("催" in line.text or "还" in line.text for line in page.lines)  # the rest reads


async def test_pictures_kept_before_reading_existed_are_read_after_the_upgrade(tmp_path) -> None:
    """A database of the schema before reading (version 10) with a screenshot in a case:
    the upgrade makes its reading job, and the reader reads it."""
    import sqlite3

    shot = chat_screenshot(5, lang="es", style="whatsapp")
    config = settings(tmp_path)
    async with open_core(config) as core:  # reading off: no job made
        user = User(core, "reader-6")
        await start(user, "es", "mx")
        await user.attach(shot.data)
        assert await core.storage.reading_jobs() == 0
    raw = sqlite3.connect(config.data_dir / "bot.sqlite3")
    raw.executescript("DROP TABLE reading_jobs; DROP TABLE readings; PRAGMA user_version = 10;")
    raw.close()
    async with open_core(config) as core:
        assert await core.storage.reading_jobs() == 1
        engine = OcrEngine()
        try:
            assert await Reader(core, engine).drain() == 1
        finally:
            await engine.close()
        conv = await core.storage.load("console", "reader-6")
        assert conv is not None and conv.cases[0].readings[0].phones
