// Kazakh, Kyrgyz, Russian and English. The language is the user's choice (remembered in this
// browser), first guessed from the browser's languages. Messages live in messages.js, one entry
// per key with kk/ru/en side by side so none can be forgotten; Kyrgyz lives in messages-ky.js,
// and a key it does not have yet is shown in Russian, the language Kyrgyz readers share with the
// platform's other users, rather than in English.
import { KY } from "./messages-ky.js";
import { MESSAGES } from "./messages.js";

const SUPPORTED = ["kk", "ky", "ru", "en"];
const KEY = "odr.language";

export function lang() {
  const saved = localStorage.getItem(KEY);
  if (SUPPORTED.includes(saved)) return saved;
  for (const wanted of navigator.languages || [navigator.language]) {
    const base = String(wanted || "").slice(0, 2).toLowerCase();
    if (SUPPORTED.includes(base)) return base;
  }
  return "ru";
}

export function setLanguage(code) {
  if (SUPPORTED.includes(code)) localStorage.setItem(KEY, code);
  applyLanguage();
}

export function applyLanguage() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const picker = document.getElementById("language");
  if (picker) picker.value = lang();
}

/** The message ``key`` in the current language, with ``{name}`` placeholders filled in. */
export function t(key, params = {}) {
  return tIn(lang(), key, params);
}

/** The message ``key`` in ``language``: for words written into a document in its own language
 * (an agreement drafted in Russian from a mediator's English page), not the page's. */
export function tIn(language, key, params = {}) {
  const entry = MESSAGES[key];
  if (!entry) {
    console.error(`missing message: ${key}`);
    return key;
  }
  const text = language === "ky" ? (KY[key] ?? entry.ru) : (entry[language] ?? entry.en);
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}

/** A label from a server value (status, category, ...): ``prefix_value`` if known, else the value. */
export function label(prefix, value) {
  return labelIn(lang(), prefix, value);
}

export function labelIn(language, prefix, value) {
  const key = `${prefix}_${value}`;
  return MESSAGES[key] ? tIn(language, key) : String(value ?? "—");
}
