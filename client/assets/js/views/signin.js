// Coming back without this browser's memory (another device, a day later): "email me a link" asks
// one question (the address), then says "check your email" whatever the address was, since the
// answer never tells whether an address is known. The emailed link lands on /sign-in/<token>,
// which trades it for a token per case, remembers them in this browser and lists the cases,
// closed ones too (to read and download the signed agreement).
import * as intake from "../api/intake.js";
import { label, lang, t } from "../i18n.js";
import { rememberParty } from "../identity.js";
import { caseName, errorSummary, field, fmtDateTime, h, mount, problemBox, section, zoneOf } from "../ui.js";
import { EMAIL } from "./file.js";

const CLOSED = new Set(["declined", "ineligible", "referred_out", "settled", "terminated"]); // intake's TERMINAL

/** /sign-in: the one question, then the confirmation. */
export function emailLink() {
  const email = h("input", { type: "email", id: "reach-email", name: "email", autocomplete: "email", spellcheck: "false" });
  const summary = errorSummary();
  summary.fieldFor = (loc) => (loc.includes("email") ? { target: email, message: t("error_email") } : null);
  const send = h("button", { type: "submit", id: "reach-send" }, t("reach_continue"));
  const form = h("form", { novalidate: true }, field(t("reach_question"), email, t("reach_hint")),
    h("div", { class: "actions" }, send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    summary.clear();
    const address = email.value.trim();
    if (!EMAIL.test(address)) return summary.showFields([{ target: email, message: t("error_email") }]);
    send.disabled = true;
    try {
      await intake.emailMeALink({ email: address, language: lang() });
      checkYourEmail(address);
    } catch (error) {
      summary.show(error);
    } finally {
      send.disabled = false;
    }
  });
  mount(h("h1", {}, t("reach_title")), summary, form);
  email.focus();
}

function checkYourEmail(address) {
  const again = h("a", { href: "/sign-in", "data-link": "", id: "reach-again" }, t("reach_again"));
  mount(h("h1", { id: "reach-check" }, t("reach_check_title")),
    h("div", { class: "panel", role: "status" }, h("p", {}, t("reach_check_text", { email: address }))),
    h("p", {}, t("reach_check_spam")), h("p", {}, again));
}

/** /sign-in/<token>: the link from the email. The address bar drops the token at once, so a
 * reload or the back button never tries a used link again. */
export async function signInWithLink(token) {
  history.replaceState({}, "", "/sign-in/done");
  const box = problemBox();
  let signedIn;
  try {
    signedIn = await intake.exchangeSignInLink(token);
  } catch (error) {
    if (error.status !== 410) box.show(error); // a used or expired link: the words below say it all
    mount(h("h1", {}, t("reach_title")), box, h("p", { class: error.status === 410 ? "problem" : null, role: "alert" }, t("reach_link_invalid")),
      h("p", {}, h("a", { class: "button", href: "/sign-in", "data-link": "" }, t("reach_button"))));
    return;
  }
  for (const c of signedIn.cases) rememberParty(c.case_id, c.access_token, { side: c.side, reference: c.reference });
  sessionStorage.setItem("odr.signedIn", JSON.stringify(signedIn.cases.map(({ access_token: _, ...c }) => c)));
  return landing();
}

/** /sign-in/done: the cases the link opened (kept for this tab, so a reload shows them again). */
export function landing() {
  let cases = [];
  try { cases = JSON.parse(sessionStorage.getItem("odr.signedIn")) || []; } catch { /* nothing kept */ }
  const list = h("ul", { class: "list", id: "reach-cases" }, cases.map((c) => h("li", { dataset: { case: c.case_id } },
    h("a", { href: `/cases/${c.case_id}`, "data-link": "" }, caseName(c.reference)),
    " ", label("category", c.category), " — ", fmtDateTime(c.filed_at, zoneOf(c.jurisdiction)),
    " ", h("span", { class: "muted" }, label(c.category === "criminal" ? "criminal_side" : "side", c.side)),
    " — ", h("span", { class: "status", "data-status": c.status }, label("status", c.status)),
    CLOSED.has(c.status) ? h("span", { class: "muted" }, ` (${t("reach_closed")})`) : null)));
  mount(h("h1", {}, t("reach_signed_in_title")),
    section(t("my_cases"), h("p", {}, cases.length ? t("reach_signed_in_text") : t("reach_no_cases")), list));
}
