"""The three languages of what the app and its drawings show (?lang=en|de|zh): the UI's strings as data
(kb/render/strings.yaml). An entity's name in a language comes from kb.names."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from kb.errors import SchemaError
from kb.schema import LANGUAGES

STRINGS_FILE = Path(__file__).with_name("strings.yaml")
DEFAULT = LANGUAGES[0]


def language_of(value: str | None) -> str:
    """A language code the app knows, the default for anything else (a stale or mistyped link)."""
    return value if value in LANGUAGES else DEFAULT


@functools.cache
def strings() -> dict:
    """key -> {language: text}; SchemaError names the key whose text is missing in a language."""
    document = yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8")) or {}
    for key, texts in document.items():
        missing = [lang for lang in LANGUAGES if not isinstance(texts, dict) or not str(texts.get(lang) or "").strip()]
        if missing:
            raise SchemaError(f"{STRINGS_FILE}: {key}: missing the text in {', '.join(missing)}")
    return document


def text(key: str, language: str, **values) -> str:
    """The UI string called key in the language, with {name} fields filled from values."""
    found = strings()[key][language_of(language)]
    return found.format(**values) if values else found
