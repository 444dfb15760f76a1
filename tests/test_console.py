"""The console chat, run as a user would: ``python -m bot`` with a script on stdin.

These runs use the real application - SQLite file, evidence files, templates - in a
temporary data directory, and check what a person would check: the printed complaint, the
hashes against the files' own SHA-256, and that a killed process resumes where it was.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

LANG_BUTTON = {"es": "a", "zh-Hans": "b", "en": "c"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "shot1.png": b"\x89PNG\r\n\x1a\n" + os.urandom(2048),
        "shot2.png": b"\x89PNG\r\n\x1a\n" + os.urandom(4096),
        "call.mp3": b"ID3" + os.urandom(8192),
    }
    paths = {}
    for name, data in made.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def run_bot(data_dir: Path, script: str, *args: str, timeout: float = 60) -> str:
    env = _env(data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATA_DIR=str(data_dir / "data"), PYTHONPATH=str(REPO), LANG="C.UTF-8")
    return env


def full_script(lang: str, files: dict[str, Path]) -> str:
    return "\n".join(
        [
            "/start",
            LANG_BUTTON[lang],  # language
            "a",  # China
            "a",  # I took the loan
            f"/attach {files['shot1.png']} screenshot of the threats",
            f"/attach {files['shot2.png']}",
            f"/attach {files['call.mp3']} call recording",
            "/forward 不还钱就告诉你全家 13912345678",
            "b",  # I have sent everything
            "QuickCash",
            "Quick Cash Tech Co.",
            "a",  # a bank (so licensed; without lender types: licensed)
            "b",  # not complained yet
            "h",  # the loan: done
            "They sent my photo and debt to my whole address book and called my boss.",
            "a",  # that's all
            "2026-09",
            "d",  # more than 50 contacts
            "a",  # messaged my contacts
            "c",  # threats of violence
            "m",  # done
            "b",  # not in danger right now
            "f",  # how they reached people: done
            "a",  # they disclosed the debt
            "c",  # posted publicly: I don't know
            "a",  # these are the collectors'
            "a",  # done
            "a",  # continue (privacy review)
            "a",  # full name
            "Li Wei",
            "liwei@example.com",
            "a",  # I understand
            "/export",  # every document as a file, and the dossier
        ]
    )


@pytest.mark.parametrize("lang", ["es", "zh-Hans", "en"])
def test_scripted_run_through_all_five_steps(tmp_path, files, lang):
    out = run_bot(tmp_path, full_script(lang, files), "console")
    assert "QuickCash" in out
    assert "110" in out  # threats: the police's card comes first, with its number
    assert "https://" in out and "2026-11-28" in out
    exports = tmp_path / "data" / "exports"
    names = sorted(p.name for p in exports.iterdir())
    # documents for Chinese bodies are in Chinese, with a copy in the user's language
    for doc_lang in {"zh-Hans", lang}:
        assert f"case1-police-statement-{doc_lang}.txt" in names
        assert f"case1-platform-complaint-{doc_lang}.txt" in names
        assert f"case1-regulator-complaint-{doc_lang}.txt" in names
    statement = (exports / "case1-police-statement-zh-Hans.txt").read_text(encoding="utf-8")
    assert statement.startswith("报案材料")
    assert "They sent my photo and debt" in statement  # the user's own words, verbatim
    for path in files.values():
        assert hashlib.sha256(path.read_bytes()).hexdigest() in statement
    objects = [p for p in (tmp_path / "data" / "evidence" / "objects").rglob("*") if p.is_file()]
    assert {p.name for p in objects} == {
        hashlib.sha256(p.read_bytes()).hexdigest() for p in files.values()
    }


def test_without_a_token_python_m_bot_says_so_and_starts_the_console(tmp_path):
    env = _env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bot"], input="/start\n", capture_output=True, text=True,
        env=env, cwd=tmp_path, timeout=60, check=True,
    )  # fmt: skip
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "1. " in done.stdout  # the welcome lists the five steps


def test_kill_9_mid_way_resumes_at_the_same_step_with_the_evidence(tmp_path, files):
    lines = full_script("en", files).splitlines()[:17]  # up to "since when" answered
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path),
        cwd=tmp_path, text=True,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.flush()
    database = tmp_path / "data" / "bot.sqlite3"
    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline:
        state = _state(database)
        if state == "details_contacts":
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdin.close()
    assert state == "details_contacts"

    out = run_bot(tmp_path, "/start\n/status\n", "console")
    assert "Case #1: step 3 of 5" in out
    assert "Evidence items: 4" in out
    assert "How many of your contacts" in out
    for path in files.values():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        stored = tmp_path / "data" / "evidence" / "objects" / digest[:2] / digest
        assert stored.read_bytes() == path.read_bytes()


def _state(database: Path) -> str | None:
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT json_extract(data, '$.state') FROM cases").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def test_export_writes_a_dossier_that_the_verifier_accepts(tmp_path, files):
    out = run_bot(tmp_path, full_script("es", files) + "\n/export\n", "console")
    exports = tmp_path / "data" / "exports"
    zips = sorted(exports.glob("case1-dossier*.zip"))
    assert zips and (exports / "case1-report.pdf").is_file(), sorted(os.listdir(exports))
    assert "case1-report.pdf" in out
    env = _env(tmp_path)
    verified = subprocess.run(
        [sys.executable, "-m", "bot", "verify", *map(str, zips)], capture_output=True,
        text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK")


def test_a_harassed_contact_reaches_their_own_complaint_in_at_most_eight_answers(tmp_path):
    answers = [
        LANG_BUTTON["en"],  # language
        "a",  # China
        "b",  # someone else's loan
        "/forward 你是王芳的朋友吧？她欠钱不还，不然就把她的照片发到她公司群里。13987654321",
        "a",  # the number that contacted me, as found in what I forwarded
        "yesterday",
        "Wang Fang",  # the borrower's name
    ]
    assert len(answers) <= 8
    out = run_bot(tmp_path, "\n".join(["/start", *answers]), "console")
    assert "Your complaint" in out
    exports = tmp_path / "data" / "exports"
    mine = (exports / "case1-contact-complaint-en.txt").read_text(encoding="utf-8")
    assert "I am not a party to that loan" in mine
    assert "+86 139 8765 4321" in mine and "Wang Fang" in mine
    assert "my loan" not in mine and "I am your customer" not in mine
    chinese = (exports / "case1-contact-complaint-zh-Hans.txt").read_text(encoding="utf-8")
    assert chinese.startswith("因他人债务被联系人员的投诉书")
