"""Every notice renders in Kazakh, Kyrgyz, Russian and English, as plain text and HTML, with local times,
a link, and nothing but the ids and statuses it was given."""

from __future__ import annotations

import json

import pytest

from services.notifications.catalog import KINDS
from services.notifications.rendering import LANGUAGES, TEMPLATES, Renderer

PARAMS = {"answer_by": "2026-12-10T18:00:00+00:00", "starts_at": "2026-12-01T04:30:00+00:00", "lead": "24h",
          "session_id": "s-1", "agreement_id": "a-1", "version": 3, "decision": "approved",
          "term_ends_on": "2027-01-31", "due_on": "2027-02-15", "obligation_id": "o-1", "outcome": "settled",
          "expires_at": "2026-12-10T18:00:00+00:00", "side": "claimant"}
VALUES = {"decision": ["consented", "declined", "approved", "rejected"], "lead": ["24h", "1h"],
          "outcome": ["settled", "declined", "ineligible", "referred_out", "withdrawn", "futile", "term_expired",
                      "no_agreement"]}


@pytest.fixture(scope="module")
def renderer():
    return Renderer(base_url="https://odr.example")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_language(renderer, kind, language):
    params = dict(PARAMS)
    if kind == "consent_recorded":
        params["decision"] = "consented"
    m = renderer.render(kind=kind, language=language, case_id="0a1b2c3d-0000", params=params, time_zone="Asia/Almaty")
    assert m.language == language and m.subject and "\n" not in m.subject
    assert m.link.startswith("https://odr.example/cases/0a1b2c3d-0000")
    assert m.link in m.text and f'href="{m.link}"' in m.html and f'<html lang="{language}">' in m.html
    if kind != "sign_in_link":  # an address's sign-in link opens every case of the address, not one
        assert "0a1b2c3d" in m.subject
    assert "{{" not in m.text and "{%" not in m.text
    if kind in ("invitation", "invitation_sent", "answer_window_closing", "invitation_link", "sign_in_link"):
        assert "Asia/" not in m.text  # the zone named for a person, not by its id
        assert {"kk": "(Алматы уақыты)", "ky": "(Алматы убактысы)", "ru": "(время Алматы)", "en": "(Almaty time)"}[language] in m.text
        assert "10.12.2026 23:00" in m.text or "10 Dec 2026, 23:00" in m.text  # UTC+5
    if kind in ("session_scheduled", "session_reminder"):
        assert "01.12.2026 09:30" in m.text or "01 Dec 2026, 09:30" in m.text


def test_languages_differ_and_each_has_every_term(renderer):
    subjects = {lang: renderer.render(kind="court_decision", language=lang, case_id="c", params=PARAMS,
                                      time_zone="Asia/Almaty").subject for lang in LANGUAGES}
    assert len(set(subjects.values())) == len(LANGUAGES)
    keys = {lang: set(json.loads((TEMPLATES / lang / "terms.json").read_text())) for lang in LANGUAGES}
    assert keys["kk"] == keys["ky"] == keys["ru"] == keys["en"]
    for name, values in VALUES.items():
        prefix = {"decision": ("consent.", "court."), "lead": ("lead.",), "outcome": ("outcome.",)}[name]
        for v in values:
            assert any(p + v in keys["en"] for p in prefix), v


def test_html_escapes_what_it_is_given(renderer):
    m = renderer.render(kind="draft_ready", language="en", case_id="c", params={**PARAMS, "version": "<b>3</b>"},
                        time_zone="Asia/Almaty")
    assert "<b>3</b>" not in m.html and "&lt;b&gt;3&lt;/b&gt;" in m.html


def test_a_template_asking_for_what_it_was_not_given_fails_loudly(renderer):
    with pytest.raises(Exception):
        renderer.render(kind="draft_ready", language="en", case_id="c", params={}, time_zone="Asia/Almaty")
