// The mediator's desk: sign in (password; accounts come from the register's administrators),
// then the cases: proposals waiting for a decision and the cases taken, with their status.
import * as intake from "../api/intake.js";
import { label, lang, t } from "../i18n.js";
import * as identity from "../identity.js";
import { busy, caseName, field, fmtDate, h, mount, problemBox, section } from "../ui.js";

export async function mediatorHome() {
  const me = identity.mediator();
  if (!me) return login();
  const box = problemBox();
  let proposals = [];
  try {
    proposals = await intake.myMediatorProposals({ token: me.token });
  } catch (error) {
    box.show(error);
  }
  const cases = new Map();
  for (const p of proposals) if (!cases.has(p.case_id)) cases.set(p.case_id, p);
  const rows = [];
  for (const [caseId, p] of cases) {
    const name = h("a", { href: `/cases/${caseId}`, "data-link": "" }, caseName(null));
    const row = h("li", {}, name, " — ", h("span", {}, label("proposal_status", p.status)));
    intake.getCase(caseId, { token: me.token, lang: lang() }).then((c) => {
      name.textContent = caseName(c.reference);
      row.append(" · ", h("span", { class: "status" }, label("status", c.status)), " · ", label("category", c.category));
      if (c.safeguards && c.safeguards.length) row.append(" · ", h("strong", {}, t("safeguards"), ": ", c.safeguards.map((s) => label("safeguard", s)).join(", ")));
    }).catch(() => {});
    rows.push(row);
  }
  const out = h("button", { type: "button", class: "secondary" }, t("sign_out"));
  out.addEventListener("click", async () => {
    await intake.signOut({ token: me.token }).catch(() => {});  // best effort: forget it here anyway
    identity.forget("mediator");
    mediatorHome();
  });
  mount(h("h1", {}, t("mediator_desk")), box,
    section(t("mediator_cases"), rows.length ? h("ul", { class: "list", id: "mediator-cases" }, rows) : h("p", { class: "muted" }, t("no_cases"))),
    twoStep(me), out);
}

/** Two-step sign-in on the desk: turned on with an authenticator app (its first code confirms),
 * and once on, said so, with how many recovery codes are left, new ones, or turning it off (each
 * takes a current code). The section fills in when the account's state is known. */
function twoStep(me) {
  const box = problemBox();
  const area = h("div", { id: "totp-area" });
  const showCodes = (codes, lead) => area.replaceChildren(h("p", { role: "status" }, lead), h("p", {}, t("totp_recovery_codes")),
    h("ul", { id: "totp-recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))));

  const off = () => {
    const start = h("button", { type: "button", class: "secondary", id: "totp-start" }, t("totp_turn_on"));
    start.addEventListener("click", busy(start, box, async () => {
      const setup = await intake.startTotp({ token: me.token });
      const code = h("input", { type: "text", id: "totp-confirm-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
      const confirm = h("button", { type: "button", id: "totp-confirm" }, t("totp_confirm"));
      confirm.addEventListener("click", busy(confirm, box, async () => {
        const { recovery_codes: codes } = await intake.confirmTotp({ code: code.value.trim() }, { token: me.token });
        showCodes(codes, t("totp_on"));
      }));
      // The key in groups of four, as authenticator apps print and accept it; the otpauth:// address
      // is a link that opens the app on this device, not a line of Latin text to read.
      // On a computer the phone scans the QR code; on the phone itself, the link or the key.
      area.replaceChildren(h("p", {}, t("totp_scan")),
        h("p", {}, h("img", { src: setup.qr_code, id: "totp-qr", class: "qr", alt: t("totp_qr_alt"), width: 180, height: 180 })),
        h("p", {}, t("totp_add_to_app")),
        h("p", {}, h("code", { id: "totp-secret", class: "wrap-anywhere" }, setup.secret.match(/.{1,4}/g).join(" "))),
        h("p", {}, h("a", { href: setup.otpauth_uri, id: "totp-app-link" }, t("totp_open_app"))),
        field(t("totp_code"), code), confirm);
    }));
    area.replaceChildren(h("p", {}, t("totp_intro")), start);
  };

  const on = (status) => {
    const code = h("input", { type: "text", id: "totp-manage-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
    const renew = h("button", { type: "button", class: "secondary", id: "totp-renew" }, t("totp_renew"));
    const turnOff = h("button", { type: "button", class: "secondary", id: "totp-off" }, t("totp_turn_off"));
    renew.addEventListener("click", busy(renew, box, async () => {
      const { recovery_codes: codes } = await intake.renewRecoveryCodes({ code: code.value.trim() }, { token: me.token });
      showCodes(codes, t("totp_renewed"));
    }));
    turnOff.addEventListener("click", busy(turnOff, box, async () => {
      await intake.disableTotp({ code: code.value.trim() }, { token: me.token });
      off();
      area.prepend(h("p", { role: "status", id: "totp-status" }, t("totp_turned_off")));
    }));
    area.replaceChildren(
      h("p", { id: "totp-status" }, t("totp_is_on", { since: fmtDate(status.since) })),
      h("p", {}, t("totp_codes_left", { n: status.recovery_codes_left })),
      field(t("totp_code"), code, t("totp_manage_hint")), h("div", { class: "actions" }, renew, turnOff));
  };

  intake.totpStatus({ token: me.token }).then((status) => (status.enabled ? on(status) : off())).catch((error) => { off(); box.show(error); });
  return section(t("totp_title"), area, box);
}

function login() {
  const box = problemBox();
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const code = h("input", { type: "text", name: "totp_code", autocomplete: "one-time-code", maxlength: 19 });
  const codeField = field(t("totp_code"), code, t("totp_code_hint"));
  codeField.hidden = true;
  const submit = h("button", { type: "submit" }, t("sign_in"));
  const form = h("form", { class: "card" }, field(t("username"), user), field(t("password"), pass), codeField, box,
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", busy(submit, box, async () => {
    const totpCode = !codeField.hidden && code.value.trim() ? code.value.trim() : undefined;
    try {
      const r = await intake.login({ username: user.value.trim(), password: pass.value, totpCode });
      identity.rememberMediator(r.access_token);
      mediatorHome();
    } catch (error) {
      if (error.problem?.type?.endsWith("/totp-required")) { // the account has two-step sign-in
        codeField.hidden = false;
        code.focus();
        return;
      }
      throw error;
    }
  }));
  mount(h("h1", {}, t("mediator_sign_in")), h("p", {}, t("mediator_sign_in_intro")), form);
}
