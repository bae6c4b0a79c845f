// The intake service: cases, invitations, screening, choosing the mediator, the agreement to
// mediate, and signing in (parties' links, mediators' passwords, courts' client credentials).
import { api, get, post, put } from "./http.js";

const query = (lang) => (lang ? `?lang=${lang}` : "");

// -- cases ---------------------------------------------------------------------------------

/** File a case; the answer carries the claimant's token. */
export const fileCase = (body) => post("/intake/cases", body);

/** A case as this person may see it; `lang` asks for its explanations in that language. */
export const getCase = (caseId, { token, lang } = {}) => get(`/intake/cases/${caseId}${query(lang)}`, { token });

export const invite = (caseId, { side }, { token }) => post(`/intake/cases/${caseId}/invitations`, { side }, { token });

/** "Send it for me": the platform emails the live invitation to `email`, in `language`. */
export const sendInvitation = (caseId, { side, email, language }, { token }) =>
  post(`/intake/cases/${caseId}/invitations/delivery`, { side, email, language }, { token });

// -- invitations ---------------------------------------------------------------------------

export const getInvitation = (linkToken, { lang } = {}) => get(`/intake/invitations/${encodeURIComponent(linkToken)}${query(lang)}`);

export const answerInvitation = (linkToken, { decision, textVersion, language, email }) =>
  post(`/intake/invitations/${encodeURIComponent(linkToken)}/answer`, { decision, text_version: textVersion, language, email: email || undefined });

// -- screening -----------------------------------------------------------------------------

/** A co-party's own answer (or its representative's for it), after the side's first party answered. */
export const consentAsParty = (caseId, { decision }, { token }) =>
  post(`/intake/cases/${caseId}/consents`, { decision }, { token });

export const screeningQuestionnaire = ({ lang } = {}) => get(`/intake/screening/questionnaire${query(lang)}`);

export const submitScreening = (caseId, answers, { token }) => post(`/intake/cases/${caseId}/screening`, answers, { token });

/** Both parties' answers: the assigned mediator only. */
export const screeningReports = (caseId, { token }) => get(`/intake/cases/${caseId}/screening`, { token });

// -- choosing the mediator -----------------------------------------------------------------

/** Mediators who may take the case, best first; `lang`: the reasons in the page's language. */
export const mediatorCandidates = (caseId, { token, lang }) =>
  get(`/intake/cases/${caseId}/mediator-candidates${query(lang)}`, { token });

export const mediatorProposals = (caseId, { token }) => get(`/intake/cases/${caseId}/mediator-proposals`, { token });

export const proposeMediator = (caseId, { mediatorId }, { token }) =>
  post(`/intake/cases/${caseId}/mediator-proposals`, { mediator_id: mediatorId }, { token });

export const acceptMediatorProposal = (caseId, proposalId, { token }) =>
  post(`/intake/cases/${caseId}/mediator-proposals/${proposalId}/accept`, undefined, { token });

export const rejectMediatorProposal = (caseId, proposalId, { token }) =>
  post(`/intake/cases/${caseId}/mediator-proposals/${proposalId}/reject`, undefined, { token });

/** The mediator's answer to a proposal both parties accepted. */
export const decideMediatorProposal = (caseId, proposalId, { decision, impartialityDeclaration }, { token }) =>
  post(`/intake/cases/${caseId}/mediator-proposals/${proposalId}/decision`,
    { decision, impartiality_declaration: impartialityDeclaration }, { token });

/** The proposals addressed to the signed-in mediator, across cases. */
export const myMediatorProposals = ({ token }) => get("/intake/mediator/proposals", { token });

// -- the agreement to mediate --------------------------------------------------------------

/** The agreement to mediate, its text in `lang` (the page's language). */
export const agreementToMediate = (caseId, { token, lang }) =>
  get(`/intake/cases/${caseId}/agreement-to-mediate${query(lang)}`, { token });

export const signAgreementToMediate = (caseId, { textVersion }, { token }) =>
  post(`/intake/cases/${caseId}/agreement-to-mediate/signatures`, { text_version: textVersion }, { token });

// -- signing in ----------------------------------------------------------------------------

/** A party who comes back asks for a sign-in link (dev mode hands it back at once). */
export const requestSignInLink = (caseId, { side }) => post(`/intake/cases/${caseId}/sign-in-links`, { side });

/** A sign-in link for tokens: `cases` holds one per case it opens (every case of an address for
 * an "email me a link" link), each with its `access_token`. */
export const exchangeSignInLink = (linkToken) => post("/intake/auth/links/exchange", { token: linkToken });

/** "Email me a link": the answer is the same whether the address is known or not. */
export const emailMeALink = ({ email, language }) => post("/intake/auth/email-links", { email, language });
/** The token stops working on every service (and closes its room connections), not only here. */
export const signOut = ({ token }) => post("/intake/auth/sign-out", undefined, { token });

/** `totpCode`: six digits from the authenticator app, or one of the account's recovery codes. */
export function login({ username, password, totpCode }) {
  const body = { username, password };
  if (totpCode && /^[0-9]{6}$/.test(totpCode)) body.totp_code = totpCode;
  else if (totpCode) body.recovery_code = totpCode;
  return post("/intake/auth/login", body);
}

/** Whether two-step sign-in is on: `{enabled, since, recovery_codes_left}`. */
export const totpStatus = ({ token }) => get("/intake/auth/totp", { token });

export const startTotp = ({ token }) => post("/intake/auth/totp", undefined, { token });

/** New recovery codes for a current authenticator code (the earlier ones stop working). */
export const renewRecoveryCodes = ({ code }, { token }) => post("/intake/auth/totp/recovery-codes", { code }, { token });

/** Turns two-step sign-in off (a current authenticator code); the recovery codes go too. */
export const disableTotp = ({ code }, { token }) => post("/intake/auth/totp/disable", { code }, { token });

/** Turns two-step sign-in on; the answer's `recovery_codes` are shown this once. */
export const confirmTotp = ({ code }, { token }) => post("/intake/auth/totp/confirm", { code }, { token });

/** A court signs in with its client credentials (OAuth 2 client_credentials, a form body). */
export const courtToken = ({ clientId, clientSecret }) =>
  api("POST", "/intake/auth/token", { form: { grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret } });

/** The same scope in a fresh token, while the sign-in is young enough. */
export const refresh = ({ token }) => api("POST", "/intake/auth/refresh", { token });

// -- the calendar: sittings ----------------------------------------------------------------

/** The case's sittings, the next one, the term they fall within and the case's time zone. */
export const sittings = (caseId, { token }) => get(`/intake/cases/${caseId}/sittings`, { token });

/** The mediator proposes times: `slots` are wall-clock times in the case's zone ("2026-12-03T15:00"). */
export const proposeSitting = (caseId, { slots, durationMinutes }, { token }) =>
  post(`/intake/cases/${caseId}/sittings`, { slots, duration_minutes: durationMinutes }, { token });

/** A party's availability per slot: `{slotId: "available" | "unavailable"}`. */
export const answerSitting = (caseId, sittingId, { slots }, { token }) =>
  put(`/intake/cases/${caseId}/sittings/${sittingId}/availability`, { slots }, { token });

/** The days (YYYY-MM-DD, in the case's zone) the party's side cannot attend: the whole list. */
export const setUnavailableDates = (caseId, { dates }, { token }) =>
  put(`/intake/cases/${caseId}/unavailable-dates`, { dates }, { token });

export const fixSitting = (caseId, sittingId, { slotId }, { token }) =>
  post(`/intake/cases/${caseId}/sittings/${sittingId}/fix`, { slot_id: slotId }, { token });

export const moveSitting = (caseId, sittingId, { startsAt }, { token }) =>
  post(`/intake/cases/${caseId}/sittings/${sittingId}/move`, { starts_at: startsAt }, { token });

export const cancelSitting = (caseId, sittingId, { token }) =>
  post(`/intake/cases/${caseId}/sittings/${sittingId}/cancel`, undefined, { token });
