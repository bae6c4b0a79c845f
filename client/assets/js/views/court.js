// The referring body's read-only page (a court's, or in criminal cases a prosecutor's office's or an
// investigator's): the cases it referred and their agreements' events (signed; a court's approval or
// rejection), with the sealed PDF. Bodies integrate through the court API; this page is for a clerk
// who wants to look, and its words name no court, since a prosecutor or an investigator reads it too.
import * as agreements from "../api/agreements.js";
import * as intake from "../api/intake.js";
import { label, lang, t } from "../i18n.js";
import * as identity from "../identity.js";
import { busy, caseName, field, fmtDateTime, h, mount, problemBox, section } from "../ui.js";

export async function courtHome() {
  const me = identity.court();
  if (!me) return login();
  const box = problemBox();
  let cases = { items: [] };
  const events = [];
  try {
    cases = await agreements.courtCases({ token: me.token });
    let after = null;
    for (let page = 0; page < 20; page += 1) { // follow the cursor to the end
      const feed = await agreements.courtFeed({ after, limit: 200, token: me.token });
      events.push(...feed.items);
      if (!feed.items.length || !feed.next_cursor || feed.next_cursor === after) break;
      after = feed.next_cursor;
    }
  } catch (error) {
    box.show(error);
  }
  const byCase = new Map();
  for (const e of events) {
    const list = byCase.get(e.case_id) || [];
    list.push(e);
    byCase.set(e.case_id, list);
  }
  const out = h("button", { type: "button", class: "secondary" }, t("sign_out"));
  out.addEventListener("click", async () => {
    await intake.signOut({ token: me.token }).catch(() => {});  // best effort: forget it here anyway
    identity.forget("court");
    courtHome();
  });
  mount(h("h1", {}, t("referrer_title")), box,
    section(t("referrer_cases"), cases.items.length ? h("table", { class: "court" },
      h("caption", { class: "visually-hidden" }, t("referrer_cases")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("case")), h("th", { scope: "col" }, t("filed_at")), h("th", { scope: "col" }, t("agreements_title")))),
      h("tbody", {}, cases.items.map((c) => h("tr", {},
        h("td", {}, caseName(c.case_reference)), h("td", {}, fmtDateTime(c.filed_at)),
        h("td", {}, (byCase.get(c.case_id) || []).map((e) => h("div", {},
          label("court_event", e.type), " · ", fmtDateTime(e.occurred_at), " · ",
          // a criminal case: the article the reconciliation enables (Criminal Code Art. 68)
          e.legal_effect ? [t("legal_effect"), ": ", e.legal_effect.article[lang()] || e.legal_effect.article.ru, " · "] : null,
          pdfLink(e.agreement_id, me.token)))))))) : h("p", { class: "muted" }, t("no_cases"))),
    out);
}

function pdfLink(agreementId, token) {
  const button = h("button", { type: "button", class: "secondary" }, t("download_pdf"));
  button.addEventListener("click", busy(button, null, () => agreements.downloadCourtPdf(agreementId, { token })));
  return button;
}

function login() {
  const box = problemBox();
  const id = h("input", { type: "text", name: "client_id", autocomplete: "username", required: true });
  const secret = h("input", { type: "password", name: "client_secret", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, t("sign_in"));
  const form = h("form", { class: "card" }, field(t("client_id"), id), field(t("client_secret"), secret), box,
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", busy(submit, box, async () => {
    const r = await intake.courtToken({ clientId: id.value.trim(), clientSecret: secret.value });
    identity.rememberCourt(r.access_token);
    courtHome();
  }));
  mount(h("h1", {}, t("referrer_sign_in")), h("p", {}, t("referrer_sign_in_intro")), form);
}
