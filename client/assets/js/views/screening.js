// The private safety screening. Each party answers alone; the answers are encrypted at once and
// only the assigned mediator can read them. The party is told so before answering.
import * as intake from "../api/intake.js";
import { lang, t } from "../i18n.js";
import * as identity from "../identity.js";
import { navigate } from "../router.js";
import { busy, checkbox, field, h, mount, problemBox, section } from "../ui.js";

export async function screening(caseId) {
  const me = identity.forCase(caseId);
  if (!me) return navigate(`/cases/${caseId}`, { replace: true });
  const q = await intake.screeningQuestionnaire({ lang: lang() });
  const box = problemBox();
  const yesNo = (name, text) => h("fieldset", {}, h("legend", {}, text),
    h("label", { class: "check" }, h("input", { type: "radio", name, value: "yes" }), " ", t("yes")),
    h("label", { class: "check" }, h("input", { type: "radio", name, value: "no", checked: true }), " ", t("no")));
  const fear = h("select", { name: "fear_level" }, [0, 1, 2, 3].map((n) => h("option", { value: n }, t(`fear_${n}`))));
  const submit = h("button", { type: "submit", id: "screening-submit" }, t("screening_submit"));
  const form = h("form", {},
    q.questions.map((question) => yesNo(question.id, question.text)),
    field(q.fear_level, fear),
    yesNo("safe_in_same_room", q.safe_in_same_room),
    yesNo("wants_support_person", q.wants_support_person),
    box, h("div", { class: "actions" }, submit));
  // "Safe in the same room" defaults to yes; the others to no.
  form.querySelector('input[name="safe_in_same_room"][value="yes"]').checked = true;
  const answer = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value === "yes";
  form.addEventListener("submit", busy(submit, box, async () => {
    const body = {
      answers: Object.fromEntries(q.questions.map((question) => [question.id, answer(question.id)])),
      fear_level: Number(fear.value), safe_in_same_room: answer("safe_in_same_room"),
      wants_support_person: answer("wants_support_person"),
    };
    await intake.submitScreening(caseId, body, { token: me.token });
    mount(h("h1", {}, t("screening_title")), section(t("screening_thanks_title"), h("p", { role: "status" }, t("screening_thanks")),
      h("a", { class: "button", href: `/cases/${caseId}`, "data-link": "" }, t("back_to_case"))));
  }));
  mount(h("h1", {}, t("screening_title")),
    h("p", { class: "notice" }, t("screening_privacy")),
    section(t("screening_questions"), form));
}
