"""Jinja2 templates: one per notice kind and language (``templates/<lang>/<kind>.j2`` with the
blocks ``subject``, ``body`` and ``action``), laid out as plain-text and HTML email by
``email.txt.j2`` / ``email.html.j2``. Shared words (outcomes, decisions, footer) are per-language
data in ``templates/<lang>/terms.json``.

Times are shown in the case's time zone with its name, because legal deadlines count in that zone.
Templates only ever see ids, statuses and times: ``StrictUndefined`` makes a template that asks
for anything else fail loudly in tests instead of rendering a blank.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .catalog import KINDS, link_for

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("kk", "ky", "ru", "en")
DATETIME_PARAMS = ("answer_by", "starts_at", "expires_at")
DATE_PARAMS = ("term_ends_on", "due_on")
# CLDR patterns, formatted by Babel in the notice's locale (month names are the locale's, never
# the process's C locale).
_FORMATS = {"kk": ("dd.MM.yyyy HH:mm", "dd.MM.yyyy"), "ky": ("dd.MM.yyyy HH:mm", "dd.MM.yyyy"), "ru": ("dd.MM.yyyy HH:mm", "dd.MM.yyyy"),
            "en": ("dd MMM yyyy, HH:mm", "dd MMM yyyy")}


@dataclass(frozen=True)
class RenderedMessage:
    language: str
    subject: str
    text: str
    html: str
    link: str
    short: str  # one line for SMS and live pushes


class Renderer:
    def __init__(self, *, base_url: str, templates: Path = TEMPLATES) -> None:
        self.base_url = base_url
        # Notice blocks are plain text; the HTML layout escapes them when it places them.
        self._plain = Environment(loader=FileSystemLoader(templates), undefined=StrictUndefined, autoescape=False,
                                  keep_trailing_newline=False)
        self._html = Environment(loader=FileSystemLoader(templates), undefined=StrictUndefined,
                                 autoescape=select_autoescape(default=True, default_for_string=True))

    @cached_property
    def terms(self) -> dict[str, dict[str, str]]:
        return {lang: json.loads((TEMPLATES / lang / "terms.json").read_text(encoding="utf-8")) for lang in LANGUAGES}

    def html_template(self, name: str):
        return self._html.get_template(name)

    def render(self, *, kind: str, language: str, case_id: str, params: dict, time_zone: str,
               reference: str | None = None, base_url: str | None = None) -> RenderedMessage:
        """``reference``: what people call the case (KZ-2026-000123), shown as ``ref``; a case known
        from before references existed shows the start of its id. ``base_url``: where links start
        when not the configured address (dev mode: the address a request came to)."""
        if kind not in KINDS:
            raise LookupError(f"unknown notice kind {kind}")
        lang = language if language in LANGUAGES else "ru"
        terms = self.terms[lang]
        values = {**params, "case_id": case_id, "ref": reference or case_id[:8], "t": lambda key: terms[key]}
        zone = ZoneInfo(time_zone)
        dt_format, date_format = _FORMATS[lang]
        for key in DATETIME_PARAMS:
            if key in values and values[key]:
                when = datetime.fromisoformat(values[key]).astimezone(zone)
                # the zone named for a person ("Алматы уақыты"), not its id (Asia/Almaty)
                values[key] = f"{format_datetime(when, dt_format, locale=lang)} ({terms.get(f'zone.{time_zone}', time_zone)})"
        for key in DATE_PARAMS:
            if key in values and values[key]:
                values[key] = format_date(date.fromisoformat(values[key]), date_format, locale=lang)
        template = self._plain.get_template(f"{lang}/{kind}.j2")
        context = template.new_context(values)
        subject, body, action = ("".join(template.blocks[b](context)).strip() for b in ("subject", "body", "action"))
        action = action or terms["action.default"]
        link = link_for(kind, base_url or self.base_url, {**params, "case_id": case_id})
        layout = {"subject": subject, "body": body, "action": action, "link": link, "footer": terms["footer"],
                  "lang": lang, "paragraphs": [p.strip() for p in body.split("\n\n") if p.strip()]}
        text = self._plain.get_template("email.txt.j2").render(layout)
        html = self._html.get_template("email.html.j2").render(layout)
        return RenderedMessage(language=lang, subject=subject, text=text, html=html, link=link,
                               short=f"{subject}: {link}")
