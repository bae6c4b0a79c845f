"""The Kyrgyz table of the client (messages-ky.js): every key it has exists in messages.js with the
same placeholders, its texts are Kyrgyz (not Kazakh, and not copies of Russian), and every message of
the party's journey (every view but the mediator's and the court's pages) has a Kyrgyz text, so a
Kyrgyz reader meets Russian only where a key is new."""

from __future__ import annotations

import re
from pathlib import Path

from tests.client.test_messages import STRING, _messages

JS = Path(__file__).resolve().parents[2] / "client" / "assets" / "js"
KY_ENTRY = re.compile(r'^\s*("[^"]+"|[\w]+):\s*' + STRING + r",\s*$", re.M)
NOT_THE_PARTYS = {"views/mediator.js", "views/court.js"}


def _kyrgyz() -> dict[str, str]:
    return {key.strip('"'): text for key, text in KY_ENTRY.findall((JS / "messages-ky.js").read_text())}


def _journey_keys() -> set[str]:
    keys: set[str] = set()
    for path in JS.rglob("*.js"):
        if path.relative_to(JS).as_posix() not in NOT_THE_PARTYS:
            keys |= set(re.findall(r'\bt\("([\w.:-]+)"', path.read_text()))
    keys |= set(re.findall(r'data-i18n="([\w]+)"', (JS.parent.parent / "index.html").read_text()))
    return keys


def test_every_kyrgyz_text_belongs_to_a_message_and_keeps_its_placeholders():
    ky, messages = _kyrgyz(), _messages()
    assert len(ky) > 500, "the Kyrgyz table could not be read"
    assert not sorted(set(ky) - set(messages)), "Kyrgyz texts of keys messages.js does not have"
    wrong = {k: text for k, text in ky.items()
             if sorted(re.findall(r"\{(\w+)\}", text)) != sorted(re.findall(r"\{(\w+)\}", messages[k]["ru"]))}
    assert not wrong, wrong


def test_every_message_of_the_partys_journey_is_in_kyrgyz():
    ky = _kyrgyz()
    missing = sorted(k for k in _journey_keys() if not ky.get(k, "").strip())
    assert not missing, missing


def test_kyrgyz_texts_are_kyrgyz_not_russian_or_kazakh():
    ky, messages = _kyrgyz(), _messages()
    kyrgyz_letters, kazakh_only = re.compile("[өүң]", re.I), re.compile("[әғқұһі]", re.I)
    assert len([k for k, text in ky.items() if kyrgyz_letters.search(text)]) > 0.45 * len(ky)
    assert not [k for k, text in ky.items() if kazakh_only.search(text)]
    copies = [k for k, text in ky.items() if len(text) > 12 and text == messages[k]["ru"]]
    assert not copies, copies
