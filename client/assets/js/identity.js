// Who this browser is, per case: parties get a token scoped to their case when they file or
// answer an invitation; a mediator signs in once; a court signs in with its client credentials.
// Tokens stay in this browser's localStorage and are sent only to our own origin.
import { claims } from "./api/http.js";
import * as intake from "./api/intake.js";

const KEY = "odr.identities";

function load() {
  try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; }
}

function save(all) {
  localStorage.setItem(KEY, JSON.stringify(all));
}

function fresh(entry) {
  if (!entry) return null;
  const exp = claims(entry.token).exp;
  return !exp || exp * 1000 > Date.now() + 5000 ? entry : null;
}

export function rememberParty(caseId, token, extra = {}) {
  const all = load();
  const c = claims(token);
  // ``acting``: what this person is on the side (party, representative, interpreter); ``actingFor``:
  // the party (participant id) they act with, which signs and consents through them
  all[`case:${caseId}`] = { token, role: c.role || "party", subject: c.sub, side: extra.side || c.side,
    acting: c.act || "party", actingFor: c.for || c.sub, ...extra };
  save(all);
}

/** Keep the case's reference with this browser's identity for it, so lists and the sign-in page
 * can name the case before it is loaded. */
export function noteReference(caseId, reference) {
  const all = load();
  const entry = all[`case:${caseId}`];
  if (!entry || !reference || entry.reference === reference) return;
  all[`case:${caseId}`] = { ...entry, reference };
  save(all);
}

/** The reference this browser knows for a case, if any (also after its token expired). */
export function knownReference(caseId) {
  return load()[`case:${caseId}`]?.reference || null;
}

export function rememberMediator(token, profile = {}) {
  const all = load();
  all.mediator = { token, role: "mediator", subject: claims(token).sub, ...profile };
  save(all);
}

export function rememberCourt(token, courtId) {
  const all = load();
  all.court = { token, role: "court", subject: claims(token).sub, courtId };
  save(all);
}

export function forget(key) {
  const all = load();
  delete all[key];
  save(all);
}

/** The identity to use for a case: a party's own, else the mediator's if their token covers it. */
export function forCase(caseId) {
  const all = load();
  const party = fresh(all[`case:${caseId}`]);
  if (party) return party;
  return fresh(all.mediator); // a mediator's token covers every case assigned to them
}

export function mediator() {
  return fresh(load().mediator);
}

export function court() {
  return fresh(load().court);
}

export function myCases() {
  const all = load();
  const out = Object.entries(all)
    .filter(([k, v]) => k.startsWith("case:") && fresh(v))
    .map(([k, v]) => ({ caseId: k.slice(5), ...v }));
  return out;
}

/** Tokens live 15 minutes; a mediation lasts longer. Every identity whose token ends within three
 * minutes is traded for a fresh one (same scope; a mediator's cases are read anew). The server
 * stops refreshing some hours after the sign-in, and the person signs in again. */
export async function keepFresh() {
  for (const [key, entry] of Object.entries(load())) {
    const exp = claims(entry.token).exp;
    if (!exp || exp * 1000 < Date.now() + 5000 || exp * 1000 > Date.now() + 180000) continue;
    try {
      const r = await intake.refresh({ token: entry.token });
      const latest = load(); // only this entry, and only if nobody replaced it meanwhile
      if (latest[key]?.token === entry.token) {
        latest[key] = { ...latest[key], token: r.access_token };
        save(latest);
      }
    } catch { /* expired or too old: the next page asks to sign in again */ }
  }
}
