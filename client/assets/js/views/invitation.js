// Opening an invitation link: what the case is about, the deadline to answer, and the consent
// text (the exact version is recorded with the answer). Consent is voluntary: declining is as
// easy as agreeing.
import * as intake from "../api/intake.js";
import { label, lang, t } from "../i18n.js";
import { rememberParty } from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, definitionList, errorSummary, field, fmtDateTime, h, mount, problemBox, section, toast, zoneOf } from "../ui.js";
import { EMAIL, saveContact } from "./file.js";

export async function invitation(token) {
  const box = problemBox();
  let view;
  try {
    view = await intake.getInvitation(token, { lang: lang() });
  } catch (error) {
    box.show(error);
    mount(h("h1", {}, t("invitation_title")), box, h("p", {}, t("invitation_invalid")));
    return;
  }
  const agree = checkbox(t("consent_checkbox"), { name: "agree", id: "consent-agree" });
  const email = h("input", { type: "email", id: "invitee-email", name: "email", autocomplete: "email" });
  const consent = h("button", { type: "button", id: "consent-give" }, t("consent_give"));
  const decline = h("button", { type: "button", class: "secondary", id: "consent-decline" }, t("consent_decline"));
  const summary = errorSummary();
  const answer = (decision) => busy(decision === "consent" ? consent : decline, summary, async () => {
    if (decision === "consent") { // the address is checked before consenting: it cannot be fixed here afterwards
      const problems = [];
      if (email.value.trim() && !EMAIL.test(email.value.trim())) problems.push({ target: email, message: t("error_email") });
      if (!agree.querySelector("input").checked) problems.push({ target: agree.querySelector("input"), message: t("consent_required") });
      if (problems.length) return summary.showFields(problems);
    }
    const answered = await intake.answerInvitation(token, { decision, textVersion: view.consent_text_version, language: lang() });
    if (answered.access_token) {
      rememberParty(view.case_id, answered.access_token, { side: view.side, reference: view.case_reference });
      const saved = await saveContact(answered.access_token, email.value.trim());
      navigate(`/cases/${view.case_id}`, { replace: true });
      if (!saved) toast(t("contact_not_saved"));
    } else {
      mount(h("h1", {}, t("invitation_title")), h("p", { role: "status" }, t("declined_thanks")));
    }
  });
  consent.addEventListener("click", answer("consent"));
  decline.addEventListener("click", answer("decline"));
  mount(
    h("h1", {}, t("invitation_title")), summary,
    section(t("invitation_what"), definitionList([
      view.case_reference && [t("case"), view.case_reference],
      [t("category"), label("category", view.category)],
      [t("jurisdiction"), label("jurisdiction", view.jurisdiction)],
      [t("your_side"), label("side", view.side)],
      [t("answer_by"), fmtDateTime(view.answer_by, zoneOf(view.jurisdiction))],
    ]), h("p", { class: "muted" }, view.answer_window_citation)),
    section(t("consent_text_title"), h("p", { class: "consent-text" }, view.consent_text),
      h("p", { class: "muted" }, t("version", { v: view.consent_text_version })),
      field(t("party_email"), email, t("party_email_hint")),
      h("div", { class: "field" }, agree), h("div", { class: "actions" }, consent, decline)),
  );
}
