// The case page as a task list (GOV.UK's task list pattern, as HMCTS and BC's Civil Resolution
// Tribunal show a case): for this person's role, each step of the mediation with its state (done,
// theirs to do now, waiting for someone else, not yet possible), and what happens next and by
// when, in the case's time zone. Derived only from the case as intake returns it (its status and
// ``progress``: which party has done what), so it never disagrees with the cards below it.
// Every task is the person's own: each co-party consents, answers the safety questions and signs
// for itself (or its representative for it); an interpreter or support person does none of these.
import { claims } from "../api/http.js";
import { label, t } from "../i18n.js";
import { fmtDate, fmtDateTime, h, section, zoneOf } from "../ui.js";

// The order a case goes through; the terminal statuses stop it where it was.
const ORDER = ["filed", "awaiting_consent", "screening", "needs_review", "eligible", "mediator_agreed",
  "agreement_signed", "in_session", "settled"];
const ENDED = new Set(["declined", "ineligible", "referred_out", "terminated"]);

const reached = (c, status) => c.status !== status && ORDER.indexOf(c.status) > ORDER.indexOf(status);
const at = (c, ...statuses) => statuses.includes(c.status);

/** Who this person is on the case: the party they are with (their own, or the one they represent
 * or assist), whether they act for it (a party or its representative: consent, answer, sign) or
 * only assist (an interpreter, a support person), and whether they answer the party's safety
 * questions (a person's are their own; a company's are answered by whoever attends for it). */
export function actingAs(c, me) {
  if (me.role === "mediator") return { mediator: true, mayAct: true, answersScreening: false };
  const act = me.acting || claims(me.token).act || "party";
  const partyId = me.actingFor || claims(me.token).for || me.subject;
  const party = (c.participants || []).find((x) => x.id === partyId && x.role === "party") || null;
  const mayAct = act === "party" || act === "representative";
  const answersScreening = act === "party" || (act === "representative" && !!party?.kind && party.kind !== "natural_person");
  return { mediator: false, act, partyId, party, mayAct, answersScreening };
}

/** Each task: ``{ id, title, state, hint?, action? }``; state is done | todo | in_progress |
 * waiting | not_yet | closed. ``action`` is where the person does it (a path, or a card's id). */
export function tasks(c, me) {
  const p = c.progress || {};
  const zone = p.time_zone || zoneOf(c.jurisdiction);
  const who = actingAs(c, me);
  const party = !who.mediator;
  const side = me.side;
  const consented = p.consented_parties || [];
  const screened = p.screened_parties || [];
  const signedParties = p.agreement_to_mediate_signed_parties || [];
  const signedSlots = p.agreement_to_mediate_signed_by || [];
  const first = (c.participants || []).find((x) => x.side === side && x.role === "party");
  const list = [];
  const add = (id, title, state, extra = {}) => list.push({ id, title: t(title), state, ...extra });
  const later = (done, now, extra) => (done ? "done" : now ? "todo" : "not_yet");

  if (party && who.mayAct && side === "claimant" && !c.court_id && first?.id === who.partyId) {
    add("file", "task_file", "done", { hint: t("task_file_hint", { date: fmtDateTime(c.filed_at, zone) }) });
    add("invite", "task_invite", at(c, "filed") ? "todo" : "done", { action: "#invite-card" });
    const answered = (p.consented_sides || []).includes("respondent");
    add("other_answers", "task_other_answers", answered ? "done" : at(c, "awaiting_consent") ? "waiting" : "not_yet",
      p.answer_by && !answered ? { hint: t("task_by", { date: fmtDateTime(p.answer_by, zone) }) } : {});
  } else if (party && who.mayAct) {
    const mine = consented.includes(who.partyId);
    const by = p.co_parties_answer_by?.[side];
    add("consent", "task_consent", mine ? "done" : "todo", { action: "#party-consent",
      hint: !mine && by ? t("task_by", { date: fmtDateTime(by, zone) }) : null });
  }
  if (party && who.mayAct) {
    const mine = screened.includes(who.partyId);
    const everyone = (p.screened_sides || []).length === 2;
    if (who.answersScreening) {
      add("screening", "task_screening", mine ? "done" : at(c, "screening") ? "todo" : "not_yet",
        { action: `/cases/${c.id}/screening`, hint: mine && at(c, "screening") && !everyone ? t("task_waiting_others_answers") : null });
    } else {  // a person's representative: the person answers themselves
      add("screening", "task_screening", mine ? "done" : at(c, "screening") ? "waiting" : "not_yet",
        { hint: t("task_screening_their_own", { name: who.party?.name || label("side", side) }) });
    }
  }
  if (at(c, "needs_review")) add("review", "task_review", "waiting");
  if (party && who.mayAct) {
    add("mediator", "task_mediator", reached(c, "eligible") ? "done" : at(c, "eligible") ? "todo" : "not_yet", { action: "#mediator-card" });
  } else if (!party) {
    add("accept", "task_accept_case", reached(c, "eligible") ? "done" : "todo", { action: "#mediator-card" });
  }
  if (!party || who.mayAct) {
    const mine = party ? signedParties.includes(who.partyId) : signedSlots.includes("mediator");
    add("atm", "task_atm", mine || reached(c, "mediator_agreed") ? "done" : at(c, "mediator_agreed") ? "todo" : "not_yet",
      { action: "#atm-card", hint: at(c, "mediator_agreed") && mine ? t("task_waiting_others") : null });
  }
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
  if (mine) return t("next_yours", { task: mine.title }) + (mine.hint ? ` ${sentence(mine.hint)}` : "");
  if (waiting) return t("next_waiting", { task: waiting.title }) + (waiting.hint ? ` ${sentence(waiting.hint)}` : "");
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

/** A hint as a sentence: one full stop at its end, also when it ends with an abbreviation that has
 * its own ("30 декабря 2026 г."). */
function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
