// Filing a case, one question per page (GOV.UK's "one thing per page", as HMCTS and BC's Civil
// Resolution Tribunal file claims): a start page, a page per question, "check your answers" with
// a Change link per answer, then a confirmation page with the case's reference. People file on a
// phone, get interrupted and come back: the answers so far live in this tab (sessionStorage)
// through reloads and are forgotten once the case is filed. The eligibility screening runs on
// filing; its result is explained on the case page in the party's language.
import { claims } from "../api/http.js";
import * as intake from "../api/intake.js";
import * as notifications from "../api/notifications.js";
import { lang, t } from "../i18n.js";
import * as identity from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, errorSummary, field, fmtMoney, h, mount, problemBox, select } from "../ui.js";

const CATEGORIES = ["civil", "family", "labour", "commercial", "administrative", "administrative_offence", "criminal"];
const GRAVITY = ["misdemeanour", "minor", "medium", "grave", "especially_grave"];
const KINDS = ["natural_person", "legal_entity", "group", "state_body"];
const JURISDICTIONS = ["KZ", "KG", "EU"];
export const LANGUAGES = [["kk", "Қазақша"], ["ky", "Кыргызча"], ["ru", "Русский"], ["en", "English"]];
const SIDES = ["claimant", "respondent"]; // the order the filing sends the parties in
// Criminal Code Art. 68(2): who may be released after reconciling for a grave crime.
const CIRCUMSTANCES = ["minor", "pregnant", "woman_with_young_child", "man_raising_young_child_alone",
  "woman_aged_58_or_over", "man_aged_63_or_over"];

// The one rule the services apply to an address (a dotted domain: maria@mail is refused), checked
// here first so the person hears of it beside the field, not after filing.
export const EMAIL = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;

// -- the answers so far (this tab only) ------------------------------------------------------------

const KEY = "odr.filing";
const FILED = (caseId) => `odr.filed.${caseId}`; // what the confirmation page says after a reload

function answers() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || {}; } catch { return {}; }
}

function keep(changes) {
  sessionStorage.setItem(KEY, JSON.stringify({ ...answers(), ...changes }));
}

// -- controls ------------------------------------------------------------------------------------------

/** A page's one question as its heading and the control's label (GOV.UK's label-as-heading). */
function question(text, control, hint) {
  const wrapped = field(text, control, hint);
  const labelEl = wrapped.querySelector("label");
  const heading = h("h1", { class: "question-heading" });
  labelEl.before(heading);
  heading.append(labelEl);
  return wrapped;
}

/** Radios in a fieldset whose legend is the question (the page's heading when ``heading``);
 * nothing is chosen for the person. */
function radios(name, options, value, legend, { heading = true, hint } = {}) {
  const hintEl = hint ? h("p", { class: "hint", id: `${name}-hint` }, hint) : null;
  return h("fieldset", { id: `${name}-group`, class: "radios", "aria-describedby": hintEl ? hintEl.id : null },
    h("legend", {}, heading ? h("h1", { class: "question-heading" }, legend) : legend), hintEl,
    options.map(([v, text]) => h("label", { class: "check" },
      h("input", { type: "radio", name, value: v, id: `${name}-${v}`, checked: v === value }), " ", text)));
}

function text(name, value, attrs = {}) {
  return h("input", { type: "text", name, id: name, value: value || "", ...attrs });
}

function chosen(form, name) {
  return form.querySelector(`input[name="${name}"]:checked`)?.value || "";
}

const need = (ok, target, message) => (ok ? [] : [{ target, message }]);
const yesNo = [["yes", "yes"], ["no", "no"]];

// -- a criminal case ---------------------------------------------------------------------------------
// Its parties are the victim (who files) and the suspect, and the pages call them so: these are the
// words that differ from a dispute's, each by the dispute's key (a thunk, so that every key the
// client uses is written out as a call of t).
const CRIMINAL_WORDS = {
  filing_q_you: () => t("crime_q_you"),
  filing_q_other_party: () => t("crime_q_suspect"),
  filing_q_their_contact: () => t("crime_q_suspect_contact"),
  filing_q_amount: () => t("crime_q_amount"),
  amount_hint: () => t("crime_amount_hint"),
  filing_section_you: () => t("crime_section_you"),
  filing_section_other_party: () => t("crime_section_suspect"),
  filing_their_representative: () => t("crime_suspect_representative"),
  filing_their_needs: () => t("crime_suspect_needs"),
  other_language: () => t("crime_suspect_language"),
  other_language_hint: () => t("crime_suspect_language_hint"),
  other_email_hint: () => t("crime_suspect_email_hint"),
  error_respondent_name: () => t("crime_error_suspect_name"),
};
const criminal = (a) => a.category === "criminal";
// Kazakhstan's Criminal Code Art. 68(2) turns on these facts for a grave crime; elsewhere they decide nothing.
const grave = (a) => criminal(a) && a.gravity === "grave" && a.jurisdiction === "KZ";
/** The words for ``key`` in this filing: a criminal case's own where it has them. */
const words = (a, key) => (criminal(a) && CRIMINAL_WORDS[key] ? CRIMINAL_WORDS[key]() : t(key));

/** A yes/no question about the crime (``others`` adds options such as "I don't know"). */
function crimeQuestion({ id, name, when, legend, hint, error, others = [] }) {
  const options = () => [...yesNo.map(([v]) => [v, t(v)]), ...others.map(([v, key]) => [v, t(key)])];
  return {
    id, when, required: [name],
    build: (a) => [radios(name, options(), a[name], legend(), { hint: hint && hint() })],
    read: (f) => ({ [name]: chosen(f, name) }),
    check: (f) => need(chosen(f, name), f.querySelector(`#${name}-group`), error()),
    rows: (a) => [[legend(), a[name] && Object.fromEntries(options())[a[name]]]],
  };
}

/** Checkboxes for the suspect's circumstances, with an exclusive "none of these" (GOV.UK). */
function circumstances(a) {
  const kept = a.suspect_circumstances || [];
  const box = (value, text) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "suspect_circumstances", value, id: `suspect_circumstances-${value}`, checked: kept.includes(value) }),
    " ", text);
  const hint = h("p", { class: "hint", id: "suspect_circumstances-hint" }, t("crime_circumstances_hint"));
  const group = h("fieldset", { id: "suspect_circumstances-group", class: "radios", "aria-describedby": hint.id },
    h("legend", {}, h("h1", { class: "question-heading" }, t("crime_q_circumstances"))), hint,
    CIRCUMSTANCES.map((c) => box(c, t(`crime_circumstance_${c}`))),
    h("p", { class: "or" }, t("crime_or")),
    box("none", t("crime_circumstance_none")));
  group.addEventListener("change", (event) => { // "none of these" and a circumstance exclude each other
    if (!event.target.checked) return;
    for (const other of group.querySelectorAll("input:checked")) {
      if (other !== event.target && (other.value === "none" || event.target.value === "none")) other.checked = false;
    }
  });
  return [group];
}

function circumstancesChosen(f) {
  return [...f.querySelectorAll('input[name="suspect_circumstances"]:checked')].map((i) => i.value);
}

// -- the questions -------------------------------------------------------------------------------------
// Each page: what it asks (``build`` from the answers so far), what it keeps (``read``), what must
// be put right before going on (``check``, the rules the API applies), and its rows on the check
// page (``rows``). ``required`` names the answers without which the case cannot be filed.

const STEPS = [
  {
    id: "where", required: ["jurisdiction"],
    build: (a) => [radios("jurisdiction", JURISDICTIONS.map((j) => [j, t(`jurisdiction_${j}`)]), a.jurisdiction, t("filing_q_where"))],
    read: (f) => ({ jurisdiction: chosen(f, "jurisdiction") }),
    check: (f) => need(chosen(f, "jurisdiction"), f.querySelector("#jurisdiction-group"), t("filing_error_where")),
    rows: (a) => [[t("jurisdiction"), a.jurisdiction && t(`jurisdiction_${a.jurisdiction}`)]],
  },
  {
    id: "category", required: ["category"],
    build: (a) => {
      const group = radios("category", CATEGORIES.map((c) => [c, t(`category_${c}`)]), a.category, t("filing_q_category"));
      const gravity = field(t("offence_gravity"), select("gravity", GRAVITY.map((g) => [g, t(`gravity_${g}`)]), a.gravity || "minor"));
      gravity.classList.add("conditional");
      gravity.hidden = a.category !== "criminal"; // GOV.UK's conditional reveal
      group.addEventListener("change", () => { gravity.hidden = chosen(group, "category") !== "criminal"; });
      return [group, gravity];
    },
    read: (f) => ({ category: chosen(f, "category"), gravity: f.elements.gravity.value }),
    check: (f) => need(chosen(f, "category"), f.querySelector("#category-group"), t("filing_error_category")),
    rows: (a) => [[t("category"), a.category && t(`category_${a.category}`)],
      a.category === "criminal" && [t("offence_gravity"), t(`gravity_${a.gravity || "minor"}`)]],
  },
  // Only for a criminal case, and Art. 68(2)'s conditions only for a grave crime, where they decide.
  crimeQuestion({ id: "crime-death", name: "caused_death", when: criminal, legend: () => t("crime_q_death"),
    error: () => t("crime_error_yes_no") }),
  crimeQuestion({ id: "crime-grave-harm", name: "caused_grave_harm", when: grave, legend: () => t("crime_q_grave_harm"),
    hint: () => t("crime_grave_harm_hint"), error: () => t("crime_error_yes_no") }),
  crimeQuestion({ id: "crime-first-offence", name: "first_offence", when: grave, legend: () => t("crime_q_first_offence"),
    hint: () => t("crime_first_offence_hint"), error: () => t("crime_error_first_offence"),
    others: [["unknown", "crime_dont_know"]] }),
  {
    id: "crime-suspect", when: grave, required: ["suspect_circumstances"],
    build: circumstances,
    read: (f) => ({ suspect_circumstances: circumstancesChosen(f) }),
    check: (f) => need(circumstancesChosen(f).length, f.querySelector("#suspect_circumstances-group"), t("crime_error_circumstances")),
    rows: (a) => [[t("crime_q_circumstances"), (a.suspect_circumstances || []).map((c) => t(`crime_circumstance_${c}`)).join("\n")]],
  },
  crimeQuestion({ id: "crime-harm-made-good", name: "harm_made_good", when: criminal, legend: () => t("crime_q_harm_made_good"),
    hint: () => t("crime_harm_made_good_hint"), error: () => t("crime_error_yes_no") }),
  {
    id: "description", required: ["description"],
    build: (a) => [question(t("description"), h("textarea", { name: "description", id: "description", rows: 8, maxlength: 20000 }, a.description || ""), t("description_hint"))],
    read: (f) => ({ description: f.elements.description.value.trim() }),
    check: (f) => need(f.elements.description.value.trim(), f.elements.description, t("error_description")),
    rows: (a) => [[t("description"), a.description]],
  },
  {
    id: "amount", required: [],
    build: (a) => [question(words(a, "filing_q_amount"), text("amount", a.amount, { inputmode: "decimal", autocomplete: "off", spellcheck: "false" }), words(a, "amount_hint"))],
    read: (f) => ({ amount: f.elements.amount.value.trim().replace(",", ".").replace(/\s+/g, "") }),
    check: (f) => {
      const v = f.elements.amount.value.trim().replace(",", ".").replace(/\s+/g, "");
      return need(!v || (/^\d+(\.\d{1,2})?$/.test(v)), f.elements.amount, t("error_amount"));
    },
    rows: (a) => [[t("amount"), a.amount ? fmtMoney(a.amount, currencyOf(a.jurisdiction)) : t("filing_none_given")]],
  },
  {
    id: "others", required: ["affects_third_parties"],
    build: (a) => [radios("affects_third_parties", yesNo.map(([v]) => [v, t(v)]), a.affects_third_parties,
      t("filing_q_third_parties"), { hint: t("filing_third_parties_hint") })],
    read: (f) => ({ affects_third_parties: chosen(f, "affects_third_parties") }),
    check: (f) => need(chosen(f, "affects_third_parties"), f.querySelector("#affects_third_parties-group"), t("filing_error_third_parties")),
    rows: (a) => [[t("filing_q_third_parties"), a.affects_third_parties && t(a.affects_third_parties)]],
  },
  {
    id: "you", required: ["claimant_name"], heading: "filing_q_you",
    build: (a) => partyFields("claimant", a),
    read: (f) => readParty(f, "claimant"),
    check: (f) => need(f.elements.claimant_name.value.trim(), f.elements.claimant_name, t("error_claimant_name")),
    rows: (a) => partyRows("claimant", a),
  },
  {
    id: "your-contact", required: ["claimant_language"], heading: "filing_q_your_contact",
    build: (a) => contactFields("claimant", a),
    read: (f) => readContact(f, "claimant"),
    check: (f) => checkContact(f, "claimant"),
    rows: (a) => contactRows("claimant", a),
  },
  {
    id: "other-party", required: ["respondent_name"], heading: "filing_q_other_party",
    build: (a) => partyFields("respondent", a),
    read: (f) => readParty(f, "respondent"),
    check: (f) => need(f.elements.respondent_name.value.trim(), f.elements.respondent_name, words(answers(), "error_respondent_name")),
    rows: (a) => partyRows("respondent", a),
  },
  {
    id: "their-contact", required: ["respondent_language"], heading: "filing_q_their_contact",
    build: (a) => contactFields("respondent", a),
    read: (f) => readContact(f, "respondent"),
    check: (f) => checkContact(f, "respondent"),
    rows: (a) => contactRows("respondent", a),
  },
  {
    id: "representatives", required: [], heading: "filing_q_representatives", intro: "filing_representatives_intro",
    build: (a) => [field(t("filing_your_representative"), text("claimant_representative", a.claimant_representative, { autocomplete: "off" })),
      field(words(a, "filing_their_representative"), text("respondent_representative", a.respondent_representative, { autocomplete: "off" }))],
    read: (f) => ({ claimant_representative: f.elements.claimant_representative.value.trim(),
      respondent_representative: f.elements.respondent_representative.value.trim() }),
    check: () => [],
    rows: (a) => [[t("filing_your_representative"), a.claimant_representative || t("filing_none_given")],
      [words(a, "filing_their_representative"), a.respondent_representative || t("filing_none_given")]],
  },
  {
    id: "needs", required: [], heading: "filing_q_needs", intro: "party_accessibility_hint",
    build: (a) => [field(t("filing_your_needs"), h("textarea", { name: "claimant_accessibility", id: "claimant_accessibility", maxlength: 1000 }, a.claimant_accessibility || "")),
      field(words(a, "filing_their_needs"), h("textarea", { name: "respondent_accessibility", id: "respondent_accessibility", maxlength: 1000 }, a.respondent_accessibility || ""))],
    read: (f) => ({ claimant_accessibility: f.elements.claimant_accessibility.value.trim(),
      respondent_accessibility: f.elements.respondent_accessibility.value.trim() }),
    check: () => [],
    rows: (a) => [[t("filing_your_needs"), a.claimant_accessibility || t("filing_none_given")],
      [words(a, "filing_their_needs"), a.respondent_accessibility || t("filing_none_given")]],
  },
];

function partyFields(side, a) {
  const name = text(`${side}_name`, a[`${side}_name`], { autocomplete: side === "claimant" ? "name" : "off", spellcheck: "false" });
  const kind = select(`${side}_kind`, KINDS.map((k) => [k, t(`kind_${k}`)]), a[`${side}_kind`] || "natural_person");
  return [field(t("party_name"), name), field(t("party_kind"), kind)];
}

function readParty(f, side) {
  return { [`${side}_name`]: f.elements[`${side}_name`].value.trim(), [`${side}_kind`]: f.elements[`${side}_kind`].value };
}

function partyRows(side, a) {
  return [[t("party_name"), a[`${side}_name`]], [t("party_kind"), t(`kind_${a[`${side}_kind`] || "natural_person"}`)]];
}

function contactFields(side, a) {
  // The other party's language is asked, never assumed to be the claimant's.
  const language = side === "claimant"
    ? select(`${side}_language`, LANGUAGES, a.claimant_language || lang())
    : select(`${side}_language`, [["", t("choose")], ...LANGUAGES], a.respondent_language || "");
  language.id = `${side}_language`;
  const email = h("input", { type: "email", name: `${side}_email`, id: `${side}_email`, value: a[`${side}_email`] || "",
    autocomplete: side === "claimant" ? "email" : "off", spellcheck: "false" });
  return [
    field(side === "claimant" ? t("party_language") : words(a, "other_language"), language, side === "claimant" ? null : words(a, "other_language_hint")),
    field(t("filing_email_optional"), email, side === "claimant" ? t("party_email_hint") : words(a, "other_email_hint")),
  ];
}

function readContact(f, side) {
  return { [`${side}_language`]: f.elements[`${side}_language`].value, [`${side}_email`]: f.elements[`${side}_email`].value.trim() };
}

function checkContact(f, side) {
  const email = f.elements[`${side}_email`].value.trim();
  return [
    ...need(f.elements[`${side}_language`].value, f.elements[`${side}_language`], t(side === "claimant" ? "filing_error_your_language" : "error_language")),
    ...need(!email || EMAIL.test(email), f.elements[`${side}_email`], t("error_email")),
  ];
}

function contactRows(side, a) {
  const named = Object.fromEntries(LANGUAGES);
  return [[side === "claimant" ? t("party_language") : words(a, "other_language"), named[a[`${side}_language`]]],
    [t("party_email"), a[`${side}_email`] || t("filing_none_given")]];
}

const CURRENCY = { KZ: "KZT", KG: "KGS", EU: "EUR" };
const currencyOf = (jurisdiction) => CURRENCY[jurisdiction] || "EUR";

const stepById = (id) => STEPS.find((s) => s.id === id);
/** The pages this filing asks (a criminal case has questions of its own). */
const shown = (a) => STEPS.filter((s) => !s.when || s.when(a));
const unanswered = (value) => !value || (Array.isArray(value) && !value.length);
const missing = (a) => shown(a).find((s) => s.required.some((name) => unanswered(a[name])));

// -- pages ---------------------------------------------------------------------------------------------

/** /file: what filing asks for, and where to start (or go on, if answers are kept in this tab). */
export function fileCase() {
  const a = answers();
  const started = Object.keys(a).length > 0;
  const next = started ? (missing(a)?.id || "check") : STEPS[0].id;
  mount(h("h1", {}, t("file_title")), h("p", {}, t("file_intro")),
    h("p", {}, t("filing_you_need")),
    h("ul", {}, ["filing_need_dispute", "filing_need_parties", "filing_need_contact"].map((k) => h("li", {}, t(k)))),
    h("p", { class: "muted" }, t("filing_kept_note")),
    h("a", { class: "button start", id: "file-start", href: `/file/${next}`, "data-link": "", role: "button" },
      started ? t("filing_continue_where_left") : t("filing_start")));
}

let pending = null; // problems the service found, shown on the page they belong to: { step, items }

/** /file/<step>: one question; /file/check: the check-your-answers page. */
export function fileStep(stepId) {
  if (stepId === "check") return checkAnswers();
  if (EXTRA[stepId]) return extraPage(stepId);
  const a = answers();
  const step = stepById(stepId);
  if (!step || !shown(a).includes(step)) return navigate("/file", { replace: true });
  const changing = new URLSearchParams(location.search).has("change");
  const index = shown(a).indexOf(step);
  const back = changing ? "/file/check" : (index ? `/file/${shown(a)[index - 1].id}` : "/file");
  const summary = errorSummary();
  const go = h("button", { type: "submit", id: "file-continue" }, t("filing_continue"));
  const form = h("form", { novalidate: true, class: "question-page" },
    step.heading && h("h1", {}, words(a, step.heading)), step.intro && h("p", { class: "hint" }, t(step.intro)),
    step.build(a), h("div", { class: "actions" }, go));
  // Keep answers as they are typed: a reload, or the phone's browser dropping the tab, loses nothing.
  form.addEventListener("input", () => keep(step.read(form)));
  form.addEventListener("change", () => keep(step.read(form)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    keep(step.read(form));
    const problems = step.check(form);
    if (problems.length) return summary.showFields(problems);
    // From "check your answers" back to it (which sends the person on to any question still open).
    // The pages after this one are read anew: this answer may add or take away some (a grave crime).
    const pages = shown(answers());
    const at = pages.indexOf(step);
    navigate(changing || at === pages.length - 1 ? "/file/check" : `/file/${pages[at + 1].id}`);
  });
  mount(h("a", { href: back, class: "back-link", "data-link": "" }, t("filing_back")),
    h("p", { class: "caption" }, t("filing_step_of", { n: index + 1, total: shown(a).length })),
    summary, form);
  if (pending?.step === step.id) {
    const items = pending.items.map(({ name, message }) => ({ target: form.querySelector(`#${name}-group`) || form.elements[name], message }))
      .filter((i) => i.target);
    pending = null;
    if (items.length) summary.showFields(items);
  }
}

/** Every answer with a Change link, the consent, and the button that files the case. */
function checkAnswers() {
  const a = answers();
  const gap = missing(a);
  if (gap) return navigate(`/file/${gap.id}`, { replace: true }); // arrived here before answering everything
  const summary = errorSummary();
  const groups = [["filing_section_dispute", ["where", "category", "description", "amount", "others"]],
    ["crime_section_offence", ["crime-death", "crime-grave-harm", "crime-first-offence", "crime-suspect", "crime-harm-made-good"]],
    ["filing_section_you", ["you", "your-contact"]], ["filing_section_other_party", ["other-party", "their-contact"]],
    ["filing_section_help", ["representatives", "needs"]]];
  const submit = h("button", { type: "submit", id: "file-submit" }, t("file_submit"));
  const consent = checkbox(t("consent_to_mediate"), { name: "consent", id: "filing-consent", required: true });
  const form = h("form", { novalidate: true },
    h("h2", {}, t("filing_send_title")), h("p", {}, t("filing_send_intro")),
    h("div", { class: "field" }, consent), h("div", { class: "actions" }, submit));
  form.addEventListener("submit", busy(submit, summary, async () => {
    if (!form.elements.consent.checked) return summary.showFields([{ target: form.elements.consent, message: t("consent_required") }]);
    try {
      await send(answers());
    } catch (error) {
      if (String(error?.problem?.type || "").endsWith("/case-ineligible") && error.problem.rules?.length) {
        return refused(summary, error.problem.rules, answers()); // why, in the filer's language, with the law's article
      }
      if (!showWhereItBelongs(error)) throw error; // the summary on this page tells the rest
    }
  }));
  const asked = shown(a);
  const added = { filing_section_you: moreRows(a, "claimant"), filing_section_other_party: moreRows(a, "respondent"),
    filing_section_help: helperRows(a) };
  mount(h("a", { href: `/file/${asked[asked.length - 1].id}`, class: "back-link", "data-link": "" }, t("filing_back")),
    h("h1", {}, t("filing_check_title")), summary,
    groups.map(([title, all]) => [title, all.filter((id) => asked.includes(stepById(id)))]).filter(([, ids]) => ids.length)
      .map(([title, ids]) => h("section", { class: "check-answers" }, h("h2", {}, words(a, title)),
      h("dl", { class: "summary-list" }, ids.flatMap((id) => stepById(id).rows(a).filter(Boolean).map(([key, value]) =>
        h("div", { class: "summary-row", dataset: { step: id } },
          h("dt", {}, key), h("dd", { class: "pre-wrap wrap-anywhere" }, value || "—"),
          h("dd", { class: "summary-action" }, h("a", { href: `/file/${id}?change=1`, "data-link": "" },
            t("filing_change"), h("span", { class: "visually-hidden" }, ` ${key}`))))))),
      added[title])),
    form);
}

/** A refusal on the check page: that mediation is not possible, each reason in the filer's
 * language with its article, and what now (the answers stay, so a wrong one can be changed). */
function refused(summary, rules, a) {
  const reasons = rules.map((r) => h("span", { class: "refusal-reason" }, r.explanation,
    r.explanation.includes(r.citation) ? null : h("span", { class: "citation" }, ` (${r.citation})`)));
  summary.showFields([], [h("strong", {}, t(criminal(a) ? "crime_refused" : "filing_refused")), ...reasons,
    t(criminal(a) ? "crime_refused_next" : "filing_refused_next")]);
  summary.classList.add("refused");
}

async function send(a) {
  const body = {
    jurisdiction: a.jurisdiction, category: a.category, description: a.description,
    affects_third_parties: a.affects_third_parties === "yes", language: lang(),
    parties: partyKeys(a).map((key) => party(a, key)),
  };
  if (body.category === "criminal") {
    body.offence = offence(a);
    // a criminal case's parties are named by procedural role: the filer is the victim
    body.parties = body.parties.map((p) => ({ ...p, side: p.side === "claimant" ? "victim" : "suspect" }));
  }
  if (a.amount) body.amount = { value: a.amount, currency: currencyOf(body.jurisdiction) };
  const filed = await intake.fileCase(body);
  identity.rememberParty(filed.case.id, filed.access_token, { side: "claimant", reference: filed.case.reference });
  const saved = await saveContact(filed.access_token, a.claimant_email || "");
  sessionStorage.setItem(FILED(filed.case.id), JSON.stringify({ email: a.claimant_email || "", saved }));
  sessionStorage.removeItem(KEY);
  navigate(`/cases/${filed.case.id}/filed`, { replace: true });
}

/** The facts of the crime that the rules turn on; "I don't know" is left out (unknown, not no). */
function offence(a) {
  const facts = { gravity: a.gravity || "minor", caused_death: a.caused_death === "yes" };
  if (a.harm_made_good) facts.harm_made_good = a.harm_made_good === "yes";
  if (grave(a)) {
    facts.caused_grave_harm = a.caused_grave_harm === "yes";
    if (a.first_offence && a.first_offence !== "unknown") facts.first_offence = a.first_offence === "yes";
    facts.suspect_circumstances = (a.suspect_circumstances || []).filter((c) => CIRCUMSTANCES.includes(c));
  }
  return facts;
}

function party(a, key) {
  const [side, n] = key.split(":");
  const extra = n === undefined ? null : (a[`more_${side}`] || [])[Number(n)];
  const body = extra
    ? { side, kind: extra.kind || "natural_person", name: extra.name, language: extra.language }
    : { side, kind: a[`${side}_kind`] || "natural_person", name: a[`${side}_name`], language: a[`${side}_language`] };
  const email = extra ? extra.email : a[`${side}_email`];
  if (email) body.contact = { email };
  if (!extra && a[`${side}_representative`]) body.representatives = [{ name: a[`${side}_representative`] }];
  if (!extra && a[`${side}_accessibility`]) body.accessibility_note = a[`${side}_accessibility`];
  for (const helper of (a.helpers || []).filter((x) => x.party === key)) {
    const list = helper.role === "interpreter" ? "interpreters" : "representatives";
    const person = { name: helper.name, language: helper.language };
    if (helper.email) person.contact = { email: helper.email };
    body[list] = [...(body[list] || []), person];
  }
  return body;
}

/** A validation problem from the service, shown on the question it is about (the page opens with
 * the summary and the message beside the field); false when the problem names no question. */
function showWhereItBelongs(error) {
  const found = (error?.problem?.errors || []).map((e) => whatToFix((e.loc || []).filter((p) => p !== "body"), e.type)).filter(Boolean);
  if (!found.length) return false;
  const step = found[0].step;
  pending = { step, items: found.filter((f) => f.step === step) };
  navigate(`/file/${step}?change=1`);
  return true;
}

function whatToFix(loc, type) {
  const [first, index, second, third] = loc;
  const long = /too_long/.test(type || "");
  if (first === "description") return { step: "description", name: "description", message: long ? t("error_too_long") : t("error_description") };
  if (first === "amount") return { step: "amount", name: "amount", message: t("error_amount") };
  const key = first === "parties" ? partyKeys(answers())[index] : null;
  if (key && key.includes(":")) return null; // an added party: the summary on the check page tells it
  if (key) {
    const side = key;
    const mine = side === "claimant";
    if (second === "name") return { step: mine ? "you" : "other-party", name: `${side}_name`, message: long ? t("error_too_long") : t(`error_${side}_name`) };
    if (second === "language") return { step: mine ? "your-contact" : "their-contact", name: `${side}_language`, message: t("error_language") };
    if (second === "contact" && third === "email") return { step: mine ? "your-contact" : "their-contact", name: `${side}_email`, message: t("error_email") };
    if (second === "representatives") return { step: "representatives", name: `${side}_representative`, message: long ? t("error_too_long") : t("error_representative") };
    if (second === "accessibility_note") return { step: "needs", name: `${side}_accessibility`, message: t("error_too_long") };
  }
  return null;
}

// -- several parties per side, and the people acting with them ("add another", GOV.UK) ----------------
// Reached from "check your answers": a co-claimant or co-respondent (name and kind, then language
// and email), and a representative or interpreter of any party (who, for whom, name, then language
// and email), each added one question page at a time and listed on a page that asks whether to add
// another. Everyone with an email address gets a sign-in link of their own.

/** The parties in the order the filing sends them: "claimant", "claimant:0", ..., "respondent", ... */
function partyKeys(a) {
  return SIDES.flatMap((side) => [side, ...(a[`more_${side}`] || []).map((_, i) => `${side}:${i}`)]);
}

function partyName(a, key) {
  const [side, n] = key.split(":");
  return n === undefined ? a[`${side}_name`] : (a[`more_${side}`] || [])[Number(n)]?.name;
}

const HUB = { claimant: "claimants", respondent: "respondents" };

function moreRows(a, side) {
  const more = a[`more_${side}`] || [];
  return h("div", { class: "add-another", id: `more-${side}` },
    more.length ? h("dl", { class: "summary-list" }, more.map((p, i) => h("div", { class: "summary-row" },
      h("dt", {}, t(side === "claimant" ? "parties_claimant_n" : "parties_respondent_n", { n: i + 2 })),
      h("dd", { class: "pre-wrap wrap-anywhere" }, [p.name, p.email].filter(Boolean).join("\n")),
      h("dd", { class: "summary-action" }, h("a", { href: `/file/${HUB[side]}`, "data-link": "" }, t("filing_change")))))) : null,
    h("p", {}, h("a", { href: `/file/add-${side}`, "data-link": "", id: `add-${side}` },
      t(side === "claimant" ? "parties_add_claimant" : "parties_add_respondent"))));
}

function helperRows(a) {
  const helpers = a.helpers || [];
  return h("div", { class: "add-another", id: "more-helpers" },
    helpers.length ? h("dl", { class: "summary-list" }, helpers.map((x) => h("div", { class: "summary-row" },
      h("dt", {}, t(`role_${x.role}`)),
      h("dd", { class: "pre-wrap wrap-anywhere" }, [x.name, t("parties_for_whom_value", { name: partyName(a, x.party) || "—" }), x.email].filter(Boolean).join("\n")),
      h("dd", { class: "summary-action" }, h("a", { href: "/file/helpers", "data-link": "" }, t("filing_change")))))) : null,
    h("p", {}, h("a", { href: "/file/add-helper", "data-link": "", id: "add-helper" }, t("parties_add_helper"))));
}

function languageAndEmail(a, prefix) {
  const language = select(`${prefix}_language`, [["", t("choose")], ...LANGUAGES], a[`${prefix}_language`] || "");
  language.id = `${prefix}_language`;
  const email = h("input", { type: "email", name: `${prefix}_email`, id: `${prefix}_email`, value: a[`${prefix}_email`] || "",
    autocomplete: "off", spellcheck: "false" });
  return [field(t("parties_their_language"), language), field(t("filing_email_optional"), email, t("parties_email_hint"))];
}

function checkLanguageAndEmail(f, prefix) {
  const email = f.elements[`${prefix}_email`].value.trim();
  return [...need(f.elements[`${prefix}_language`].value, f.elements[`${prefix}_language`], t("error_language")),
    ...need(!email || EMAIL.test(email), f.elements[`${prefix}_email`], t("error_email"))];
}

function readLanguageAndEmail(f, prefix) {
  return { [`${prefix}_language`]: f.elements[`${prefix}_language`].value, [`${prefix}_email`]: f.elements[`${prefix}_email`].value.trim() };
}

/** A page that adds one thing; ``done`` keeps what was added and says where to go next. */
function addingPages(side) {
  const heading = side === "claimant" ? "parties_q_claimant" : "parties_q_respondent";
  return {
    [`add-${side}`]: {
      back: "/file/check", heading,
      build: (a) => [field(t("party_name"), text("adding_name", a.adding_name, { autocomplete: "off", spellcheck: "false" })),
        field(t("party_kind"), select("adding_kind", KINDS.map((k) => [k, t(`kind_${k}`)]), a.adding_kind || "natural_person"))],
      read: (f) => ({ adding_name: f.elements.adding_name.value.trim(), adding_kind: f.elements.adding_kind.value }),
      check: (f) => need(f.elements.adding_name.value.trim(), f.elements.adding_name, t("parties_error_name")),
      next: () => `/file/add-${side}-contact`,
    },
    [`add-${side}-contact`]: {
      back: `/file/add-${side}`, heading: "parties_q_contact",
      build: (a) => languageAndEmail(a, "adding"),
      read: (f) => readLanguageAndEmail(f, "adding"),
      check: (f) => checkLanguageAndEmail(f, "adding"),
      next: (a) => {
        keep({ [`more_${side}`]: [...(a[`more_${side}`] || []), { name: a.adding_name, kind: a.adding_kind || "natural_person",
          language: a.adding_language, email: a.adding_email || "" }], adding_name: "", adding_kind: "", adding_language: "", adding_email: "" });
        return `/file/${HUB[side]}`;
      },
    },
    [HUB[side]]: hub(`more_${side}`, side === "claimant" ? "parties_q_another_claimant" : "parties_q_another_respondent",
      `/file/add-${side}`, (a, p, i) => [t(side === "claimant" ? "parties_claimant_n" : "parties_respondent_n", { n: i + 2 }), p.name]),
  };
}

/** GOV.UK's "add another" page: what was added (each can be removed), and whether to add another. */
function hub(listKey, question, addUrl, row) {
  return {
    back: "/file/check",
    build: (a) => [h("dl", { class: "summary-list", id: "added-list" }, (a[listKey] || []).map((p, i) => h("div", { class: "summary-row" },
      ...row(a, p, i).map((v, j) => h(j ? "dd" : "dt", { class: j ? "pre-wrap wrap-anywhere" : null }, v)),
      h("dd", { class: "summary-action" }, h("button", { type: "button", class: "secondary", dataset: { remove: String(i) },
        onclick: () => { const list = [...(answers()[listKey] || [])]; list.splice(i, 1); keep({ [listKey]: list }); extraPage(location.pathname.split("/").pop()); } },
      t("parties_remove")))))),
    radios("another", yesNo.map(([v]) => [v, t(v)]), "", t(question), { heading: false })],
    read: () => ({}),
    check: (f) => need(chosen(f, "another"), f.querySelector("#another-group"), t("parties_error_another")),
    next: (a, f) => (chosen(f, "another") === "yes" ? addUrl : "/file/check"),
  };
}

const EXTRA = {
  ...addingPages("claimant"),
  ...addingPages("respondent"),
  "add-helper": {
    back: "/file/check", heading: "parties_q_helper",
    build: (a) => [radios("helper_role", [["representative", t("role_representative")], ["interpreter", t("role_interpreter")]], a.helper_role, t("parties_helper_role"), { heading: false }),
      field(t("parties_for_whom"), select("helper_party", partyKeys(a).map((key) => [key, partyName(a, key) || "—"]), a.helper_party || "claimant"))],
    read: (f) => ({ helper_role: chosen(f, "helper_role"), helper_party: f.elements.helper_party.value }),
    check: (f) => need(chosen(f, "helper_role"), f.querySelector("#helper_role-group"), t("parties_error_helper_role")),
    next: () => "/file/add-helper-name",
  },
  "add-helper-name": {
    back: "/file/add-helper",
    build: (a) => [question(t("parties_q_helper_name"), text("helper_name", a.helper_name, { autocomplete: "off", spellcheck: "false" }))],
    read: (f) => ({ helper_name: f.elements.helper_name.value.trim() }),
    check: (f) => need(f.elements.helper_name.value.trim(), f.elements.helper_name, t("parties_error_name")),
    next: () => "/file/add-helper-contact",
  },
  "add-helper-contact": {
    back: "/file/add-helper-name", heading: "parties_q_contact",
    build: (a) => languageAndEmail(a, "helper"),
    read: (f) => readLanguageAndEmail(f, "helper"),
    check: (f) => checkLanguageAndEmail(f, "helper"),
    next: (a) => {
      keep({ helpers: [...(a.helpers || []), { role: a.helper_role, party: a.helper_party || "claimant", name: a.helper_name,
        language: a.helper_language, email: a.helper_email || "" }], helper_role: "", helper_party: "", helper_name: "", helper_language: "", helper_email: "" });
      return "/file/helpers";
    },
  },
  helpers: hub("helpers", "parties_q_another_helper", "/file/add-helper",
    (a, x) => [t(`role_${x.role}`), `${x.name} — ${t("parties_for_whom_value", { name: partyName(a, x.party) || "—" })}`]),
};

/** One of the "add another" pages (not in the numbered questions: reached from "check your answers"). */
function extraPage(id) {
  const page = EXTRA[id];
  const a = answers();
  if (!a.claimant_name || !a.respondent_name) return navigate("/file", { replace: true });
  const summary = errorSummary();
  const go = h("button", { type: "submit", id: "file-continue" }, t("filing_continue"));
  const form = h("form", { novalidate: true, class: "question-page", id: `page-${id}` },
    page.heading && h("h1", {}, t(page.heading)), page.build(a), h("div", { class: "actions" }, go));
  form.addEventListener("input", () => keep(page.read(form)));
  form.addEventListener("change", () => keep(page.read(form)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    keep(page.read(form));
    const problems = page.check(form);
    if (problems.length) return summary.showFields(problems);
    navigate(page.next(answers(), form));
  });
  mount(h("a", { href: page.back, class: "back-link", "data-link": "" }, t("filing_back")), summary, form);
}

// -- after filing ----------------------------------------------------------------------------------------

/** /cases/<id>/filed: GOV.UK's confirmation page: the reference to quote, the receipt email, and
 * what happens next. */
export async function filed(caseId) {
  const me = identity.forCase(caseId);
  if (!me) return navigate(`/cases/${caseId}`, { replace: true });
  const box = problemBox();
  let c = null;
  try {
    c = await intake.getCase(caseId, { token: me.token, lang: lang() });
  } catch (error) {
    box.show(error);
  }
  let kept = {};
  try { kept = JSON.parse(sessionStorage.getItem(FILED(caseId))) || {}; } catch { /* nothing kept */ }
  const reference = c?.reference || caseId.slice(0, 8);
  const receipt = kept.email && kept.saved !== false
    ? t("filed_receipt_sent", { email: kept.email })
    : kept.email ? t("contact_not_saved") : t("filed_no_email");
  mount(
    h("div", { class: "panel", id: "filed-panel" },
      h("h1", {}, t("filed_title")),
      h("p", {}, t("filed_reference_label")), h("p", { class: "reference", id: "filed-reference" }, reference)),
    box,
    h("p", { id: "filed-receipt" }, receipt),
    h("h2", {}, t("filed_next_title")),
    h("ol", { class: "next-steps" }, ["filed_next_invite", "filed_next_answer", "filed_next_screening"].map((k) => h("li", {}, t(k)))),
    h("div", { class: "actions" }, h("a", { class: "button", id: "filed-continue", href: `/cases/${caseId}`, "data-link": "" }, t("filed_go_to_case"))));
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
