"""The deploy kit as declared: deploy/compose.yaml's receiver and workers, started here with
the very commands and environment it declares (no Docker needed), serve a user.

PostgreSQL is the tests' own server and the Bot API the tests' peer, given the way an
operator's deploy/.env would give them (DATABASE_URL, TELEGRAM_API_BASE_URL...); every
other value is the file's own default.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO
from tests.peer.botapi_peer import BotApiPeer
from tests.test_telegram_peer import TOKEN, acked_numbers, onboard, texts

COMPOSE = REPO / "deploy" / "compose.yaml"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable forms used in our file: ${NAME}, ${NAME:-default} (the default
    may hold more of them, read only when used) and ${NAME:?message}."""
    out, i = [], 0
    while i < len(value):
        if not value.startswith("${", i):
            out.append(value[i])
            i += 1
            continue
        name = _NAME.match(value, i + 2)
        assert name is not None, value
        j, depth = name.end(), 1
        k = j
        while depth:  # the matching brace
            depth += {"{": 1, "}": -1}.get(value[k], 0)
            k += 1
        rule = value[j : k - 1]
        given = env.get(name.group())
        if rule.startswith(":-"):
            out.append(given if given else interpolate(rule[2:], env))
        elif rule.startswith(":?"):
            if not given:
                raise KeyError(f"{name.group()}: {rule[2:]}")
            out.append(given)
        else:
            assert rule == "", rule
            out.append(given or "")
        i = k
    return "".join(out)


def service(name: str, env: dict[str, str]) -> tuple[list[str], dict[str, str], int]:
    """A service's command, environment (interpolated) and number of replicas."""
    declared = yaml.safe_load(COMPOSE.read_text())["services"][name]
    environment = {k: interpolate(str(v), env) for k, v in declared["environment"].items()}
    replicas = declared.get("deploy", {}).get("replicas", 1)
    return declared["command"], environment, replicas


def test_the_compose_file_declares_a_receiver_workers_and_postgres() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["receiver"]["command"] == ["python", "-m", "bot", "receiver"]
    assert services["worker"]["command"] == ["python", "-m", "bot", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["postgres"]["image"].startswith("postgres:15")


async def test_the_declared_receiver_and_workers_serve_a_user(
    tmp_path: Path, postgres_url: str
) -> None:
    async with BotApiPeer(token=TOKEN) as peer:
        operator = {  # what deploy/.env would say here
            "TELEGRAM_BOT_TOKEN": peer.token,
            "TELEGRAM_API_BASE_URL": peer.base_url,
            "TELEGRAM_FILE_BASE_URL": peer.base_file_url,
            "DATABASE_URL": postgres_url,
            "DATA_DIR": str(tmp_path / "data"),
            "WEBHOOK_LISTEN": "127.0.0.1",
        }
        procs = []
        for name in ("receiver", "worker"):
            command, environment, replicas = service(name, operator)
            assert command[0] == "python"
            base = {
                k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))
            }
            full = base | environment | {"PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}
            for n in range(replicas):
                log = (tmp_path / f"{name}{n}.log").open("ab")
                procs.append(subprocess.Popen(
                    [sys.executable, *command[1:]], env=full, cwd=tmp_path,
                    stdout=log, stderr=subprocess.STDOUT,
                ))  # fmt: skip
                log.close()
        assert len(procs) >= 3
        try:
            await onboard(peer, 7201)
            for n in range(3):
                peer.user(7201).send_photo(b"\x89PNG\r\n\x1a\n" + bytes([n]) * 300)
            await peer.wait_for(lambda: sorted(acked_numbers(peer, 7201)) == [1, 2, 3], timeout=30)
            peer.user(7201).send_command("/status")
            await peer.wait_for(lambda: any("Case #1" in t for t in texts(peer, 7201)))
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:  # the peer must go on answering while they stop
                await asyncio.to_thread(proc.wait, 60)
