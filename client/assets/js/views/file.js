// Filing a case: who the parties are, what the dispute is about, and where. The eligibility
// screening runs on filing; the result is explained on the case page in the party's language.
import { claims } from "../api/http.js";
import * as intake from "../api/intake.js";
import * as notifications from "../api/notifications.js";
import { lang, t } from "../i18n.js";
import { rememberParty } from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, field, h, mount, problemBox, select } from "../ui.js";

const CATEGORIES = ["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"];
const GRAVITY = ["misdemeanour", "minor", "medium", "grave", "especially_grave"];
const KINDS = ["natural_person", "legal_entity", "group", "state_body"];

function partyFields(side) {
  const name = h("input", { type: "text", name: `${side}_name`, required: true, autocomplete: side === "claimant" ? "name" : "off" });
  const kind = select(`${side}_kind`, KINDS.map((k) => [k, t(`kind_${k}`)]), "natural_person");
  const language = select(`${side}_language`, [["kk", "Қазақша"], ["ru", "Русский"], ["en", "English"]], lang());
  const email = h("input", { type: "email", name: `${side}_email`, autocomplete: side === "claimant" ? "email" : "off" });
  const emailHint = side === "claimant" ? t("party_email_hint") : t("other_email_hint");
  const representative = h("input", { type: "text", name: `${side}_representative` });
  const needs = h("input", { type: "text", name: `${side}_accessibility`, placeholder: "" });
  return h("fieldset", {},
    h("legend", {}, t(`side_${side}`)),
    field(t("party_name"), name),
    field(t("party_kind"), kind),
    field(t("party_language"), language),
    field(t("party_email"), email, emailHint),
    field(t("party_representative"), representative),
    field(t("party_accessibility"), needs, t("party_accessibility_hint")));
}

function party(form, side) {
  const v = (n) => form.elements[`${side}_${n}`].value.trim();
  const body = { side, kind: v("kind"), name: v("name"), language: v("language") };
  if (v("email")) body.contact = { email: v("email") };
  if (v("representative")) body.representatives = [{ name: v("representative") }];
  if (v("accessibility")) body.accessibility_note = v("accessibility");
  return body;
}

export function fileCase() {
  const box = problemBox();
  const category = select("category", CATEGORIES.map((c) => [c, t(`category_${c}`)]), "civil");
  const gravity = select("gravity", GRAVITY.map((g) => [g, t(`gravity_${g}`)]), "minor");
  const gravityField = field(t("offence_gravity"), gravity);
  gravityField.hidden = true;
  category.addEventListener("change", () => { gravityField.hidden = category.value !== "criminal"; });
  const submit = h("button", { type: "submit", id: "file-submit" }, t("file_submit"));
  const form = h("form", { class: "card", novalidate: true },
    field(t("jurisdiction"), select("jurisdiction", [["KZ", t("jurisdiction_KZ")], ["EU", t("jurisdiction_EU")]], "KZ")),
    field(t("category"), category),
    gravityField,
    field(t("description"), h("textarea", { name: "description", required: true, maxlength: 20000 }), t("description_hint")),
    field(t("amount"), h("input", { type: "number", name: "amount", min: 0, step: "0.01" }), t("amount_hint")),
    checkbox(t("affects_third_parties"), { name: "affects_third_parties" }),
    h("div", { class: "grid two" }, partyFields("claimant"), partyFields("respondent")),
    checkbox(t("consent_to_mediate"), { name: "consent", id: "filing-consent", required: true }),
    box,
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", busy(submit, box, async () => {
    const f = form.elements;
    if (!f.consent.checked) throw new Error(t("consent_required"));
    const body = {
      jurisdiction: f.jurisdiction.value, category: f.category.value, description: f.description.value.trim(),
      affects_third_parties: f.affects_third_parties.checked, language: lang(),
      parties: [party(form, "claimant"), party(form, "respondent")],
    };
    if (body.category === "criminal") body.offence = { gravity: f.gravity.value };
    if (f.amount.value) body.amount = { value: f.amount.value, currency: body.jurisdiction === "KZ" ? "KZT" : "EUR" };
    const filed = await intake.fileCase(body);
    rememberParty(filed.case.id, filed.access_token, { side: "claimant" });
    await saveContact(filed.access_token, f.claimant_email.value.trim());
    navigate(`/cases/${filed.case.id}`);
  }));
  mount(h("h1", {}, t("file_title")), h("p", {}, t("file_intro")), form);
}

/** Where notices go: the notifications service keeps each person's own contact, set with their
 * own token (a claimant cannot set the other party's; they confirm theirs when they answer). */
export async function saveContact(token, email) {
  if (!email) return;
  try {
    await notifications.saveContact(claims(token).sub, { email }, { token });
  } catch { /* the case is filed either way; the address can be given again later */ }
}
