"""Check Bot API requests (and results) against the published schema in ``api.json``.

``validate_request(method, params)`` returns a list of human-readable violations (empty = fine):
unknown method, unknown or missing parameters, wrong types (scalars, ``Array of X`` nesting,
union alternatives, object types field by field, types with subtypes such as the four
``reply_markup`` kinds or ``InputMedia*``), plus the documented length limits the bot can trip
over (text 1-4096, caption <= 1024, callback_data 1-64 bytes, answerCallbackQuery text <= 200,
bot commands). Parameters may be native values (JSON bodies, ``RequestData.parameters``) or the
strings of form data: a string is decoded (``"42"``, ``"true"``, ``'{"inline_keyboard": ...}'``)
when the schema expects a number, boolean, object or array there, as the Bot API does.
Uploaded files (``InputFile``) are given as ``bytes``.

The check follows the schema and the limits quoted in its descriptions; it does not know enum
values other than the constant ``type``/``status``/``source`` discriminators of object types.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_SPEC: dict[str, Any] = json.loads(Path(__file__).with_name("api.json").read_text("utf-8"))
METHODS: dict[str, Any] = _SPEC["methods"]
TYPES: dict[str, Any] = _SPEC["types"]
_METHODS_CI = {name.lower(): spec for name, spec in METHODS.items()}
_CONSTANT = re.compile(r"(?:must be|always) [\"“]?([a-z_]+)[\"”]?\s*$")
_INT = re.compile(r"-?\d+")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>")
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
_HTML_TAGS |= {"a", "tg-emoji", "tg-time", "code", "pre", "blockquote"}

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def method_spec(method: str) -> dict[str, Any] | None:
    """The schema entry of ``method`` (the Bot API matches method names case-insensitively)."""
    return _METHODS_CI.get(method.lower())


def decode_value(value: Any, types: list[str]) -> Any:
    """Decode a form-data string into what one of ``types`` expects; other values unchanged."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    for type_ in types:
        if type_ == "Integer" and _INT.fullmatch(stripped):
            return int(stripped)
        if type_ == "Float":
            try:
                return float(stripped)
            except ValueError:
                continue
        if type_ in ("Boolean", "True") and stripped in ("true", "false"):
            return stripped == "true"
        wants_list = type_.startswith("Array of ") and stripped.startswith("[")
        if wants_list or (type_ in TYPES and stripped.startswith("{")):
            try:
                return json.loads(stripped)
            except ValueError:
                continue
    return value


def decode_params(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Decode form-data strings of a request as the Bot API would (unknown names stay as is)."""
    spec = method_spec(method)
    fields = {f["name"]: f["types"] for f in spec.get("fields", [])} if spec else {}
    return {name: decode_value(value, fields.get(name, [])) for name, value in params.items()}


def validate_request(method: str, params: Mapping[str, Any]) -> list[str]:
    """All violations of the schema and of the documented limits by one request."""
    spec = method_spec(method)
    if spec is None:
        return [f"unknown method {method!r}"]
    name = spec["name"]
    fields = {f["name"]: f for f in spec.get("fields", [])}
    errors = [f"{name}: unknown parameter {key!r}" for key in params if key not in fields]
    for field in fields.values():
        value = params.get(field["name"])
        if value is None:
            if field["required"]:
                errors.append(f"{name}: missing required parameter {field['name']!r}")
            continue
        errors += _check(value, field["types"], f"{name}.{field['name']}")
    return errors + _limits(name, decode_params(name, params))


def validate_result(method: str, result: Any) -> list[str]:
    """Violations of the documented return type of ``method`` by ``result``."""
    spec = method_spec(method)
    if spec is None:
        return [f"unknown method {method!r}"]
    return _check(result, spec["returns"], f"{spec['name']}()")


def validate_object(type_name: str, value: Any, path: str = "") -> list[str]:
    """Violations of the schema by one value of ``type_name`` (e.g. an ``Update``)."""
    return _check(value, [type_name], path or type_name)


def _check(value: Any, alternatives: list[str], path: str) -> list[str]:
    """Accept ``value`` if any alternative fits; else report the closest one's errors."""
    if len(alternatives) > 1 and all(t.startswith("Array of ") for t in alternatives):
        # "Array of A or Array of B" (sendMediaGroup): items may be of any (see _limits)
        inner = [t.removeprefix("Array of ") for t in alternatives]
        if not isinstance(value := decode_value(value, alternatives), list | tuple):
            return [f"{path}: expected {' or '.join(alternatives)}, got {_kind(value)}"]
        return [e for i, item in enumerate(value) for e in _check(item, inner, f"{path}[{i}]")]
    best: list[str] | None = None
    for type_ in alternatives:
        errors = _check_one(decode_value(value, [type_]), type_, path)
        if not errors:
            return []
        if best is None or len(errors) < len(best):
            best = errors
    if len(alternatives) > 1 and best and best[0].startswith(f"{path}: expected "):
        return [f"{path}: expected {' or '.join(alternatives)}, got {_kind(value)}"]
    return best or []


def _check_one(value: Any, type_: str, path: str) -> list[str]:
    if type_.startswith("Array of "):
        if not isinstance(value, list | tuple):
            return [f"{path}: expected {type_}, got {_kind(value)}"]
        inner = [type_.removeprefix("Array of ")]
        return [e for i, item in enumerate(value) for e in _check(item, inner, f"{path}[{i}]")]
    ok = {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": isinstance(value, int | float) and not isinstance(value, bool),
        "String": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "True": value is True,
        "InputFile": isinstance(value, bytes | bytearray | memoryview),
    }.get(type_)
    if ok is not None:
        return [] if ok else [f"{path}: expected {type_}, got {_kind(value)}"]
    spec = TYPES.get(type_)
    if spec is None:
        return [f"{path}: schema names unknown type {type_!r}"]
    if spec.get("subtypes"):
        return _check(value, spec["subtypes"], path)
    if not isinstance(value, Mapping):
        return [f"{path}: expected {type_}, got {_kind(value)}"]
    fields = {f["name"]: f for f in spec.get("fields", [])}
    if not fields:  # placeholders such as CallbackGame hold no information
        return []
    errors = [f"{path}: unknown field {key!r} for {type_}" for key in value if key not in fields]
    for field in fields.values():
        item, where = value.get(field["name"]), f"{path}.{field['name']}"
        if item is None:
            if field["required"]:
                errors.append(f"{path}: missing required field {field['name']!r} of {type_}")
            continue
        item_errors = _check(item, field["types"], where)
        found = _CONSTANT.search(field["description"])
        constant = (
            found.group(1) if found and field["name"] in ("type", "status", "source") else None
        )
        if constant and not item_errors and item != constant:
            item_errors.append(f"{where}: expected {constant!r} for {type_}")
        errors += item_errors
    return errors


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def html_to_text(text: str) -> str:
    """The text of an HTML-formatted message; ``ValueError`` with the Bot API's reason (after
    "can't parse entities: ") for what Telegram refuses: unknown tags, a bare ``<``, unclosed
    or crossed tags."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        match, offset = _TAG.match(text, start), len(text[:start].encode())
        name = match[2].lower() if match else ""
        if match is None or name not in _HTML_TAGS:
            raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
        if match[1] and (not stack or stack.pop() != name):
            raise ValueError(f'Unmatched end tag at byte offset {offset}, found "</{name}>"')
        if not match[1]:
            stack.append(name)
        pos = match.end()
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return html.unescape("".join([*out, text[pos:]]))


def _visible_text(text: str, parse_mode: Any) -> str:
    """The text after entity parsing (HTML parsed; Markdown counted as sent)."""
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        try:
            return html_to_text(text)
        except ValueError:
            return html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def _limits(method: str, params: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    parse_mode = params.get("parse_mode")
    text = params.get("text")
    for key in ("text", "caption"):
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            try:
                html_to_text(str(params.get(key, "")))
            except ValueError as error:
                errors.append(f"{method}.{key}: can't parse entities: {error}")
    if method in ("sendMessage", "editMessageText") and isinstance(text, str):
        size = len(_visible_text(text, parse_mode))
        if not 1 <= size <= TEXT_LIMIT:
            errors.append(f"{method}.text: {size} characters, must be 1-{TEXT_LIMIT}")
    media = params.get("media")
    if method == "sendMediaGroup" and isinstance(media, list):
        kinds = {m.get("type") for m in media if isinstance(m, Mapping)}
        if not 2 <= len(media) <= 10:
            errors.append(f"{method}.media: {len(media)} items, must be 2-10")
        if len(kinds) > 1 and kinds & {"audio", "document"}:
            errors.append(f"{method}.media: audio and documents mix only with their own kind")
    if method == "answerCallbackQuery" and isinstance(text, str) and len(text) > 200:
        errors.append(f"{method}.text: {len(text)} characters, must be 0-200")
    if method == "setMyCommands" and isinstance(params.get("commands"), list):
        for i, cmd in enumerate(params["commands"]):
            if isinstance(cmd, Mapping) and not _COMMAND.fullmatch(str(cmd.get("command", ""))):
                errors.append(f"{method}.commands[{i}].command: must be 1-32 of [a-z0-9_]")
            if isinstance(cmd, Mapping) and not 1 <= len(str(cmd.get("description", ""))) <= 256:
                errors.append(f"{method}.commands[{i}].description: must be 1-256 characters")

    def walk(value: Any, path: str, mode: Any) -> None:
        if isinstance(value, Mapping):
            mode = value.get("parse_mode", mode)
            for key, item in value.items():
                where = f"{path}.{key}"
                if key == "caption" and isinstance(item, str):
                    size = len(_visible_text(item, mode))
                    if size > CAPTION_LIMIT:
                        errors.append(f"{where}: {size} characters, must be 0-{CAPTION_LIMIT}")
                elif key == "callback_data" and isinstance(item, str):
                    size = len(item.encode("utf-8"))
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        errors.append(f"{where}: {size} bytes, must be 1-{CALLBACK_DATA_LIMIT}")
                else:
                    walk(item, where, mode)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", mode)

    walk(params, method, parse_mode)
    return errors
