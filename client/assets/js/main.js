// The browser client: plain ES modules (no build step). This module declares the pages (real
// paths, so the links in notices, /cases/<id>/agreements/<id>/sign, ... open the right view) and
// starts router.js over them; the views import navigate from router.js, never from here.
import { applyLanguage, lang, setLanguage, t } from "./i18n.js";
import { h } from "./ui.js";
import * as identity from "./identity.js";
import { navigate, render, start } from "./router.js";
import { home } from "./views/home.js";
import { fileCase, filed, fileStep } from "./views/file.js";
import { invitation } from "./views/invitation.js";
import { caseView } from "./views/case.js";
import { screening } from "./views/screening.js";
import { room } from "./views/room.js";
import { agreement } from "./views/agreement.js";
import { mediatorHome } from "./views/mediator.js";
import { courtHome } from "./views/court.js";
import { notifications, unreadBadge } from "./views/notifications.js";
import { emailLink, landing, signInWithLink } from "./views/signin.js";
import { verify } from "./views/verify.js";

const routes = [
  [/^\/$/, home],
  [/^\/file$/, fileCase],
  [/^\/file\/([a-z-]+)$/, fileStep],
  [/^\/cases\/([^/]+)\/filed$/, filed],
  [/^\/invitations\/([^/]+)$/, invitation],
  [/^\/cases\/([^/]+)\/invitation$/, (caseId) => caseView(caseId)],
  [/^\/cases\/([^/]+)$/, caseView],
  [/^\/cases\/([^/]+)\/screening$/, screening],
  [/^\/cases\/([^/]+)\/mediator$/, (caseId) => caseView(caseId)],
  [/^\/cases\/([^/]+)\/room$/, room],
  [/^\/cases\/([^/]+)\/sessions\/([^/]+)$/, (caseId) => room(caseId)],
  [/^\/cases\/([^/]+)\/agreements\/([^/]+)(?:\/sign)?$/, agreement],
  [/^\/mediator$/, mediatorHome],
  [/^\/court$/, courtHome],
  [/^\/notifications$/, notifications],
  [/^\/sign-in$/, emailLink],
  [/^\/sign-in\/done$/, landing],
  [/^\/sign-in\/([^/]+)$/, signInWithLink],
  [/^\/verify\/([0-9a-f]{64})$/, verify],
];

function renderNav(path) {
  const links = [["/", t("nav_my_cases")], ["/file", t("nav_file")], ["/notifications", t("nav_notifications")],
    ["/mediator", t("nav_mediator")], ["/court", t("nav_court")]];
  const nav = document.getElementById("nav");
  nav.replaceChildren(...links.map(([href, label]) => {
    const a = h("a", { href, "data-link": "", "aria-current": href === path ? "page" : null }, label);
    if (href === "/notifications") a.append(" ", unreadBadge());
    return a;
  }));
}

function titleFromHeading() {
  const heading = document.querySelector("main h1");
  if (heading) document.title = `${heading.textContent} — ODR`;
}

function notFound() {
  document.getElementById("main").replaceChildren(h("h1", {}, t("not_found")), h("p", {}, h("a", { href: "/", "data-link": "" }, t("go_home"))));
}

const picker = document.getElementById("language");
picker.value = lang();
picker.addEventListener("change", () => { setLanguage(picker.value); render(); });
applyLanguage();
start(routes, { beforeEach: renderNav, afterEach: titleFromHeading, notFound });
identity.keepFresh();
setInterval(() => identity.keepFresh(), 60000);
window.odr = { identity, navigate }; // for people debugging in the console
