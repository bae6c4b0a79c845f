// The settlement agreement: read it, comment, compare versions, and sign the exact version sent
// for signature (its hash is what is signed). The mediator edits the draft and sends it for
// signature; what the jurisdiction still requires is listed until it is complete. Once everyone
// has signed, the sealed PDF can be downloaded. Documents the mediator attached in the room can be
// listed as annexes: the agreement names each with the SHA-256 of its bytes.
import * as agreements from "../api/agreements.js";
import { claims } from "../api/http.js";
import * as sessions from "../api/sessions.js";
import { label, t } from "../i18n.js";
import * as identity from "../identity.js";
import { createCAdES, NcaLayerError } from "../ncalayer.js";
import { navigate } from "../router.js";
import { busy, checkbox, definitionList, field, fmtDate, fmtDateTime, fmtMoney, h, mount, problemBox, section, toast } from "../ui.js";
import { onNotice } from "./notifications.js";

export async function agreement(caseId, agreementId) {
  if (!identity.forCase(caseId)) return navigate(`/cases/${caseId}`, { replace: true });
  await renderAgreement(caseId, agreementId);
  return onNotice((n) => {
    if (n.case_id === caseId && location.pathname.includes(`/cases/${caseId}/agreements/${agreementId}`) && !unsaved()) {
      renderAgreement(caseId, agreementId, { quiet: true });
    }
  });
}

/** Whether the reader is in the middle of something that drawing the page afresh would throw
 * away: changes to the draft not saved yet, a comment being written, "I have read it" ticked. A
 * notice (someone signed, a draft is ready) then leaves the page as it is; their own next action
 * draws it afresh, and saving over a newer version is refused and said. */
function unsaved() {
  return Boolean(document.querySelector("#agreement-editor[data-changed], #sign-confirm:checked")
    || document.querySelector("#comment-text")?.value.trim());
}

/** ``quiet``: drawn because of a notice, so not over what the reader started meanwhile. */
async function renderAgreement(caseId, agreementId, { quiet = false } = {}) {
  const me = identity.forCase(caseId);
  const box = problemBox();
  const refresh = () => renderAgreement(caseId, agreementId);
  let a;
  try {
    a = await agreements.getAgreement(agreementId, { token: me.token });
  } catch (error) {
    box.show(error);
    mount(h("h1", {}, t("agreement_title")), box);
    return;
  }
  // A party signs in its own slot ("claimant:<participant id>"), a representative in the slot of
  // the party it acts for; agreements sent before per-party slots have one slot per side.
  const perParty = a.signers.some((slot) => slot.includes(":"));
  const mySlot = me.role === "mediator" ? "mediator"
    : perParty ? `${me.side}:${me.actingFor || claims(me.token).for || me.subject}` : me.side;
  const mine = a.signatures.find((s) => s.slot === mySlot && s.status === "valid" && s.version === a.requested_version);
  const parts = [
    h("h1", {}, t("agreement_title")),
    section(t("agreement_status"), definitionList([
      [t("status"), h("span", { class: "status", id: "agreement-status" }, label("agreement_status", a.status))],
      [t("version_label"), String(a.version)],
      [t("agreement_written_in"), label("agreement_language", a.language)],
      [t("document_hash"), h("code", { class: "wrap-anywhere" }, a.document_hash)],
      a.executed_at && [t("executed_at"), fmtDateTime(a.executed_at)],
      a.court_decision && [t("court_decision"), label("court_decision", a.court_decision.decision || a.court_decision)],
    ]), signaturesList(a)),
    section(t("agreement_text"), documentView(a.content, a.language)),
  ];
  if (a.missing?.length) {
    parts.push(section(t("missing_title"), h("ul", { class: "missing" }, a.missing.map((m) => h("li", {}, m.message, " ", h("span", { class: "muted" }, `(${m.citation})`))))));
  }
  if (a.status === "signing" && a.signers.includes(mySlot)) {
    const qualified = mySlot === "mediator" ? null : await agreements.qualifiedConfig().catch(() => null);
    parts.push(signPanel(a, me, mine, box, refresh, qualified));
  }
  if (me.role === "mediator" && (a.status === "draft" || a.status === "signing")) parts.push(editor(a, me, box, refresh));
  if (a.status === "executed") parts.push(pdfPanel(a, me, box));
  parts.push(await comments(a, me, box, refresh));
  if (a.version > 1) parts.push(diffPanel(a, me, box));
  parts.push(box, h("p", {}, h("a", { href: `/cases/${caseId}`, "data-link": "" }, t("back_to_case"))));
  if (quiet && unsaved()) return; // they began typing while this was fetched
  mount(...parts);
}

/** Who signs in ``slot``, by name as the document gives it: the entry naming that party, else the
 * side's entries in order (as many as the side has slots), else the side's names together. */
function signerName(a, slot) {
  const c = a.content || {};
  if (slot === "mediator") return c.mediator?.name || "";
  const [side, id] = slot.split(":");
  const entries = (c.parties || []).filter((p) => p.side === side);
  if (id) {
    const own = entries.find((p) => p.participant_id === id);
    if (own) return own.name;
    const slots = a.signers.filter((s) => s.startsWith(`${side}:`));
    if (entries.length === slots.length) return entries[slots.indexOf(slot)].name;
  }
  return entries.map((p) => p.name).join(", ");
}

function signaturesList(a) {
  if (!a.signers.length) return h("p", { class: "muted" }, t("not_sent_for_signature"));
  return h("ul", { class: "list", id: "signatures" }, a.signers.map((slot) => {
    const s = a.signatures.find((x) => x.slot === slot && x.status === "valid" && x.version === a.requested_version);
    const qes = s?.method === "qualified" ? s.assurance : null;
    const side = slot.split(":")[0];
    const name = signerName(a, slot);
    return h("li", { dataset: { slot, signed: s ? "yes" : "no" } }, label(side === "mediator" ? "role" : "side", side), name ? ` (${name})` : "", ": ",
      s ? t("signed_at", { at: fmtDateTime(s.signed_at) }) : t("not_signed_yet"),
      s?.assurance?.acting === "representative" ? ` — ${t("parties_signed_by_representative")}` : null,
      qes ? h("span", { class: "qualified" }, " — ", t("signed_qualified_by", {
        who: qes.common_name || qes.subject, id: [qes.iin && `IIN ${qes.iin}`, qes.bin && `BIN ${qes.bin}`].filter(Boolean).join(", "),
      })) : null);
  }));
}

/** The agreement's text as drafted, in its own language (``language``), marked so (a screen reader
 * reads it in that language; it is not the page's); the labels around it are the reader's. */
function documentView(c, language) {
  const own = (text) => (/^[a-z]{2}$/.test(language || "") ? h("span", { lang: language }, text) : text);
  const parties = (c.parties || []).map((p) => `${label("side", p.side)}: ${p.name}${p.identifier ? ` (${p.identifier})` : ""}`);
  return h("div", { class: "document", id: "agreement-document" },
    c.title ? h("h3", { class: "pre-wrap" }, own(c.title)) : null, // a bilingual title is one line per language
    definitionList([
      [t("parties"), parties.length ? h("ul", {}, parties.map((p) => h("li", {}, p))) : "—"],
      [t("mediator"), c.mediator ? `${c.mediator.name}${c.mediator.register_number ? `, ${c.mediator.register_number}` : ""}` : "—"],
      [t("subject"), c.subject ? own(c.subject) : "—"],
      c.place && [t("place"), own(c.place)],
    ]),
    h("h3", {}, t("obligations")),
    (c.obligations || []).length ? h("ol", {}, c.obligations.map((o) => h("li", {},
      `${label("side", o.obligor)} → ${label("side", o.obligee)}: `, own(o.what),
      o.amount ? ` — ${fmtMoney(o.amount, o.currency)}` : "", o.deadline ? ` — ${t("until", { date: fmtDate(o.deadline) })}` : "",
      o.manner ? [" (", own(o.manner), ")"] : ""))) : h("p", { class: "muted" }, t("no_obligations")),
    c.free_text ? [h("h3", {}, t("free_text")), h("p", { class: "pre-wrap" }, own(c.free_text))] : null,
    c.procedure ? [h("h3", {}, t("procedure")), h("p", {}, own(c.procedure))] : null,
    c.consequences ? [h("h3", {}, t("consequences")), h("p", {}, own(c.consequences))] : null,
    (c.annexes || []).length ? [h("h3", {}, t("annexes")), h("ol", { id: "annexes" }, c.annexes.map((x) => h("li", {},
      x.title, " ", h("small", { class: "muted hash" }, `SHA-256: ${x.sha256}`))))] : null);
}

/** The editor's annexes: every document attached to the agreement in the room, ticked when this
 * draft lists it. */
function annexPicker(a, me) {
  const box = h("fieldset", { id: "annex-picker" }, h("legend", {}, t("annexes")), h("p", { class: "muted" }, t("annexes_loading")));
  const listed = new Set((a.content.annexes || []).map((x) => x.document_id));
  box.chosen = () => [...box.querySelectorAll("input[type=checkbox]:checked")].map((el) => JSON.parse(el.dataset.annex));
  sessions.documents(a.case_id, { token: me.token }).then(({ items }) => {
    const annexed = items.filter((d) => d.annexed && d.available);
    box.replaceChildren(h("legend", {}, t("annexes")), ...(annexed.length ? annexed.map((d) => {
      const id = `annex-${d.id}`;
      return h("div", { class: "field checkbox" },
        h("input", { type: "checkbox", id, checked: listed.has(d.id),
          dataset: { annex: JSON.stringify({ document_id: d.id, title: d.name, sha256: d.sha256 }) } }),
        h("label", { for: id }, d.name, " ", h("small", { class: "muted hash" }, `SHA-256: ${d.sha256}`)));
    }) : [h("p", { class: "muted" }, t("annexes_none"))]));
  }).catch(() => box.replaceChildren(h("legend", {}, t("annexes")), h("p", { class: "muted" }, t("annexes_none"))));
  return box;
}

function signPanel(a, me, mine, box, refresh, qualified) {
  const card = section(t("sign_title"));
  if (mine) {
    const withdraw = h("button", { type: "button", class: "secondary" }, t("withdraw_signature"));
    withdraw.addEventListener("click", busy(withdraw, box, async () => {
      await agreements.withdrawSignature(a.id, { token: me.token });
      refresh();
    }));
    card.append(h("p", { role: "status" }, t("you_signed_version", { v: a.requested_version })), withdraw);
    return card;
  }
  const read = checkbox(t("sign_confirm", { v: a.requested_version }), { id: "sign-confirm" });
  const sign = h("button", { type: "button", id: "sign" }, t("sign_button"));
  sign.addEventListener("click", busy(sign, box, async () => {
    if (!read.querySelector("input").checked) throw new Error(t("sign_confirm_required"));
    await agreements.sign(a.id, { version: a.requested_version, documentHash: a.document_hash }, { token: me.token });
    toast(t("signed"));
    refresh();
  }));
  card.append(h("p", {}, t("sign_intro")), read, sign);
  if (qualified?.providers?.includes("kz-nca")) {
    // The person's NCALayer signs the document hash (as ASCII bytes) with their own key.
    const qes = h("button", { type: "button", id: "sign-qualified", class: "secondary" }, t("sign_qualified_button"));
    qes.addEventListener("click", busy(qes, box, async () => {
      if (!read.querySelector("input").checked) throw new Error(t("sign_confirm_required"));
      let cms;
      try {
        cms = await createCAdES(qualified.ncalayer_url, btoa(a.document_hash));
      } catch (error) {
        if (error instanceof NcaLayerError) throw new Error(t("ncalayer_failed", { reason: error.message }));
        throw error;
      }
      await agreements.signQualified(a.id, { version: a.requested_version, documentHash: a.document_hash, cms }, { token: me.token });
      toast(t("signed"));
      refresh();
    }));
    card.append(h("p", { class: "muted" }, t("sign_qualified_intro")), qes);
  }
  return card;
}

function editor(a, me, box, refresh) {
  const c = a.content;
  const input = (name, value, attrs = {}) => h("input", { type: "text", name, value: value ?? "", ...attrs });
  const area = (name, value) => { const el = h("textarea", { name }); el.value = value ?? ""; return el; };
  const partyName = (side) => (c.parties || []).find((p) => p.side === side)?.name;
  const obligationRows = h("div", { id: "obligations" });
  const annexes = annexPicker(a, me);
  const addObligation = (o = {}) => {
    const sides = [["respondent", label("side", "respondent")], ["claimant", label("side", "claimant")]];
    const pick = (name, value) => h("select", { name }, sides.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
    const row = h("fieldset", { class: "obligation" }, h("legend", {}, t("obligation")),
      field(t("obligor"), pick("obligor", o.obligor || "respondent")),
      field(t("obligee"), pick("obligee", o.obligee || "claimant")),
      field(t("obligation_what"), input("what", o.what)),
      field(t("amount"), input("amount", o.amount, { inputmode: "decimal" })),
      field(t("currency"), input("currency", o.currency || "KZT", { maxlength: 3 })),
      field(t("deadline"), h("input", { type: "date", name: "deadline", value: o.deadline || "" })),
      field(t("manner"), input("manner", o.manner)));
    if (o.id) row.dataset.id = o.id;
    const remove = h("button", { type: "button", class: "secondary" }, t("remove"));
    remove.addEventListener("click", () => row.remove());
    row.append(remove);
    obligationRows.append(row);
  };
  (c.obligations || []).forEach(addObligation);
  const add = h("button", { type: "button", class: "secondary" }, t("add_obligation"));
  add.addEventListener("click", () => addObligation());
  const form = h("form", { id: "agreement-editor" },
    field(t("title"), area("title", c.title)), // several lines: a bilingual title has one a language
    field(label("side", "claimant"), input("claimant", partyName("claimant"))),
    field(label("side", "respondent"), input("respondent", partyName("respondent"))),
    field(t("mediator"), input("mediator", c.mediator?.name)),
    field(t("register_number"), input("register_number", c.mediator?.register_number)),
    field(t("subject"), area("subject", c.subject)),
    h("h3", {}, t("obligations")), obligationRows, add,
    field(t("free_text"), area("free_text", c.free_text)),
    field(t("procedure"), area("procedure", c.procedure)),
    field(t("consequences"), area("consequences", c.consequences)),
    annexes);
  const changed = () => { form.dataset.changed = "true"; };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  const save = h("button", { type: "button", id: "save-version" }, t("save_version"));
  const send = h("button", { type: "button", id: "send-for-signature" }, t("send_for_signature"));
  const content = () => {
    const v = (n) => form.elements[n].value.trim() || null;
    // the first party of each side is edited here; co-claimants and co-respondents stay as drafted
    const parties = ["claimant", "respondent"].flatMap((side) => {
      const [old = {}, ...others] = (c.parties || []).filter((p) => p.side === side);
      return [...(v(side) ? [{ ...old, side, name: v(side) }] : []), ...others];
    });
    const obligations = [...obligationRows.querySelectorAll("fieldset.obligation")].map((row) => {
      const g = (n) => row.querySelector(`[name=${n}]`).value.trim() || null;
      const o = { obligor: g("obligor"), obligee: g("obligee"), what: g("what"), deadline: g("deadline"), manner: g("manner") };
      if (row.dataset.id) o.id = row.dataset.id;
      if (g("amount")) { o.amount = g("amount"); o.currency = g("currency"); }
      return o;
    }).filter((o) => o.what);
    return { ...c, title: v("title"), parties, mediator: v("mediator") ? { name: v("mediator"), register_number: v("register_number") } : null,
      subject: v("subject"), obligations, free_text: v("free_text"), procedure: v("procedure"), consequences: v("consequences"),
      annexes: annexes.chosen().length ? annexes.chosen() : (annexes.querySelector("input") ? null : c.annexes ?? null) };
  };
  save.addEventListener("click", busy(save, box, async () => {
    await agreements.saveContent(a.id, { baseVersion: a.version, content: content() }, { token: me.token });
    toast(t("saved"));
    refresh();
  }));
  send.addEventListener("click", busy(send, box, async () => {
    await agreements.requestSignatures(a.id, { version: a.version }, { token: me.token });
    toast(t("sent_for_signature"));
    refresh();
  }));
  return section(t("edit_draft"), h("p", { class: "muted" }, t("edit_voids_signatures")), form,
    h("div", { class: "actions" }, save, a.status === "draft" ? send : null));
}

function pdfPanel(a, me, box) {
  const button = h("button", { type: "button", id: "download-pdf" }, t("download_pdf"));
  button.addEventListener("click", busy(button, box, () => agreements.downloadPdf(a.id, { token: me.token })));
  return section(t("executed_title"), h("p", {}, t("executed_text")), button,
    h("p", { class: "muted" }, t("verify_hint"), " ",
      h("a", { href: agreements.verifyPage(a.document_hash), "data-link": "", id: "verify-link" }, t("verify_open"))));
}

async function comments(a, me, box, refresh) {
  const list = await agreements.comments(a.id, { token: me.token }).catch(() => ({ items: [] }));
  const text = h("textarea", { id: "comment-text", maxlength: 5000 });
  const add = h("button", { type: "button", class: "secondary" }, t("comment_add"));
  add.addEventListener("click", busy(add, box, async () => {
    if (!text.value.trim()) return;
    await agreements.addComment(a.id, { text: text.value.trim() }, { token: me.token });
    refresh();
  }));
  return section(t("comments"),
    list.items.length ? h("ul", { class: "list", id: "comments" }, list.items.map((cm) => h("li", {},
      h("strong", {}, cm.author_role === "mediator" ? t("role_mediator") : label("role", cm.author_role)), ` (${t("comment_version", { v: cm.version })}, ${fmtDateTime(cm.created_at)}): `, cm.text)))
      : h("p", { class: "muted" }, t("no_comments")),
    h("div", { class: "field" }, h("label", { for: "comment-text" }, t("comment_label")), text), add);
}

function diffPanel(a, me, box) {
  const out = h("pre", { class: "document diff", id: "diff" });
  const show = h("button", { type: "button", class: "secondary" }, t("show_changes", { from: a.version - 1, to: a.version }));
  show.addEventListener("click", busy(show, box, async () => {
    const d = await agreements.diff(a.id, { from: a.version - 1, to: a.version, token: me.token });
    out.replaceChildren(...d.diff.split("\n").map((line) => {
      const tag = line.startsWith("+") && !line.startsWith("+++") ? "ins" : line.startsWith("-") && !line.startsWith("---") ? "del" : "span";
      return h(tag, {}, `${line}\n`);
    }));
  }));
  return section(t("changes"), show, out);
}
