// The case page as a task list (GOV.UK's task list pattern, as HMCTS and BC's Civil Resolution
// Tribunal show a case): for this person's role, each step of the mediation with its state (done,
// theirs to do now, waiting for someone else, not yet possible), and what happens next and by
// when, in the case's time zone. Derived only from the case as intake returns it (its status and
// ``progress``: which side has done what), so it never disagrees with the cards below it.
import { label, t } from "../i18n.js";
import { fmtDate, fmtDateTime, h, section, zoneOf } from "../ui.js";

// The order a case goes through; the terminal statuses stop it where it was.
const ORDER = ["filed", "awaiting_consent", "screening", "needs_review", "eligible", "mediator_agreed",
  "agreement_signed", "in_session", "settled"];
const ENDED = new Set(["declined", "ineligible", "referred_out", "terminated"]);

const reached = (c, status) => c.status !== status && ORDER.indexOf(c.status) > ORDER.indexOf(status);
const at = (c, ...statuses) => statuses.includes(c.status);

/** Each task: ``{ id, title, state, hint?, action? }``; state is done | todo | in_progress |
 * waiting | not_yet | closed. ``action`` is where the person does it (a path, or a card's id). */
export function tasks(c, me) {
  const p = c.progress || {};
  const zone = p.time_zone || zoneOf(c.jurisdiction);
  const party = me.role !== "mediator";
  const side = me.side;
  const other = side === "claimant" ? "respondent" : "claimant";
  const consented = p.consented_sides || [];
  const screened = p.screened_sides || [];
  const signed = p.agreement_to_mediate_signed_by || [];
  const slot = party ? side : "mediator";
  const list = [];
  const add = (id, title, state, extra = {}) => list.push({ id, title: t(title), state, ...extra });
  const later = (done, now, extra) => (done ? "done" : now ? "todo" : "not_yet");

  if (party && side === "claimant" && !c.court_id) {
    add("file", "task_file", "done", { hint: t("task_file_hint", { date: fmtDateTime(c.filed_at, zone) }) });
    add("invite", "task_invite", at(c, "filed") ? "todo" : "done", { action: "#invite-card" });
    const answered = consented.includes("respondent");
    add("other_answers", "task_other_answers", answered ? "done" : at(c, "awaiting_consent") ? "waiting" : "not_yet",
      p.answer_by && !answered ? { hint: t("task_by", { date: fmtDateTime(p.answer_by, zone) }) } : {});
  } else if (party) {
    add("consent", "task_consent", consented.includes(side) ? "done" : "todo");
  }
  if (party) {
    const mine = screened.includes(side);
    add("screening", "task_screening", mine ? "done" : at(c, "screening") ? "todo" : "not_yet",
      { action: `/cases/${c.id}/screening`, hint: mine && at(c, "screening") && !screened.includes(other) ? t("task_waiting_other") : null });
  }
  if (at(c, "needs_review")) add("review", "task_review", "waiting");
  if (party) {
    add("mediator", "task_mediator", reached(c, "eligible") ? "done" : at(c, "eligible") ? "todo" : "not_yet", { action: "#mediator-card" });
  } else {
    add("accept", "task_accept_case", reached(c, "eligible") ? "done" : "todo", { action: "#mediator-card" });
  }
  add("atm", "task_atm", signed.includes(slot) || reached(c, "mediator_agreed") ? "done" : at(c, "mediator_agreed") ? "todo" : "not_yet",
    { action: "#atm-card", hint: at(c, "mediator_agreed") && signed.includes(slot) ? t("task_waiting_others") : null });
  add("session", party ? "task_session" : "task_hold_session",
    at(c, "settled") ? "done" : at(c, "in_session") ? "in_progress" : at(c, "agreement_signed") ? "todo" : "not_yet",
    { action: `/cases/${c.id}/room`, hint: at(c, "agreement_signed", "in_session") && c.term_ends_on ? t("task_term_by", { date: fmtDate(c.term_ends_on) }) : null });
  add("settlement", party ? "task_settlement" : "task_draft_settlement", later(at(c, "settled"), at(c, "in_session")), { action: "#agreements-card" });
  if (ENDED.has(c.status)) for (const task of list) if (task.state !== "done") task.state = "closed";
  return list;
}

/** The task list card, with "what happens next" under it. */
export function taskList(c, me) {
  const list = tasks(c, me);
  const mine = list.find((x) => x.state === "todo" || x.state === "in_progress");
  const waiting = list.find((x) => x.state === "waiting");
  const done = list.filter((x) => x.state === "done").length;
  const card = section(t("tasks_title"),
    h("p", { class: "muted", id: "tasks-count" }, t("tasks_count", { done, total: list.length })),
    h("ol", { class: "task-list", id: "task-list" }, list.map((task) => h("li", { class: "task", dataset: { task: task.id, state: task.state } },
      h("span", { class: "task-name" }, task.state === "todo" && task.action ? actionLink(task) : task.title,
        task.hint ? h("span", { class: "task-hint" }, task.hint) : null),
      h("strong", { class: `tag tag-${task.state}` }, t(`task_state_${task.state}`))))));
  card.id = "tasks-card";
  const next = whatNext(c, mine, waiting);
  if (next) card.append(h("h3", {}, t("next_title")), h("p", { id: "what-next" }, next));
  return card;
}

function whatNext(c, mine, waiting) {
  if (ENDED.has(c.status) || c.status === "settled") return label("status_explain", c.status);
  if (mine) return t("next_yours", { task: mine.title }) + (mine.hint ? ` ${mine.hint}.` : "");
  if (waiting) return t("next_waiting", { task: waiting.title }) + (waiting.hint ? ` ${waiting.hint}.` : "");
  return label("status_explain", c.status);
}

function actionLink(task) {
  if (task.action.startsWith("/")) return h("a", { href: task.action, "data-link": "" }, task.title);
  // A card further down this page: scrolled to, without a #hash (the router would re-render).
  const a = h("a", { href: task.action }, task.title);
  a.addEventListener("click", (event) => {
    const target = document.querySelector(task.action);
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: "start" });
    target.querySelector("button, a, input")?.focus({ preventScroll: true });
  });
  return a;
}
