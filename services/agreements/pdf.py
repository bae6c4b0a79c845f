"""The executed agreement as a PDF (fpdf2): the document text in its language with an embedded
Unicode TrueType font (Open Sans from the ``ttf-opensans`` wheel, which covers Kazakh and Russian
Cyrillic), the signature block, the platform seal and the verification hash. The sealed document
JSON is attached to the PDF, so whoever holds the PDF also holds what ``POST /verify`` checks.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import ttf_opensans

from .documents import category_labels, jurisdiction, local_date, render_lines

ATTACHMENT = "agreement.sealed.json"

# fontTools (fpdf2 subsets the font with it) logs the glyphs it kept at INFO: that is the set of
# characters of a confidential agreement. Only its warnings and errors reach the platform's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _font_paths() -> tuple[str, str]:
    return str(ttf_opensans.opensans(font_weight=400).path), str(ttf_opensans.opensans(font_weight=700).path)


def render_pdf(sealed: dict, *, verify_url: str) -> bytes:
    """``sealed`` = {"document", "signatures", "seal"} as served by the API.

    What a person reads is in the agreement's language: the parties by name (with IIN/BIN where
    the document gives them), the place, the date in the jurisdiction's time zone written for
    the language, each signature by the signer's name, and a verification address a person can
    open. Internal ids, UTC timestamps and the seal's raw signature stay in the attached JSON
    (what ``POST /verify`` checks), not in the text: the case is named by its human reference
    (``KZ-2026-000123``, signed into the document), absent only for cases filed before references."""
    document, signatures, seal = sealed["document"], sealed["signatures"], sealed["seal"]
    rules = jurisdiction(document["jurisdiction"])
    language = document["language"]
    labels = {**rules.labels_for(language), **category_labels(document["jurisdiction"], document["category"], language)}
    regular, bold = _font_paths()
    sealed_at = datetime.fromisoformat(seal["payload"]["sealed_at"])
    reference = document.get("case_reference")

    def when(value, *, with_time: bool = False) -> str:
        return local_date(value, language=language, time_zone=rules.time_zone, with_time=with_time)

    # fpdf2 (with fontTools) takes about a second to import, in every process that starts the
    # agreements service; only a process that renders an executed agreement needs it.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(sealed_at)
    lines = render_lines(document)
    pdf.set_title(" · ".join(x for x in (lines[0].replace("\n", " "), reference) if x))
    pdf.set_producer("ODR agreements")
    pdf.add_font("OpenSans", "", regular)
    pdf.add_font("OpenSans", "B", bold)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("OpenSans", "B", 14)
    pdf.multi_cell(width, 8, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9.5)
    header = [f"{labels['case']}: {reference}" if reference else None,
              f"{labels.get('date', labels['signed_at'])}: {when(sealed_at)}", lines[1]]
    pdf.multi_cell(width, 5, " · ".join(x for x in header if x), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for line in lines[2:]:
        heading = line.endswith(":") and not line.startswith(" ")
        pdf.set_font("OpenSans", "B" if heading else "", 10.5)
        pdf.multi_cell(width, 5.5, line or " ", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("OpenSans", "B", 11)
    pdf.multi_cell(width, 6, labels["signatures"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9.5)
    names = signer_names(document["content"], [s["slot"] for s in signatures])
    for s in signatures:
        slot = labels.get(s["slot"].split(":", 1)[0], "")
        method = labels.get(f"method_{s['method']}", s["method"])
        who = f"{slot}: {names[s['slot']]}" if names.get(s["slot"]) else slot
        if (s.get("assurance") or {}).get("acting") == "representative":
            who += f" ({labels.get('representative', 'Representative')}"
            who += f": {names[s['slot'] + '#representative']})" if names.get(s["slot"] + "#representative") else ")"
        pdf.multi_cell(width, 5, f"{who} · {labels['signed_at']}: {when(s['signed_at'], with_time=True)} "
                       f"({labels.get('time_zone', rules.time_zone)}) · {labels['method']}: {method}",
                       new_x="LMARGIN", new_y="NEXT")
        if s["method"] == "qualified":
            pdf.set_x(pdf.l_margin + 6)
            pdf.multi_cell(width - 6, 4.5, qualified_lines(s["assurance"], labels, when), new_x="LMARGIN",
                           new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("OpenSans", "B", 11)
    pdf.multi_cell(width, 6, labels["seal"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9)
    pdf.multi_cell(width, 4.8, f"{labels.get('sealed_at', labels['seal'])}: {when(sealed_at, with_time=True)} "
                   f"({labels.get('time_zone', rules.time_zone)})", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.8, f"{labels['document_hash']}: {seal['payload']['document_hash']}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("OpenSans", "B", 10)
    pdf.multi_cell(width, 5, labels["verify"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9.5)
    pdf.multi_cell(width, 5, labels.get("verify_intro", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 70, 160)
    pdf.multi_cell(width, 5, verify_url, link=verify_url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)

    pdf.embed_file(basename=ATTACHMENT, bytes=json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode(),
                   desc="sealed agreement document (verify with POST /verify)", compress=True)
    return bytes(pdf.output())


def signer_names(content: dict, slots: list[str] = ()) -> dict[str, str]:
    """Who signs in each slot, by name as the document gives it: a side's slot (``claimant``) by
    the names of every party on that side; a party's own slot (``claimant:<participant id>``) by
    the entry that names that participant, else by the entries of the side in order (as many
    entries as slots), else by the side's names together. ``<slot>#representative`` is the
    representative the entry names, for a signature a representative made."""
    entries: dict[str, list[dict]] = {}
    for p in content.get("parties", []):
        entries.setdefault(p["side"], []).append(p)
    out = {side: ", ".join(p["name"] for p in e) for side, e in entries.items()}
    by_id = {p["participant_id"]: p for p in content.get("parties", []) if p.get("participant_id")}
    for side, e in entries.items():
        own = [s for s in slots if s.startswith(f"{side}:")]
        for i, slot in enumerate(own):
            entry = by_id.get(slot.split(":", 1)[1]) or (e[i] if len(e) == len(own) else None)
            out[slot] = entry["name"] if entry else out[side]
            if entry and entry.get("representative"):
                out[f"{slot}#representative"] = entry["representative"]
    if content.get("mediator"):
        out["mediator"] = content["mediator"]["name"]
    return out


QUALIFIED_LABELS = {"certificate": "Certificate", "iin": "IIN", "bin": "BIN", "serial": "Serial",
                    "issuer": "Issuer", "checked_at": "Verified at", "revocation": "Revocation"}


def qualified_lines(assurance: dict, labels: dict, when=lambda v, **_: v) -> str:
    """Who signed with which certificate (NCA RK), as the platform verified it when they signed."""
    label = {k: labels.get(f"qes_{k}", v) for k, v in QUALIFIED_LABELS.items()}
    ids = " · ".join(f"{label[k]} {assurance[k]}" for k in ("iin", "bin") if assurance.get(k))
    checked = when(assurance["checked_at"], with_time=True) if assurance.get("checked_at") else ""
    return (f"{label['certificate']}: {assurance.get('subject', '')}\n{ids} · {label['serial']}: "
            f"{assurance.get('certificate_serial', '')}\n{label['issuer']}: {assurance.get('issuer', '')}\n"
            f"{label['checked_at']}: {checked} · {label['revocation']}: "
            f"{assurance.get('revocation', '')} · CMS SHA-256: {assurance.get('cms_sha256', '')}")


def attached_document(data: bytes) -> dict | None:
    """The sealed document attached to a PDF, or None if there is none (or it is not a PDF)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        files = reader.attachments
        content = files.get(ATTACHMENT)
        if not content:
            return None
        return json.loads(content[0])
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return None
