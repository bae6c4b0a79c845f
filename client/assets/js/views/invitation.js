// Opening an invitation link: what the case is about, the deadline to answer, and the consent
// text (the exact version is recorded with the answer). Consent is voluntary: declining is as
// easy as agreeing.
import * as intake from "../api/intake.js";
import { label, lang, t } from "../i18n.js";
import { rememberParty } from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, definitionList, field, fmtDateTime, h, mount, problemBox, section, zoneOf } from "../ui.js";
import { saveContact } from "./file.js";

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
  const email = h("input", { type: "email", id: "invitee-email", autocomplete: "email" });
  const consent = h("button", { type: "button", id: "consent-give" }, t("consent_give"));
  const decline = h("button", { type: "button", class: "secondary", id: "consent-decline" }, t("consent_decline"));
  const answer = (decision) => busy(decision === "consent" ? consent : decline, box, async () => {
    if (decision === "consent" && !agree.querySelector("input").checked) throw new Error(t("consent_required"));
    const answered = await intake.answerInvitation(token, { decision, textVersion: view.consent_text_version, language: lang() });
    if (answered.access_token) {
      rememberParty(view.case_id, answered.access_token, { side: view.side });
      await saveContact(answered.access_token, email.value.trim());
      navigate(`/cases/${view.case_id}`, { replace: true });
    } else {
      mount(h("h1", {}, t("invitation_title")), h("p", { role: "status" }, t("declined_thanks")));
    }
  });
  consent.addEventListener("click", answer("consent"));
  decline.addEventListener("click", answer("decline"));
  mount(
    h("h1", {}, t("invitation_title")),
    section(t("invitation_what"), definitionList([
      [t("category"), label("category", view.category)],
      [t("jurisdiction"), label("jurisdiction", view.jurisdiction)],
      [t("your_side"), label("side", view.side)],
      [t("answer_by"), fmtDateTime(view.answer_by, zoneOf(view.jurisdiction))],
    ]), h("p", { class: "muted" }, view.answer_window_citation)),
    section(t("consent_text_title"), h("p", { class: "consent-text" }, view.consent_text),
      h("p", { class: "muted" }, t("version", { v: view.consent_text_version })),
      field(t("party_email"), email, t("party_email_hint")),
      agree, box, h("div", { class: "actions" }, consent, decline)),
  );
}
