// A case at a glance: where it stands in plain words, its deadlines, and the one or two things
// this person can do next (invite, answer the screening, choose a mediator, sign the agreement to
// mediate, enter the room, read the settlement). Mediators also see the screening outcome and
// safeguards, which parties never see.
import * as agreements from "../api/agreements.js";
import { claims } from "../api/http.js";
import * as intake from "../api/intake.js";
import * as sessions from "../api/sessions.js";
import { label, labelIn, lang, t, tIn } from "../i18n.js";
import * as identity from "../identity.js";
import { navigate } from "../router.js";
import { busy, caseName, checkbox, definitionList, field, fmtDate, fmtDateTime, h, mount, problemBox, section, select, toast, zoneOf } from "../ui.js";
import { forgetInvitation, inviteStep } from "./invite.js";
import { onNotice } from "./notifications.js";
import { loadCalendar, sittingsStep } from "./sittings.js";
import { actingAs, taskList } from "./tasks.js";

export async function caseView(caseId) {
  if (!identity.forCase(caseId)) return signIn(caseId);
  await renderCase(caseId);
  return onNotice((notice) => {
    if (notice.case_id === caseId && location.pathname.startsWith(`/cases/${caseId}`)) renderCase(caseId);
  });
}

async function renderCase(caseId) {
  const me = identity.forCase(caseId);
  const box = problemBox();
  let c;
  try {
    c = await intake.getCase(caseId, { token: me.token, lang: lang() });
  } catch (error) {
    box.show(error);
    mount(h("h1", {}, caseName(identity.knownReference(caseId))), box);
    return;
  }
  identity.noteReference(caseId, c.reference);
  const refresh = () => { if (location.pathname.startsWith(`/cases/${caseId}`)) renderCase(caseId); };
  const parts = [
    h("h1", {}, caseName(c.reference)),
    h("p", { class: "case-status-line" }, h("span", { class: "status", "data-status": c.status }, label("status", c.status)),
      " ", h("span", {}, label("status_explain", c.status))),
    taskList(c, me),
    section(t("case_facts_title"),
      definitionList([
        [t("your_role"), me.role === "mediator" ? t("role_mediator")
          : label(c.category === "criminal" ? "criminal_side" : "side", me.side)],
        [t("category"), label("category", c.category)],
        [t("jurisdiction"), label("jurisdiction", c.jurisdiction)],
        [t("filed_at"), fmtDateTime(c.filed_at, zoneOf(c.jurisdiction))],
        c.docket_number && [t("docket"), c.docket_number],
        c.referred_by && [t("referred_by"), label("referred_by", c.referred_by)],
        c.criminal_case_number && [t("criminal_case_number"), c.criminal_case_number],
        c.legal_effect && [t("legal_effect"), c.legal_effect.article],
        c.term_starts_on && [t("term_starts"), fmtDate(c.term_starts_on)],
        c.term_ends_on && [t("term_ends"), fmtDate(c.term_ends_on)],
        c.outcome && [t("outcome"), label("outcome", c.outcome)],
      ])),
  ];
  if (c.eligibility) parts.push(eligibility(c.eligibility, c.category));
  if (c.category === "criminal") parts.push(criminalParticipants(c));
  else parts.push(people(c, me));
  const consentPanel = partyConsent(c, me, box, refresh);
  if (consentPanel) parts.splice(3, 0, consentPanel);
  if (me.role === "mediator" && c.safety) parts.push(safetyPanel(c, me));
  parts.push(...await nextSteps(c, me, box, refresh));
  parts.push(box);
  mount(...parts);
}

// Who is in a criminal case by procedural role: victim, suspect or accused, and who acts for them
// (a representative, or a legal representative for a minor).
function criminalParticipants(c) {
  const roleOf = (p) => p.procedural_role ? label("procedural_role", p.procedural_role)
    : p.role === "party" ? label("criminal_side", p.side) : label("role", p.role);
  return section(t("criminal_participants"), h("ul", { id: "criminal-participants" },
    c.participants.map((p) => h("li", {}, p.role === "party" ? `${roleOf(p)}: ${p.name || "—"}`
      : `${roleOf(p)} (${label("criminal_side", p.side)}): ${p.name || "—"}`))));
}

/** The party a party token acts with (its own, or the represented party's for a representative). */
function actingFor(me) {
  return me.actingFor || claims(me.token).for || me.subject;
}

/** Everyone on each side, and what each party still has to do now: each party consents, answers
 * the safety questions and signs the agreement to mediate for itself (or its representative). */
function people(c, me) {
  const p = c.progress || {};
  const consented = new Set(p.consented_parties || []);
  const screened = new Set(p.screened_parties || []);
  const signed = new Set(p.agreement_to_mediate_signed_parties || []);
  const todo = (party) => {
    if (["filed", "awaiting_consent"].includes(c.status) && !consented.has(party.id)) return t("parties_todo_consent");
    if (c.status === "screening" && !screened.has(party.id)) return t("parties_todo_screening");
    if (c.status === "mediator_agreed" && !signed.has(party.id)) return t("parties_todo_sign_atm");
    return t("parties_done");
  };
  const mine = me.role === "mediator" ? null : actingFor(me);
  const sides = ["claimant", "respondent"].map((side) => {
    const parties = c.participants.filter((x) => x.side === side && x.role === "party");
    return h("div", { class: "side-people", dataset: { side } }, h("h3", {}, label("side", side)),
      h("ul", { class: "list" }, parties.map((party) => h("li", { dataset: { participant: party.id } },
        h("strong", {}, party.name || label("side", side)), party.id === mine ? ` (${t("parties_you")})` : "", " — ",
        h("span", { class: "todo" }, todo(party)),
        c.participants.filter((x) => x.represents_id === party.id && x.role !== "party").map((x) =>
          h("div", { class: "muted" }, `${label("role", x.role)}: ${x.name || "—"}`))))));
  });
  const card = section(t("parties_people_title"), ...sides);
  card.id = "case-people";
  return card;
}

/** A co-party's own "do you agree to mediation?" (or its representative's for it): shown once the
 * side's first party has answered the invitation and until this party has answered. */
function partyConsent(c, me, box, refresh) {
  if (me.role === "mediator" || c.status !== "awaiting_consent") return null;
  const mine = actingFor(me);
  const consented = new Set(c.progress?.consented_parties || []);
  const party = c.participants.find((x) => x.id === mine && x.role === "party");
  const first = c.participants.find((x) => x.side === me.side && x.role === "party");
  if (!party || consented.has(party.id) || !first || !consented.has(first.id) || !["party", "representative"].includes(me.acting || claims(me.token).act || "party")) return null;
  const answer = (decision) => async () => {
    await intake.consentAsParty(c.id, { decision }, { token: me.token });
    refresh();
  };
  const yes = h("button", { type: "button", id: "party-consent-yes" }, t("parties_consent_yes"));
  const no = h("button", { type: "button", class: "secondary", id: "party-consent-no" }, t("parties_consent_no"));
  yes.addEventListener("click", busy(yes, box, answer("consent")));
  no.addEventListener("click", busy(no, box, answer("decline")));
  const card = section(t("parties_consent_title"), h("p", {}, t("parties_consent_intro")),
    party.id !== me.subject ? h("p", {}, t("parties_consent_for", { name: party.name || "—" })) : null,
    h("p", { class: "consent-text" }, t("consent_to_mediate")), h("div", { class: "actions" }, yes, no));
  card.id = "party-consent";
  return card;
}

/** Whether mediation is possible and why: each rule's explanation with its citation, in the reader's language. */
function eligibility(e, category) {
  const card = section(category === "criminal" ? t("crime_eligibility") : t("eligibility"),
    h("p", { id: "eligibility-outcome", dataset: { outcome: e.outcome } }, label(category === "criminal" ? "crime_eligibility" : "eligibility", e.outcome)),
    h("ul", { id: "eligibility-reasons" }, e.explanation.map((x) => h("li", {}, x.explanation,
      x.explanation.includes(x.citation) ? null : h("span", { class: "muted" }, ` (${x.citation})`)))));
  card.id = "eligibility-card";
  return card;
}

const answersOpen = new Set(); // cases whose screening answers the mediator opened (kept through re-renders)

function safetyPanel(c, me) {
  const answers = h("div", { id: "screening-answers" });
  const show = h("button", { type: "button", class: "secondary", id: "screening-read" }, t("screening_read_answers"));
  const load = async () => {
    const [reports, q] = await Promise.all([intake.screeningReports(c.id, { token: me.token }),
      intake.screeningQuestionnaire({ lang: lang() })]);
    answersOpen.add(c.id);
    show.hidden = true;
    answers.replaceChildren(...reports.map((r) => screeningReport(r, q, c.jurisdiction)));
  };
  show.addEventListener("click", busy(show, null, load));
  if (answersOpen.has(c.id)) load().catch(() => answersOpen.delete(c.id));
  return section(t("screening_outcome"),
    h("p", {}, label("safety", c.safety)),
    h("p", {}, t("safeguards"), ": ", (c.safeguards || []).length ? c.safeguards.map((s) => label("safeguard", s)).join(", ") : t("none")),
    h("p", { class: "muted" }, t("screening_private_note")), show, answers);
}

/** One party's answers, each under its question, in the reader's language (the questionnaire's
 * wording is fetched in that language; the report holds only ids and values). */
function screeningReport(r, q, jurisdiction) {
  const given = r.answers || {};
  const yesNo = (v) => (v === true ? t("yes") : v === false ? t("no") : t("not_answered"));
  const rows = [
    ...q.questions.map((question) => [question.text, yesNo(given.answers?.[question.id])]),
    [q.fear_level, Number.isInteger(given.fear_level) ? t(`fear_${given.fear_level}`) : t("not_answered")],
    [q.safe_in_same_room, yesNo(given.safe_in_same_room)],
    [q.wants_support_person, yesNo(given.wants_support_person)],
    given.note && [t("screening_note_answer"), given.note],
  ].filter(Boolean);
  return h("div", { class: "screening-report", dataset: { side: r.side, participant: r.participant_id } },
    h("h3", {}, r.name ? `${r.name} (${label("side", r.side)})` : label("side", r.side), ": ", label("safety", r.safety)),
    r.answered_by === "representative" ? h("p", { class: "muted" }, t("screening_answered_by_representative")) : null,
    h("p", { class: "muted" }, t("screening_answered_at"), ": ", fmtDateTime(r.answered_at, zoneOf(jurisdiction))),
    h("dl", { class: "answers" }, rows.map(([question, answer]) => [h("dt", {}, question), h("dd", {}, answer)])));
}

async function nextSteps(c, me, box, refresh) {
  const out = [];
  const party = me.role !== "mediator";
  if (party && ["filed", "awaiting_consent"].includes(c.status) && me.side === "claimant") out.push(inviteStep(c, me, box, refresh));
  else forgetInvitation(c.id); // answered or closed: the link has done its work
  const who = actingAs(c, me);
  if (party && c.status === "screening" && who.answersScreening && !(c.progress?.screened_parties || []).includes(who.partyId)) {
    out.push(section(t("screening_title"), h("p", {}, t("screening_intro")),
      h("a", { class: "button", id: "screening-start", href: `/cases/${c.id}/screening`, "data-link": "" }, t("screening_start"))));
  }
  if (c.status === "eligible" || (me.role === "mediator" && c.status === "eligible")) out.push(await mediatorStep(c, me, box, refresh));
  if (c.status === "mediator_agreed") out.push(await agreementToMediate(c, me, box, refresh));
  if (["agreement_signed", "in_session"].includes(c.status)) {
    const cal = await loadCalendar(c.id, me);
    if (cal) out.push(sittingsStep(c, me, cal, box, refresh));
    out.push(section(t("room_title"), h("p", {}, t("room_intro")),
      h("a", { class: "button", id: "room-enter", href: `/cases/${c.id}/room`, "data-link": "" }, t("room_enter"))));
  }
  if (["agreement_signed", "in_session", "settled"].includes(c.status)) out.push(await agreementsStep(c, me, box));
  return out;
}

async function mediatorStep(c, me, box, refresh) {
  const proposals = await intake.mediatorProposals(c.id, { token: me.token }).catch(() => []);
  const open = proposals.find((p) => p.status === "open");
  const card = section(t("mediator_choose"));
  card.id = "mediator-card";
  if (open) {
    const mine = me.role === "mediator" ? open.mediator_accepted : open[`${me.side}_accepted`];
    card.append(definitionList([
      [t("mediator"), open.mediator_name || open.mediator_id],
      [label("side", "claimant"), open.claimant_accepted ? t("accepted") : t("waiting")],
      [label("side", "respondent"), open.respondent_accepted ? t("accepted") : t("waiting")],
      [t("role_mediator"), open.mediator_accepted ? t("accepted") : t("waiting")],
    ]));
    if (me.role === "mediator" && !mine && open.claimant_accepted && open.respondent_accepted) {
      card.append(mediatorDecision(c, me, open, box, refresh));
    } else if (me.role !== "mediator" && !mine) {
      const accept = h("button", { type: "button", id: "accept-mediator" }, t("accept_mediator"));
      const reject = h("button", { type: "button", class: "secondary" }, t("reject_mediator"));
      accept.addEventListener("click", busy(accept, box, async () => {
        await intake.acceptMediatorProposal(c.id, open.id, { token: me.token });
        toast(t("saved")); refresh();
      }));
      reject.addEventListener("click", busy(reject, box, async () => {
        await intake.rejectMediatorProposal(c.id, open.id, { token: me.token });
        refresh();
      }));
      card.append(h("div", { class: "actions" }, accept, reject));
    } else {
      card.append(h("p", { class: "muted" }, t("waiting_for_others")));
    }
    return card;
  }
  if (me.role === "mediator") return card;
  const candidates = await intake.mediatorCandidates(c.id, { token: me.token, lang: lang() }).catch(() => []);
  card.append(h("p", {}, t("mediator_choose_intro")));
  if (!candidates.length) card.append(h("p", { class: "muted" }, t("no_candidates")));
  card.append(h("ul", { class: "list" }, candidates.map((m) => {
    const propose = h("button", { type: "button", dataset: { mediator: m.mediator_id }, "aria-label": t("propose_named", { name: m.full_name }) }, t("propose"));
    propose.addEventListener("click", busy(propose, box, async () => {
      await intake.proposeMediator(c.id, { mediatorId: m.mediator_id }, { token: me.token });
      toast(t("saved")); refresh();
    }));
    return h("li", {}, h("strong", {}, m.full_name), " — ", label("mediator_kind", m.kind), ", ",
      m.languages.map((l) => label("language_name", l)).join(", "), " ", h("span", { class: "muted" }, m.reasons.join("; ")), " ", propose);
  })));
  return card;
}

function mediatorDecision(c, me, proposal, box, refresh) {
  const declare = checkbox(t("impartiality_declaration"), { name: "impartiality", id: "impartiality" });
  const accept = h("button", { type: "button", id: "mediator-accept" }, t("mediator_accept_case"));
  const decline = h("button", { type: "button", class: "secondary" }, t("mediator_decline_case"));
  const decide = (decision, button) => busy(button, box, async () => {
    const impartialityDeclaration = declare.querySelector("input").checked;
    const r = await intake.decideMediatorProposal(c.id, proposal.id, { decision, impartialityDeclaration }, { token: me.token });
    if (r.access_token) identity.rememberMediator(r.access_token);
    refresh();
  });
  accept.addEventListener("click", decide("accept", accept));
  decline.addEventListener("click", decide("decline", decline));
  return h("div", {}, caseBriefing(c), declare, h("div", { class: "actions" }, accept, decline));
}

/** What the proposed mediator reads before declaring impartiality: who the parties are (with
 * IIN/BIN), who acts for them, what the dispute is about and the court's docket, so a conflict
 * of interest can be seen before accepting. */
function caseBriefing(c) {
  const parties = c.participants.filter((p) => p.role === "party");
  const helpers = c.participants.filter((p) => p.role !== "party");
  const person = (p) => [h("strong", {}, p.name || t("brief_unnamed")),
    p.role === "party" && p.kind ? ` — ${label("kind", p.kind)}` : "",
    p.id_number ? ` · ${t("brief_id_number")}: ${p.id_number}` : "",
    p.organisation ? ` · ${p.organisation}` : ""];
  const actsFor = (p) => parties.find((x) => x.id === p.represents_id);
  return h("div", { class: "briefing", id: "case-briefing" },
    h("h3", {}, t("brief_title")),
    h("p", { class: "muted" }, t("brief_intro")),
    definitionList([
      [t("category"), label("category", c.category)],
      [t("brief_court"), c.docket_number ? t("brief_docket", { docket: c.docket_number }) : t("brief_no_court")],
    ]),
    ...["claimant", "respondent"].map((side) => h("div", { class: "brief-side", dataset: { side } },
      h("h4", {}, label("side", side)),
      h("ul", { class: "list" }, [
        ...parties.filter((p) => p.side === side).map((p) => h("li", {}, ...person(p))),
        ...helpers.filter((p) => p.side === side).map((p) => h("li", {}, `${label("role", p.role)}: `, ...person(p),
          actsFor(p) ? ` (${t("brief_acts_for", { name: actsFor(p).name || label("side", side) })})` : "")),
      ]))),
    h("h4", {}, t("brief_dispute")),
    c.description ? h("p", { class: "pre-wrap", id: "brief-description" }, c.description) : h("p", { class: "muted" }, t("brief_no_description")));
}

async function agreementToMediate(c, me, box, refresh) {
  const atm = await intake.agreementToMediate(c.id, { token: me.token, lang: lang() });
  const who = actingAs(c, me);
  // each party signs in a slot of its own (its representative in the party's), then the mediator
  const mySlot = who.mediator ? "mediator" : `${me.side}:${who.partyId}`;
  const slots = atm.signed_slots || [];
  const signed = slots.includes(mySlot);
  const nameOf = (slot) => {
    if (slot === "mediator") return t("role_mediator");
    const [side, id] = slot.split(":");
    return c.participants.find((x) => x.id === id)?.name || label("side", side);
  };
  const card = section(t("atm_title"), h("pre", { class: "document" }, atm.text),
    h("p", { class: "muted" }, t("atm_term", { days: atm.term_days })),
    h("p", { id: "atm-signed-by" }, t("signed_by"), ": ", slots.length ? slots.map(nameOf).join(", ") : t("nobody_yet")));
  card.id = "atm-card";
  if (!who.mayAct) {
    card.append(h("p", { class: "muted", id: "atm-not-yours" }, t("atm_assistant_does_not_sign")));
  } else if (!signed) {
    if (!who.mediator && who.party && who.partyId !== me.subject) card.append(h("p", {}, t("parties_consent_for", { name: who.party.name || "—" })));
    const sign = h("button", { type: "button", id: "atm-sign" }, t("atm_sign"));
    sign.addEventListener("click", busy(sign, box, async () => {
      await intake.signAgreementToMediate(c.id, { textVersion: atm.text_version }, { token: me.token });
      toast(t("signed")); refresh();
    }));
    card.append(sign);
  } else {
    card.append(h("p", { role: "status" }, t("you_signed")));
  }
  return card;
}

async function agreementsStep(c, me, box) {
  const card = section(t("agreements_title"));
  card.id = "agreements-card";
  let items;
  try {
    const list = await agreements.list({ caseId: c.id, token: me.token });
    items = list.items || list.agreements || [];
  } catch (error) {
    // A list that could not be read is not an empty one: saying "none drafted yet" and offering
    // Draft would start a second agreement beside one the parties may be signing.
    const problem = problemBox();
    problem.id = "agreements-problem";
    problem.show(error);
    card.append(problem, h("p", { class: "hint" }, t("agreements_unreadable")));
    return card;
  }
  if (items.length) {
    card.append(h("ul", { class: "list" }, items.map((a) => h("li", {},
      h("a", { href: `/cases/${c.id}/agreements/${a.id}`, "data-link": "", dataset: { agreement: a.id } }, t("agreement_named", { version: a.current_version ?? a.version ?? "" })),
      " ", h("span", { class: "status" }, label("agreement_status", a.status))))));
  } else {
    card.append(h("p", { class: "muted" }, t("no_agreements")));
  }
  if (me.role === "mediator" && !items.some((a) => a.status !== "withdrawn")) {
    const language = select("agreement_language", agreementLanguages(c), suggestedLanguage(c));
    language.id = "agreement-language";
    const draft = h("button", { type: "button", id: "draft-agreement" }, t("draft_from_proposals"));
    draft.addEventListener("click", busy(draft, box, async () => {
      navigate(`/cases/${c.id}/agreements/${(await createDraft(c, me, language.value)).id}`);
    }));
    card.append(field(t("agreement_language"), language, t("agreement_language_hint")), draft);
  }
  return card;
}

/** The agreement is written in a language the parties chose, not the mediator's page language:
 * each party's language is offered, and the bilingual Kazakh/Russian text. */
function agreementLanguages(c) {
  return [["kk", t("agreement_language_kk")], ["ru", t("agreement_language_ru")], ["kk-ru", label("agreement_language", "kk-ru")],
    ["en", t("agreement_language_en")]];
}

function suggestedLanguage(c) {
  const spoken = new Set(c.participants.filter((p) => p.role === "party").map((p) => p.language));
  if (spoken.size === 1) return [...spoken][0];
  if (spoken.has("kk") && spoken.has("ru")) return "kk-ru";
  return spoken.has("ru") ? "ru" : [...spoken][0] || "ru";
}

/** The default subject in the agreement's language (kk then ru for a bilingual one), not the page's. */
function draftSubject(c, language) {
  const one = (l) => tIn(l, "draft_subject", { category: labelIn(l, "category", c.category), id: c.docket_number || c.reference });
  return language === "kk-ru" ? `${one("kk")} / ${one("ru")}` : one(language);
}

/** A first draft in the chosen `language`: the parties' names with the IIN/BIN the case gives
 * (a court supplies them in referrals), the mediator, the subject, and each proposal both sides
 * accepted in the session as an obligation row (who owes whom, what, how much, by when) that the
 * mediator completes; the template adds the title, place, procedure and consequences. */
async function createDraft(c, me, language) {
  const accepted = await agreements.acceptedProposals(c.id, { token: me.token });
  const ids = accepted.items.map((p) => p.proposal_id);
  const proposals = await Promise.all(ids.map((id) => sessions.proposal(c.id, id, { token: me.token })));
  const chosen = (await intake.mediatorProposals(c.id, { token: me.token }).catch(() => []))
    .find((p) => p.status === "accepted" && p.mediator_id === c.mediator_id);
  const parties = c.participants.filter((p) => p.role === "party");
  const content = {
    parties: parties.filter((p) => p.name).map((p) => {
      const rep = c.participants.find((x) => x.role === "representative" && x.represents_id === p.id);
      return { side: p.side, name: p.name, participant_id: p.id, ...(p.id_number ? { identifier: p.id_number } : {}), ...(rep?.name ? { representative: rep.name } : {}) };
    }),
    subject: draftSubject(c, language),
    obligations: proposals.map(obligationOf),
  };
  if (chosen?.mediator_name) content.mediator = { name: chosen.mediator_name };
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await agreements.create({ caseId: c.id, language, content, proposalIds: ids }, { token: me.token });
    } catch (error) { // agreements may not have heard of the case yet
      if (attempt > 10 || error.problem?.type?.split("/").pop() !== "case-not-known-yet") throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** An accepted proposal as an obligation row: its summary and terms are what is owed; a sum
 * ("150 000", "150000.50 KZT") and a date (2026-12-31 or 31.12.2026) in them are taken as the
 * amount and the due date. By default the respondent owes the claimant; the mediator corrects
 * the row in the editor. */
function obligationOf(p) {
  const text = [p.summary, ...(p.terms || [])].join("\n");
  const row = { id: `p-${p.id.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 36)}`, obligor: "respondent", obligee: "claimant",
    what: [p.summary, ...(p.terms || []).map((x) => `— ${x}`)].join("\n").slice(0, 5000) };
  const iso = text.match(/\b(\d{4})-(\d{2})-(\d{2})\b/);
  const dotted = text.match(/\b(\d{2})\.(\d{2})\.(\d{4})\b/);
  if (iso) row.deadline = `${iso[1]}-${iso[2]}-${iso[3]}`;
  else if (dotted) row.deadline = `${dotted[3]}-${dotted[2]}-${dotted[1]}`;
  const sum = text.replace(/\b\d{4}-\d{2}-\d{2}\b|\b\d{2}\.\d{2}\.\d{4}\b/g, "")
    .match(/(\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:[.,](\d{1,2}))?\s*(₸|тг|тенге|теңге|KZT|USD|EUR|\$|€)?/i);
  if (sum && (sum[3] || Number(sum[1].replace(/\D/g, "")) >= 100)) {
    const currency = { "₸": "KZT", "тг": "KZT", "тенге": "KZT", "теңге": "KZT", "$": "USD", "€": "EUR" }[sum[3]?.toLowerCase()] || (sum[3] || "KZT").toUpperCase();
    row.amount = `${sum[1].replace(/\D/g, "")}.${(sum[2] || "00").padEnd(2, "0")}`;
    row.currency = currency;
  }
  return row;
}

function signIn(caseId) {
  const box = problemBox();
  const side = h("select", { name: "side", id: "signin-side" },
    h("option", { value: "claimant" }, label("side", "claimant")), h("option", { value: "respondent" }, label("side", "respondent")));
  const ask = h("button", { type: "button" }, t("signin_request"));
  const note = h("p", { role: "status" });
  ask.addEventListener("click", busy(ask, box, async () => {
    const r = await intake.requestSignInLink(caseId, { side: side.value });
    if (r.link_token) { // dev mode hands the link back; otherwise it goes to the party's contact
      const token = await intake.exchangeSignInLink(r.link_token);
      identity.rememberParty(caseId, token.access_token, { side: side.value });
      caseView(caseId);
    } else {
      note.textContent = t("signin_sent");
    }
  }));
  mount(h("h1", {}, caseName(identity.knownReference(caseId))), section(t("signin_title"), h("p", {}, t("signin_intro")),
    h("label", { for: "signin-side" }, t("your_side")), side, h("div", { class: "actions" }, ask), note, box),
    h("p", {}, t("reach_or"), " ", h("a", { href: "/sign-in", "data-link": "", id: "reach-from-case" }, t("reach_button"))),
    h("p", {}, h("a", { href: "/mediator", "data-link": "" }, t("mediator_sign_in"))));
}
