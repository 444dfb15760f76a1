"""Entry point: ``python -m bot`` (Telegram if a token is set, WhatsApp beside it or alone
when configured, else the console chat).

Usage:
    python -m bot                      Telegram with TELEGRAM_BOT_TOKEN, the console without
    python -m bot console              the console chat
    python -m bot receiver             with DATABASE_URL on PostgreSQL: receive Telegram's
                                       updates (polling or webhook) and WhatsApp's messages
                                       into the inbox, send reminders; one receiver (or
                                       several behind one address, in webhook mode)
    python -m bot worker               with DATABASE_URL on PostgreSQL: apply the updates of
                                       the inbox; as many workers as you like
    python -m bot web                  the webhook channels without Telegram (WhatsApp, with
                                       WHATSAPP_* set), on WEBHOOK_LISTEN:WEBHOOK_PORT
    python -m bot verify DOSSIER.zip   check an exported dossier against its manifest
    python -m bot key                  print the public key that signs dossiers (made if
                                       missing), and its fingerprint, for you to publish
"""

from __future__ import annotations

import asyncio
import os
import sys

# Durations and retry_after as timedelta (python-telegram-bot's next behaviour), so reading
# them does not warn. Set before any telegram module reads it.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from pydantic import ValidationError

from bot.app import DataDirInUse, StartFailed, open_core
from bot.console import client_language, run_console
from bot.content import Content
from bot.logs import setup_logging
from bot.settings import Settings


async def console(settings: Settings) -> None:
    from bot.reading import reading

    async with open_core(settings, settings.exports_dir) as core, reading(core, settings.ocr):
        await run_console(core, settings.exports_dir)


def main(argv: list[str]) -> int:
    # Every file and directory the bot makes holds a victim's data: readable by its owner only.
    os.umask(0o077)
    command = argv[0] if argv else None
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command == "verify":  # needs no settings: anyone who received a dossier may run it
        from bot.verify import main as verify

        return verify(argv[1:])
    try:
        settings = Settings()
    except ValidationError as error:  # names the settings, never their values (secrets)
        names = sorted({str(issue["loc"][0]).upper() for issue in error.errors() if issue["loc"]})
        content = Content.load()
        lang = content.index.pick_language(client_language())
        print(content.text("console.bad_settings", lang, {"names": ", ".join(names)}),
              file=sys.stderr)  # fmt: skip
        return 2
    setup_logging(settings.log_level)
    if command == "key":
        return _key(settings)
    if command in ("receiver", "worker"):
        return _several(settings, command)
    if command not in (None, "console", "web"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return _run(settings, command)
    except StartFailed as failure:
        content = Content.load(settings.content_dir)
        lang = content.index.pick_language(client_language())
        print(content.text(failure.key, lang, failure.params), file=sys.stderr)
        return 1
    except DataDirInUse:
        content = Content.load(settings.content_dir)
        lang = content.index.pick_language(client_language())
        print(content.text("console.data_dir_in_use", lang, {"path": str(settings.data_dir)}),
              file=sys.stderr)  # fmt: skip
        return 2


def _several(settings: Settings, role: str) -> int:
    """Run one of several processes sharing PostgreSQL: the receiver or a worker, for
    Telegram, WhatsApp or both."""
    from bot.telegram.app import run_telegram
    from bot.web_channels import run_web
    from bot.workers import postgres_url, run_worker

    content = Content.load(settings.content_dir)
    lang = content.index.pick_language(client_language())
    try:
        if settings.telegram_bot_token is None and not settings.whatsapp:
            print(content.text("console.workers_need_channel", lang), file=sys.stderr)
            return 2
        postgres_url(settings)
        if role == "worker":
            return run_worker(settings)
        if settings.telegram_bot_token is None:
            return run_web(settings, role)
        return run_telegram(settings, role)
    except StartFailed as failure:
        print(content.text(failure.key, lang, failure.params), file=sys.stderr)
        return 1
    except DataDirInUse:
        print(content.text("console.data_dir_in_use", lang, {"path": str(settings.data_dir)}),
              file=sys.stderr)  # fmt: skip
        return 2


def _key(settings: Settings) -> int:
    from bot.signing import SigningKeyError, load_or_create

    try:
        signer = load_or_create(settings.data_dir)
    except (SigningKeyError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    print(signer.public_pem(), end="")
    print(f"Fingerprint (SHA-256 of the public key): {signer.fingerprint}")
    return 0


def _run(settings: Settings, command: str | None) -> int:
    webhooks = settings.whatsapp or settings.wechat
    if command == "web" or (command is None and settings.telegram_bot_token is None and webhooks):
        if not webhooks:
            content = Content.load(settings.content_dir)
            lang = content.index.pick_language(client_language())
            print(content.text("console.web_needs_channel", lang), file=sys.stderr)
            return 2
        from bot.web_channels import run_web

        return run_web(settings)
    if command is None and settings.telegram_bot_token is None:
        content = Content.load(settings.content_dir)
        lang = content.index.pick_language(client_language())
        print(content.text("console.no_token", lang), file=sys.stderr)
    if command is None and settings.telegram_bot_token is not None:
        from bot.telegram.app import run_telegram

        return run_telegram(settings)
    try:
        asyncio.run(console(settings))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
