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
from fpdf import FPDF

from .documents import jurisdiction, render_lines

ATTACHMENT = "agreement.sealed.json"

# fontTools (fpdf2 subsets the font with it) logs the glyphs it kept at INFO: that is the set of
# characters of a confidential agreement. Only its warnings and errors reach the platform's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _font_paths() -> tuple[str, str]:
    return str(ttf_opensans.opensans(font_weight=400).path), str(ttf_opensans.opensans(font_weight=700).path)


def render_pdf(sealed: dict, *, verify_hint: str) -> bytes:
    """``sealed`` = {"document", "signatures", "seal"} as served by the API."""
    document, signatures, seal = sealed["document"], sealed["signatures"], sealed["seal"]
    labels = jurisdiction(document["jurisdiction"]).labels[document["language"]]
    regular, bold = _font_paths()
    sealed_at = datetime.fromisoformat(seal["payload"]["sealed_at"])
    # people know the case by its reference; only documents of cases filed before references existed lack one
    case = document.get("case_reference") or document["case_id"]

    pdf = FPDF(format="A4")
    pdf.set_creation_date(sealed_at)
    pdf.set_title(f"{labels['agreement']} · {labels['case']} {case}")
    pdf.set_producer("ODR agreements")
    pdf.add_font("OpenSans", "", regular)
    pdf.add_font("OpenSans", "B", bold)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw

    lines = render_lines(document)
    pdf.set_font("OpenSans", "B", 14)
    pdf.multi_cell(width, 8, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9)
    pdf.multi_cell(width, 5, f"{labels['case']}: {case} · {labels['agreement']}: "
                   f"{document['agreement_id']} · {lines[1]}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for line in lines[2:]:
        heading = line.endswith(":") and not line.startswith(" ")
        pdf.set_font("OpenSans", "B" if heading else "", 10.5)
        pdf.multi_cell(width, 5.5, line or " ", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(6)
    pdf.set_font("OpenSans", "B", 11)
    pdf.multi_cell(width, 6, labels["signatures"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 9.5)
    for s in signatures:
        slot = labels.get(s["slot"], s["slot"])
        pdf.multi_cell(width, 5, f"{slot}: {s['signer']} · {labels['signed_at']}: {s['signed_at']} · "
                       f"{labels['method']}: {s['method']} ({s['assurance'].get('credential', '')})",
                       new_x="LMARGIN", new_y="NEXT")
        if s["method"] == "qualified":
            pdf.set_x(pdf.l_margin + 6)
            pdf.multi_cell(width - 6, 4.5, qualified_lines(s["assurance"], labels), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("OpenSans", "B", 11)
    pdf.multi_cell(width, 6, labels["seal"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("OpenSans", "", 8.5)
    pdf.multi_cell(width, 4.5, f"{labels['document_hash']}: {seal['payload']['document_hash']}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.5, f"{seal['alg']} kid={seal['kid']} · {seal['payload']['sealed_at']}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.5, f"{seal['signature']}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.5, f"{labels['verify']}: {verify_hint}", new_x="LMARGIN", new_y="NEXT")

    pdf.embed_file(basename=ATTACHMENT, bytes=json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode(),
                   desc="sealed agreement document (verify with POST /verify)", compress=True)
    return bytes(pdf.output())


QUALIFIED_LABELS = {"certificate": "Certificate", "iin": "IIN", "bin": "BIN", "serial": "Serial",
                    "issuer": "Issuer", "checked_at": "Verified at", "revocation": "Revocation"}


def qualified_lines(assurance: dict, labels: dict) -> str:
    """Who signed with which certificate (NCA RK), as the platform verified it when they signed."""
    label = {k: labels.get(f"qes_{k}", v) for k, v in QUALIFIED_LABELS.items()}
    ids = " · ".join(f"{label[k]} {assurance[k]}" for k in ("iin", "bin") if assurance.get(k))
    return (f"{label['certificate']}: {assurance.get('subject', '')}\n{ids} · {label['serial']}: "
            f"{assurance.get('certificate_serial', '')}\n{label['issuer']}: {assurance.get('issuer', '')}\n"
            f"{label['checked_at']}: {assurance.get('checked_at', '')} · {label['revocation']}: "
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
