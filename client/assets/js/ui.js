// Small DOM helpers: build elements without innerHTML (user text is never parsed as HTML),
// announce results to screen readers, and show problems from the API in plain words.
import { ApiError } from "./api/http.js";
import { label, lang, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    // Styles through the CSSOM only: a style attribute is inline style, which the CSP refuses.
    else if (key === "style") Object.assign(el.style, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(...children) {
  const main = document.getElementById("main");
  main.replaceChildren();
  append(main, children);
  return main;
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.classList.add("visible");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("visible"), 4000);
}

/** A labelled form field: every control has a visible label (and so a screen-reader name). */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function checkbox(label, attrs = {}) {
  const input = h("input", { type: "checkbox", ...attrs });
  return h("label", { class: "check" }, input, " ", label);
}

export function select(name, options, value) {
  return h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

// Problems from the API, told in the reader's language: a problem type we know has its own
// words; anything else is a general message. The server's own text (English, with field paths
// such as "body,parties,0,name") is never shown.
const PROBLEM_WORDS = {
  "illegal-transition": "problem_illegal_transition", "link-used": "problem_link_used",
  "link-expired": "problem_link_expired", "not-found": "problem_not_found", forbidden: "problem_forbidden",
  "already-screened": "problem_already_screened", "consent-text-outdated": "problem_consent_text_outdated",
  "rate-limited": "problem_rate_limited", "validation-error": "problem_validation",
  "invalid-credentials": "problem_invalid_credentials", "invalid-client": "problem_invalid_client",
  "invalid-code": "problem_invalid_code", "session-expired": "problem_session_expired",
  "already-answered": "problem_already_answered", "answer-window-passed": "problem_answer_window_passed",
};

/** What went wrong, in words a person can act on. */
export function problemMessage(error) {
  if (!error) return t("error_generic");
  if (!(error instanceof ApiError)) return error.message || t("error_generic"); // the client's own, already in the reader's language
  if (error.status === 0) return t("problem_network");
  const type = String(error.problem?.type || "").split("/").pop();
  if (PROBLEM_WORDS[type]) return t(PROBLEM_WORDS[type]);
  if (error.status === 404) return t("problem_not_found");
  if (error.status === 403 || error.status === 401) return t("problem_forbidden");
  if (error.status === 429) return t("problem_rate_limited");
  return t("error_generic");
}

/** The error box of a page or a small form: a problem in the reader's language. */
export function problemBox() {
  const box = h("div", { class: "problem", role: "alert", hidden: true });
  box.show = (error) => {
    box.replaceChildren(h("strong", {}, problemMessage(error)));
    box.hidden = false;
    box.focus?.();
  };
  box.clear = () => { box.hidden = true; box.replaceChildren(); };
  box.tabIndex = -1;
  return box;
}

/** GOV.UK's error pattern for a form: a summary at the top listing each problem as a link to its
 * field, and the same message beside the field. ``box.fieldFor(loc)`` (set by the form) maps a
 * validation problem's field path (``["body", "parties", 0, "name"]``) to ``{ target, message }``;
 * ``target`` is a control or a fieldset of the form; ``summary`` (optional) words the summary's link
 * when the message beside the field would be ambiguous on its own. */
export function errorSummary() {
  const list = h("ul", { class: "error-summary-list" });
  const box = h("div", { class: "error-summary", role: "alert", tabindex: "-1", hidden: true },
    h("h2", {}, t("error_summary_title")), list);
  let marked = [];
  box.fieldFor = () => null;
  box.clear = () => {
    box.hidden = true;
    list.replaceChildren();
    for (const undo of marked) undo();
    marked = [];
  };
  box.showFields = (items, extra = []) => {
    box.clear();
    const seen = new Set();
    for (const { target, message, summary } of items) {
      if (seen.has(target)) continue;
      seen.add(target);
      marked.push(markField(target, message));
      const link = h("a", { href: `#${target.id}` }, summary || message);
      link.addEventListener("click", (event) => { // a #hash would re-route the page
        event.preventDefault();
        const control = target.matches("fieldset") ? target.querySelector("input, select, textarea") : target;
        target.scrollIntoView({ block: "center" });
        control?.focus({ preventScroll: true });
      });
      list.append(h("li", {}, link));
    }
    for (const message of extra) list.append(h("li", {}, message));
    box.hidden = false;
    box.focus();
  };
  box.show = (error) => {
    const found = error?.problem?.errors;
    if (Array.isArray(found) && found.length) {
      const items = [];
      const rest = new Set();
      for (const e of found) {
        const mapped = box.fieldFor((e.loc || []).filter((part) => part !== "body"), e.type);
        if (mapped?.target) items.push(mapped); else rest.add(t("problem_validation"));
      }
      return box.showFields(items, [...rest]);
    }
    box.showFields([], [problemMessage(error)]);
  };
  return box;
}

function markField(target, message) {
  const id = `${target.id}-error`;
  const note = h("p", { class: "error-message", id }, h("span", { class: "visually-hidden" }, `${t("error_prefix")}: `), message);
  const container = target.matches("fieldset") ? target : (target.closest(".field") || target.parentElement);
  const legend = container.matches("fieldset") && container.querySelector(":scope > legend");
  if (legend) {
    legend.after(note);
  } else { // before the control, or before whatever holds it (a checkbox's label)
    let anchor = target;
    while (anchor.parentElement && anchor.parentElement !== container) anchor = anchor.parentElement;
    container.insertBefore(note, anchor.parentElement === container ? anchor : container.firstChild);
  }
  container.classList.add("has-error");
  const controls = target.matches("fieldset") ? [...target.querySelectorAll("input, select, textarea")] : [target];
  for (const c of controls) {
    c.setAttribute("aria-invalid", "true");
    c.setAttribute("aria-describedby", [c.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  }
  return () => {
    note.remove();
    container.classList.remove("has-error");
    for (const c of controls) {
      c.removeAttribute("aria-invalid");
      const rest = (c.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
      if (rest.length) c.setAttribute("aria-describedby", rest.join(" ")); else c.removeAttribute("aria-describedby");
    }
  };
}

/** Runs an async action from a button: disables it while running, reports errors in ``box``. */
export function busy(button, box, action) {
  return async (event) => {
    event?.preventDefault?.();
    box?.clear?.();
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await action();
    } catch (error) {
      if (box) box.show(error); else toast(problemMessage(error));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };
}

// Browsers ship little Kazakh or Kyrgyz calendar data (month names come out as "M11"), so those
// dates use the numeric form usual in Kazakhstan and Kyrgyzstan: 22.11.2026, 14:30.
const NUMERIC = { day: "2-digit", month: "2-digit", year: "numeric" };
const NUMERIC_LANGS = ["kk", "ky"];

/** A moment; with ``zone`` (a legal deadline) in that time zone, named in the reader's language
 * (the browser's own zone names come out as "GMT+5", or in Russian on a Kazakh page). */
export function fmtDateTime(value, zone) {
  if (!value) return "—";
  const d = new Date(value);
  const where = zone ? { timeZone: zone } : {};
  const text = NUMERIC_LANGS.includes(lang())
    ? new Intl.DateTimeFormat("ru-RU", { ...NUMERIC, hour: "2-digit", minute: "2-digit", ...where }).format(d)
    : new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", ...where }).format(d);
  return zone ? `${text} (${label("zone", zone)})` : text;
}

/** How a case is named to people: by its reference (KZ-2026-000123), never by its internal id
 * (ids stay in URLs). Until the reference is known (the case is still loading) just "Case". */
export function caseName(reference) {
  return reference ? t("case_title", { id: reference }) : t("case");
}

/** The time zone legal deadlines of a jurisdiction are counted in. */
export function zoneOf(jurisdiction) {
  return { KZ: "Asia/Almaty", KG: "Asia/Bishkek" }[jurisdiction];
}

export function fmtDate(value) {
  if (!value) return "—";
  const d = typeof value === "string" && value.length === 10 ? new Date(`${value}T12:00:00`) : new Date(value);
  if (NUMERIC_LANGS.includes(lang())) return new Intl.DateTimeFormat("ru-RU", NUMERIC).format(d);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(d);
}

/** An amount of money as the reader writes it ("400 000,00 ₸"), with the currency's sign where it
 * has one, never its code; Kazakh and Kyrgyz take the Russian number form, as dates do. ``value``
 * is in major units (a number or the API's decimal string). */
export function fmtMoney(value, currency) {
  const n = Number(value);
  const format = moneyFormat(currency);
  if (!Number.isFinite(n) || !format) return `${value} ${currency || ""}`.trim();
  return format.format(n);
}

/** A currency as the reader meets it beside an amount they type: its sign ("₸"), as ``fmtMoney``
 * shows it, never its code ("KZT"). */
export function currencySign(currency) {
  const part = moneyFormat(currency)?.formatToParts(1).find((p) => p.type === "currency");
  return part ? part.value : currency || "";
}

/** A currency named in the reader's language ("Қазақстан теңгесі"), for choosing one from a list
 * where signs alone could be mistaken ("$"); its sign where the browser knows no name. */
export function currencyName(currency) {
  try {
    const name = new Intl.DisplayNames([lang()], { type: "currency" }).of(currency);
    if (name && name !== currency) return name.charAt(0).toLocaleUpperCase(lang()) + name.slice(1);
  } catch { /* an unknown language or code: the sign below */ }
  return currencySign(currency);
}

function moneyFormat(currency) {
  if (!/^[A-Z]{3}$/.test(currency || "")) return null;
  return new Intl.NumberFormat(lang() === "en" ? "en-GB" : "ru-RU", { style: "currency", currency, currencyDisplay: "narrowSymbol",
    minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function locale() {
  return { ru: "ru-RU", en: "en-GB" }[lang()] || "en-GB";
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function definitionList(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
