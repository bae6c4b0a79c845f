// The claimant's invitation link. The API hands the link out once (it keeps only a hash), so this
// tab keeps it in sessionStorage until the claimant dismisses it: a notice re-rendering the case
// page, or a reload, never takes it away before it has been passed on. A new link replaces the
// old one on the server, so making one after a link exists asks first. "Send it for me" has the
// platform email the live link to the address the claimant types, in the other party's language
// (the server kept the link sealed for its mail service; the link on screen stays valid).
import * as intake from "../api/intake.js";
import { t } from "../i18n.js";
import { busy, errorSummary, field, fmtDateTime, h, section, select, toast, zoneOf } from "../ui.js";
import { EMAIL } from "./file.js";

const KEY = (caseId) => `odr.invitation.${caseId}`;
const confirming = new Set(); // cases whose "make a new link?" question is open (survives re-renders)
const sentTo = new Map(); // case id -> the masked address the platform emailed the invitation to
const drafts = new Map(); // case id -> { email, language } being typed

function stored(caseId) {
  try { return JSON.parse(sessionStorage.getItem(KEY(caseId))); } catch { return null; }
}

/** Drop the kept link of a case (it was answered, or the case went on without it). */
export function forgetInvitation(caseId) {
  sessionStorage.removeItem(KEY(caseId));
}

/** The invitation card of the case page; ``refresh`` re-renders the page. */
export function inviteStep(c, me, box, refresh) {
  const kept = stored(c.id);
  const card = section(t("invite_title"));
  card.id = "invite-card";
  const create = async () => {
    const created = await intake.invite(c.id, { side: "respondent" }, { token: me.token });
    const url = `${location.origin}/invitations/${created.link_token}`;
    sessionStorage.setItem(KEY(c.id), JSON.stringify({ url, answerBy: created.answer_by }));
    confirming.delete(c.id);
    refresh();
  };
  if (kept) {
    card.append(linkPanel(c, kept, refresh));
  } else {
    card.append(h("p", {}, t("invite_intro")));
    if (c.status === "awaiting_consent") card.append(h("p", { class: "muted" }, t("invite_already_sent")));
  }
  const anyLink = kept || c.status === "awaiting_consent";
  if (anyLink) card.append(sendForMe(c, me));
  if (!anyLink) {
    const invite = h("button", { type: "button", id: "invite" }, t("invite_button"));
    invite.addEventListener("click", busy(invite, box, create));
    card.append(h("div", { class: "actions" }, invite));
  } else if (confirming.has(c.id)) {
    const yes = h("button", { type: "button", id: "invite-confirm", class: "danger" }, t("invite_new_confirm"));
    const no = h("button", { type: "button", id: "invite-cancel", class: "secondary" }, t("cancel"));
    yes.addEventListener("click", busy(yes, box, create));
    no.addEventListener("click", () => { confirming.delete(c.id); refresh(); });
    card.append(h("div", { class: "warning", role: "alert", id: "invite-warning" },
      h("strong", {}, t("invite_new_warning"))), h("div", { class: "actions" }, yes, no));
  } else {
    const again = h("button", { type: "button", id: "invite-new", class: "secondary" }, t("invite_new"));
    again.addEventListener("click", () => { confirming.add(c.id); refresh(); });
    card.append(h("div", { class: "actions" }, again));
  }
  return card;
}

function sendForMe(c, me) {
  const other = (c.participants || []).find((p) => p.side === "respondent" && p.role === "party");
  const email = h("input", { type: "email", id: "invite-email", name: "invite_email", autocomplete: "off", spellcheck: "false" });
  const language = select("invite_language", [["kk", "Қазақша"], ["ru", "Русский"], ["en", "English"]], other?.language || "ru");
  language.id = "invite-language";
  const draft = drafts.get(c.id); // what was typed survives the page re-rendering on a notice
  if (draft) { email.value = draft.email; language.value = draft.language; }
  const keep = () => drafts.set(c.id, { email: email.value, language: language.value });
  email.addEventListener("input", keep);
  language.addEventListener("change", keep);
  const summary = errorSummary();
  summary.fieldFor = (loc) => (loc.includes("email") ? { target: email, message: t("error_email") } : null);
  const status = h("p", { role: "status", id: "invite-sent" }, sentTo.has(c.id) ? t("reach_sent", { to: sentTo.get(c.id) }) : "");
  const send = h("button", { type: "submit", id: "invite-send" }, t("reach_send_button"));
  const form = h("form", { novalidate: true, id: "invite-send-form" }, summary,
    field(t("reach_send_email"), email), field(t("reach_send_language"), language),
    h("div", { class: "actions" }, send), status);
  form.addEventListener("submit", busy(send, summary, async () => {
    const address = email.value.trim();
    if (!EMAIL.test(address)) return summary.showFields([{ target: email, message: t("error_email") }]);
    const sent = await intake.sendInvitation(c.id, { side: "respondent", email: address, language: language.value }, { token: me.token });
    sentTo.set(c.id, sent.sent_to);
    status.textContent = t("reach_sent", { to: sent.sent_to });
    email.value = "";
    drafts.delete(c.id);
  }));
  return h("div", { class: "send-for-me" }, h("h3", {}, t("reach_send_title")), h("p", {}, t("reach_send_intro")), form);
}

function linkPanel(c, kept, refresh) {
  const input = h("input", { type: "text", readonly: true, value: kept.url, id: "invitation-link", "aria-label": t("invitation_link") });
  input.addEventListener("focus", () => input.select());
  const copy = h("button", { type: "button", id: "invitation-copy" }, t("copy"));
  copy.addEventListener("click", async () => {
    input.select();
    try { await navigator.clipboard.writeText(kept.url); } catch { document.execCommand?.("copy"); }
    toast(t("copied"));
  });
  const buttons = [copy];
  const shareable = { title: t("invitation_share_title"), text: t("invitation_share_text"), url: kept.url };
  if (navigator.share && (!navigator.canShare || navigator.canShare(shareable))) {
    const share = h("button", { type: "button", id: "invitation-share", class: "secondary" }, t("share"));
    share.addEventListener("click", async () => {
      try { await navigator.share(shareable); } catch { /* the person closed the share sheet */ }
    });
    buttons.push(share);
  }
  const dismiss = h("button", { type: "button", id: "invitation-dismiss", class: "secondary" }, t("invitation_dismiss"));
  dismiss.addEventListener("click", () => { sessionStorage.removeItem(KEY(c.id)); refresh(); });
  return h("div", { class: "invitation-link" },
    h("p", {}, t("invitation_created", { date: fmtDateTime(kept.answerBy, zoneOf(c.jurisdiction)) })),
    h("p", {}, t("invitation_pass_on")),
    input, h("div", { class: "actions" }, ...buttons),
    h("p", { class: "muted" }, t("invitation_dismiss_hint")), h("div", { class: "actions" }, dismiss));
}
