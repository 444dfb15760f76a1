"""What a user leaves behind: nothing after /delete, nothing readable by others, nothing in logs.

The real program is run as a user would (``python -m bot console`` with a script): exports
and a dossier are made, then everything is deleted, and every byte under the data directory
is searched for what the user sent. Logs are read at DEBUG while a Chinese dossier is built.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from bot.logs import log_salt, setup_logging
from tests.test_console import LANG_BUTTON, _env, run_bot

SECRET_TEXT = "催收员张三说明天去你单位闹 SECRET-7781"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"PHOTO-BYTES-OF-THE-VICTIM-" * 40


def _bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _script(tmp_path: Path, *tail: str) -> str:
    photo = tmp_path / "shot.png"
    photo.write_bytes(PHOTO)
    return "\n".join(
        [
            "/start",
            LANG_BUTTON["en"],
            "a",  # China
            "a",  # I took the loan
            f"/attach {photo} 王女士的截图",
            f"/forward {SECRET_TEXT}",
            "/export",  # the dossier and documents, written to data/exports
            *tail,
        ]
    )


def test_deleting_everything_leaves_no_byte_of_the_user(tmp_path: Path):
    out = run_bot(tmp_path, _script(tmp_path, "/delete", "b", "a"), "console")
    assert "Everything of yours is deleted" in out
    assert "Nothing of yours is kept here" in out  # not "your case is saved"
    data = tmp_path / "data"
    stored = _bytes_under(data)
    for trace in (SECRET_TEXT, "SECRET-7781", "王女士"):
        assert trace.encode() not in stored, trace
    assert b"PHOTO-BYTES-OF-THE-VICTIM" not in stored
    exports = data / "exports"
    assert not exports.exists() or not any(exports.iterdir())


def test_deleting_one_case_removes_its_exported_files(tmp_path: Path):
    run_bot(tmp_path, _script(tmp_path), "console")
    exports = tmp_path / "data" / "exports"
    assert any(p.name.startswith("case1-") for p in exports.iterdir())
    run_bot(tmp_path, "/delete\na\na\n", "console")
    assert not any(p.name.startswith("case1-") for p in exports.iterdir())


def test_files_are_private_and_a_crashed_build_is_cleared_at_start(tmp_path: Path):
    leftover = tmp_path / "data" / "tmp" / "0123abcd-dossier"
    leftover.mkdir(parents=True)
    (leftover / "report.pdf").write_bytes(b"half a dossier of someone")
    run_bot(tmp_path, _script(tmp_path), "console")
    assert not leftover.exists()
    made = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert made
    for path in made:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path.name, oct(mode))  # nobody but the owner


def test_an_export_at_debug_logs_nothing_of_its_content(tmp_path: Path):
    env = _env(tmp_path)
    env["LOG_LEVEL"] = "DEBUG"
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=_script(tmp_path), capture_output=True,
        text=True, env=env, cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    assert "dossier" in done.stderr  # the build was logged, as a fact without content
    assert not re.search(r"[\u4e00-\u9fff]", done.stderr)  # no Chinese character at all
    assert not re.search(r"\buni[0-9A-F]{4}\b", done.stderr)  # no glyph names either
    assert "SECRET-7781" not in done.stderr and "QuickCash" not in done.stderr


def test_a_library_that_logs_what_it_failed_to_parse_loses_the_data(capsys):
    setup_logging("DEBUG")
    try:
        payload = {"update_id": 9, "message": {"text": "my ID is 11010519491231002X"}}
        try:
            raise ValueError(f"bad update {payload}")
        except ValueError:
            logging.getLogger("telegram.ext.Updater").critical(
                "Received data was *not* processed! Received data was: %r", payload, exc_info=True
            )
        logging.getLogger("bot.core").info("case %d saved", 3)
    finally:
        setup_logging("INFO")
    err = capsys.readouterr().err
    assert "Received data was *not* processed!" in err and "(ValueError)" in err
    assert "11010519491231002X" not in err and "update_id" not in err
    assert "case 3 saved" in err  # our own records keep their arguments


def test_an_unset_log_salt_is_made_once_and_kept_private(tmp_path: Path):
    first = log_salt(None, tmp_path / "data")
    assert len(first) == 64
    assert log_salt(None, tmp_path / "data") == first
    path = tmp_path / "data" / "log-salt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert log_salt("operator-salt", tmp_path / "data") == "operator-salt"
    os.remove(path)
