"""Running the WhatsApp channel: the webhook routes, the applier, reminders.

:class:`WhatsAppChannel` is started inside a process that has a core: it replays what the
inbox still holds, serves ``GET``/``POST /whatsapp`` (added to the web app), applies each
user's messages in order, and sends due reminders when the housekeeping asks. A reminder
due after the 24-hour window is sent as the approved template when one is configured;
otherwise it waits for the user's next message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Final

import psycopg
from starlette.routing import Route

from bot.chat_order import ChatOrder
from bot.core import Core, Out, OutText
from bot.logs import user_ref
from bot.pacing import SharedPacing
from bot.settings import Settings
from bot.storage import StorageUnavailable
from bot.web import JOURNAL_PATIENCE_SECONDS
from bot.whatsapp.adapter import CHANNEL, PAIR_PAUSE, WhatsAppAdapter, whatsapp_pacer
from bot.whatsapp.client import GraphClient, GraphError
from bot.whatsapp.webhook import Inbound, deliveries, handshake
from bot.workqueue import Handler, Job

WINDOW_MARGIN: Final = timedelta(hours=23)
"""WhatsApp's customer-service window is 24 hours from the user's last message."""
PATH: Final = "/whatsapp"

log = logging.getLogger(__name__)


def graph_client(settings: Settings) -> GraphClient:
    assert settings.whatsapp_token and settings.whatsapp_phone_number_id
    return GraphClient(
        settings.whatsapp_token.get_secret_value(),
        settings.whatsapp_phone_number_id,
        base_url=settings.whatsapp_api_base_url,
    )


def template_languages(setting: str) -> dict[str, str]:
    """``"es=es_MX,en=en_US"`` → ``{"es": "es_MX", "en": "en_US"}``."""
    pairs = (item.partition("=") for item in setting.split(",") if "=" in item)
    return {lang.strip(): code.strip() for lang, _, code in pairs if lang.strip() and code.strip()}


class WhatsAppChannel:
    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        salt: str = "",
        pair_pause: float | None = None,
        apply_here: bool = True,
        pacing: SharedPacing | None = None,
    ) -> None:
        """``apply_here=False``: a receiver's part (the webhook records, the workers apply,
        the housekeeping sends reminders)."""
        assert settings.whatsapp_app_secret and settings.whatsapp_verify_token
        self.core, self.settings, self.salt = core, settings, salt
        self.client = graph_client(settings)
        self.adapter = WhatsAppAdapter(core, self.client, salt=salt)
        if pair_pause is not None:
            self.adapter.pair_pause = pair_pause
        self.adapter.pacer = whatsapp_pacer(pacing, pair_pause or PAIR_PAUSE)
        self.order: ChatOrder[Inbound] = ChatOrder(self.adapter.apply, self.adapter.failed)
        self.apply_here = apply_here
        self._seq = 0

    def routes(self) -> list[Route]:
        secret = self.settings.whatsapp_app_secret
        token = self.settings.whatsapp_verify_token
        assert secret is not None and token is not None
        return [
            Route(PATH, handshake(token.get_secret_value()), methods=["GET"]),
            Route(PATH, deliveries(secret.get_secret_value(), self.accept), methods=["POST"]),
        ]

    async def start(self) -> None:
        """Queue what the inbox still holds, in order (unless the workers apply it)."""
        if not self.apply_here:
            return
        pending = await self.core.storage.pending(CHANNEL)
        for _, payload in pending:
            inbound = Inbound.from_payload(payload)
            self.order.submit(inbound.user, inbound)
        if pending:
            log.info("%d WhatsApp messages from before the restart queued again", len(pending))

    async def stop(self) -> None:
        await self.order.close()
        await self.client.close()

    async def accept(self, found: list[Inbound]) -> None:
        """Record the delivery's messages in the inbox, then queue them; StorageUnavailable
        if the inbox stays unavailable (the webhook then answers 500: Meta tries again)."""
        entries = []
        for inbound in found:
            self._seq += 1
            seq = time.time_ns() // 1000 * 100 + self._seq % 100  # arrival order
            entries.append((inbound.key, seq, inbound.payload(), inbound.user))
        pause, waited = 0.25, 0.0
        while True:
            try:
                await self.core.storage.journal(CHANNEL, entries)
                break
            except StorageUnavailable:
                if waited + pause > JOURNAL_PATIENCE_SECONDS:
                    raise
                await asyncio.sleep(pause)
                waited += pause
                pause *= 2
        if self.apply_here:
            for inbound in found:
                self.order.submit(inbound.user, inbound)

    async def remind(self) -> int:
        """Send the reminders that are due; return to how many users."""
        sent = 0
        for _, user, outs in await self.core.remind(CHANNEL, reachable=self._reachable):
            try:
                await self.adapter.send(user, outs)
            except GraphError as error:
                failure = error
                try:
                    delivered = failure.kind == "window" and await self._template(user, outs)
                except GraphError as second:
                    delivered, failure = False, second
                if not delivered:  # kept, and given before the answer to their next message
                    log.warning("reminder for user %s not sent (code %s): kept for later",
                                user_ref(CHANNEL, user, self.salt), failure.code)  # fmt: skip
                    await self.core.storage.hold(CHANNEL, user, self.adapter.texts(outs))
                    continue
            sent += 1
        return sent

    async def _reachable(self, user: str) -> bool:
        """Whether a reminder can reach the user now: inside the 24-hour window (they acted
        within the last 23 hours, a margin kept), or by the approved template. If not, the
        reminder stays due and goes out once they write again."""
        if self.settings.whatsapp_reminder_template:
            return True
        conv = await self.core.storage.load(CHANNEL, user, shared=True)
        acts = [case.updated_at for case in conv.cases] if conv is not None else []
        return bool(acts) and self.core.clock() - max(acts) < WINDOW_MARGIN

    async def _template(self, user: str, outs: list[Out]) -> bool:
        """Outside the 24-hour window: the approved template, if there is one."""
        name = self.settings.whatsapp_reminder_template
        texts = [out for out in outs if isinstance(out, OutText)]
        if not name or not texts:
            return False
        lang = texts[0].lang
        code = template_languages(self.settings.whatsapp_template_languages).get(lang)
        case = next((out.case for out in texts if out.case is not None), None)
        if code is None:
            return False
        parameters = [{"type": "text", "text": str(case)}] if case is not None else []
        template = {
            "name": name,
            "language": {"code": code, "policy": "deterministic"},
            "components": [{"type": "body", "parameters": parameters}] if parameters else [],
        }
        await self.client.send({"recipient": user, "type": "template", "template": template})
        return True


def job_handler(adapter: WhatsAppAdapter) -> Handler:
    """A worker's part: apply one claimed WhatsApp message. Storage that cannot be reached
    keeps it for a later try (the work queue's pause); any other failure is told to the
    user and the message dropped from the inbox, as in one process."""

    async def handle(job: Job) -> None:
        inbound = Inbound.from_payload(job.payload)
        try:
            await adapter.apply(inbound)
        except (StorageUnavailable, psycopg.Error):
            raise
        except Exception as error:
            await adapter.failed(inbound, error)

    return handle
