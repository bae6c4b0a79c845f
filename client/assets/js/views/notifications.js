// In-app notifications: the feed of every identity this browser holds (a party per case, the
// mediator), live over server-sent events so a case page refreshes when something happens.
import * as api from "../api/notifications.js";
import { t } from "../i18n.js";
import * as identity from "../identity.js";
import { fmtDateTime, h, mount, section } from "../ui.js";

const listeners = new Set();
const streams = new Map(); // token -> EventSource
let unread = 0;
const badges = new Set();

function tokens() {
  const out = new Map();
  for (const c of identity.myCases()) out.set(c.subject + c.caseId, c.token);
  const m = identity.mediator();
  if (m) out.set(m.subject, m.token);
  return [...new Set(out.values())];
}

/** Call ``fn(notice)`` for each live notice; returns the unsubscribe function. */
export function onNotice(fn) {
  connect();
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function connect() {
  const wanted = new Set(tokens());
  for (const [token, source] of streams) {
    if (!wanted.has(token)) { source.close(); streams.delete(token); }
  }
  for (const token of wanted) {
    if (streams.has(token)) continue;
    const source = new EventSource(api.feedStreamUrl({ token }));
    source.addEventListener("notification", (event) => {
      const notice = JSON.parse(event.data);
      if (!notice.read) setUnread(unread + 1);
      for (const fn of listeners) fn(notice);
    });
    streams.set(token, source);
  }
}

function setUnread(n) {
  unread = n;
  for (const b of badges) {
    b.textContent = n ? String(n) : "";
    b.hidden = !n;
    b.setAttribute("aria-label", t("unread_count", { n }));
  }
}

export function unreadBadge() {
  const b = h("span", { class: "badge", hidden: true });
  badges.clear();
  badges.add(b);
  setUnread(unread);
  return b;
}

async function allNotices() {
  const seen = new Map();
  for (const token of tokens()) {
    try {
      const feed = await api.feed({ limit: 100, token });
      for (const item of feed.items) seen.set(item.id, { ...item, token });
    } catch { /* an expired identity has no feed */ }
  }
  return [...seen.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
}

export async function notifications() {
  await renderFeed();
  return onNotice(() => { if (location.pathname === "/notifications") renderFeed(); });
}

async function renderFeed() {
  const items = await allNotices();
  setUnread(items.filter((i) => !i.read).length);
  const list = h("ul", { class: "list", id: "notification-list" }, items.map((n) => {
    // A notice's link is a page of this client; its host is the one set for emails, which need not
    // be the address this browser reached the platform at, so only the path is used in-app.
    const link = n.link ? new URL(n.link, location.origin) : null;
    // in the recipient's language, which need not be this page's: marked so
    const text = link ? h("a", { href: link.pathname, "data-link": "", lang: n.language || undefined }, n.title)
      : h("span", { lang: n.language || undefined }, n.title);
    const li = h("li", { class: n.read ? "" : "unread" }, n.critical ? h("strong", {}, "! ") : null, text, " ",
      h("span", { class: "muted" }, fmtDateTime(n.created_at)));
    if (!n.read) {
      const mark = h("button", { type: "button", class: "secondary", "aria-label": t("mark_read_named", { title: n.title }) }, t("mark_read"));
      mark.addEventListener("click", async () => {
        await api.markRead(n.id, { token: n.token });
        mark.remove(); li.classList.remove("unread"); setUnread(Math.max(0, unread - 1));
      });
      li.append(" ", mark);
    }
    return li;
  }));
  const mailbox = h("p", { class: "muted" }, t("mailbox_hint"), " ", h("a", { href: api.MAILBOX_URL }, t("mailbox")));
  mount(h("h1", {}, t("nav_notifications")), section(t("notifications_recent"), items.length ? list : h("p", { class: "muted" }, t("no_notifications"))), mailbox);
}
