"""Every message the client asks for exists in Kazakh, Russian and English with the same
placeholders, so a language switch never shows a raw key or a half-filled sentence."""

from __future__ import annotations

import re
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "client"
STRING = r'"((?:[^"\\]|\\.)*)"'
ENTRY = re.compile(r'^\s*("[^"]+"|[\w]+):\s*\{\s*en:\s*' + STRING + r',\s*ru:\s*' + STRING + r',\s*kk:\s*' + STRING
                   + r',?\s*\},?', re.M | re.S)


def _messages() -> dict[str, dict[str, str]]:
    text = (CLIENT / "assets" / "js" / "messages.js").read_text()
    return {key.strip('"'): {"en": en, "ru": ru, "kk": kk} for key, en, ru, kk in ENTRY.findall(text)}


def _used_keys() -> set[str]:
    used = set()
    for path in (CLIENT / "assets" / "js").rglob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.:-]+)"', path.read_text()))
    used |= set(re.findall(r'data-i18n(?:-label)?="([\w]+)"', (CLIENT / "index.html").read_text()))
    return used


def test_every_message_the_client_uses_exists_in_three_languages():
    messages = _messages()
    assert len(messages) > 300, "the catalogue could not be read"
    missing = sorted(_used_keys() - set(messages))
    assert not missing, missing
    empty = sorted(k for k, v in messages.items() if not all(s.strip() for s in v.values()))
    assert not empty, empty


def test_placeholders_are_the_same_in_every_language():
    wrong = {}
    for key, texts in _messages().items():
        names = {lang: sorted(re.findall(r"\{(\w+)\}", text)) for lang, text in texts.items()}
        if len({tuple(v) for v in names.values()}) != 1:
            wrong[key] = names
    assert not wrong, wrong


def test_kazakh_texts_are_kazakh_and_not_copies_of_russian():
    messages = _messages()
    kazakh_letters = re.compile("[әғқңөұүһі]", re.I)
    with_kazakh = [k for k, v in messages.items() if kazakh_letters.search(v["kk"])]
    assert len(with_kazakh) > 0.6 * len(messages)
    same = [k for k, v in messages.items() if v["kk"] == v["ru"] and len(v["ru"]) > 12]
    assert not same, same
