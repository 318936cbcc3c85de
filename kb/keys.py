"""Search keys: names and aliases folded so that any common spelling finds the same entity.

Case is folded; umlauts give both the bare vowel and the German transliteration (ö -> o and oe),
ß gives ss; other accents are dropped; Chinese characters are kept and also transliterated to
toneless pinyin (joined and spaced), so 哥廷根 also yields getinggen.
"""
from __future__ import annotations

import functools
import re
import unicodedata

GERMAN_TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SEPARATORS = re.compile(r"[\s\-‐‑–—_/.,;:()'\"’]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _normalise(text: str) -> str:
    """Lower case, separators to single spaces."""
    return SEPARATORS.sub(" ", text.casefold()).strip()


# Names repeat across a large input (many people share a name): fold each distinct one once.
@functools.lru_cache(maxsize=1 << 14)
def _variants(text: str) -> frozenset[str]:
    if text.isascii():
        # Nothing to transliterate or strip (most names of a large input): the case-folded form.
        folded = _normalise(text)
        return frozenset((folded,) if folded else ())
    folded = _normalise(text.replace("ß", "ss").replace("ẞ", "ss"))
    german = folded
    for umlaut, replacement in GERMAN_TRANSLITERATION.items():
        german = german.replace(umlaut, replacement)
    variants = {strip_accents(folded), strip_accents(german)}
    if CJK.search(text):
        # Imported on the first Chinese name only: its dictionaries are half a second of a quick
        # command's start-up (`kb search Kuka` needs none of it).
        from pypinyin import lazy_pinyin
        syllables = [s for s in lazy_pinyin(text) if s.strip()]
        spaced = _normalise(" ".join(syllables))
        variants |= {text.strip(), spaced, spaced.replace(" ", "")}
    return frozenset(v for v in variants if v)


def keys_for(*names: str) -> list[str]:
    """Every search key of the given names, sorted; each name also gives its space-free form."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        for variant in _variants(str(name)):
            keys.add(variant)
            if " " in variant:
                keys.add(variant.replace(" ", ""))
    return sorted(keys)


def query_keys(text: str) -> list[str]:
    """The folded forms of a user's search text: the same folding as the entities' keys."""
    return keys_for(text)
