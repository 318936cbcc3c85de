"""An entity's name in a language (en, de, zh) from its name and aliases: what drawings and tables show."""
from __future__ import annotations

import re
import unicodedata

from kb.schema import LANGUAGES

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
GERMAN_LETTERS = re.compile(r"[äöüÄÖÜß]")
# Where an English exonym differs from the German name (Munich, München); a firm's alias is no German name.
PLACE_TYPES = ("Country", "Region", "City")


def _folded(name: str, umlauts: str) -> str:
    # Spelling variants of one name (Göttingen, Goettingen, Gottingen) fold to the same text one way or the other.
    if umlauts == "expand":
        for letter, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
            name = name.lower().replace(letter, spelled)
    decomposed = unicodedata.normalize("NFKD", name.lower())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _variant(alias: str, name: str) -> bool:
    return any(_folded(alias, way) == _folded(name, way) for way in ("expand", "drop"))


def entity_name(name: str, aliases, entity_type: str, country: str | None, language: str) -> str:
    """The entity's name in the language where it has one, else its name. Chinese: its first alias in
    Chinese characters. German: for a German place, its alias with German letters (München), else its
    shortest alias that is not a spelling variant of the name (Hannover, Deutschland)."""
    aliases = [alias for alias in aliases or [] if isinstance(alias, str) and alias.strip()]
    language = language if language in LANGUAGES else LANGUAGES[0]
    if language == "zh":
        if CJK.search(name or ""):
            return name
        return next((alias for alias in aliases if CJK.search(alias)), name)
    if language == "de" and entity_type in PLACE_TYPES and country == "DE" and not GERMAN_LETTERS.search(name or ""):
        latin = [alias for alias in aliases if not CJK.search(alias) and not _variant(alias, name)]
        german = [alias for alias in latin if GERMAN_LETTERS.search(alias)]
        if german:
            return german[0]
        if latin:
            return min(latin, key=len)
    return name
