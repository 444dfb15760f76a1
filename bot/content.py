"""The content of the bot, loaded once: texts per language, jurisdictions, templates.

``content/texts/<lang>.toml`` holds every user-facing sentence (a feature may keep its own
texts in ``<lang>.<feature>.toml``; a key may be defined only once); nested tables become dotted
keys (``[evidence] saved`` is ``evidence.saved``). Jurisdiction names are added as
``jurisdiction.<id>`` so the dialog can offer them like any other label. Formatting fills
``{name}`` parameters; user text passed as a parameter is escaped by the caller's function
and is never itself formatted, so braces in what a user typed are just characters.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.jurisdictions import Jurisdiction, load_jurisdictions
from dialogs.content import ContentIndex, normalize
from dialogs.crisis import CrisisPhrases
from dialogs.replies import Param, Ref
from dialogs.router import BodyRef

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "content"


class MissingText(KeyError):
    """A content key that does not exist in a language: a bug in the content."""


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Turn nested TOML tables into dotted keys."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = str(value)
    return flat


def placeholders(text: str) -> set[str]:
    """Return the names of the ``{parameters}`` a text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Content:
    directory: Path
    texts: dict[str, dict[str, str]]
    jurisdictions: dict[str, Jurisdiction]

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> Content:
        """Read every text file and jurisdiction under ``directory``."""
        jurisdictions = load_jurisdictions(directory / "jurisdictions")
        texts: dict[str, dict[str, str]] = {}
        for path in sorted((directory / "texts").glob("*.toml")):
            lang = path.name.split(".")[0]
            with path.open("rb") as fh:
                table = flatten(tomllib.load(fh))
            merged = texts.setdefault(lang, {})
            clash = sorted(set(merged) & set(table))
            if clash:
                raise ValueError(f"{path.name}: keys defined twice for {lang}: {clash}")
            merged.update(table)
        names = {lang: table.get("meta.name", lang) for lang, table in texts.items()}
        for table in texts.values():  # every language is offered by its own name
            for other, name in names.items():
                table.setdefault(f"language.{other}", name)
        for lang, table in texts.items():  # a language's texts may name them itself
            for jid, jurisdiction in jurisdictions.items():
                table.setdefault(f"jurisdiction.{jid}", jurisdiction.name.get(lang))
                for body in jurisdiction.bodies:
                    table.setdefault(f"body.{jid}.{body.id}", body.name.get(lang))
        return cls(directory=directory, texts=texts, jurisdictions=jurisdictions)

    @cached_property
    def index(self) -> ContentIndex:
        """Return what the dialog needs to know: languages and jurisdictions."""
        order = sorted(self.texts, key=lambda lang: (int(self.texts[lang]["meta.order"]), lang))
        return ContentIndex(
            crisis=self._crisis_phrases(),
            behaviour_words=self._behaviour_words(),
            names=self._names(),
            done_words=self._done_words(),
            languages=tuple(order),
            jurisdictions=tuple(self.jurisdictions),
            phone_regions={jid: j.phone_region for jid, j in self.jurisdictions.items()},
            lender_types={jid: j.lender_types for jid, j in self.jurisdictions.items()},
            regions={jid: j.regions for jid, j in self.jurisdictions.items()},
            timezones={jid: j.timezone for jid, j in self.jurisdictions.items()},
            documents_langs={
                jid: j.documents_lang
                for jid, j in self.jurisdictions.items()
                if j.documents_lang and j.documents_lang in self.texts
            },
            bodies={
                jid: tuple(
                    BodyRef(
                        id=b.id, role=b.role, scope=b.scope, template=b.template,
                        deadline_days=b.deadline_days, deadline_kind=b.deadline_kind,
                        deadline_of=b.deadline_of, lender_types=b.lender_types,
                        regions=b.regions,
                    )
                    for b in j.bodies
                )
                for jid, j in self.jurisdictions.items()
            },
        )  # fmt: skip

    def _names(self) -> dict[str, dict[str, str]]:
        """Every name a language or a jurisdiction has in any of the texts, normalised."""
        names: dict[str, dict[str, str]] = {"lang": {}, "jur": {}}
        for table in self.texts.values():
            for lang in self.texts:
                for key in (f"language.{lang}", f"doc.language.{lang}"):
                    if key in table:
                        names["lang"].setdefault(normalize(table[key]), lang)
            for jid in self.jurisdictions:
                names["jur"].setdefault(normalize(table[f"jurisdiction.{jid}"]), jid)
        for question, aliases in self._answers().get("names", {}).items():
            for value, typed in aliases.items():
                for name in typed:
                    names[question].setdefault(normalize(name), value)
        names["lang"].pop("", None)
        names["jur"].pop("", None)
        return names

    def _done_words(self) -> tuple[str, ...]:
        """The words for "done" in every language, and the label of the "done" button."""
        words = set(self._answers().get("done", []))
        words |= {table["option.ev.done"] for table in self.texts.values()}
        return tuple(sorted({normalize(w) for w in words} - {""}))

    def _answers(self) -> dict[str, Any]:
        path = self.directory / "answers.toml"
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            return tomllib.load(fh)

    def _behaviour_words(self) -> dict[str, tuple[str, ...]]:
        """Read ``behaviour_words.toml``: each behaviour's words in every language."""
        path = self.directory / "behaviour_words.toml"
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            table = tomllib.load(fh)
        return {
            name: tuple(word for lang in sorted(by_lang) for word in by_lang[lang])
            for name, by_lang in table.items()
        }

    def _crisis_phrases(self) -> CrisisPhrases:
        """Read ``safety/crisis.toml``: each set's phrases in every language, and spellings."""
        with (self.directory / "safety" / "crisis.toml").open("rb") as fh:
            table = tomllib.load(fh)
        sets = {
            name: tuple(phrase for lang in sorted(by_lang) for phrase in by_lang[lang])
            for name, by_lang in table.items()
            if name != "spelling"
        }
        return CrisisPhrases(**sets, spelling=table.get("spelling", {}))

    def text(
        self,
        key: str,
        lang: str,
        params: Mapping[str, Param] | None = None,
        escape: Callable[[str], str] = str,
    ) -> str:
        """Return the text for ``key`` in ``lang`` with its parameters filled in."""
        try:
            template = self.texts[lang][key]
        except KeyError:
            raise MissingText(f"{lang}:{key}") from None
        if not params:
            return template
        values: dict[str, str] = {}
        for name, value in params.items():
            if isinstance(value, Ref):
                values[name] = self.text(value.key, lang)
            else:
                values[name] = escape(str(value))
        return template.format_map(values)
