// The private safety screening. Each party answers alone; the answers are encrypted at once and
// only the assigned mediator can read them. The party is told so before answering.
//
// Nothing is preselected (a preset "No" is an answer the person never gave). What has been
// answered so far is kept in this tab's sessionStorage, so a reload does not lose it, and is
// removed when the answers are sent or the person leaves with "Exit this page" (GOV.UK's
// pattern: it goes to a neutral site at once and replaces this page in the history).
import * as intake from "../api/intake.js";
import { lang, t } from "../i18n.js";
import * as identity from "../identity.js";
import { navigate } from "../router.js";
import { busy, errorSummary, field, h, mount, section } from "../ui.js";

const KEY = (caseId) => `odr.screening.${caseId}`;
const EXIT_TO = "https://www.google.com/";
const YES_NO = ["safe_in_same_room", "wants_support_person"];

function draft(caseId) {
  try { return JSON.parse(sessionStorage.getItem(KEY(caseId))) || {}; } catch { return {}; }
}

function forget(caseId) {
  sessionStorage.removeItem(KEY(caseId));
}

export async function screening(caseId) {
  const me = identity.forCase(caseId);
  if (!me) return navigate(`/cases/${caseId}`, { replace: true });
  const q = await intake.screeningQuestionnaire({ lang: lang() });
  const kept = draft(caseId);
  const yesNo = (name, text, n) => h("fieldset", { id: `q-${name}`, dataset: { question: name } }, h("legend", {}, `${n}. ${text}`),
    ["yes", "no"].map((value) => h("label", { class: "check" },
      h("input", { type: "radio", name, value, id: `q-${name}-${value}`, checked: kept[name] === value }), " ", t(value))));
  const fear = h("select", { name: "fear_level", id: "q-fear_level" },
    h("option", { value: "" }, t("choose")),
    [0, 1, 2, 3].map((n) => h("option", { value: n, selected: kept.fear_level === String(n) }, t(`fear_${n}`))));
  const note = h("textarea", { name: "note", id: "q-note", maxlength: 2000 });
  note.value = kept.note || "";
  const submit = h("button", { type: "submit", id: "screening-submit" }, t("screening_submit"));
  const summary = errorSummary();
  const form = h("form", { novalidate: true },
    q.questions.map((question, i) => yesNo(question.id, question.text, i + 1)),
    field(`${q.questions.length + 1}. ${q.fear_level}`, fear),
    yesNo("safe_in_same_room", q.safe_in_same_room, q.questions.length + 2),
    yesNo("wants_support_person", q.wants_support_person, q.questions.length + 3),
    field(t("screening_note"), note, t("screening_note_hint")),
    h("div", { class: "actions" }, submit));
  const save = () => {
    const now = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v)]));
    sessionStorage.setItem(KEY(caseId), JSON.stringify(now));
  };
  form.addEventListener("change", save);
  form.addEventListener("input", save);
  const names = [...q.questions.map((question) => question.id), ...YES_NO];
  const chosen = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;
  form.addEventListener("submit", busy(submit, summary, async () => {
    const missing = [
      ...names.filter((name) => !chosen(name)).map((name) => ({ target: form.querySelector(`#q-${name}`),
        message: t("screening_answer_this"), summary: t("screening_answer_n", { n: names.indexOf(name) + 1 + (names.indexOf(name) >= q.questions.length ? 1 : 0) }) })),
      ...(fear.value === "" ? [{ target: fear, message: t("screening_choose_fear"),
        summary: `${q.questions.length + 1}. ${t("screening_choose_fear")}` }] : []),
    ].sort((a, b) => (a.target.compareDocumentPosition(b.target) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    if (missing.length) return summary.showFields(missing);
    const body = {
      answers: Object.fromEntries(q.questions.map((question) => [question.id, chosen(question.id) === "yes"])),
      fear_level: Number(fear.value), safe_in_same_room: chosen("safe_in_same_room") === "yes",
      wants_support_person: chosen("wants_support_person") === "yes",
    };
    if (note.value.trim()) body.note = note.value.trim();
    await intake.submitScreening(caseId, body, { token: me.token });
    forget(caseId);
    mount(h("h1", {}, t("screening_title")), section(t("screening_thanks_title"), h("p", { role: "status" }, t("screening_thanks")),
      h("a", { class: "button", href: `/cases/${caseId}`, "data-link": "" }, t("back_to_case"))));
  }));
  mount(quickExit(caseId), h("h1", {}, t("screening_title")),
    h("p", { class: "notice" }, t("screening_privacy")),
    h("p", { class: "muted" }, t("quick_exit_hint")),
    summary, section(t("screening_questions"), form));
  return listenForShiftThreeTimes(caseId);
}

/** Leave at once: forget the answers, blank the page, and go to a neutral site in place of this
 * page in the history (Back does not return to the questions). */
function exitNow(caseId) {
  forget(caseId);
  document.getElementById("main").replaceChildren();
  document.title = "…";
  history.replaceState(null, "", "/");
  location.replace(EXIT_TO);
}

function quickExit(caseId) {
  const button = h("a", { class: "button danger quick-exit", id: "quick-exit", href: EXIT_TO, rel: "nofollow noreferrer" }, t("quick_exit"));
  button.addEventListener("click", (event) => { event.preventDefault(); exitNow(caseId); });
  return h("div", { class: "quick-exit-bar" }, button);
}

/** GOV.UK's keyboard shortcut for the same: Shift pressed three times within a few seconds. */
function listenForShiftThreeTimes(caseId) {
  let presses = [];
  const onKey = (event) => {
    if (event.key !== "Shift" || event.repeat) return;
    const now = Date.now();
    presses = [...presses.filter((at) => now - at < 5000), now];
    if (presses.length >= 3) exitNow(caseId);
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
