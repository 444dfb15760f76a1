"""The loopback WhatsApp Cloud API peer, over real HTTP on 127.0.0.1, with httpx as the client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.whatsapp_peer import MB, GraphPeer, meta_json, validate_message

USER = "MX.1234567890"
PHONE = "5215511112222"
TOKEN = "test-token"
SECRET = "test-app-secret"
VERIFY_TOKEN = "verify-me"
RE_ENGAGEMENT = {
    "error": {
        "message": "(#131047) Re-engagement message",
        "type": "OAuthException",
        "code": 131047,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        },
    }
}


class Receiver:
    """A stand-in for the bot's webhook: checks the signature over the raw bytes itself."""

    def __init__(self) -> None:
        self.posts: list[tuple[bytes, dict[str, str], bool]] = []
        self.url = ""

    async def post(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-Hub-Signature-256", "")
        digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(header, f"sha256={digest}")
        self.posts.append((raw, dict(request.headers), valid))
        return web.Response(status=200 if valid else 403)

    async def get(self, request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(token, VERIFY_TOKEN):
            return web.Response(text=query.get("hub.challenge", ""))
        return web.Response(status=403)


@pytest.fixture
async def peer() -> AsyncIterator[GraphPeer]:
    async with GraphPeer() as running:
        yield running


@pytest.fixture
async def http(peer: GraphPeer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=peer.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/whatsapp", hook.post)
    app.router.add_get("/whatsapp", hook.get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/whatsapp"
    try:
        yield hook
    finally:
        await runner.cleanup()


def message(kind: str, content: Any, *, to: str = USER, **extra: Any) -> dict[str, Any]:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": to}
    return body | {"type": kind, kind: content} | extra


def buttons(*titles: str, body: str = "¿Qué quieres hacer?") -> dict[str, Any]:
    replies = [
        {"type": "reply", "reply": {"id": f"opt{i}", "title": t}} for i, t in enumerate(titles)
    ]
    return {"type": "button", "body": {"text": body}, "action": {"buttons": replies}}


def rows(n: int, prefix: str = "r") -> list[dict[str, str]]:
    return [
        {"id": f"{prefix}{i}", "title": f"Opción {i}", "description": "Detalle"} for i in range(n)
    ]


TEMPLATE = {
    "name": "case_reminder",
    "language": {"policy": "deterministic", "code": "es_MX"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "7"}]}],
}


async def send(http: httpx.AsyncClient, body: Any) -> tuple[int, Any]:
    response = await http.post("/v23.0/1234567890/messages", json=body)
    return response.status_code, response.json()


async def greet(peer: GraphPeer, receiver: Receiver, user: str = USER) -> dict[str, Any]:
    """The user writes first: the webhook is delivered and the window opens."""
    inbound = peer.text(user, "Hola, me amenazan")
    assert await peer.push(receiver.url, peer.envelope(inbound)) == 200
    return inbound


def without_trace(body: dict[str, Any]) -> dict[str, Any]:
    assert body["error"].pop("fbtrace_id")
    return body


# -- auth -------------------------------------------------------------------------------------
async def test_every_api_call_needs_the_bearer_token(peer, http):
    text = message("text", {"body": "hola"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        async with httpx.AsyncClient(base_url=peer.base_url, headers=headers) as anonymous:
            response = await anonymous.post("/v23.0/1234567890/messages", json=text)
            assert response.status_code == 401
            error = response.json()["error"]
            assert error["code"] == 190 and error["type"] == "OAuthException"
            assert error["message"] and error["fbtrace_id"]
            media = await anonymous.get("/v23.0/123")
            assert media.status_code == 401
    assert peer.sent == [] and peer.violations == []


# -- sends --------------------------------------------------------------------------------------
async def test_a_valid_text_to_a_bsuid_is_accepted_and_recorded(peer, http, receiver):
    await greet(peer, receiver)
    body = message("text", {"body": "Guarda capturas de cada mensaje.", "preview_url": False})
    status, answer = await send(http, body)
    assert status == 200, answer
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": USER, "wa_id": PHONE, "user_id": USER}]
    (sent_id,) = [m["id"] for m in answer["messages"]]
    assert sent_id.startswith("wamid.")
    assert peer.sent == [body] and peer.sent_ids == [sent_id] and peer.sent_to(USER) == [body]
    assert peer.violations == []
    _, again = await send(http, body)
    assert again["messages"][0]["id"] != sent_id  # every send gets its own wamid
    assert await peer.wait_sent(2, to=USER) == [body, body]


async def test_a_send_to_a_phone_number_uses_to(peer, http, receiver):
    await greet(peer, receiver)  # the window opens under the BSUID and the phone number
    body = message("text", {"body": "hola"}) | {"to": PHONE}
    del body["recipient"]
    status, answer = await send(http, body)
    assert status == 200 and answer["contacts"] == [{"input": PHONE, "wa_id": PHONE}]
    assert peer.sent_to(PHONE) == [body]


async def test_reply_buttons_list_and_document_by_upload_are_accepted(peer, http, receiver):
    await greet(peer, receiver)
    assert (await send(http, message("interactive", buttons("Sí", "No", "Ayuda"))))[0] == 200
    two_sections = {
        "type": "list",
        "header": {"type": "text", "text": "Tipo de acoso"},
        "body": {"text": "Elige lo que pasó"},
        "footer": {"text": "Puedes cambiarlo luego"},
        "action": {
            "button": "Ver opciones",
            "sections": [
                {"title": "Mensajes", "rows": rows(5, "m")},
                {"title": "Llamadas", "rows": rows(5, "c")},
            ],
        },
    }
    status, answer = await send(http, message("interactive", two_sections))
    assert status == 200, answer
    upload = await http.post(
        "/v23.0/1234567890/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("queja.pdf", b"%PDF-1.7 queja", "application/pdf")},
    )
    media_id = upload.json()["id"]
    document = {"id": media_id, "filename": "queja.pdf", "caption": "Tu queja"}
    assert (await send(http, message("document", document)))[0] == 200
    by_link = {"link": "https://example.org/guia.pdf", "filename": "guia.pdf"}
    assert (await send(http, message("document", by_link)))[0] == 200
    assert len(peer.sent) == 4 and peer.violations == []


async def test_a_21_character_button_title_is_refused(peer, http, receiver):
    await greet(peer, receiver)
    status, answer = await send(http, message("interactive", buttons("Sí", "x" * 21)))
    assert status == 400
    assert answer["error"]["code"] == 100
    assert "buttons[1].reply.title" in answer["error"]["error_data"]["details"]
    assert any("buttons[1].reply.title: 21 characters" in v for v in peer.violations)
    assert peer.sent == [] and peer.rejected[0][1] == 100


async def test_four_buttons_duplicate_titles_and_a_missing_body_are_refused(peer, http, receiver):
    await greet(peer, receiver)
    status, _ = await send(http, message("interactive", buttons("A", "B", "C", "D")))
    assert status == 400 and any("4 buttons" in v for v in peer.violations)
    peer.violations.clear()
    status, _ = await send(http, message("interactive", buttons("Sí", "Sí")))
    assert status == 400 and any("titles must be unique" in v for v in peer.violations)
    no_body = buttons("Sí")
    del no_body["body"]
    assert (await send(http, message("interactive", no_body)))[0] == 400
    assert peer.sent == []


async def test_a_list_of_more_than_ten_rows_is_refused(peer, http, receiver):
    await greet(peer, receiver)

    def listing(*sections: list[dict[str, str]], button: str = "Ver") -> dict[str, Any]:
        titled = [{"title": f"S{i}", "rows": r} for i, r in enumerate(sections)]
        return {
            "type": "list",
            "body": {"text": "Elige"},
            "action": {"button": button, "sections": titled},
        }

    status, _ = await send(http, message("interactive", listing(rows(11))))  # the spec's maxItems
    assert status == 400 and any("rows: 11 items" in v for v in peer.violations)
    peer.violations.clear()
    status, _ = await send(http, message("interactive", listing(rows(6, "a"), rows(5, "b"))))
    assert status == 400 and peer.violations == [
        "POST /messages: $.interactive.action.sections: 11 rows in total, at most 10"
    ]
    long_row = [{"id": "x", "title": "y" * 25, "description": "z" * 73}]
    status, answer = await send(http, message("interactive", listing(long_row, button="b" * 21)))
    details = answer["error"]["error_data"]["details"]
    assert status == 400 and "rows[0].title" in details and "rows[0].description" in details
    assert "action.button" in details
    assert peer.sent == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.pop("messaging_product"), "'messaging_product' is a required property"),
        (lambda b: b.update(text="hola"), "$.text: 'hola' is not of type 'object'"),
        (lambda b: b.update(type="poll"), "$.type: 'poll' is not one of"),
        (lambda b: b.update(unknown_field=1), "'unknown_field' was unexpected"),
        (lambda b: b.update(to=PHONE), "exactly one of 'to'"),
        (lambda b: b.pop("recipient"), "one of 'to' (phone number) or 'recipient'"),
        (lambda b: b.update(recipient=12), "$.recipient: 12 is not of type 'string'"),
        (lambda b: b.pop("recipient_type"), "'recipient_type' is a required property"),
        (lambda b: b.update(text={"body": "x" * 4097}), "$.text.body: 4097 characters"),
        (lambda b: b.update(messaging_product="sms"), "must be 'whatsapp'"),
    ],
)
async def test_schema_invalid_bodies_are_refused(peer, http, receiver, change, expected):
    await greet(peer, receiver)
    body = message("text", {"body": "hola"})
    change(body)
    status, answer = await send(http, body)
    assert status == 400 and answer["error"]["code"] == 100
    assert any(expected in v for v in peer.violations), peer.violations
    assert peer.sent == []


async def test_invalid_media_references_are_refused(peer, http, receiver):
    await greet(peer, receiver)
    both = {"id": "1", "link": "https://example.org/a.pdf"}
    assert (await send(http, message("document", both)))[0] == 400
    unknown = {"id": "999", "filename": "a.pdf"}
    status, answer = await send(http, message("document", unknown))
    assert status == 400 and "'999' is no media" in answer["error"]["error_data"]["details"]
    assert peer.sent == []


async def test_a_body_that_is_not_json_is_a_violation(peer, http):
    response = await http.post(
        "/v23.0/1234567890/messages", content=b"to=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400 and peer.violations


async def test_wrong_version_phone_number_and_path_are_violations(peer, http):
    body = message("text", {"body": "hola"})
    assert (await http.post("/v22.0/1234567890/messages", json=body)).status_code == 400
    wrong_phone = await http.post("/v23.0/999/messages", json=body)
    assert wrong_phone.status_code == 400
    assert wrong_phone.json()["error"]["type"] == "GraphMethodException"
    assert (await http.post("/v23.0/1234567890/contacts", json=body)).status_code == 400
    assert len(peer.violations) == 3


# -- the 24-hour window -------------------------------------------------------------------------
async def test_outside_the_window_only_templates_go_out(peer, http, receiver):
    body = message("text", {"body": "¿Sigues ahí?"})
    status, answer = await send(http, body)  # the user never wrote
    assert status == 400 and without_trace(answer) == RE_ENGAGEMENT
    await greet(peer, receiver)
    assert (await send(http, body))[0] == 200
    peer.advance(23 * 3600)
    assert (await send(http, body))[0] == 200
    peer.advance(2 * 3600)  # 25 h after the user's message
    status, answer = await send(http, body)
    assert status == 400 and without_trace(answer) == RE_ENGAGEMENT
    status, answer = await send(http, message("template", TEMPLATE))
    assert status == 200, answer
    assert answer["messages"][0]["message_status"] == "accepted"
    assert [b["type"] for b in peer.sent] == ["text", "text", "template"]
    assert [code for _, code in peer.rejected] == [131047, 131047]
    assert peer.violations == []  # a closed window is the API's answer, not a bad request
    # the user answers the template: a new window
    tap = peer.template_button(USER, "still_harassed", "Sí, sigue")
    assert tap["context"]["id"] == peer.sent_ids[-1]
    assert await peer.push(receiver.url, peer.envelope(tap)) == 200
    assert (await send(http, body))[0] == 200


async def test_an_injected_clock_drives_the_window(receiver):
    now = [1_800_000_000.0]
    async with GraphPeer(clock=lambda: now[0]) as peer:
        inbound = peer.text(USER, "hola")
        assert inbound["timestamp"] == "1800000000"
        await peer.push(receiver.url, peer.envelope(inbound))
        assert peer.windows[USER] == now[0]
        now[0] += 24 * 3600 + 1
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=peer.base_url, headers=headers) as http:
            status, answer = await send(http, message("text", {"body": "hola"}))
        assert status == 400 and answer["error"]["code"] == 131047


async def test_a_changed_bsuid_keeps_the_window(peer, http, receiver):
    await greet(peer, receiver)
    change = peer.system_user_changed(USER, "MX.999")
    envelope = peer.envelope(change)
    assert "contacts" not in envelope["entry"][0]["changes"][0]["value"]
    assert change["system"] == {
        "body": "User Víctima changed from MX.1234567890 to MX.999",
        "type": "user_changed_user_id",
        "user_id": "MX.999",
    }
    assert "from" not in change and change["from_user_id"] == USER
    assert await peer.push(receiver.url, envelope) == 200
    assert (await send(http, message("text", {"body": "hola"}, to="MX.999")))[0] == 200


# -- read receipts --------------------------------------------------------------------------------
async def test_read_receipt_with_typing_indicator(peer, http, receiver):
    inbound = await greet(peer, receiver)
    read = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": inbound["id"],
        "typing_indicator": {"type": "text"},
    }
    assert await send(http, read) == (200, {"success": True})
    assert peer.reads == [read] and peer.sent == [read] and peer.sent_ids == [None]
    assert peer.sent_to(USER) == []
    peer.fail_next(131056)  # faults hit message sends, not read receipts
    assert (await send(http, read | {"message_id": "wamid.unknown"}))[0] == 400
    assert (await send(http, read | {"typing_indicator": {"type": "audio"}}))[0] == 400
    assert len(peer.violations) == 2
    assert (await send(http, message("text", {"body": "hola"})))[1]["error"]["code"] == 131056
    assert await peer.wait_sent(1) == [read]  # without `to`, read receipts count


# -- faults ---------------------------------------------------------------------------------------
async def test_fail_next_answers_graph_errors_then_recovers(peer, http, receiver):
    await greet(peer, receiver)
    body = message("text", {"body": "hola"})
    peer.fail_next(131056, times=2)
    peer.fail_next(131000, status=500)
    for code, status in ((131056, 400), (131056, 400), (131000, 500)):
        got, answer = await send(http, body)
        assert got == status and answer["error"]["code"] == code
        assert answer["error"]["message"].startswith(f"(#{code})")
        assert answer["error"]["error_data"]["details"]
    assert peer.sent == []
    assert (await send(http, body))[0] == 200
    peer.fail_next(130429)
    _, answer = await send(http, body)
    assert answer["error"]["message"] == "(#130429) Rate limit hit"
    peer.fail_next(131026)
    _, answer = await send(http, message("template", TEMPLATE))
    assert answer["error"]["message"] == "(#131026) Message Undeliverable"
    bad = message("text", {"body": ""})
    peer.fail_next(131056)
    assert (await send(http, bad))[1]["error"]["code"] == 100  # validation comes first
    assert [code for _, code in peer.rejected] == [131056, 131056, 131000, 130429, 131026, 100]


async def test_wait_sent_times_out_with_what_was_sent(peer):
    with pytest.raises(TimeoutError, match=r"0 of 1 sends to MX\.1"):
        await peer.wait_sent(1, to="MX.1", timeout=0.05)


# -- media ----------------------------------------------------------------------------------------
async def test_upload_then_download(peer, http):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    response = await http.post(
        "/v23.0/1234567890/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("expediente.pdf", pdf, "application/pdf")},
    )
    assert response.status_code == 200, response.text
    media_id = response.json()["id"]
    assert peer.uploads[media_id] == (pdf, "application/pdf", "expediente.pdf")
    info = (await http.get(f"/v23.0/{media_id}", params={"phone_number_id": "1234567890"})).json()
    assert info["mime_type"] == "application/pdf" and info["file_size"] == len(pdf)
    assert info["sha256"] == base64.b64encode(hashlib.sha256(pdf).digest()).decode()
    assert info["url"].startswith(f"{peer.base_url}/dl/{media_id}?exp=")
    download = await http.get(info["url"])
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert peer.downloads == 1 and peer.violations == []


async def test_inbound_voice_note_metadata_and_download(peer, http, receiver):
    ogg = b"OggS\x00\x02" + b"\x01" * 3000
    media_id = peer.add_media(ogg, "audio/ogg; codecs=opus")
    note = peer.audio(USER, media_id)
    assert note["audio"] == {
        "id": media_id,
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": base64.b64encode(hashlib.sha256(ogg).digest()).decode(),
        "voice": True,
    }
    assert await peer.push(receiver.url, peer.envelope(note)) == 200
    info = (await http.get(f"/v23.0/{media_id}")).json()
    download = await http.get(info["url"])
    assert download.content == ogg and download.headers["content-type"] == "audio/ogg; codecs=opus"
    assert hashlib.sha256(download.content).digest() == base64.b64decode(info["sha256"])
    wrong_number = await http.get(f"/v23.0/{media_id}", params={"phone_number_id": "42"})
    assert wrong_number.status_code == 400 and peer.violations
    missing = await http.get("/v23.0/4242")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 100


async def test_media_url_needs_the_bearer_and_expires_after_five_minutes(peer, http):
    media_id = peer.add_media(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    url = (await http.get(f"/v23.0/{media_id}")).json()["url"]
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url)).status_code == 401
    peer.advance(299)
    assert (await http.get(url)).status_code == 200
    peer.advance(2)  # 301 s after the metadata call
    assert (await http.get(url)).status_code == 404
    fresh = (await http.get(f"/v23.0/{media_id}")).json()["url"]
    assert (await http.get(fresh)).status_code == 200
    assert (await http.get(f"/dl/{media_id}")).status_code == 404  # only URLs the peer gave
    assert peer.downloads == 2
    peer.advance(7 * 24 * 3600)  # webhook media ids live 7 days
    assert (await http.get(f"/v23.0/{media_id}")).status_code == 404


async def test_uploads_respect_type_and_size_limits(peer, http):
    async def upload(data: bytes, mime: str, **fields: str) -> httpx.Response:
        form = {"messaging_product": "whatsapp", "type": mime} | fields
        return await http.post(
            "/v23.0/1234567890/media", data=form, files={"file": ("f", data, mime)}
        )

    assert (await upload(b"j" * (5 * MB), "image/jpeg")).status_code == 200
    too_big = await upload(b"j" * (5 * MB + 1), "image/jpeg")
    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == 131053
    assert "limit for image" in too_big.json()["error"]["error_data"]["details"]
    assert (await upload(b"a" * (16 * MB + 1), "audio/mpeg")).status_code == 400
    assert (await upload(b"MZ", "application/x-msdownload")).status_code == 400
    assert (await upload(b"x", "text/plain", messaging_product="sms")).status_code == 400
    assert len(peer.uploads) == 1 and len(peer.violations) == 4


# -- the webhook side -----------------------------------------------------------------------------
async def test_push_signs_the_exact_bytes_it_sends(peer, receiver):
    inbound = peer.text(USER, "Dijeron que publicarán mis fotos / ¡ayuda!", forwarded=True)
    payload = peer.envelope(inbound)
    assert await peer.push(receiver.url, payload) == 200
    raw, headers, valid = receiver.posts[-1]
    assert valid and raw == meta_json(payload)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw) == payload
    assert b"\\u00a1ayuda" in raw and b"\\/" in raw  # escaped as Meta does
    assert json.dumps(json.loads(raw)).encode() != raw  # re-serialising would break the check
    assert await peer.push(receiver.url, payload, signature="sha256=" + "0" * 64) == 403
    assert await peer.push(receiver.url, payload, signature="") == 403
    assert "X-Hub-Signature-256" not in receiver.posts[-1][1]


async def test_verify_handshake(peer, receiver):
    assert await peer.verify(receiver.url, token=VERIFY_TOKEN) == (200, "1158201444")
    assert await peer.verify(receiver.url, token="nope", challenge="42") == (403, "")


async def test_webhook_shapes_carry_bsuids(peer):
    inbound = peer.text(USER, "hola", frequently=True)
    envelope = peer.envelope(inbound, peer.reaction(USER, inbound["id"], "😡"))
    assert envelope["object"] == "whatsapp_business_account"
    (entry,) = envelope["entry"]
    (change,) = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["metadata"] == {
        "display_phone_number": "5215500000000",
        "phone_number_id": "1234567890",
    }
    assert value["contacts"] == [{"profile": {"name": "Víctima"}, "wa_id": PHONE, "user_id": USER}]
    first = value["messages"][0]
    assert first["from"] == PHONE and first["from_user_id"] == USER
    assert first["context"] == {"frequently_forwarded": True}
    assert first["id"].startswith("wamid.") and first["text"] == {"body": "hola"}
    hidden = peer.text("BR.55", "oi", wa_id=None, name="Ana")
    assert "from" not in hidden and hidden["from_user_id"] == "BR.55"
    assert peer.envelope(hidden)["entry"][0]["changes"][0]["value"]["contacts"] == [
        {"profile": {"name": "Ana"}, "user_id": "BR.55"}
    ]
    tap = peer.button_reply(USER, "opt1", "No", context_id="wamid.OUT1")
    assert tap["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "opt1", "title": "No"},
    }
    assert tap["context"] == {"from": "5215500000000", "id": "wamid.OUT1"}
    chosen = peer.list_reply(USER, "r2", "Opción 2", context_id="wamid.OUT2")
    assert chosen["interactive"]["list_reply"] == {"id": "r2", "title": "Opción 2"}
    pdf = peer.add_media(b"%PDF", "application/pdf", filename="c.pdf")
    doc = peer.document(USER, pdf, filename="c.pdf", caption="contrato")
    assert doc["document"]["filename"] == "c.pdf" and doc["document"]["caption"] == "contrato"
    assert peer.unsupported(USER)["errors"][0]["code"] == 131051
    card = peer.contacts_card(USER, "Cobranza", "+52 55 1234 5678")
    assert card["contacts"][0]["phones"][0]["wa_id"] == "525512345678"
    assert peer.location(USER, 19.43, -99.13)["location"] == {
        "latitude": 19.43,
        "longitude": -99.13,
    }


async def test_status_webhooks(peer):
    delivered = peer.status(USER, "wamid.OUT1", "delivered")["entry"][0]["changes"][0]["value"]
    assert delivered["contacts"] == [{"user_id": USER}]
    (item,) = delivered["statuses"]
    assert item["recipient_user_id"] == USER and "recipient_id" not in item
    assert item["status"] == "delivered" and item["id"] == "wamid.OUT1"
    failed = peer.status(USER, "wamid.OUT2", "failed", error_code=131047)
    value = failed["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value
    assert value["statuses"][0]["errors"][0]["code"] == 131047
    by_phone = peer.status(PHONE, "wamid.OUT3", "read")["entry"][0]["changes"][0]["value"]
    assert by_phone["statuses"][0]["recipient_id"] == PHONE


def test_validate_message_is_usable_without_a_server():
    assert validate_message(message("template", TEMPLATE)) == []
    button = {"type": "button", "sub_type": "quick_reply", "index": "0"}
    button["parameters"] = [{"type": "payload", "payload": "still_harassed"}]
    template = TEMPLATE | {"components": [*TEMPLATE["components"], button]}
    assert validate_message(message("template", template)) == []  # the repaired index pattern
    no_policy = TEMPLATE | {"language": {"code": "es_MX"}}
    assert validate_message(message("template", no_policy)) == [
        "$.template.language: 'policy' is a required property"
    ]
