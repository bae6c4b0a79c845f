// Small DOM helpers: build elements without innerHTML (user text is never parsed as HTML),
// announce results to screen readers, and show problems from the API in plain words.
import { t, lang } from "./i18n.js";

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

/** The error box of a form: shows an API problem (title, detail, field errors). */
export function problemBox() {
  const box = h("div", { class: "problem", role: "alert", hidden: true });
  box.show = (error) => {
    box.replaceChildren();
    const p = error && error.problem;
    box.append(h("strong", {}, (p && p.title) || t("error_generic")));
    if (p && p.detail) box.append(h("p", {}, p.detail));
    const details = (p && (p.errors || p.missing)) || [];
    if (Array.isArray(details) && details.length) {
      box.append(h("ul", {}, details.map((e) => h("li", {}, typeof e === "string" ? e : `${(e.loc || e.field || []).toString()}: ${e.msg || e.message || ""}`))));
    }
    if (!p) box.append(h("p", {}, String((error && error.message) || error)));
    box.hidden = false;
    box.focus?.();
  };
  box.clear = () => { box.hidden = true; box.replaceChildren(); };
  box.tabIndex = -1;
  return box;
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
      if (box) box.show(error); else toast(error.message || String(error));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };
}

// Browsers ship little Kazakh calendar data (month names come out as "M11"), so Kazakh dates use
// the numeric form usual in Kazakhstan: 22.11.2026, 14:30.
const NUMERIC = { day: "2-digit", month: "2-digit", year: "numeric" };

/** A moment; with ``zone`` (a legal deadline) in that time zone, named, whatever the browser's. */
export function fmtDateTime(value, zone) {
  if (!value) return "—";
  const d = new Date(value);
  const where = zone ? { timeZone: zone, timeZoneName: "short" } : {};
  if (lang() === "kk") return new Intl.DateTimeFormat("ru-RU", { ...NUMERIC, hour: "2-digit", minute: "2-digit", ...where }).format(d);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", ...where }).format(d);
}

/** The time zone legal deadlines of a jurisdiction are counted in. */
export function zoneOf(jurisdiction) {
  return { KZ: "Asia/Almaty" }[jurisdiction];
}

export function fmtDate(value) {
  if (!value) return "—";
  const d = typeof value === "string" && value.length === 10 ? new Date(`${value}T12:00:00`) : new Date(value);
  if (lang() === "kk") return new Intl.DateTimeFormat("ru-RU", NUMERIC).format(d);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(d);
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
