"""What a person reads on a screen, and what must not be there on a Kazakh or Russian one: English
words, raw ids (UUIDs, bare hex ids such as "Case 845fb9df") and ISO dates or timestamps. One
place for this check, so every browser test means the same by "no English on a kk or ru screen".

What is read is what a person meets, not the DOM: visible text (buttons included), the page's
title, placeholders, labels given only to screen readers (aria-label), alt text, tooltips (title)
and the options of visible lists. Latin letters a reader may rightly meet are allowed: the brand,
a language named in itself in the picker, email and web addresses, a case's reference
(KZ-2026-000123), a legal text's version code (KZ-consent-2023.1), a law's number (No. 401-IV),
a document's SHA-256 fingerprint, an authenticator key or recovery code (base32, typed into an
app or kept), and whatever names the test itself typed (``allowed``)."""

from __future__ import annotations

import re

from playwright.async_api import Page

# Latin words any kk or ru screen may show: the brand, a language named in itself, a key as printed
# on the keyboard, and the names of standards written so in Kazakh and Russian too (PDF; the
# footer's links for developers).
ALWAYS_ALLOWED = ("ODR", "English", "Shift", "AsyncAPI", "API", "PDF", "QR")

READ = """() => {
  const seen = (el) => {
    if (!(el instanceof Element)) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0;
  };
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder],[aria-label],[title],img[alt],input[type=submit],input[type=button]')) {
    if (!seen(el) && !el.matches('[aria-label]')) continue;
    for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) if (el.getAttribute(attr)) parts.push(el.getAttribute(attr));
    if (el.matches('input[type=submit],input[type=button]')) parts.push(el.value);
  }
  for (const select of document.querySelectorAll('select')) {
    if (seen(select) && select.id !== 'language') for (const o of select.options) parts.push(o.textContent);
  }
  return parts.filter(Boolean).join('\\n');
}"""

# Text a person may meet in Latin letters whatever their language.
_NEUTRAL = [
    re.compile(r"\S+@\S+\.\w+"),  # an email address
    re.compile(r"https?://\S+"),  # a web address
    re.compile(r"\b[A-Z]{2}-(?:consent|atm)-[\d.]+\b"),  # a legal text's version code
    re.compile(r"\b[A-Z]{2}-\d{4}-\d+\b"),  # a case's reference
    re.compile(r"\b\d+-[IVX]+\b"),  # a law's number (No. 401-IV)
    re.compile(r"\b[0-9a-f]{64}\b"),  # a document's SHA-256 fingerprint
    re.compile(r"\b[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}\b"),  # a two-step sign-in recovery code (XXXX-XXXX-XXXX-XXXX)
    re.compile(r"\b[A-Z2-7]{4}(?: [A-Z2-7]{4}){3,}\b"),  # an authenticator key, in groups of four
]
# A UUID, or a bare hex id ("845fb9df"); not a document's SHA-256 fingerprint (64 hex digits), a
# code shown under its label for comparing copies.
_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,63}\b")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b")
_WORD = re.compile(r"[A-Za-z]{2,}")


def offences(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """What in ``text`` a kk or ru reader should not meet: each as "kind: the text around it"."""
    found: list[str] = []
    for pattern, kind in ((_ID, "raw id"), (_ISO, "ISO date")):
        found += [f"{kind}: {context(text, m)}" for m in pattern.finditer(text)]
    text = _ID.sub(" ", _ISO.sub(" ", text))
    # Codes and keys first, then allowed names not inside a Latin word or code: "QR" taken out of a
    # recovery code (…-ZQR5) left "Z 5", and the code's other groups read as English.
    for pattern in _NEUTRAL:
        text = pattern.sub(" ", text)
    for name in sorted((*allowed, *ALWAYS_ALLOWED), key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", " ", text)  # a Kazakh suffix may follow
    found += [f"English: {context(text, m)}" for m in _WORD.finditer(text)]
    return found


def context(text: str, match: re.Match) -> str:
    """The line a match is on, trimmed: enough to find the string in the product."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start:end if end != -1 else len(text)].strip()
    return f"{match.group(0)!r} in {line[:160]!r}"


async def read(page: Page) -> str:
    """Everything on ``page`` a person reads (see the module's docstring)."""
    return await page.evaluate(READ)


async def foreign_words(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    """The offences on ``page`` as it is now; empty on a screen fully in the reader's language."""
    return offences(await read(page), allowed)


# The Russian texts of the client's table that a Kyrgyz screen must not show (outside what is marked
# as written in another language, with ``lang``): for each message whose
# Kyrgyz is missing (messages-ky.js then falls back to Russian) or differs, its literal stretches
# between placeholders, long enough not to be a word the two languages share, and found in no
# Kyrgyz text. Cyrillic letters alone say nothing here: Kyrgyz is written in them too.
RUSSIAN_LEFT = """async () => {
  const { MESSAGES } = await import('/assets/js/messages.js');
  const { KY } = await import('/assets/js/messages-ky.js');
  const kyrgyz = Object.values(KY).join('\\n');
  // text marked as in another language (an agreement drafted in Russian, a notice in its
  // recipient's language) is not the page's
  let text = [document.title, document.body.innerText].join('\\n');
  const page = document.documentElement.lang;
  for (const el of document.body.querySelectorAll('[lang]')) {
    if (el.lang && el.lang !== page && el.innerText) text = text.split(el.innerText).join(' ');
  }
  const found = [];
  for (const [key, entry] of Object.entries(MESSAGES)) {
    if (!entry.ru || KY[key] === entry.ru) continue;
    for (const part of entry.ru.split(/\\{[^}]+\\}/).map((p) => p.trim())) {
      if (part.length >= 12 && !kyrgyz.includes(part) && text.includes(part)) found.push(`Russian (${key}): ${part}`);
    }
  }
  return { found, text };
}"""


# Russian words Kyrgyz does not use as words ("and", "in", "on", "for", "that", "or", "by", "from",
# "not", "you", "your", "if", "this", "to", "with"): a line with two of them is a Russian sentence
# (texts the server sends, which the client's table does not hold).
_RUSSIAN_WORDS = frozenset("и в во на не для что или по от вы вас вам ваш ваша ваше ваши если это при до из за к с как".split())
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁёӨөҮүҢң]+")


def russian_lines(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The lines of a Kyrgyz ``text`` written in Russian; ``allowed``: what people typed (their own words)."""
    for typed in sorted(allowed, key=len, reverse=True):
        text = text.replace(typed, " ")
    found = []
    for line in text.splitlines():
        words = {w.lower() for w in _CYRILLIC_WORD.findall(line)}
        if len(words & _RUSSIAN_WORDS) >= 2:
            found.append(f"Russian: {line.strip()[:160]!r}")
    return found


async def russian_left(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    """What on a Kyrgyz ``page`` is still Russian: a text of the client's table (``RUSSIAN_LEFT``) or a
    sentence from elsewhere (``russian_lines``)."""
    left = await page.evaluate(RUSSIAN_LEFT)
    return left["found"] + russian_lines(left["text"], allowed)
