"""A loopback WhatsApp Cloud API (Graph API) server for end-to-end tests of the WhatsApp channel.

``async with GraphPeer() as peer`` serves, on 127.0.0.1 and a free port, what the bot's Graph
client calls under ``{peer.base_url}/{version}/...``:

- ``POST /{version}/{phone_number_id}/messages``: text, interactive (button, list), media
  (document, image, audio, video, sticker: ``id`` of an upload or ``link``), template, and the
  read receipt with typing indicator. Each body is validated against the request schema of
  Meta's OpenAPI description (``tests/whatsapp/``) and the limits of channels.md §1.6; a failure
  is recorded in ``peer.violations`` and answered 400 with a Graph error (code 100).
- ``POST /{version}/{phone_number_id}/media`` (multipart ``file``, ``type``,
  ``messaging_product``) with the per-kind size limits; ``GET /{version}/{media_id}`` (the media
  URL, valid 5 minutes) and ``GET /dl/{media_id}?...`` (the bytes, bearer required).
- The 24-hour customer-service window per user key (``recipient`` or ``to``): opened by every
  inbound message pushed through the peer, measured with the peer's clock (``clock``,
  ``advance``); a non-template send outside it answers 131047.
- Faults: ``fail_next(code, times=, status=)``.

The other direction (Meta calling the bot): ``push`` posts a webhook payload signed over its
exact bytes, ``verify`` performs the subscription handshake, and the builders (``text``,
``image``, ... ``envelope``, ``status``) give payloads in the webhook shape of channels.md §1.1.

Business-scoped user ids (BSUID, channels.md §1.5; Meta's "Business-scoped user IDs" page as
mirrored by pywa 4.5 fixtures and whatsapp-api-js types): the user key everywhere is the BSUID
(``"MX.1234567890"``). Every webhook contact carries ``user_id`` (the BSUID) and ``wa_id`` only
when the phone number is shared; every inbound message carries ``from_user_id`` (the BSUID) and
``from`` (the phone number) only when it is shared. ``system`` messages come without a
``contacts`` array; ``user_changed_user_id`` gives the new BSUID in ``system.user_id`` and no
phone number. Statuses name the recipient by ``recipient_user_id`` when the message was sent to
a BSUID and by ``recipient_id`` when it was sent to a phone number; ``sent``/``delivered``/
``read`` statuses carry ``contacts``, ``failed`` ones do not. Sends take ``recipient`` (BSUID)
or ``to`` (phone number), exactly one of them.

Two defects of the OpenAPI file are repaired in memory when it is loaded (the file itself is
Meta's, unchanged): message schemas compose ``allOf`` with ``additionalProperties: false`` in
one branch, which refuses every property of the other branch (``messaging_product``, ``to``...):
the flag moves to ``unevaluatedProperties: false`` on the composition, which keeps unknown
fields refused; and the template button ``index`` pattern ``^[2-6, 11-14]$`` (a broken character
class that refuses ``"0"``) becomes ``^[0-9]$`` as its description says. The spec predates
BSUIDs: a ``recipient`` is validated in the place of ``to``.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import BodyPartReader, web
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.peer.loopback import LoopbackPeer

JSON = dict[str, Any]
MB = 1024 * 1024
SPEC_PATH = Path(__file__).with_name("whatsapp") / "business-messaging-api_v23.0.yaml"
SPEC_URI = "urn:meta:whatsapp-business-messaging-api:v23.0"
MESSAGES_SCHEMA = (
    "#/paths/~1{Version}~1{Phone-Number-ID}~1messages/post/requestBody/content/"
    "application~1json/schema"
)
READ_SCHEMA = "#/components/schemas/MarkMessageRequestPayload"
WINDOW_SECONDS = 24 * 3600
URL_LIFETIME = 300  # a media URL lives 5 minutes
INBOUND_MEDIA_LIFETIME = 7 * 24 * 3600
UPLOAD_LIFETIME = 30 * 24 * 3600
DEFAULT_WA_ID = "5215511112222"
DEFAULT_NAME = "Víctima"

# channels.md §1.6, "Supported media types": kind -> (MIME types, size limit)
MEDIA_TYPES: dict[str, tuple[frozenset[str], int]] = {
    "audio": (
        frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
        16 * MB,
    ),
    "document": (
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "sticker": (frozenset({"image/webp"}), 500 * 1024),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
}
MEDIA_KINDS = frozenset(MEDIA_TYPES)
SEND_TYPES = frozenset({"text", "interactive", "template"}) | MEDIA_KINDS

# Graph error code -> (message, error_data.details); channels.md §1.9 and Meta's error-codes page
ERRORS: dict[int, tuple[str, str | None]] = {
    4: ("(#4) Application request limit reached", "The app has reached its API call rate limit."),
    100: ("(#100) Invalid parameter", None),
    190: ("Invalid OAuth access token - Cannot parse access token", None),
    368: (
        "(#368) Temporarily blocked for policies violations",
        "The WhatsApp Business Account is restricted from messaging users.",
    ),
    80007: ("(#80007) Rate limit issues", "The WhatsApp Business Account reached its rate limit."),
    130429: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("(#131000) Something went wrong", "Message failed to send due to an unknown error."),
    131009: ("(#131009) Parameter value is not valid", None),
    131026: (
        "(#131026) Message Undeliverable",
        "Message failed to send because the recipient's phone number is not on WhatsApp, "
        "has not accepted the latest Terms of Service, or uses an old WhatsApp version.",
    ),
    131031: (
        "(#131031) Account has been locked",
        "The Business Account was restricted or disabled for a violation of policy.",
    ),
    131047: (
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131048: (
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be "
        "sent from this phone number.",
    ),
    131051: ("(#131051) Unsupported message type", "Message type is currently not supported."),
    131052: ("(#131052) Media download error", "Unable to download the media sent by the user."),
    131053: ("(#131053) Media upload error", "Unable to upload the media used in the message."),
    131056: (
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    131064: (
        "(#131064) Template classification limit",
        "Message failed to send because of a template-classification limit.",
    ),
    132000: (
        "(#132000) Number of parameters does not match the expected number of params",
        "The number of template parameters does not match the template.",
    ),
    132001: (
        "(#132001) Template name does not exist in the translation",
        "The template does not exist in the given language or has not been approved.",
    ),
    132015: ("(#132015) Template is Paused", "The template is paused because of low quality."),
    132016: ("(#132016) Template is Disabled", "The template was disabled for low quality."),
}


# -- Meta's OpenAPI description -------------------------------------------------------------
def _repair(node: Any) -> None:
    """Repair, in place, the two defects described in the module docstring."""
    if isinstance(node, dict):
        branches = node.get("allOf")
        if isinstance(branches, list):
            for branch in branches:
                if isinstance(branch, dict) and branch.get("additionalProperties") is False:
                    del branch["additionalProperties"]
                    node.setdefault("unevaluatedProperties", False)
        if node.get("pattern") == "^[2-6, 11-14]$":
            node["pattern"] = "^[0-9]$"
        for value in node.values():
            _repair(value)
    elif isinstance(node, list):
        for value in node:
            _repair(value)


@cache
def load_spec() -> JSON:
    """Meta's OpenAPI v23.0 description (repaired), parsed once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: JSON = yaml.load(SPEC_PATH.read_text("utf-8"), Loader=loader)
    _repair(spec)
    return spec


SPEC = load_spec()
_REGISTRY: Registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(SPEC))


def _lookup(pointer: str) -> Any:
    node: Any = SPEC
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _target(pointer: str) -> str:
    """The pointer a chain of ``$ref``s starting at ``pointer`` ends at."""
    node = _lookup(pointer)
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return _target(node["$ref"])
    return pointer


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}{pointer}"}, registry=_REGISTRY)


def _where(path: Iterable[Any]) -> str:
    where = "$"
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return where


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SHALLOW = {"required", "enum", "const", "type"}


def _explain(error: ValidationError) -> list[str]:
    """Readable violations of one schema error; a failed ``oneOf``/``anyOf`` is explained by the
    alternative that fits the instance (the first with no top-level required/type/enum miss)."""
    where = _where(error.absolute_path)
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
        for _, subs in sorted(branches.items()):
            if not any(len(s.relative_path) == 0 and s.validator in _SHALLOW for s in subs):
                return [line for sub in subs for line in _explain(sub)]
        return [f"{where}: matches none of the alternatives ({error.validator})"]
    if error.validator == "oneOf":
        return [f"{where}: matches more than one alternative of oneOf (e.g. both id and link)"]
    if error.validator in ("maxItems", "minItems", "maxLength", "minLength"):
        unit = "items" if error.validator.endswith("Items") else "characters"
        size = len(error.instance) if isinstance(error.instance, (list, str)) else "?"
        return [f"{where}: {size} {unit}, {error.validator} is {error.validator_value}"]
    message, shown = error.message, repr(error.instance)
    if len(shown) > 60 and message.startswith(shown):
        message = _short(shown, 60) + message[len(shown) :]
    return [f"{where}: {_short(message)}"]


def schema_problems(pointer: str, instance: Any) -> list[str]:
    """Violations of ``instance`` against the schema at ``pointer`` in Meta's description; a
    ``oneOf`` with a ``discriminator`` is dispatched on the discriminating property first."""
    pointer = _target(pointer)
    schema = _lookup(pointer)
    discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
    if isinstance(discriminator, dict) and "oneOf" in schema and isinstance(instance, dict):
        name, mapping = discriminator["propertyName"], discriminator.get("mapping", {})
        value = instance.get(name)
        if not isinstance(value, str) or value not in mapping:
            return [f"$.{name}: {value!r} is not one of {sorted(mapping)}"]
        pointer = mapping[value]
    errors = sorted(_validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
    # A property whose own schema failed is not "evaluated": that unevaluatedProperties error
    # only repeats the real one.
    if any(e.validator != "unevaluatedProperties" for e in errors):
        errors = [e for e in errors if e.validator != "unevaluatedProperties"]
    return [line for error in errors for line in _explain(error)]


def is_read_receipt(body: Any) -> bool:
    return isinstance(body, dict) and "status" in body and "type" not in body


def validate_read(body: JSON) -> list[str]:
    """Violations of a read receipt (``status: read``, optional ``typing_indicator``)."""
    problems = schema_problems(READ_SCHEMA, body)
    if body.get("status") != "read":
        problems.append(f"$.status: {body.get('status')!r}, only 'read' is accepted")
    if "messaging_product" in body and body["messaging_product"] != "whatsapp":
        problems.append("$.messaging_product: must be 'whatsapp'")
    indicator = body.get("typing_indicator")
    if indicator is not None and indicator != {"type": "text"}:
        problems.append(f"$.typing_indicator: {indicator!r}, only {{'type': 'text'}} exists")
    extra = set(body) - {"messaging_product", "status", "message_id", "typing_indicator"}
    if extra:
        problems.append(f"$: unexpected fields in a read receipt: {sorted(extra)}")
    return problems


def validate_message(body: Any) -> list[str]:
    """Violations of a send (schema of ``/messages`` and channels.md §1.6 limits)."""
    if not isinstance(body, dict):
        return ["$: the body is not a JSON object"]
    if is_read_receipt(body):
        return validate_read(body)
    problems: list[str] = []
    subject = dict(body)
    if "to" in body and "recipient" in body:
        problems.append("$: give exactly one of 'to' (phone number) and 'recipient' (BSUID)")
    elif "recipient" in body:
        subject["to"] = subject.pop("recipient")  # the spec predates BSUIDs
    elif "to" not in body:
        problems.append("$: one of 'to' (phone number) or 'recipient' (BSUID) is required")
        subject["to"] = ""
    for line in schema_problems(MESSAGES_SCHEMA, subject):
        if "recipient" in body and line.startswith("$.to:"):
            line = "$.recipient:" + line.removeprefix("$.to:")
        problems.append(line)
    return problems + _limits(body)


def _text_problem(where: str, value: Any, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        return f"{where}: a non-empty string is required"
    if len(value) > limit:
        return f"{where}: {len(value)} characters, at most {limit}"
    return None


def _limits(body: JSON) -> list[str]:
    """The limits of channels.md §1.6 (some repeat the spec's: its ``oneOf``s hide them)."""
    out: list[str | None] = []
    if "messaging_product" in body and body["messaging_product"] != "whatsapp":
        out.append("$.messaging_product: must be 'whatsapp'")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in SEND_TYPES:
        out.append(f"$.type: {kind!r}; GraphPeer takes {sorted(SEND_TYPES)}")
        return [p for p in out if p]
    content = body.get(kind)
    if not isinstance(content, dict):
        return [p for p in out if p]  # the schema reports it
    if kind == "text":
        out.append(_text_problem("$.text.body", content.get("body"), 4096))
    elif kind == "interactive":
        out += _interactive_limits(content)
    elif kind in MEDIA_KINDS:
        if ("id" in content) == ("link" in content):
            out.append(f"$.{kind}: exactly one of 'id' and 'link' is required")
        if kind != "audio" and kind != "sticker":
            out.append(
                _text_problem(f"$.{kind}.caption", content.get("caption"), 1024, required=False)
            )
    elif kind == "template":
        out.append(_text_problem("$.template.name", content.get("name"), 512))
    return [p for p in out if p]


def _interactive_limits(interactive: JSON) -> list[str | None]:
    out: list[str | None] = []
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        return [f"$.interactive.type: {kind!r}; GraphPeer takes 'button' and 'list'"]
    body = interactive.get("body")
    out.append(
        _text_problem(
            "$.interactive.body.text", body.get("text") if isinstance(body, dict) else None, 1024
        )
    )
    header, footer = interactive.get("header"), interactive.get("footer")
    if isinstance(header, dict) and header.get("type") == "text":
        out.append(_text_problem("$.interactive.header.text", header.get("text"), 60))
    if isinstance(footer, dict):
        out.append(_text_problem("$.interactive.footer.text", footer.get("text"), 60))
    action = interactive.get("action")
    if not isinstance(action, dict):
        return [*out, "$.interactive.action: an object is required"]
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            count = len(buttons) if isinstance(buttons, list) else "no"
            return [*out, f"$.interactive.action.buttons: {count} buttons, 1 to 3 are allowed"]
        titles, ids = [], []
        for i, button in enumerate(buttons):
            reply = button.get("reply") if isinstance(button, dict) else None
            where = f"$.interactive.action.buttons[{i}].reply"
            if not isinstance(reply, dict):
                out.append(f"{where}: an object is required")
                continue
            out.append(_text_problem(f"{where}.title", reply.get("title"), 20))
            out.append(_text_problem(f"{where}.id", reply.get("id"), 256))
            if isinstance(reply.get("id"), str) and reply["id"] != reply["id"].strip():
                out.append(f"{where}.id: no leading or trailing spaces")
            titles.append(reply.get("title"))
            ids.append(reply.get("id"))
        if len(set(map(str, titles))) != len(titles):
            out.append(f"$.interactive.action.buttons: titles must be unique: {titles}")
        if len(set(map(str, ids))) != len(ids):
            out.append(f"$.interactive.action.buttons: ids must be unique: {ids}")
        return out
    out.append(_text_problem("$.interactive.action.button", action.get("button"), 20))
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        count = len(sections) if isinstance(sections, list) else "no"
        return [*out, f"$.interactive.action.sections: {count} sections, 1 to 10 are allowed"]
    row_ids: list[Any] = []
    for s, section in enumerate(sections):
        where = f"$.interactive.action.sections[{s}]"
        if not isinstance(section, dict):
            out.append(f"{where}: an object is required")
            continue
        out.append(
            _text_problem(f"{where}.title", section.get("title"), 24, required=len(sections) > 1)
        )
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            out.append(f"{where}.rows: at least one row is required")
            continue
        for r, row in enumerate(rows):
            here = f"{where}.rows[{r}]"
            if not isinstance(row, dict):
                out.append(f"{here}: an object is required")
                continue
            out.append(_text_problem(f"{here}.title", row.get("title"), 24))
            out.append(_text_problem(f"{here}.id", row.get("id"), 200))
            out.append(
                _text_problem(f"{here}.description", row.get("description"), 72, required=False)
            )
            row_ids.append(row.get("id"))
    if len(row_ids) > 10:
        out.append(f"$.interactive.action.sections: {len(row_ids)} rows in total, at most 10")
    if len(set(map(str, row_ids))) != len(row_ids):
        out.append(f"$.interactive.action.sections: row ids must be unique: {row_ids}")
    return out


def media_kind(mime: str) -> str | None:
    """The media kind (``document``, ``image``...) of a MIME type, or None if unsupported."""
    base = mime.split(";", 1)[0].strip().lower()
    return next((kind for kind, (types, _) in MEDIA_TYPES.items() if base in types), None)


def meta_json(payload: Any) -> bytes:
    """Serialise like Meta's webhooks: compact, non-ASCII as ``\\uXXXX``, ``/`` as ``\\/``; a
    receiver that re-serialises the parsed JSON gets other bytes, and a wrong signature."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# -- errors ---------------------------------------------------------------------------------
class GraphError(Exception):
    """A Graph API error answer."""

    def __init__(
        self,
        code: int,
        *,
        status: int = 400,
        message: str | None = None,
        details: str | None = None,
        error_type: str = "OAuthException",
    ) -> None:
        known_message, known_details = ERRORS.get(code, (f"(#{code}) Injected error", None))
        self.code, self.status, self.error_type = code, status, error_type
        self.message = message or known_message
        self.details = details if details is not None else known_details
        super().__init__(self.message)

    def body(self, trace: str) -> JSON:
        error: JSON = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = trace
        return {"error": error}


def _missing_object(object_id: str, method: str = "get") -> GraphError:
    return GraphError(
        100,
        status=404 if method == "get" else 400,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot "
            "be loaded due to missing permissions, or does not support this operation."
        ),
        error_type="GraphMethodException",
    )


# -- the peer -------------------------------------------------------------------------------
class GraphPeer(LoopbackPeer):
    """The WhatsApp Cloud API on 127.0.0.1; ``async with GraphPeer() as peer`` starts it.

    What the bot did: ``sent`` (every accepted body POSTed to ``/messages``, read receipts
    included, in order; ``sent_ids`` holds the wamid each was answered with, ``None`` for a
    read receipt), ``reads`` (the read receipts alone), ``rejected`` (``(body, Graph error
    code)`` of refused sends), ``uploads``, ``downloads`` and ``violations`` (requests that
    break Meta's schema or the documented limits).
    """

    max_body = 4 * MB

    def __init__(
        self,
        *,
        token: str = "test-token",
        app_secret: str = "test-app-secret",
        phone_number_id: str = "1234567890",
        version: str = "v23.0",
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.token, self.app_secret = token, app_secret
        self.phone_number_id, self.version = phone_number_id, version
        self.display_phone_number = "5215500000000"
        self.waba_id = "102290129340398"
        self.sent: list[JSON] = []
        self.sent_ids: list[str | None] = []  # the wamid of each send; None: read receipt
        self.reads: list[JSON] = []
        self.rejected: list[tuple[JSON, int]] = []
        self.violations: list[str] = []
        self.uploads: dict[str, tuple[bytes, str, str]] = {}  # media id -> data, mime, filename
        self.media: dict[str, tuple[bytes, str, str | None]] = {}  # inbound (``add_media``)
        self.downloads = 0
        self.windows: dict[str, float] = {}  # user key -> peer time of their last message
        self._clock = clock or time.time
        self._offset = 0.0
        self._ids = itertools.count(1)
        self._users: dict[str, tuple[str | None, str]] = {}  # BSUID -> (wa_id, profile name)
        self._media_times: dict[str, float] = {}
        self._inbound_ids: set[str] = set()
        self._templates: dict[str, str] = {}  # user key -> wamid of the last template
        self._urls: dict[str, tuple[str, float]] = {}  # URL token -> (media id, issued at)
        self._fail: deque[GraphError] = deque()
        self._changed = asyncio.Event()
        self._pair_limit: tuple[float, float] | None = None
        self._pair_tokens: dict[str, tuple[float, float]] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/dl/{media_id}", self._download)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> float:
        """The peer's time in seconds: ``clock()`` plus every ``advance``."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the peer's clock forward (window and URL expiry; message timestamps)."""
        self._offset += seconds

    # -- what the bot did -----------------------------------------------------------------
    def sent_to(self, recipient: str) -> list[JSON]:
        """Accepted messages whose ``recipient`` (or ``to``) is ``recipient``, oldest first (read
        receipts name no recipient: they are not among them)."""
        return [b for b in self.sent if b.get("recipient", b.get("to")) == recipient]

    # -- faults ---------------------------------------------------------------------------
    def fail_next(self, code: int, *, times: int = 1, status: int = 400) -> None:
        """Answer the next ``times`` valid message sends (not read receipts) with Graph error
        ``code`` (130429 throughput, 131056 pair rate, 131026 undeliverable...) and HTTP
        ``status``; before the window check."""
        self._fail.extend(GraphError(code, status=status) for _ in range(times))

    def limit_pairs(self, per_second: float, burst: int) -> None:
        """Enforce a pair rate: to one user, ``burst`` messages at once, then ``per_second``;
        a message over it is refused with 131056 (Meta's is about one every 6 s sustained;
        tests use a faster one)."""
        self._pair_limit = (per_second, float(burst))

    def _limit_pair(self, key: str) -> None:
        if self._pair_limit is None:
            return
        rate, burst = self._pair_limit
        now = time.monotonic()
        tokens, then = self._pair_tokens.get(key, (burst, now))
        tokens = min(burst, tokens + (now - then) * rate)
        if tokens < 1:
            self._pair_tokens[key] = (tokens, now)
            raise GraphError(131056)
        self._pair_tokens[key] = (tokens - 1, now)

    def open_window(self, user: str) -> None:
        """Open ``user``'s window now without a webhook (``push`` does it for each message)."""
        self.windows[user] = self.now()

    # -- the user side: media and payload builders ----------------------------------------
    def add_media(self, data: bytes, mime: str, *, filename: str | None = None) -> str:
        """Register media a user sent (webhook media ids live 7 days); return its media id."""
        media_id = self._media_id()
        self.media[media_id] = (data, mime, filename)
        self._media_times[media_id] = self.now()
        return media_id

    def user(
        self, user: str, *, wa_id: str | None = DEFAULT_WA_ID, name: str = DEFAULT_NAME
    ) -> str:
        """Declare ``user`` (a BSUID) with a phone number (``None``: not shared) and a profile
        name; ``text`` does it too. Other builders use what was declared last."""
        self._users[user] = (wa_id, name)
        return user

    def envelope(self, *messages: JSON, contacts: list[JSON] | None = None) -> JSON:
        """A webhook payload holding ``messages``; contacts derived from their senders unless
        given (``system`` messages have none, so an envelope of those has no ``contacts``)."""
        value: JSON = {"messaging_product": "whatsapp", "metadata": self._metadata()}
        if contacts is None:
            contacts, seen = [], set()
            for message in messages:
                user = message.get("from_user_id")
                if message.get("type") == "system" or user is None or user in seen:
                    continue
                seen.add(user)
                contacts.append(self._contact(user))
            if contacts:
                value["contacts"] = contacts
        else:
            value["contacts"] = contacts
        value["messages"] = list(messages)
        return self._wrap(value)

    def text(
        self,
        user: str,
        body: str,
        *,
        wa_id: str | None = DEFAULT_WA_ID,
        forwarded: bool = False,
        frequently: bool = False,
        name: str = DEFAULT_NAME,
    ) -> JSON:
        """A text message of ``user``; ``frequently`` marks it forwarded more than 5 times
        (Meta then sends ``frequently_forwarded`` instead of ``forwarded``)."""
        self.user(user, wa_id=wa_id, name=name)
        return self._message(user, "text", {"body": body}, context=_forward(forwarded, frequently))

    def image(
        self, user: str, media_id: str, *, caption: str | None = None, forwarded: bool = False
    ) -> JSON:
        content = self._media_object(media_id) | _present(caption=caption)
        return self._message(user, "image", content, context=_forward(forwarded, False))

    def audio(self, user: str, media_id: str, *, voice: bool = True) -> JSON:
        """An audio message: ``voice=True`` is a voice note recorded in WhatsApp."""
        return self._message(user, "audio", self._media_object(media_id) | {"voice": voice})

    def video(self, user: str, media_id: str, *, caption: str | None = None) -> JSON:
        return self._message(
            user, "video", self._media_object(media_id) | _present(caption=caption)
        )

    def document(
        self, user: str, media_id: str, *, filename: str, caption: str | None = None
    ) -> JSON:
        content = self._media_object(media_id) | {"filename": filename} | _present(caption=caption)
        return self._message(user, "document", content)

    def sticker(self, user: str, media_id: str) -> JSON:
        return self._message(user, "sticker", self._media_object(media_id) | {"animated": False})

    def location(self, user: str, lat: float, lng: float) -> JSON:
        return self._message(user, "location", {"latitude": lat, "longitude": lng})

    def contacts_card(self, user: str, name: str, phone: str) -> JSON:
        """A shared contact card (type ``contacts``), e.g. a collector's number."""
        digits = "".join(ch for ch in phone if ch.isdigit())
        card = {
            "name": {"formatted_name": name, "first_name": name},
            "phones": [{"phone": phone, "wa_id": digits, "type": "CELL"}],
        }
        return self._message(user, "contacts", [card])

    def button_reply(self, user: str, option_id: str, title: str, *, context_id: str) -> JSON:
        """A tap on a reply button of the bot's message ``context_id``."""
        interactive = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
        return self._message(user, "interactive", interactive, context=self._reply_to(context_id))

    def list_reply(self, user: str, option_id: str, title: str, *, context_id: str) -> JSON:
        """A choice in a list message ``context_id`` of the bot."""
        interactive = {"type": "list_reply", "list_reply": {"id": option_id, "title": title}}
        return self._message(user, "interactive", interactive, context=self._reply_to(context_id))

    def template_button(self, user: str, payload: str, text: str) -> JSON:
        """A tap on a quick-reply button of a template (type ``button``); its context is the
        last template sent to ``user``, if any."""
        template_id = self._templates.get(user)
        context = self._reply_to(template_id) if template_id else None
        return self._message(user, "button", {"payload": payload, "text": text}, context=context)

    def unsupported(self, user: str) -> JSON:
        """A message WhatsApp cannot pass on (view-once, poll...): type ``unsupported``."""
        message = self._message(user, "unsupported", None)
        message["errors"] = [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ]
        return message

    def reaction(self, user: str, message_id: str, emoji: str) -> JSON:
        return self._message(user, "reaction", {"message_id": message_id, "emoji": emoji})

    def system_user_changed(self, old_user: str, new_user: str) -> JSON:
        """A ``system`` message ``user_changed_user_id``: ``old_user``'s BSUID is now
        ``new_user`` (no phone number in it; no contacts in its envelope). ``push`` moves the
        window to the new id; the new id keeps the declared wa_id and name."""
        wa_id, name = self._sender(old_user)
        self._users[new_user] = (wa_id, name)
        system = {
            "body": f"User {name} changed from {old_user} to {new_user}",
            "type": "user_changed_user_id",
            "user_id": new_user,
        }
        message = {"from_user_id": old_user, "id": self._wamid("IN"), "timestamp": self._ts()}
        message |= {"type": "system", "system": system}
        self._inbound_ids.add(message["id"])
        return message

    def status(
        self, recipient: str, wamid: str, status: str, *, error_code: int | None = None
    ) -> JSON:
        """A status webhook (``sent``/``delivered``/``read``/``failed``) of the bot's message
        ``wamid`` to ``recipient`` (a BSUID or a phone number, as the bot sent it)."""
        item: JSON = {"id": wamid, "status": status, "timestamp": self._ts()}
        bsuid = "." in recipient
        item["recipient_user_id" if bsuid else "recipient_id"] = recipient
        value: JSON = {"messaging_product": "whatsapp", "metadata": self._metadata()}
        if error_code is None:
            item["pricing"] = {
                "billable": False,
                "pricing_model": "PMP",
                "category": "service",
                "type": "free_customer_service",
            }
            if bsuid:
                value["contacts"] = [{"user_id": recipient}]
            else:
                owner = next((u for u, (w, _) in self._users.items() if w == recipient), None)
                value["contacts"] = [{"wa_id": recipient} | _present(user_id=owner)]
        else:
            message, details = ERRORS.get(error_code, (f"(#{error_code}) Error", None))
            title = message.split(") ", 1)[-1]
            item["errors"] = [
                {
                    "code": error_code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": details or title},
                }
            ]
        value["statuses"] = [item]
        return self._wrap(value)

    # -- the webhook side -----------------------------------------------------------------
    def sign(self, body: bytes) -> str:
        return sign(self.app_secret, body)

    async def push(self, url: str, payload: JSON, *, signature: str | None = None) -> int:
        """POST ``payload`` to the bot's webhook ``url`` as Meta does and return the status.

        The payload is serialised once (``meta_json``) and signed over those bytes;
        ``signature`` replaces the header's value (``""``: no header at all). Every message in
        it opens (or refreshes) its sender's window first, under the BSUID and the phone
        number."""
        body = meta_json(payload)
        header = self.sign(body) if signature is None else signature
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if header:
            headers["X-Hub-Signature-256"] = header
        self._note_inbound(payload)
        async with self._client().post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def verify(
        self, url: str, *, token: str, challenge: str = "1158201444"
    ) -> tuple[int, str]:
        """The subscription handshake (GET with ``hub.*``); returns (status, body)."""
        params = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}
        headers = {"User-Agent": "facebookplatform/1.0 (+http://developers.facebook.com)"}
        async with self._client().get(url, params=params, headers=headers) as response:
            return response.status, await response.text()

    # -- HTTP handlers --------------------------------------------------------------------
    async def _messages(self, request: web.Request) -> web.Response:
        body: Any = None
        try:
            self._authorize(request)
            self._check_path(request, phone=True)
            body = await self._json(request)
            if is_read_receipt(body):
                return self._read_receipt(body)
            problems = validate_message(body) or self._media_problems(body)
            if problems:
                raise self._refuse("POST /messages", problems)
            if self._fail:
                raise self._fail.popleft()
            key = str(body.get("recipient", body.get("to")))
            if body["type"] != "template" and not self._in_window(key):
                raise GraphError(131047)
            self._limit_pair(key)
            return self._accept(body, key)
        except GraphError as error:
            if isinstance(body, dict) and not is_read_receipt(body):
                self.rejected.append((copy.deepcopy(body), error.code))
            return self._error(error)
        finally:
            self._changed.set()

    def _accept(self, body: JSON, key: str) -> web.Response:
        wamid = self._wamid("OUT")
        self.sent.append(copy.deepcopy(body))
        self.sent_ids.append(wamid)
        contact: JSON = {"input": key}
        if "to" in body:
            contact["wa_id"] = "".join(ch for ch in key if ch.isdigit())
        else:
            wa_id, _ = self._users.get(key, (None, ""))
            contact |= _present(wa_id=wa_id) | {"user_id": key}
        message: JSON = {"id": wamid}
        if body["type"] == "template":
            self._templates[key] = wamid
            message["message_status"] = "accepted"
        answer = {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}
        return web.json_response(answer)

    def _read_receipt(self, body: JSON) -> web.Response:
        problems = validate_read(body)
        if not problems and body.get("message_id") not in self._inbound_ids:
            problems = [f"$.message_id: {body.get('message_id')!r} is no message a user sent"]
        if problems:
            raise self._refuse("POST /messages (read receipt)", problems)
        self.sent.append(copy.deepcopy(body))
        self.sent_ids.append(None)
        self.reads.append(copy.deepcopy(body))
        return web.json_response({"success": True})

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            self._check_path(request, phone=True)
            where = "POST /media"
            if request.content_type != "multipart/form-data":
                raise self._refuse(where, ["multipart/form-data is required"])
            fields, upload = await self._read_multipart(request)
            problems = []
            if fields.get("messaging_product") != "whatsapp":
                problems.append("the field messaging_product must be 'whatsapp'")
            if not fields.get("type"):
                problems.append("the field type (the file's MIME type) is required")
            if upload is None:
                problems.append("the part file is required")
            if extra := set(fields) - {"messaging_product", "type"}:
                problems.append(f"unexpected fields: {sorted(extra)}")
            if problems or upload is None:
                raise self._refuse(where, problems)
            data, size, filename = upload
            mime = fields["type"]
            kind = media_kind(mime)
            if kind is None:
                details = f"Unsupported MIME type {mime!r}"
                raise self._refuse(where, [details], code=131053, details=details)
            limit = MEDIA_TYPES[kind][1]
            if size > limit:
                details = f"File too big: {size} bytes; the limit for {kind} is {limit} bytes"
                raise self._refuse(where, [details], code=131053, details=details)
            media_id = self._media_id()
            self.uploads[media_id] = (data, mime, filename)
            self._media_times[media_id] = self.now()
            return web.json_response({"id": media_id})
        except GraphError as error:
            return self._error(error)

    async def _media_info(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            self._check_path(request, phone=False)
            media_id = request.match_info["media_id"]
            phone = request.query.get("phone_number_id")
            if phone is not None and phone != self.phone_number_id:
                problem = f"phone_number_id {phone!r} is not this number ({self.phone_number_id})"
                raise self._refuse(f"GET /{media_id}", [problem])
            stored = self.media.get(media_id) or self.uploads.get(media_id)
            lifetime = INBOUND_MEDIA_LIFETIME if media_id in self.media else UPLOAD_LIFETIME
            born = self._media_times.get(media_id, 0.0)
            if stored is None or self.now() - born > lifetime:
                raise _missing_object(media_id)
            data, mime, _ = stored
            token, issued = f"{next(self._ids)}", self.now()
            self._urls[token] = (media_id, issued)
            url = f"{self.base_url}/dl/{media_id}?exp={int(issued) + URL_LIFETIME}&tok={token}"
            return web.json_response(
                {
                    "messaging_product": "whatsapp",
                    "url": url,
                    "mime_type": mime,
                    "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                    "file_size": len(data),
                    "id": media_id,
                }
            )
        except GraphError as error:
            return self._error(error)

    async def _download(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            media_id = request.match_info["media_id"]
            issued = self._urls.get(request.query.get("tok", ""))
            if issued is None or issued[0] != media_id:
                raise GraphError(100, status=404, message="URL not found")
            if self.now() - issued[1] > URL_LIFETIME:
                raise GraphError(100, status=404, message="URL expired")
            stored = self.media.get(media_id) or self.uploads.get(media_id)
            if stored is None:
                raise GraphError(100, status=404, message="Media not found")
            self.downloads += 1
            return web.Response(body=stored[0], headers={"Content-Type": stored[1]})
        except GraphError as error:
            return self._error(error)

    async def _unknown(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            method = request.method.lower()
            problem = f"{request.method} {request.path}: no such endpoint in GraphPeer"
            self.violations.append(problem)
            raise _missing_object(request.path.rsplit("/", 1)[-1], method)
        except GraphError as error:
            return self._error(error)

    # -- helpers of the handlers ----------------------------------------------------------
    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise GraphError(190, status=401)

    def _check_path(self, request: web.Request, *, phone: bool) -> None:
        version = request.match_info["version"]
        if version != self.version:
            problem = f"API version {version!r} in the path; the peer serves {self.version!r}"
            raise self._refuse(f"{request.method} {request.path}", [problem])
        if phone and request.match_info["phone"] != self.phone_number_id:
            self.violations.append(
                f"{request.method} {request.path}: phone number id "
                f"{request.match_info['phone']!r} is not {self.phone_number_id!r}"
            )
            raise _missing_object(request.match_info["phone"], "post")

    async def _json(self, request: web.Request) -> Any:
        where = f"{request.method} {request.path}"
        if request.content_type != "application/json":
            raise self._refuse(where, [f"Content-Type {request.content_type!r}, send JSON"])
        try:
            return await request.json()
        except web.HTTPRequestEntityTooLarge:
            raise self._refuse(where, ["the JSON body is too large"]) from None
        except ValueError as error:
            raise self._refuse(where, [f"the body is not JSON: {error}"]) from None

    async def _read_multipart(
        self, request: web.Request
    ) -> tuple[dict[str, str], tuple[bytes, int, str] | None]:
        """Text fields and the ``file`` part (data, full size, filename); the data is kept up
        to the largest limit, the rest only counted."""
        cap = max(limit for _, limit in MEDIA_TYPES.values())
        fields: dict[str, str] = {}
        upload: tuple[bytes, int, str] | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.name != "file":
                fields[part.name] = await part.text()
                continue
            buffer, size = bytearray(), 0
            while chunk := await part.read_chunk(1 << 16):
                size += len(chunk)
                if size <= cap:
                    buffer += chunk
            upload = (bytes(buffer), size, part.filename or "file")
        return fields, upload

    def _media_problems(self, body: JSON) -> list[str]:
        kind = body.get("type")
        content = body.get(kind) if isinstance(kind, str) else None
        if not isinstance(content, dict) or kind not in MEDIA_KINDS or "id" not in content:
            return []
        media_id = content["id"]
        if media_id in self.uploads or media_id in self.media:
            return []
        return [f"$.{kind}.id: {media_id!r} is no media uploaded to this number"]

    def _refuse(
        self,
        where: str,
        problems: list[str],
        *,
        code: int = 100,
        details: str | None = None,
    ) -> GraphError:
        """Record ``problems`` as violations; the Graph error to answer with."""
        self.violations += [f"{where}: {problem}" for problem in problems]
        return GraphError(code, details=details or "; ".join(problems))

    def _error(self, error: GraphError) -> web.Response:
        trace = f"A{next(self._ids):06d}PeerTrace"
        return web.json_response(error.body(trace), status=error.status)

    def _in_window(self, key: str) -> bool:
        opened = self.windows.get(key)
        return opened is not None and self.now() - opened <= WINDOW_SECONDS

    def _note_inbound(self, payload: JSON) -> None:
        """Open the window of each message's sender; remember message ids; re-key windows on
        ``user_changed_user_id``."""
        for message in _messages_of(payload):
            if isinstance(message.get("id"), str):
                self._inbound_ids.add(message["id"])
            system = message.get("system")
            if message.get("type") == "system" and isinstance(system, dict):
                old, new = message.get("from_user_id"), system.get("user_id")
                if old in self.windows and isinstance(new, str):
                    self.windows[new] = self.windows[old]
                continue
            for key in (message.get("from_user_id"), message.get("from")):
                if isinstance(key, str):
                    self.windows[key] = self.now()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("GraphPeer is not started: use `async with GraphPeer() as peer`")
        return self._session

    # -- helpers of the builders ----------------------------------------------------------
    def _ts(self) -> str:
        return str(int(self.now()))

    def _wamid(self, direction: str) -> str:
        return f"wamid.HBgN{direction}{next(self._ids):012d}"

    def _media_id(self) -> str:
        return str(1_000_000_000_000_000 + next(self._ids))

    def _sender(self, user: str) -> tuple[str | None, str]:
        return self._users.get(user, (DEFAULT_WA_ID, DEFAULT_NAME))

    def _metadata(self) -> JSON:
        return {
            "display_phone_number": self.display_phone_number,
            "phone_number_id": self.phone_number_id,
        }

    def _wrap(self, value: JSON) -> JSON:
        change = {"value": value, "field": "messages"}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [change]}],
        }

    def _contact(self, user: str) -> JSON:
        wa_id, name = self._sender(user)
        return {"profile": {"name": name}} | _present(wa_id=wa_id) | {"user_id": user}

    def _reply_to(self, message_id: str) -> JSON:
        return {"from": self.display_phone_number, "id": message_id}

    def _media_object(self, media_id: str) -> JSON:
        stored = self.media.get(media_id) or self.uploads.get(media_id)
        if stored is None:
            raise KeyError(f"unknown media id {media_id!r}: register it with add_media first")
        data, mime = stored[0], stored[1]
        sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return {"id": media_id, "mime_type": mime, "sha256": sha}

    def _message(self, user: str, kind: str, content: Any, *, context: JSON | None = None) -> JSON:
        wa_id, _ = self._sender(user)
        message: JSON = _present(**{"from": wa_id}) | {"from_user_id": user}
        message |= {"id": self._wamid("IN"), "timestamp": self._ts(), "type": kind}
        if context:
            message["context"] = context
        if content is not None:
            message[kind] = content
        self._inbound_ids.add(message["id"])
        return message


def _present(**values: Any) -> JSON:
    return {key: value for key, value in values.items() if value is not None}


def _forward(forwarded: bool, frequently: bool) -> JSON | None:
    if frequently:
        return {"frequently_forwarded": True}
    return {"forwarded": True} if forwarded else None


def _messages_of(payload: Any) -> Iterator[JSON]:
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            messages = value.get("messages") if isinstance(value, dict) else None
            for message in messages if isinstance(messages, list) else []:
                if isinstance(message, dict):
                    yield message
