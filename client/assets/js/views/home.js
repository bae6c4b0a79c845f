// The start page: the cases this browser takes part in, and the ways in (file, open an
// invitation link, sign in as a mediator or a court).
import * as intake from "../api/intake.js";
import { label, t } from "../i18n.js";
import { myCases, noteReference } from "../identity.js";
import { navigate } from "../router.js";
import { caseName, field, h, mount, section } from "../ui.js";

export async function home() {
  const cases = myCases();
  const list = h("ul", { class: "list" });
  for (const c of cases) {
    const name = h("a", { href: `/cases/${c.caseId}`, "data-link": "" }, caseName(c.reference));
    const item = h("li", {}, name, " ", h("span", { class: "muted" }, label("side", c.side)));
    list.append(item);
    intake.getCase(c.caseId, { token: c.token }).then((view) => {
      name.textContent = caseName(view.reference);
      noteReference(c.caseId, view.reference);
      item.append(" — ", h("span", { class: "status" }, label("status", view.status)));
    }).catch(() => {});
  }
  const link = h("input", { type: "text", name: "invitation", autocomplete: "off" });
  const open = h("form", {}, field(t("invitation_paste"), link, t("invitation_paste_hint")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("invitation_open"))));
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = link.value.trim().split("/invitations/").pop().split(/[?#]/)[0];
    if (token) navigate(`/invitations/${encodeURIComponent(token)}`);
  });
  mount(
    h("h1", {}, t("home_title")),
    h("p", {}, t("home_intro")),
    section(t("my_cases"), cases.length ? list : h("p", { class: "muted" }, t("no_cases"))),
    h("div", { class: "grid two" },
      section(t("start_case"), h("p", {}, t("start_case_text")),
        h("a", { class: "button", href: "/file", "data-link": "" }, t("nav_file"))),
      section(t("have_invitation"), open)),
    h("div", { class: "grid two" },
      section(t("nav_mediator"), h("a", { class: "button secondary", href: "/mediator", "data-link": "" }, t("mediator_sign_in"))),
      section(t("nav_court"), h("a", { class: "button secondary", href: "/court", "data-link": "" }, t("court_sign_in")))),
  );
}
