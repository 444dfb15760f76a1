"""Evidence in a bucket, shared by processes on two machines: each with its own data
directory, one PostgreSQL and one S3 bucket (moto's server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import open_core
from bot.core import OutLater
from bot.evidence_store import S3EvidenceStore
from bot.settings import Settings
from bot.storage import ContentGone
from dialogs import Command
from tests.s3 import S3Server
from tests.test_privacy import User


def machine(data_dir: Path, database: str, s3: S3Server, bucket: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr("unused"),
        data_dir=data_dir,
        database_url=SecretStr(database),
        evidence_store=f"s3://{bucket}/evidence",
        s3_endpoint=s3.endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key=SecretStr("test"),
    )


def objects_on_disk(data_dir: Path) -> list[Path]:
    return [path for path in data_dir.rglob("*") if path.is_file() and "objects" in path.parts]


async def test_two_machines_share_the_bucket_and_remove_a_file_only_when_nobody_uses_it(
    tmp_path: Path, postgres_url: str, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    one = machine(tmp_path / "one", postgres_url, s3_server, bucket)
    two = machine(tmp_path / "two", postgres_url, s3_server, bucket)
    screenshot, own = os.urandom(3000), os.urandom(2000)
    async with open_core(one, shared=True) as first, open_core(two, shared=True) as second:
        assert isinstance(first.evidence, S3EvidenceStore)
        await User(first, "alice").report_case("AlphaLoans", "ALICE-NOTE", screenshot)
        await User(second, "bob").report_case("BetaLoans", "BOB-NOTE", screenshot)
        await User(second, "bob").attach(own)
        assert len(s3_server.keys(bucket)) == 2  # the shared screenshot once, bob's own file

        # Alice's next message reaches the other machine: her file is there too.
        alice = User(second, "alice")
        outs = await alice.do(lambda at: Command(at=at, name="export"))
        later = next(out for out in outs if isinstance(out, OutLater))
        files = await later.build(None)
        archive = next(f for f in files if f.name.endswith(".zip"))
        with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
            contents = [opened.read(name) for name in opened.namelist()]
        assert screenshot in contents

        await alice.do(lambda at: Command(at=at, name="delete"))
        await alice.choose("del:all")
        await alice.choose("del:yes")
        assert len(s3_server.keys(bucket)) == 2  # bob still uses the screenshot

        bob = User(first, "bob")
        await bob.do(lambda at: Command(at=at, name="delete"))
        await bob.choose("del:all")
        await bob.choose("del:yes")
        assert s3_server.keys(bucket) == []

    # Nothing of the evidence was kept on either machine's disk.
    assert objects_on_disk(one.data_dir) == [] and objects_on_disk(two.data_dir) == []
    assert list((one.data_dir / "evidence" / "tmp").iterdir()) == []


async def test_a_file_removed_by_one_machine_while_another_records_it_is_stored_again(
    tmp_path: Path, postgres_url: str, s3_server: S3Server
) -> None:
    """Bob's machine finds the screenshot already in the bucket (Alice's), and before it
    records it, Alice's machine deletes her case and, the file then unreferenced, removes it.
    Bob's record must not point at nothing: the save is refused, and the update, applied
    again as the inbox does, stores the file anew."""
    bucket = s3_server.new_bucket()
    one = machine(tmp_path / "one", postgres_url, s3_server, bucket)
    two = machine(tmp_path / "two", postgres_url, s3_server, bucket)
    screenshot = os.urandom(3000)
    async with open_core(one, shared=True) as first, open_core(two, shared=True) as second:
        alice, bob = User(first, "alice"), User(second, "bob")
        await alice.report_case("AlphaLoans", "ALICE-NOTE", screenshot)
        await bob.report_case("BetaLoans", "BOB-NOTE", os.urandom(100))
        store = second.evidence
        assert isinstance(store, S3EvidenceStore)
        original_commit = store._commit
        committed = asyncio.Event()
        removed = asyncio.Event()

        async def commit_then_wait(temp: Path, sha256: str) -> tuple[Path | None, bool]:
            stored = await original_commit(temp, sha256)
            committed.set()
            await removed.wait()
            return stored

        store._commit = commit_then_wait  # type: ignore[method-assign]
        attaching = asyncio.create_task(bob.attach(screenshot))
        await committed.wait()
        await alice.do(lambda at: Command(at=at, name="delete"))
        await alice.choose("del:all")
        await alice.choose("del:yes")
        assert len(s3_server.keys(bucket)) == 1  # only bob's first file is left
        removed.set()
        with pytest.raises(ContentGone):
            await attaching
        store._commit = original_commit  # type: ignore[method-assign]

        await bob.attach(screenshot)  # the same update, applied again

        digest = hashlib.sha256(screenshot).hexdigest()
        assert S3EvidenceStore.key_for(digest) in [
            key.removeprefix("evidence/") for key in s3_server.keys(bucket)
        ]
        conv = await second.storage.load("console", "bob")
        assert conv is not None
        assert digest in [item.sha256 for item in conv.cases[0].evidence]
        assert await store.read(digest) == screenshot


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Start the console bot as a user would, with these settings; it exits when stdin ends."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_"))}
    clean.update(LANG="en_US.UTF-8", DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path, env=clean, input="", capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_bucket_that_cannot_be_used_stops_the_start_with_the_reason(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = {"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"}
    missing = start(
        tmp_path, EVIDENCE_STORE="s3://never-made", S3_ENDPOINT=s3_server.endpoint, **bucket
    )
    assert missing.returncode == 1
    assert "evidence bucket s3://never-made cannot be used (" in missing.stderr
    assert "(404 Not Found: NoSuchBucket)" in missing.stderr
    assert "Traceback" not in missing.stderr

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = start(
        tmp_path, EVIDENCE_STORE="s3://b", S3_ENDPOINT=f"http://127.0.0.1:{port}", **bucket
    )
    assert down.returncode == 1
    assert (
        "evidence bucket s3://b cannot be used" in down.stderr and "Traceback" not in down.stderr
    )

    wrong = start(tmp_path, EVIDENCE_STORE="/mnt/evidence")
    assert wrong.returncode == 2
    assert "EVIDENCE_STORE" in wrong.stderr and "/mnt/evidence" not in wrong.stderr


def test_the_console_keeps_evidence_in_the_bucket(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    shot = tmp_path / "threat.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    ran = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "AWS_"))},
            "LANG": "en_US.UTF-8",
            "DATA_DIR": str(tmp_path / "data"),
            "EVIDENCE_STORE": f"s3://{bucket}",
            "S3_ENDPOINT": s3_server.endpoint,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "k",
            "S3_SECRET_ACCESS_KEY": "s",
        },
        input=f"/start\n/attach {shot}\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    digest = hashlib.sha256(shot.read_bytes()).hexdigest()
    assert s3_server.keys(bucket) == [S3EvidenceStore.key_for(digest)]
    assert objects_on_disk(tmp_path / "data") == []
