"""Crisis signals in what the user types: their own crisis (self-harm) or danger from others.

Rules:
1. Text and phrases are normalised alike: compatibility forms (full-width letters), case and
   accents are folded, apostrophes dropped ("don't" is "dont"), chat spellings mapped to
   words ("kiero" is "quiero", "wanna" is "want to"), pauses ("...", "…", dashes) read as
   spaces and other punctuation as a clause break, spaces collapsed and removed between
   Chinese characters ("我 不 想 活" is "我不想活"). Letters typed three times or more
   ("viviiir") are read both once and twice.
2. A phrase is words: a Latin word matches whole ("matarme" is not in "rematarme"); a word
   ending in ``*`` may go on ("amenaz*"); ``a/b`` is either word; ``#`` is a number; ``$``
   is the end of the clause. ``…`` between words allows a few words (in Chinese a few
   characters) in between, never across a clause break.
3. The phrase sets are content (``content/safety/crisis.toml``): ``self_harm`` (the user
   thinks of ending their life or hurting themselves), ``threat`` (others threaten to kill or
   hurt them, push them to kill themselves, or they say they are in danger now) and
   ``not_crisis`` (negations and figures of speech: "no me quiero morir", "me muero de
   vergüenza", "my mom will kill me", "想死你了").
4. The longest phrase decides: a match inside a longer match of another set does not count,
   so "van a matarme" (threat) hides "matarme" (self-harm), "no me quiero morir"
   (not_crisis) hides "me quiero morir", and "ojalá que me muera" (self-harm) hides
   "que me muera" (a threat: what collectors tell people).
5. A text is self-harm when a self-harm match remains, else a threat when a threat match
   remains, else nothing. Both can hold at once (:class:`Signals`): care for the user comes
   first, and the danger from others is still recorded.

Pure: the phrases come from :class:`~dialogs.content.ContentIndex`; nothing here does I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from dialogs.case import Case
from dialogs.events import EvidenceKind

BREAK = "|"
"""The clause break punctuation becomes in a normalised text."""
_PAUSES = re.compile(r"\.{2,}|…|-+|—|–")
_BREAKS = re.compile(r"[.!?¡¿;:,。！？；：，、\n\r\t\"“”«»「」『』()（）\[\]【】<>《》]+")
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_LATIN = re.compile(r"[a-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[!?;])(?=\s)|(?<=[^.]\.)(?=\s)|(?<=[。！？；\n])")
_OTHER = re.compile(rf"[^\w{re.escape(BREAK)}]+|_+")
_CLAUSE_END = rf"(?=\s*(?:{re.escape(BREAK)}|$))"
GAP_WORDS = 3
"""Words ``…`` allows between two Latin words of a phrase."""
GAP_CHARS = 6
"""Characters ``…`` allows next to a Chinese word of a phrase."""


class Verdict(StrEnum):
    SELF_HARM = "self_harm"
    THREAT = "threat"
    NONE = "none"


class CrisisPhrases(BaseModel):
    """The phrase sets of every language, as the content lists them (rule 3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    self_harm: tuple[str, ...] = ()
    threat: tuple[str, ...] = ()
    not_crisis: tuple[str, ...] = ()
    spelling: dict[str, str] = Field(default_factory=dict)
    """Chat spellings -> the words they stand for (lower case, without accents)."""


@dataclass(frozen=True)
class Signals:
    self_harm: bool = False
    threat: bool = False

    @property
    def verdict(self) -> Verdict:
        """Return the one class to act on: self-harm first (rule 5)."""
        if self.self_harm:
            return Verdict.SELF_HARM
        return Verdict.THREAT if self.threat else Verdict.NONE

    def __bool__(self) -> bool:
        return self.self_harm or self.threat


def classify(text: str, phrases: CrisisPhrases) -> Verdict:
    """Return whether the text is self-harm, a threat from others, or neither."""
    return signals(text, phrases).verdict


def signals(text: str, phrases: CrisisPhrases) -> Signals:
    """Return which crisis signals the text carries (both may)."""
    if not text or not (phrases.self_harm or phrases.threat):
        return Signals()
    matcher = _matcher(
        phrases.self_harm, phrases.threat, phrases.not_crisis, tuple(phrases.spelling.items())
    )
    found: set[str] = set()
    for variant in _variants(text, phrases.spelling):
        found |= matcher.kinds(variant)
    return Signals(self_harm="self_harm" in found, threat="threat" in found)


def normalise(text: str, spelling: Mapping[str, str] = MappingProxyType({})) -> str:
    """Return the text as phrases are matched against it (rule 1, without the repeats)."""
    return _normalise(text, spelling)


def sentences(text: str) -> list[str]:
    """Split a text into sentences (at a full stop, not at a pause) that join back into it."""
    return [piece for piece in _SENTENCE_END.split(text) if piece]


def without_self_harm(text: str | None, phrases: CrisisPhrases) -> str | None:
    """Return the text without its self-harm sentences (None if nothing is left)."""
    if not text:
        return text
    kept = "".join(s for s in sentences(text) if not signals(s, phrases).self_harm).strip()
    if not kept or signals(kept, phrases).self_harm:
        return None
    return kept


def own_texts(case: Case) -> Iterable[str]:
    """Yield what the user wrote themselves: the story, typed texts and their own captions."""
    if case.details.story:
        yield case.details.story
    for item in case.evidence:
        if item.forward is not None:
            continue  # the collectors' words, not the user's
        if item.kind == EvidenceKind.TEXT and item.text:
            yield item.text
        if item.caption:
            yield item.caption


def holds_self_harm(case: Case, phrases: CrisisPhrases) -> bool:
    """Return True if anything the user wrote into the case is self-harm."""
    return any(signals(text, phrases).self_harm for text in own_texts(case))


# --- matching -------------------------------------------------------------------------------


def _normalise(text: str, spelling: Mapping[str, str]) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch)
    )
    text = unicodedata.normalize("NFC", text)
    text = _APOSTROPHES.sub("", text)
    text = _PAUSES.sub(" ", text)  # "ya no... quiero vivir" is one clause
    text = _BREAKS.sub(f" {BREAK} ", text)
    words: list[str] = []
    for word in _OTHER.sub(" ", text).split():
        if not (word == BREAK and words and words[-1] == BREAK):
            words.append(word)
    if spelling:
        words = [spelling.get(word, word) for word in words]
    return _CJK_GAP.sub("", " ".join(words))


def _variants(text: str, spelling: Mapping[str, str]) -> list[str]:
    """Return the normalised text, and its readings with repeated letters cut down."""
    base = _normalise(text, spelling)
    if not _REPEATS.search(base):
        return [base]
    return [base, _REPEATS.sub(r"\1", base), _REPEATS.sub(r"\1\1", base)]


def _pattern(phrase: str, spelling: Mapping[str, str]) -> re.Pattern[str]:
    """Compile one phrase (rule 2) into a regular expression over normalised text."""
    regex, last = "", ""
    for index, part in enumerate(re.split(r"…|\.\.\.", phrase)):
        words = [_word(token, spelling) for token in part.split()]
        words = [w for w in words if w[0]]
        if not words:
            raise ValueError(f"crisis phrase with an empty part: {phrase!r}")
        if index:
            if last == "latin" and words[0][1] == "latin":
                regex += f"(?: [^ {re.escape(BREAK)}]+){{0,{GAP_WORDS}}} "
            else:
                regex += f"[^{re.escape(BREAK)}]{{0,{GAP_CHARS}}}"
        for number, (body, first, final) in enumerate(words):
            if number and not (last == "cjk" and first == "cjk"):
                regex += " " if body != _CLAUSE_END else ""
            regex += body
            last = final
    return re.compile(regex)


def _word(token: str, spelling: Mapping[str, str]) -> tuple[str, str, str]:
    """Return one word of a phrase as (regex, script it starts with, script it ends with);
    ``a/b`` is either word, ``*`` ends a word that may go on, ``#`` is a number and ``$``
    the end of the clause."""
    if token == "$":
        return _CLAUSE_END, "", ""
    options, first, final = [], "cjk", "cjk"
    for alternative in token.split("/"):
        if alternative == "#":
            options.append("(?<![0-9])[0-9]+(?![0-9])")
            first = final = "latin"
            continue
        star = alternative.endswith("*")
        text = _normalise(alternative.rstrip("*"), spelling)
        if not text or BREAK in text:
            continue
        body = re.escape(text) + (rf"[^\s{re.escape(BREAK)}]*" if star else "")
        if _LATIN.match(text[0]):
            body, first = "(?<![a-z0-9])" + body, "latin"
        if _LATIN.match(text[-1]):
            final = "latin"
            if not star:
                body += "(?![a-z0-9])"
        options.append(body)
    if not options:
        return "", "", ""
    return (options[0] if len(options) == 1 else f"(?:{'|'.join(options)})"), first, final


@dataclass(frozen=True)
class _Matcher:
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    def kinds(self, normalised: str) -> set[str]:
        """Return the sets whose matches are not inside a longer match of another set."""
        spans = [
            (kind, m.start(), m.end())
            for kind, pattern in self.patterns
            for m in pattern.finditer(normalised)
            if m.end() > m.start()
        ]
        return {
            kind
            for kind, start, end in spans
            if not any(
                other != kind and s <= start and end <= e and e - s > end - start
                for other, s, e in spans
            )
        }


@lru_cache(maxsize=8)
def _matcher(
    self_harm: tuple[str, ...],
    threat: tuple[str, ...],
    not_crisis: tuple[str, ...],
    spelling: tuple[tuple[str, str], ...],
) -> _Matcher:
    words = dict(spelling)
    return _Matcher(
        tuple(
            (kind, _pattern(phrase, words))
            for kind, phrases in (
                ("self_harm", self_harm),
                ("threat", threat),
                ("not_crisis", not_crisis),
            )
            for phrase in phrases
        )
    )
