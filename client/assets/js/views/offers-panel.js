// Blind offers for a money term, in the room. Each side privately states the amount it would
// accept (the claimant the least it would take, the respondent the most it would pay); the server
// says only whether the two cross and, if they do, the figure by the agreed rule. This panel shows
// exactly what the server's `offers` frames say to this person: a party sees its own offers and,
// once crossed, the figure; the mediator sees the process only (round, rounds used, crossed or not).
// Amounts are typed in major units ("150000.50") and sent as integers in minor units (tiyn).
import { label, lang, t } from "../i18n.js";
import { currencyName, currencySign, fmtMoney, h, toast } from "../ui.js";

const CURRENCIES = ["KZT", "KGS", "RUB", "USD", "EUR"];
const MAX_AMOUNT = 10 ** 12;

/** "150 000,50" or "150000.5" -> 15000050 minor units; null if it is not an amount. */
export function parseAmount(text) {
  const clean = String(text || "").replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
  const m = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(clean);
  if (!m) return null;
  const minor = Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
  return minor >= 1 && minor <= MAX_AMOUNT ? minor : null;
}

/** 15000050, "KZT" -> "150 000,50 ₸" in the reader's language (ui.js's fmtMoney). */
export function formatAmount(minor, currency) {
  return fmtMoney(minor / 100, currency);
}

export class OffersPanel {
  /** `send(frame)`: send a control frame now (false when offline); `me`: {side, role}. */
  constructor({ send, me, mediator }) {
    this.send = send;
    this.me = me;
    this.mediator = mediator;
    this.state = { status: "none" };
    this.live = false;
    // The card's own status line says when the process moves on; a screen reader hears it from
    // this live region, which stays in place across renders. Not the page's toast: fixed at the
    // bottom of the window, it covered this card (its buttons and figure) on the mediator's console
    // and on a phone.
    this.content = h("div", {});
    this.announcer = h("p", { class: "visually-hidden", id: "offers-announce", role: "status", "aria-live": "polite" });
    this.element = h("section", { class: "card offers", id: "offers", "aria-labelledby": "offers-title" },
      this.content, this.announcer);
  }

  /** The session's state changed (offers need a live session). Once it is live, ask what this
   * person may know of the blind offers: asked before, the server refuses (`session-not-live`),
   * and that refusal stood as a toast over this card on the mediator's console. */
  setLive(live) {
    if (this.live === live) return;
    this.live = live;
    if (live) this.refresh();
    this.render();
  }

  /** After (re)connecting: blind offers are not replayed, so the panel asks again as soon as the
   * room says the session is live (``setLive``). */
  reconnected() {
    this.live = false;
  }

  refresh() {
    this.send({ type: "offers.status" });
  }

  onFrame(frame) {
    const before = this.state;
    const { type, ...state } = frame;
    this.state = state;
    this.render();
    if (before.process_id === state.process_id && before.status !== state.status) {
      this.announcer.textContent = label("offers_status", state.status);
    }
  }

  act(frame) {
    if (!this.send(frame)) toast(t("reconnecting"));
  }

  render() {
    const s = this.state;
    const title = h("h2", { id: "offers-title" }, t("offers_title"));
    const body = [];
    if (s.status !== "none") {
      body.push(h("p", { id: "offers-status", dataset: { status: s.status } },
        h("strong", {}, label("offers_status", s.status))));
      body.push(h("p", { class: "muted", id: "offers-terms" }, t("offers_terms", {
        rule: label("offers_rule", s.rule) + (s.rule === "midpoint-band" ? ` (${s.band_percent}%)` : ""),
        currency: currencySign(s.currency), rounds: s.max_rounds,
      })));
      if (s.status === "open" || s.rounds_used) {
        body.push(h("p", { id: "offers-round", dataset: { round: s.round } }, t("offers_round", { round: s.round, rounds: s.max_rounds, used: s.rounds_used })));
      }
    }
    if (!this.mediator && s.my_offers?.length) {
      body.push(h("p", { class: "muted", id: "offers-mine" }, t("offers_mine"), " ",
        s.my_offers.map((a) => formatAmount(a, s.currency)).join(" → ")));
    }
    if (s.figure !== undefined) {
      body.push(h("p", { class: "notice", id: "offers-figure" }, t("offers_figure", { amount: formatAmount(s.figure, s.currency) })));
    }
    body.push(...this.actions(s));
    if (!this.live) body.push(h("p", { class: "hint" }, t("offers_needs_session")));
    this.content.replaceChildren(title, h("p", { class: "hint" }, this.mediator ? t("offers_intro_mediator") : t("offers_intro")), ...body);
  }

  actions(s) {
    if (!this.live) return [];
    const side = this.me.side;
    const ended = ["none", "settled", "exhausted", "cancelled"].includes(s.status);
    const out = [];
    if (ended) out.push(this.proposeForm());
    if (s.status === "proposed" && !this.mediator) {
      if (!s.agreed.includes(side)) out.push(this.button("offers-agree", t("offers_agree"), { type: "offers.agree", process_id: s.process_id }));
      else out.push(h("p", {}, t("offers_waiting_agreement")));
    }
    if (s.status === "open" && !this.mediator) {
      out.push(s.offered ? h("p", { id: "offers-sealed" }, t("offers_sealed")) : this.offerForm(s));
    }
    if (s.status === "crossed" && !this.mediator) {
      if (!s.confirmed.includes(side)) out.push(this.button("offers-confirm", t("offers_confirm"), { type: "offers.confirm", process_id: s.process_id }));
      else out.push(h("p", {}, t("offers_waiting_confirmation")));
    }
    if (["proposed", "open", "crossed"].includes(s.status)) {
      out.push(this.button("offers-cancel", t("offers_cancel"), { type: "offers.cancel", process_id: s.process_id }, "secondary"));
    }
    return out;
  }

  button(id, text, frame, cls = "") {
    const b = h("button", { type: "button", id, class: cls || undefined }, text);
    b.addEventListener("click", () => { b.disabled = true; this.act(frame); });
    return b;
  }

  offerForm(s) {
    const input = h("input", { type: "text", id: "offers-amount", inputmode: "decimal", autocomplete: "off", required: true,
      "aria-describedby": "offers-amount-hint" });
    const form = h("form", { id: "offers-offer" },
      h("div", { class: "field" },
        h("label", { for: "offers-amount" }, t(this.me.side === "claimant" ? "offers_amount_claimant" : "offers_amount_respondent", { currency: currencySign(s.currency) })),
        input, h("small", { class: "hint", id: "offers-amount-hint" }, t("offers_amount_hint"))),
      h("button", { type: "submit", id: "offers-submit" }, t("offers_submit", { round: s.round })));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const amount = parseAmount(input.value);
      if (amount === null) { toast(t("offers_amount_invalid")); input.focus(); return; }
      this.act({ type: "offers.submit", process_id: s.process_id, round: s.round, amount });
      form.querySelector("button").disabled = true;
    });
    return form;
  }

  proposeForm() {
    const currency = h("select", { id: "offers-currency" }, CURRENCIES.map((c) => h("option", { value: c, selected: c === "KZT" }, currencyName(c))));
    const rule = h("select", { id: "offers-rule" }, ["midpoint", "midpoint-band"].map((r) => h("option", { value: r }, label("offers_rule", r))));
    const band = h("input", { type: "number", id: "offers-band", min: 1, max: 20, value: 10 });
    const rounds = h("input", { type: "number", id: "offers-rounds", min: 1, max: 10, value: 3 });
    const bandField = h("div", { class: "field", hidden: true }, h("label", { for: "offers-band" }, t("offers_band")), band);
    rule.addEventListener("change", () => { bandField.hidden = rule.value !== "midpoint-band"; });
    const form = h("form", { id: "offers-propose" },
      h("div", { class: "field" }, h("label", { for: "offers-currency" }, t("offers_currency")), currency),
      h("div", { class: "field" }, h("label", { for: "offers-rule" }, t("offers_rule")), rule),
      bandField,
      h("div", { class: "field" }, h("label", { for: "offers-rounds" }, t("offers_rounds")), rounds),
      h("button", { type: "submit", id: "offers-propose-send" }, t("offers_propose")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const frame = { type: "offers.propose", currency: currency.value, rule: rule.value, max_rounds: Number(rounds.value) };
      if (rule.value === "midpoint-band") frame.band_percent = Number(band.value);
      this.act(frame);
    });
    // a disclosure button rather than <details>: the room's proposal form is the room's one <details>
    form.hidden = true;
    const toggle = h("button", { type: "button", class: "secondary", id: "offers-new", "aria-expanded": "false",
      "aria-controls": "offers-propose" }, t("offers_new"));
    toggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
    });
    return h("div", {}, toggle, form);
  }
}
