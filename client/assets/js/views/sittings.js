// The case's calendar on the case page: the next sitting for everyone; the mediator proposes
// times, sees who can come when and fixes one (or moves or cancels it); a party answers, per
// proposed time, whether they can attend, and lists the days they cannot. Times are typed and shown
// in the case's time zone (named), formatted for the reader's language: never an ISO timestamp.
import * as intake from "../api/intake.js";
import { label, t } from "../i18n.js";
import { busy, fmtDate, fmtDateTime, h, section, toast } from "../ui.js";

/** The case's calendar, or null when it cannot be read (the section is then left out). */
export const loadCalendar = (caseId, me) => intake.sittings(caseId, { token: me.token }).catch(() => null);

/** "Next sitting: 3 December 2026, 15:00 (Almaty time)", or that none is fixed yet. */
export function nextSittingLine(cal) {
  const next = cal?.next_sitting;
  return h("p", { id: "next-sitting", class: "next-sitting", dataset: { sitting: next?.id || "" } },
    next ? t("sitting_next", { when: fmtDateTime(next.starts_at, cal.time_zone) }) : t("sitting_none"));
}

/** ``busy`` with the calendar's own problems told in the reader's words: the term's dates and the
 * law's citation, or which side cannot come on which day. */
function act(button, box, action) {
  return busy(button, box, async () => {
    try {
      await action();
    } catch (error) {
      throw explained(error);
    }
  });
}

function explained(error) {
  const p = error?.problem || {};
  const type = String(p.type || "").split("/").pop();
  if (type === "sitting-outside-term") {
    return new Error(t("problem_sitting_outside_term", { from: fmtDate(p.term_starts_on), to: fmtDate(p.term_ends_on), citation: p.citation }));
  }
  if (type === "party-unavailable") {
    return new Error(t("problem_party_unavailable", { sides: (p.sides || []).map((s) => label("side", s)).join(", "), date: fmtDate(p.date) }));
  }
  if (type === "sitting-in-the-past") return new Error(t("problem_sitting_in_the_past"));
  if (type === "no-running-term") return new Error(t("problem_no_running_term", { citation: p.citation }));
  return error;
}

export function sittingsStep(c, me, cal, box, refresh) {
  const card = section(t("sittings_title"), nextSittingLine(cal));
  const mediator = me.role === "mediator";
  card.append(h("p", { class: "muted" }, t("sittings_term", {
    from: fmtDate(cal.term_starts_on), to: fmtDate(cal.term_ends_on), zone: label("zone", cal.time_zone) })));
  const open = cal.sittings.filter((s) => s.status !== "cancelled");
  if (open.length) card.append(h("ul", { class: "list sittings", id: "sittings" }, open.map((s) => sittingItem(c, me, cal, s, box, refresh))));
  if (mediator) card.append(proposeForm(c, me, cal, box, refresh));
  else card.append(unavailableDates(c, me, cal, box, refresh));
  return card;
}

function when(cal, value) {
  return fmtDateTime(value, cal.time_zone);
}

function sittingItem(c, me, cal, s, box, refresh) {
  const item = h("li", { class: "sitting", dataset: { sitting: s.id, status: s.status } });
  if (s.status === "fixed") {
    item.append(h("p", {}, h("strong", {}, t("sitting_fixed_at", { when: when(cal, s.starts_at) }))));
    if (me.role === "mediator") item.append(fixedControls(c, me, cal, s, box, refresh));
    return item;
  }
  item.append(h("p", {}, t("sitting_proposed_times")));
  if (me.role === "mediator") {
    item.append(h("ul", { class: "slots" }, s.slots.map((slot) => {
      const fix = h("button", { type: "button", class: "secondary", dataset: { fix: slot.id } }, t("sitting_fix"));
      fix.addEventListener("click", act(fix, box, async () => {
        await intake.fixSitting(c.id, s.id, { slotId: slot.id }, { token: me.token });
        toast(t("sitting_fixed_toast")); refresh();
      }));
      const sides = ["claimant", "respondent"].map((side) => {
        const answer = slot.answers[side];
        const off = slot.unavailable_sides.includes(side);
        const text = off ? t("sitting_side_day_off") : answer ? t(`sitting_answer_${answer}`) : t("sitting_no_answer");
        return h("span", { class: `availability ${off || answer === "unavailable" ? "no" : answer ? "yes" : ""}`,
          dataset: { side, availability: off ? "day_off" : answer || "none" } }, `${label("side", side)}: ${text}`);
      });
      return h("li", { dataset: { slot: slot.id } }, h("strong", {}, when(cal, slot.starts_at)), " ", ...sides.flatMap((x) => [x, " "]), fix);
    })));
  } else {
    item.append(answerForm(c, me, cal, s, box, refresh));
  }
  const cancel = h("button", { type: "button", class: "secondary", dataset: { cancel: s.id } }, t("sitting_withdraw"));
  cancel.addEventListener("click", act(cancel, box, async () => {
    await intake.cancelSitting(c.id, s.id, { token: me.token }); refresh();
  }));
  if (me.role === "mediator") item.append(h("div", { class: "actions" }, cancel));
  return item;
}

function answerForm(c, me, cal, s, box, refresh) {
  const form = h("form", { class: "answer", dataset: { answer: s.id } });
  for (const slot of s.slots) {
    const name = `slot-${slot.id}`;
    const mine = slot.answers[me.side];
    const option = (value) => h("label", { class: "check" },
      h("input", { type: "radio", name, value, checked: mine === value, dataset: { slot: slot.id } }), " ", t(`sitting_answer_${value}`));
    form.append(h("fieldset", {}, h("legend", {}, when(cal, slot.starts_at)), option("available"), " ", option("unavailable")));
  }
  const send = h("button", { type: "submit", id: `answer-send-${s.id}` }, t("sitting_send_answers"));
  form.append(send);
  form.addEventListener("submit", act(send, box, async () => {
    const slots = {};
    for (const input of form.querySelectorAll("input[type=radio]:checked")) slots[input.dataset.slot] = input.value;
    await intake.answerSitting(c.id, s.id, { slots }, { token: me.token });
    toast(t("saved")); refresh();
  }));
  return form;
}

function fixedControls(c, me, cal, s, box, refresh) {
  const input = h("input", { type: "datetime-local", id: `move-${s.id}`, ...bounds(cal) });
  const move = h("button", { type: "button", class: "secondary" }, t("sitting_move"));
  move.addEventListener("click", act(move, box, async () => {
    if (!input.value) return input.focus();
    await intake.moveSitting(c.id, s.id, { startsAt: input.value }, { token: me.token });
    toast(t("sitting_moved_toast")); refresh();
  }));
  const cancel = h("button", { type: "button", class: "secondary", dataset: { cancel: s.id } }, t("sitting_cancel"));
  cancel.addEventListener("click", act(cancel, box, async () => {
    await intake.cancelSitting(c.id, s.id, { token: me.token });
    toast(t("sitting_cancelled_toast")); refresh();
  }));
  return h("div", { class: "actions" },
    h("label", { for: input.id }, t("sitting_move_to", { zone: label("zone", cal.time_zone) })), input, move, cancel);
}

/** The date-and-time fields only offer days within the term (the server checks it anyway). */
function bounds(cal) {
  return { min: cal.term_starts_on ? `${cal.term_starts_on}T00:00` : undefined,
    max: cal.term_ends_on ? `${cal.term_ends_on}T23:59` : undefined };
}

function proposeForm(c, me, cal, box, refresh) {
  const list = h("div", { class: "slot-fields" });
  const addField = () => {
    const n = list.children.length + 1;
    const input = h("input", { type: "datetime-local", id: `slot-${n}`, name: "slot", ...bounds(cal) });
    list.append(h("div", { class: "field" }, h("label", { for: input.id }, t("sitting_slot_n", { n, zone: label("zone", cal.time_zone) })), input));
  };
  addField();
  const more = h("button", { type: "button", class: "secondary", id: "slot-add" }, t("sitting_add_time"));
  more.addEventListener("click", () => { if (list.children.length < 10) addField(); list.lastElementChild.querySelector("input").focus(); });
  const duration = h("select", { id: "sitting-duration" },
    [60, 90, 120, 180].map((m) => h("option", { value: m, selected: m === 120 }, t("sitting_minutes", { n: m }))));
  const send = h("button", { type: "submit", id: "sitting-propose" }, t("sitting_propose"));
  const form = h("form", { id: "sitting-form" }, h("h3", {}, t("sitting_new")), list,
    h("div", { class: "actions" }, more),
    h("div", { class: "field" }, h("label", { for: duration.id }, t("sitting_duration")), duration), send);
  form.addEventListener("submit", act(send, box, async () => {
    const slots = [...list.querySelectorAll("input")].map((i) => i.value).filter(Boolean);
    if (!slots.length) return list.querySelector("input").focus();
    await intake.proposeSitting(c.id, { slots, durationMinutes: Number(duration.value) }, { token: me.token });
    toast(t("sitting_proposed_toast")); refresh();
  }));
  return form;
}

function unavailableDates(c, me, cal, box, refresh) {
  const mine = cal.unavailable_dates[me.side] || [];
  const save = async (dates) => {
    await intake.setUnavailableDates(c.id, { dates }, { token: me.token });
    toast(t("saved")); refresh();
  };
  const input = h("input", { type: "date", id: "unavailable-date", min: cal.term_starts_on, max: cal.term_ends_on });
  const add = h("button", { type: "button", class: "secondary", id: "unavailable-add" }, t("sitting_add_date"));
  add.addEventListener("click", act(add, box, async () => {
    if (!input.value) return input.focus();
    await save([...new Set([...mine, input.value])]);
  }));
  const items = mine.map((day) => {
    const remove = h("button", { type: "button", class: "secondary", "aria-label": t("sitting_remove_date", { date: fmtDate(day) }) }, t("remove"));
    remove.addEventListener("click", act(remove, box, () => save(mine.filter((d) => d !== day))));
    return h("li", { dataset: { date: day } }, fmtDate(day), " ", remove);
  });
  return h("div", { id: "unavailable" }, h("h3", {}, t("sitting_unavailable_title")),
    h("p", { class: "muted" }, t("sitting_unavailable_intro")),
    items.length ? h("ul", { class: "list", id: "unavailable-dates" }, items) : h("p", { class: "muted" }, t("sitting_unavailable_none")),
    h("div", { class: "field" }, h("label", { for: input.id }, t("sitting_unavailable_label")), input),
    h("div", { class: "actions" }, add));
}
