"""The loopback WeChat Official Account peer, over real HTTP on 127.0.0.1.

The callback app here answers with wechatpy 1.8.18 (signature check, ``WeChatCrypto``,
``parse_message``, ``create_reply``), so the peer is checked against a second implementation
of the protocol, not against itself.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.wechat_peer import (
    DEFAULT_AES_KEY,
    TEXT_LIMIT,
    WeChatPeer,
    amr_bytes,
    jpeg_bytes,
    mp4_bytes,
    signature,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from wechatpy import create_reply, parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.messages import BaseMessage
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

TOKEN = "wx-token"
APP_ID = "wx1234567890abcdef"
SECRET = "wx-secret"
USER = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
ACCOUNT = "gh_0123456789ab"

Answer = Callable[[BaseMessage, "Callback"], Awaitable[str] | str]


def echo(message: BaseMessage, _: Callback) -> str:
    """A text reply that repeats what was received. wechatpy puts text in CDATA as is: a
    ``]]>`` in it is split here across two sections (see ``test_faulty_replies...``)."""
    said = getattr(message, "content", None) or message.type
    said = said.replace("]]>", "]]]]><![CDATA[>")
    return str(create_reply(f"收到: {said}", message).render())


class Callback:
    """A stand-in for the bot's ``/wechat`` route, written with wechatpy."""

    def __init__(self, *, aes_key: str | None = DEFAULT_AES_KEY, app_id: str = APP_ID) -> None:
        self.crypto = WeChatCrypto(TOKEN, aes_key, app_id) if aes_key else None
        self.reply_crypto = self.crypto  # encrypts the answers
        self.answer: Answer = echo
        self.delays: list[float] = []  # seconds to wait before answering, one per request
        self.requests: list[tuple[dict[str, str], str]] = []
        self.messages: list[BaseMessage] = []
        self.raw: str | None = None  # answer this body as is (no encryption)
        self.url = ""

    async def get(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
        except (InvalidSignatureException, KeyError):
            return web.Response(status=403)
        return web.Response(text=query["echostr"])

    async def post(self, request: web.Request) -> web.Response:
        query, body = dict(request.query), await request.text()
        self.requests.append((query, body))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        try:
            check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
            if self.crypto is not None:
                assert query["encrypt_type"] == "aes"
                xml = self.crypto.decrypt_message(
                    body, query["msg_signature"], query["timestamp"], query["nonce"]
                )
            else:
                xml = body
        except InvalidSignatureException:
            return web.Response(status=403)
        message = parse_message(xml)
        self.messages.append(message)
        if self.raw is not None:
            return web.Response(text=self.raw)
        answer = self.answer(message, self)
        text = await answer if not isinstance(answer, str) else answer
        if self.reply_crypto is not None and text not in ("", "success"):
            text = self.reply_crypto.encrypt_message(text, query["nonce"], query["timestamp"])
        return web.Response(text=text, content_type="application/xml")


async def serve(callback: Callback) -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/wechat", callback.get)
    app.router.add_post("/wechat", callback.post)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    callback.url = f"http://127.0.0.1:{runner.addresses[0][1]}/wechat"
    return runner


@pytest.fixture
async def peer() -> AsyncIterator[WeChatPeer]:
    async with WeChatPeer() as running:
        yield running


@pytest.fixture
async def bot() -> AsyncIterator[Callback]:
    callback = Callback()
    runner = await serve(callback)
    try:
        yield callback
    finally:
        await runner.cleanup()


@pytest.fixture
async def http(peer: WeChatPeer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=peer.base_url, timeout=10) as client:
        yield client


async def stable_token(http: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    body |= {"force_refresh": False} | changes
    response = await http.post("/cgi-bin/stable_token", json=body)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def send(http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        "/cgi-bin/message/custom/send", params={"access_token": token}, json=body
    )
    assert response.status_code == 200  # WeChat answers errors with 200 too
    answer: dict[str, Any] = response.json()
    return answer


def text(content: str, to: str = USER) -> dict[str, Any]:
    return {"touser": to, "msgtype": "text", "text": {"content": content}}


# -- the push side ------------------------------------------------------------------------------
async def test_url_verification_echoes_echostr_and_a_wrong_token_is_refused(peer, bot):
    assert await peer.verify_url(bot.url, echostr="5838479218127813673") == (
        200,
        "5838479218127813673",
    )
    status, body = await peer.verify_url(bot.url)
    assert status == 200 and body.isdigit()
    status, _ = await peer.verify_url(bot.url, token="not-the-token")
    assert status == 403


async def test_safe_mode_round_trip(peer, bot):
    xml = peer.text(USER, "他们威胁要打电话给我妈妈 ]]> <b>")
    msg_id = peer.last_msg_id
    reply = await peer.push(bot.url, xml)
    assert reply.status == 200 and reply.retries == 0 and not reply.timed_out
    assert reply.msg_type == "text"
    assert reply.content == "收到: 他们威胁要打电话给我妈妈 ]]> <b>"
    assert reply.to_user == USER and reply.from_user == ACCOUNT
    assert reply.xml is not None and "<Content>" in reply.xml
    assert "<Encrypt>" in reply.body and "收到" not in reply.body
    assert 0 < reply.seconds < 5
    assert peer.violations == [] and peer.replies == [reply]
    # what went over the wire: safe mode, with both signatures and the OpenID
    ((query, body),) = bot.requests
    assert query["encrypt_type"] == "aes" and query["openid"] == USER
    assert query["signature"] == signature(TOKEN, query["timestamp"], query["nonce"])
    assert "威胁" not in body and "<Encrypt>" in body and f"<![CDATA[{ACCOUNT}]]>" in body
    (message,) = bot.messages
    assert message.type == "text" and str(message.id) == msg_id
    assert message.source == USER and message.target == ACCOUNT


async def test_builders_parse_in_wechatpy(peer, bot):
    image = peer.add_media(jpeg_bytes(), "image/jpeg")
    voice = peer.add_media(amr_bytes(2), "audio/amr")
    video = peer.add_media(mp4_bytes(), "video/mp4")
    pushes = [
        peer.image(USER, image),
        peer.voice(USER, voice, recognition="我要投诉"),
        peer.video(USER, video),
        peer.location(USER, 23.134521, 113.358803, label="广州市天河区"),
        peer.link(USER, "催收短信截图", "https://example.org/a"),
        peer.event(USER, "subscribe", "qrscene_report"),
        peer.event(USER, "CLICK", "export"),
    ]
    assert peer.last_msg_id is None
    assert peer.last_key is not None and peer.last_key.endswith(":CLICK:export")
    for xml in pushes:
        assert (await peer.push(bot.url, xml)).status == 200
    got = bot.messages
    assert [m.type for m in got] == [
        "image",
        "voice",
        "video",
        "location",
        "link",
        "event",
        "event",
    ]
    assert got[0].media_id == image and got[0].image == peer.pic_url(image)
    assert got[1].media_id == voice and got[1].format == "amr"
    assert got[1].recognition == "我要投诉"
    assert got[2].media_id == video and got[2].thumb_media_id in peer.media
    assert got[3].location == ("23.134521", "113.358803")  # wechatpy keeps strings
    assert got[3].label == "广州市天河区"
    assert got[4].title == "催收短信截图" and got[4].url == "https://example.org/a"
    assert got[5].event == "subscribe_scan" and got[5].scene_id == "report"
    assert got[6].event == "click" and got[6].key == "export"
    assert len({m.id for m in got[:5]}) == 5
    assert peer.violations == []


async def test_plaintext_mode():
    async with WeChatPeer(encoding_aes_key=None) as peer:
        callback = Callback(aes_key=None)
        runner = await serve(callback)
        try:
            reply = await peer.push(callback.url, peer.text(USER, "hola"))
        finally:
            await runner.cleanup()
    assert reply.status == 200 and reply.content == "收到: hola"
    assert reply.xml == reply.body and peer.violations == []
    ((query, body),) = callback.requests
    assert "encrypt_type" not in query and "msg_signature" not in query
    assert query["openid"] == USER and "<Content><![CDATA[hola]]></Content>" in body


@pytest.mark.parametrize("answer", ["success", ""])
async def test_success_or_an_empty_body_is_no_message(peer, bot, answer):
    bot.answer = lambda message, _: answer
    reply = await peer.push(bot.url, peer.text(USER, "hola"))
    assert reply.status == 200 and reply.body == answer
    assert reply.xml is None and reply.content is None and peer.violations == []


async def test_a_wrong_signature_is_sent_once(peer, bot):
    reply = await peer.push(bot.url, peer.text(USER, "hola"), wrong_signature=True)
    assert reply.status == 403 and reply.retries == 0 and len(bot.requests) == 1
    query, _ = bot.requests[0]
    assert query["signature"] != signature(TOKEN, query["timestamp"], query["nonce"])


async def test_a_slow_callback_gets_the_message_three_times(peer, bot):
    bot.delays = [0.6, 0.6, 0.6]
    xml = peer.text(USER, "hola")
    reply = await peer.push(bot.url, xml, timeout=0.3)
    assert reply.retries == 2 and reply.timed_out and reply.status == 0
    assert reply.content is None
    assert [v for v in peer.violations if "no answer within 0.3 s in 3 attempts" in v]
    assert len(bot.requests) == 3
    nonces = {query["nonce"] for query, _ in bot.requests}
    assert len(nonces) == 3  # each attempt signed anew
    await asyncio.sleep(0.7)  # the last handler finishes: the same MsgId every time
    assert len({m.id for m in bot.messages}) == 1 and len(bot.messages) == 3


async def test_an_answer_to_the_second_attempt_counts(peer, bot):
    bot.delays = [0.6]
    reply = await peer.push(bot.url, peer.text(USER, "hola"), timeout=0.3)
    assert reply.retries == 1 and not reply.timed_out
    assert reply.status == 200 and reply.content == "收到: hola" and reply.seconds < 0.3
    assert peer.violations == []


async def test_faulty_replies_are_violations(peer, bot):
    def long(message: BaseMessage, _: Callback) -> str:
        return str(create_reply("你" * 683, message).render())  # 2049 bytes

    def unswapped(message: BaseMessage, _: Callback) -> str:
        return str(TextReply(source=USER, target=ACCOUNT, content="hola").render())

    bot.answer = long
    reply = await peer.push(bot.url, peer.text(USER, "hola"))
    assert reply.content == "你" * 683
    assert peer.violations == ["push reply: Content is 2049 bytes of UTF-8, at most 2048"]
    peer.violations.clear()

    bot.answer = unswapped
    await peer.push(bot.url, peer.text(USER, "hola"))
    assert len(peer.violations) == 2
    assert "ToUserName" in peer.violations[0] and "FromUserName" in peer.violations[1]
    peer.violations.clear()

    bot.reply_crypto = WeChatCrypto(TOKEN, DEFAULT_AES_KEY, "wx0000000000000000")
    await peer.push(bot.url, peer.event(USER, "subscribe"))
    assert peer.violations == ["push reply: the AppID after the XML is not wx1234567890abcdef"]
    peer.violations.clear()

    bot.raw = str(create_reply("hola", bot.messages[-1]).render())  # plaintext in safe mode
    await peer.push(bot.url, peer.text(USER, "hola"))
    assert len(peer.violations) == 1 and "safe-mode reply" in peer.violations[0]
    peer.violations.clear()

    encrypted = bot.crypto.encrypt_message(bot.raw, "123", "1700000000")
    bot.raw = encrypted.replace("<Nonce><![CDATA[123]]>", "<Nonce><![CDATA[124]]>")
    await peer.push(bot.url, peer.text(USER, "hola"))
    assert len(peer.violations) == 1 and "MsgSignature" in peer.violations[0]
    peer.violations.clear()

    bot.raw = "OK"
    await peer.push(bot.url, peer.text(USER, "hola"))
    assert len(peer.violations) == 1 and "neither 'success' nor XML" in peer.violations[0]
    peer.violations.clear()

    bot.raw, bot.reply_crypto = None, bot.crypto
    bot.answer = lambda message, _: str(create_reply(message.content, message).render())
    reply = await peer.push(bot.url, peer.text(USER, "a ]]> b"))  # wechatpy does not split it
    assert reply.content is None and len(peer.violations) == 1
    assert "the decrypted reply is not XML" in peer.violations[0]


def own_codec_reply(xml: str, *, block_bits: int, app_id: str = APP_ID) -> str:
    """A safe-mode reply made with ``cryptography`` alone (the scheme of channels.md §2.3)."""
    key = base64.b64decode(DEFAULT_AES_KEY + "=")
    data = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(data)) + data + app_id.encode()
    padder = padding.PKCS7(block_bits).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    timestamp, nonce = "1700000000", "42"
    sign = signature(TOKEN, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{sign}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


async def test_a_reply_of_an_independent_codec_and_its_padding(peer, bot):
    content = "你" * 682 + "ab"  # 2048 bytes: the most a text reply may hold
    xml = (
        f"<xml><ToUserName><![CDATA[{USER}]]></ToUserName>"
        f"<FromUserName><![CDATA[{ACCOUNT}]]></FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
    bot.raw = own_codec_reply(xml, block_bits=256)
    reply = await peer.push(bot.url, peer.text(USER, "hola"))
    assert reply.content == content and reply.xml == xml and peer.violations == []
    bot.raw = own_codec_reply(xml, block_bits=128)
    padded = (16 + 4 + len(xml.encode()) + len(APP_ID)) // 16 * 16 + 16
    assert padded % 32 == 16  # (2320 bytes) this length pads differently to 16 and 32
    reply = await peer.push(bot.url, peer.text(USER, "hola"))
    assert reply.content == content  # WeChat's own decoders read it...
    assert peer.violations == [  # ...but channels.md §2.3 asks for 32-byte blocks
        f"push reply: PKCS#7 padding to 16-byte blocks ({padded} bytes); use 32"
    ]


# -- tokens -------------------------------------------------------------------------------------
async def test_stable_and_classic_tokens(peer, http):
    first = await stable_token(http)
    assert first["expires_in"] == 7200 and len(first["access_token"]) >= 100
    again = await stable_token(http)
    assert again["access_token"] == first["access_token"]  # stable while valid
    forced = await stable_token(http, force_refresh=True)
    assert forced["access_token"] != first["access_token"]
    assert (await stable_token(http, secret="wrong"))["errcode"] == 40125
    assert (await stable_token(http, appid="wx0"))["errcode"] == 40013
    classic = await http.get(
        "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET},
    )
    assert classic.json()["expires_in"] == 7200
    assert classic.json()["access_token"] not in (first["access_token"], forced["access_token"])
    assert peer.token_calls == 6
    assert peer.violations == []


async def test_tokens_expire_by_the_peer_clock(peer, http, bot):
    await peer.push(bot.url, peer.text(USER, "hola"))
    token = (await stable_token(http))["access_token"]
    assert (await send(http, token, text("uno")))["errcode"] == 0
    assert (await send(http, "made-up", text("dos")))["errcode"] == 40001
    response = await http.post("/cgi-bin/message/custom/send", json=text("tres"))
    assert response.json()["errcode"] == 41001
    peer.advance(6901)  # 5 minutes before expiry: a new stable token, the old one still works
    renewed = await stable_token(http)
    assert renewed["access_token"] != token and renewed["expires_in"] == 7200
    assert (await send(http, token, text("cuatro")))["errcode"] == 0
    peer.advance(300)
    answer = await send(http, token, text("cinco"))
    assert answer["errcode"] == 42001 and answer["errmsg"].startswith("access_token expired")
    peer.revoke_tokens()
    assert (await send(http, renewed["access_token"], text("seis")))["errcode"] == 40001


# -- customer service ---------------------------------------------------------------------------
async def test_the_customer_service_quota(peer, http, bot):
    token = peer.issue_token()
    assert (await send(http, token, text("antes")))["errcode"] == 40003  # never wrote
    await peer.push(bot.url, peer.text(USER, "hola"))
    assert peer.quota_left(USER) == 5
    for i in range(5):
        assert (await send(http, token, text(f"mensaje {i}")))["errcode"] == 0
    sixth = await send(http, token, text("sexto"))
    assert sixth["errcode"] == 45047 and "out of response count limit" in sixth["errmsg"]
    assert [b["text"]["content"] for b in await peer.wait_sent(5, to=USER)] == [
        f"mensaje {i}" for i in range(5)
    ]
    assert peer.rejected == [(text("antes"), 40003), (text("sexto"), 45047)]

    await peer.push(bot.url, peer.text(USER, "otra vez"))  # a new message: 5 more
    assert (await send(http, token, text("de nuevo")))["errcode"] == 0
    peer.advance(49 * 3600)
    token = (await stable_token(http))["access_token"]
    late = await send(http, token, text("tarde"))
    assert late["errcode"] == 45015 and late["errmsg"].startswith("response out of time limit")
    assert len(peer.sent) == 6 and peer.violations == []


async def test_events_open_a_short_quota_and_unsubscribe_closes_it(peer, http, bot):
    token = peer.issue_token()
    await peer.push(bot.url, peer.event(USER, "subscribe"))
    assert peer.quota_left(USER) == 3
    assert (await send(http, token, text("bienvenida")))["errcode"] == 0
    peer.advance(61)
    assert (await send(http, token, text("tarde")))["errcode"] == 45015
    await peer.push(bot.url, peer.text(USER, "hola"))
    await peer.push(bot.url, peer.event(USER, "unsubscribe"))
    assert USER not in peer.followers
    assert (await send(http, token, text("adiós")))["errcode"] == 45015


async def test_text_limit_other_types_and_format_errors(peer, http, bot):
    token = peer.issue_token()
    await peer.push(bot.url, peer.text(USER, "hola"))
    exact = "你" * 682 + "ab"
    assert len(exact.encode()) == TEXT_LIMIT
    assert (await send(http, token, text(exact)))["errcode"] == 0
    over = await send(http, token, text(exact + "c"))
    assert over["errcode"] == 45002 and "content size out of limit" in over["errmsg"]
    assert peer.violations == [
        "POST /cgi-bin/message/custom/send: text.content: 2049 bytes of UTF-8, at most 2048"
    ]
    peer.violations.clear()
    menu = {
        "touser": USER,
        "msgtype": "msgmenu",
        "msgmenu": {
            "head_content": "你要做什么？",
            "list": [{"id": "101", "content": "添加证据"}, {"id": "102", "content": "我已完成"}],
            "tail_content": "",
        },
    }
    assert (await send(http, token, menu))["errcode"] == 0
    image = peer.add_media(jpeg_bytes(), "image/jpeg")
    picture = {"touser": USER, "msgtype": "image", "image": {"media_id": image}}
    assert (await send(http, token, picture))["errcode"] == 0
    unknown = {"touser": USER, "msgtype": "image", "image": {"media_id": "nope"}}
    assert (await send(http, token, unknown))["errcode"] == 40007
    assert (await send(http, token, {"touser": USER, "msgtype": "fax"}))["errcode"] == 40008
    peer.fail_next(-1, api="message/custom/send")
    assert (await send(http, token, text("ocupado")))["errcode"] == -1
    assert len(peer.sent) == 3  # neither the refused nor the injected failure counted
    escaped = await http.post(
        "/cgi-bin/message/custom/send",
        params={"access_token": token},
        content=b'{"touser": "%s", "msgtype": "text", "text": {"content": "\\u4f60"}}'
        % USER.encode(),
    )
    assert escaped.json()["errcode"] == 0
    assert [v for v in peer.violations if "\\u escapes" in v]


async def test_an_unverified_account_has_no_customer_service_media_or_menu(http, bot):
    async with (
        WeChatPeer(verified=False) as peer,
        httpx.AsyncClient(base_url=peer.base_url) as client,
    ):
        await peer.push(bot.url, peer.text(USER, "hola"))
        token = peer.issue_token()
        answer = await send(client, token, text("hola"))
        assert answer["errcode"] == 48001 and answer["errmsg"].startswith("api unauthorized")
        assert peer.rejected == [(text("hola"), 48001)]
        media_id = peer.add_media(jpeg_bytes(), "image/jpeg")
        got = await client.get(
            "/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
        )
        assert got.json()["errcode"] == 48001
        menu = {"button": [{"type": "click", "name": "举报", "key": "report"}]}
        created = await client.post(
            "/cgi-bin/menu/create", params={"access_token": token}, json=menu
        )
        assert created.json()["errcode"] == 48001
        pic = await client.get(peer.pic_url(media_id))  # PicUrl works without verification
        assert pic.status_code == 200 and pic.content == jpeg_bytes()


# -- media --------------------------------------------------------------------------------------
async def test_media_get_gives_bytes_then_40007_after_three_days(peer, http):
    token = peer.issue_token()
    photo, voice = jpeg_bytes(), amr_bytes(1.5)
    image_id = peer.add_media(photo, "image/jpeg", filename="captura.jpg")
    voice_id = peer.add_media(voice, "audio/amr")
    got = await http.get(
        "/cgi-bin/media/get", params={"access_token": token, "media_id": image_id}
    )
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"] == 'attachment; filename="captura.jpg"'
    got = await http.get(
        "/cgi-bin/media/get", params={"access_token": token, "media_id": voice_id}
    )
    assert got.content == voice and got.headers["content-type"] == "audio/amr"
    assert got.headers["content-disposition"].endswith('.amr"')
    missing = await http.get(
        "/cgi-bin/media/get", params={"access_token": token, "media_id": "unknown"}
    )
    assert missing.json()["errcode"] == 40007
    peer.advance(3 * 24 * 3600 + 1)
    token = peer.issue_token()
    gone = await http.get(
        "/cgi-bin/media/get", params={"access_token": token, "media_id": image_id}
    )
    assert gone.json()["errcode"] == 40007 and "invalid media_id" in gone.json()["errmsg"]
    assert peer.downloads == 2 and peer.violations == []


async def test_video_comes_as_a_video_url(peer, http):
    token = peer.issue_token()
    clip = mp4_bytes()
    video_id = peer.add_media(clip, "video/mp4")
    answer = await http.get(
        "/cgi-bin/media/get", params={"access_token": token, "media_id": video_id}
    )
    url = answer.json()["video_url"]
    assert url == f"{peer.base_url}/video/{video_id}"
    async with httpx.AsyncClient() as plain:
        video = await plain.get(url)
        assert video.content == clip and video.headers["content-type"] == "video/mp4"
        peer.advance(3 * 24 * 3600 + 1)
        assert (await plain.get(url)).status_code == 404


async def test_pic_url_is_a_plain_get(peer):
    photo = jpeg_bytes(16, 16)
    image_id = peer.add_media(photo, "image/jpeg")
    xml = peer.image(USER, image_id)
    assert f"<PicUrl><![CDATA[{peer.pic_url(image_id)}]]></PicUrl>" in xml
    async with httpx.AsyncClient() as plain:
        got = await plain.get(peer.pic_url(image_id))
        assert got.status_code == 200 and got.content == photo
        assert got.headers["content-type"] == "image/jpeg"
        assert (await plain.get(peer.pic_url("unknown"))).status_code == 404


# -- menu and the rest --------------------------------------------------------------------------
async def test_menu_create_and_its_limits(peer, http):
    token = peer.issue_token()
    menu = {
        "button": [
            {"type": "click", "name": "举报催收", "key": "report"},
            {"type": "pic_photo_or_album", "name": "上传截图", "key": "upload"},
            {
                "name": "更多",
                "sub_button": [
                    {"type": "click", "name": "导出证据材料", "key": "export"},
                    {"type": "view", "name": "Help", "url": "https://example.org/help"},
                ],
            },
        ]
    }

    async def create(body: dict[str, Any]) -> int:
        response = await http.post(
            "/cgi-bin/menu/create", params={"access_token": token}, json=body
        )
        errcode: int = response.json()["errcode"]
        return errcode

    assert await create(menu) == 0
    assert peer.menu == menu and peer.violations == []
    four = {"button": [*menu["button"], {"type": "click", "name": "帮助", "key": "help"}]}
    assert await create(four) == 40016
    long_name = {"button": [{"type": "click", "name": "举报催收骚扰", "key": "report"}]}
    assert await create(long_name) == 40018
    subs = [{"type": "click", "name": f"选项{i}", "key": f"k{i}"} for i in range(6)]
    assert await create({"button": [{"name": "更多", "sub_button": subs}]}) == 40023
    assert await create({"button": [{"type": "click", "name": "举报"}]}) == 40019
    assert peer.menu == menu and len(peer.violations) == 4


async def test_unknown_endpoints_and_wrong_methods_are_violations(peer, http):
    response = await http.get("/cgi-bin/user/info", params={"access_token": "x"})
    assert response.status_code == 404 and response.json()["errcode"] == 40066
    wrong = await http.get("/cgi-bin/message/custom/send")
    assert wrong.json()["errcode"] == 43002
    assert len(peer.violations) == 2
