// Filing a case: who the parties are, what the dispute is about, and where. The eligibility
// screening runs on filing; the result is explained on the case page in the party's language.
import { claims } from "../api/http.js";
import * as intake from "../api/intake.js";
import * as notifications from "../api/notifications.js";
import { lang, t } from "../i18n.js";
import { rememberParty } from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, errorSummary, field, h, mount, select, toast } from "../ui.js";

const CATEGORIES = ["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"];
const GRAVITY = ["misdemeanour", "minor", "medium", "grave", "especially_grave"];
const KINDS = ["natural_person", "legal_entity", "group", "state_body"];
const CURRENCY = { KZ: "KZT", KG: "KGS", EU: "EUR" };

// The one rule the services apply to an address (a dotted domain: maria@mail is refused), checked
// here first so the person hears of it beside the field, not after filing.
export const EMAIL = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;

function partyFields(side) {
  const name = h("input", { type: "text", name: `${side}_name`, id: `${side}_name`, required: true, autocomplete: side === "claimant" ? "name" : "off" });
  const kind = select(`${side}_kind`, KINDS.map((k) => [k, t(`kind_${k}`)]), "natural_person");
  // The other party's language is asked, never assumed to be the claimant's.
  const languages = [["kk", "Қазақша"], ["ky", "Кыргызча"], ["ru", "Русский"], ["en", "English"]];
  const language = side === "claimant"
    ? select(`${side}_language`, languages, lang())
    : select(`${side}_language`, [["", t("choose")], ...languages], "");
  language.id = `${side}_language`;
  const email = h("input", { type: "email", name: `${side}_email`, id: `${side}_email`, autocomplete: side === "claimant" ? "email" : "off" });
  const emailHint = side === "claimant" ? t("party_email_hint") : t("other_email_hint");
  const representative = h("input", { type: "text", name: `${side}_representative` });
  const needs = h("input", { type: "text", name: `${side}_accessibility`, placeholder: "" });
  return h("fieldset", {},
    h("legend", {}, t(`side_${side}`)),
    field(t("party_name"), name),
    field(t("party_kind"), kind),
    field(side === "claimant" ? t("party_language") : t("other_language"), language, side === "claimant" ? null : t("other_language_hint")),
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

const SIDES = ["claimant", "respondent"]; // the order the form sends the parties in

/** The form's answer to a validation problem's field path: which control, and what to do. */
function fieldFor(form) {
  const byPath = whatToFix(form);
  return (loc, type) => {
    const found = byPath(loc);
    if (found && /too_long/.test(type || "")) found.message = t("error_too_long");
    return found;
  };
}

function whatToFix(form) {
  return (loc) => {
    const [first, index, second, third] = loc;
    if (first === "description") return { target: form.elements.description, message: t("error_description") };
    if (first === "amount") return { target: form.elements.amount, message: t("error_amount") };
    if (first === "parties" && SIDES[index]) {
      const side = SIDES[index];
      if (second === "name") return { target: form.elements[`${side}_name`], message: t(`error_${side}_name`) };
      if (second === "language") return { target: form.elements[`${side}_language`], message: t("error_language") };
      if (second === "contact" && third === "email") return { target: form.elements[`${side}_email`], message: t("error_email") };
      if (second === "representatives") return { target: form.elements[`${side}_representative`], message: t("error_representative") };
      if (second === "accessibility_note") return { target: form.elements[`${side}_accessibility`], message: t("error_too_long") };
    }
    return null;
  };
}

/** What the person must fix before the form is sent: the same rules the API applies. */
function check(form) {
  const f = form.elements;
  const found = [];
  if (!f.description.value.trim()) found.push({ target: f.description, message: t("error_description") });
  for (const side of SIDES) {
    if (!f[`${side}_name`].value.trim()) found.push({ target: f[`${side}_name`], message: t(`error_${side}_name`) });
    if (!f[`${side}_language`].value) found.push({ target: f[`${side}_language`], message: t("error_language") });
    const email = f[`${side}_email`].value.trim();
    if (email && !EMAIL.test(email)) found.push({ target: f[`${side}_email`], message: t("error_email") });
  }
  if (f.amount.value && !(Number(f.amount.value) >= 0)) found.push({ target: f.amount, message: t("error_amount") });
  if (!f.consent.checked) found.push({ target: f.consent, message: t("consent_required") });
  return found;
}

export function fileCase() {
  const summary = errorSummary();
  const category = select("category", CATEGORIES.map((c) => [c, t(`category_${c}`)]), "civil");
  const gravity = select("gravity", GRAVITY.map((g) => [g, t(`gravity_${g}`)]), "minor");
  const gravityField = field(t("offence_gravity"), gravity);
  gravityField.hidden = true;
  category.addEventListener("change", () => { gravityField.hidden = category.value !== "criminal"; });
  const submit = h("button", { type: "submit", id: "file-submit" }, t("file_submit"));
  const consent = checkbox(t("consent_to_mediate"), { name: "consent", id: "filing-consent", required: true });
  const form = h("form", { class: "card", novalidate: true },
    field(t("jurisdiction"), select("jurisdiction", [["KZ", t("jurisdiction_KZ")], ["KG", t("jurisdiction_KG")], ["EU", t("jurisdiction_EU")]],
      lang() === "ky" ? "KG" : "KZ")),
    field(t("category"), category),
    gravityField,
    field(t("description"), h("textarea", { name: "description", id: "description", required: true, maxlength: 20000 }), t("description_hint")),
    field(t("amount"), h("input", { type: "number", name: "amount", id: "amount", min: 0, step: "0.01" }), t("amount_hint")),
    checkbox(t("affects_third_parties"), { name: "affects_third_parties" }),
    h("div", { class: "grid two" }, partyFields("claimant"), partyFields("respondent")),
    h("div", { class: "field" }, consent),
    h("div", { class: "actions" }, submit));
  summary.fieldFor = fieldFor(form);
  form.addEventListener("submit", busy(submit, summary, async () => {
    const f = form.elements;
    const problems = check(form);
    if (problems.length) return summary.showFields(problems);
    const body = {
      jurisdiction: f.jurisdiction.value, category: f.category.value, description: f.description.value.trim(),
      affects_third_parties: f.affects_third_parties.checked, language: lang(),
      parties: SIDES.map((side) => party(form, side)),
    };
    if (body.category === "criminal") {
      body.offence = { gravity: f.gravity.value };
      // a criminal case's parties are named by procedural role: the filer is the victim
      body.parties = body.parties.map((p) => ({ ...p, side: p.side === "claimant" ? "victim" : "suspect" }));
    }
    if (f.amount.value) body.amount = { value: f.amount.value, currency: CURRENCY[body.jurisdiction] || "EUR" };
    const filed = await intake.fileCase(body);
    rememberParty(filed.case.id, filed.access_token, { side: "claimant", reference: filed.case.reference });
    const saved = await saveContact(filed.access_token, f.claimant_email.value.trim());
    navigate(`/cases/${filed.case.id}`);
    if (!saved) toast(t("contact_not_saved"));
  }));
  mount(h("h1", {}, t("file_title")), h("p", {}, t("file_intro")), summary, form);
}

/** Where notices go: the notifications service keeps each person's own contact, set with their
 * own token (a claimant cannot set the other party's; they confirm theirs when they answer). */
export async function saveContact(token, email) {
  if (!email) return true;
  try {
    await notifications.saveContact(claims(token).sub, { email }, { token });
    return true;
  } catch { // the case is filed (or the answer given) either way: the person is told, not left guessing
    return false;
  }
}
