// The page the verification link on a signed PDF opens (/verify/<document hash>): anyone, signed
// in or not, reads in their language whether the platform sealed an agreement with that hash,
// when and who signed, and can check that their copy of the PDF is byte for byte the issued one.
// Nothing of the agreement's content is shown: only the holder of the document has it.
import * as agreements from "../api/agreements.js";
import { label, t } from "../i18n.js";
import { busy, fmtDateTime, h, mount, problemBox, section, zoneOf } from "../ui.js";

export async function verify(documentHash) {
  const box = problemBox();
  const answer = h("p", { id: "verify-answer", role: "status" }, t("verify_checking"));
  mount(h("h1", {}, t("verify_title")), answer, box);
  let seal;
  try {
    seal = await agreements.sealLookup(documentHash);
  } catch (error) {
    answer.textContent = "";
    box.show(error);
    return;
  }
  if (!seal.issued) {
    answer.textContent = t("verify_unknown");
    answer.dataset.issued = "false";
    mount(h("h1", {}, t("verify_title")), answer);
    return;
  }
  answer.dataset.issued = "true";
  answer.textContent = t("verify_issued", {
    date: fmtDateTime(seal.sealed_at, zoneOf(seal.jurisdiction)),
    signers: seal.signers.map((s) => (s === "mediator" ? t("role_mediator") : label("side", s.split(":")[0]))).join(", "), // a party's own slot: claimant:<participant id>
  });
  const file = h("input", { type: "file", id: "verify-file", accept: "application/pdf,.pdf" });
  const check = h("button", { type: "button", id: "verify-check" }, t("verify_upload_button"));
  const result = h("p", { id: "verify-result", role: "status", "aria-live": "polite" });
  check.addEventListener("click", busy(check, box, async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const verdict = await agreements.verifyPdf(chosen);
    const genuine = verdict.valid && verdict.document_hash === documentHash;
    result.dataset.valid = String(genuine);
    result.textContent = t(genuine ? "verify_pdf_valid" : "verify_pdf_invalid");
  }));
  mount(h("h1", {}, t("verify_title")), answer,
    seal.status === "shredded" ? h("p", { class: "muted" }, t("verify_shredded")) : null,
    section(t("verify_upload"), h("div", { class: "field" }, h("label", { for: "verify-file" }, t("verify_upload")), file), check, result),
    box);
}
