// The session room. A banner that never scrolls away says where you are and who can read what
// you write: the joint session (everyone) or your side's private caucus (only you and the
// mediator), or the waiting room. Only the current channel's messages are on screen, so words
// said in a caucus are never shown under the joint banner. The mediator also gets the console:
// who is where, admitting from the waiting room, caucuses, shuttle mode, talk-time balance, and
// the documents: sharing a caucus document with the joint session, attaching one to the agreement.
// Anyone in a channel may share a document there (it reaches the people in that channel now);
// each shared document appears in the channel with a button to save it.
import * as intake from "../api/intake.js";
import * as sessions from "../api/sessions.js";
import { label, t } from "../i18n.js";
import * as identity from "../identity.js";
import { navigate } from "../router.js";
import { RoomConnection } from "../room-connection.js";
import { fmtDateTime, h, mount, problemBox, section, toast } from "../ui.js";
import { Video } from "../video.js";
import { OffersPanel } from "./offers-panel.js";
import { loadCalendar, nextSittingLine } from "./sittings.js";

export async function room(caseId) {
  const me = identity.forCase(caseId);
  if (!me) return navigate(`/cases/${caseId}`, { replace: true });
  const box = problemBox();
  let info;
  let theCase;
  let calendar;
  try {
    [info, theCase, calendar] = await Promise.all([sessions.room(caseId, { token: me.token }),
      intake.getCase(caseId, { token: me.token }), loadCalendar(caseId, me)]);
  } catch (error) {
    box.show(error);
    mount(h("h1", {}, t("room_title")), box);
    return;
  }
  if (info.status !== "open") {
    mount(h("h1", {}, t("room_title")), h("p", { role: "status" }, label("room_status", info.status)),
      h("a", { href: `/cases/${caseId}`, "data-link": "" }, t("back_to_case")));
    const timer = setTimeout(() => { if (location.pathname.endsWith("/room")) room(caseId); }, 2000);
    return () => clearTimeout(timer);
  }
  const view = new RoomView({ caseId, me, theCase, mode: info.mode, calendar });
  return await view.start();
}

class RoomView {
  constructor({ caseId, me, theCase, mode, calendar }) {
    this.caseId = caseId;
    this.calendar = calendar; // the next sitting: the waiting room says when it starts
    this.me = me;
    this.mediator = me.role === "mediator";
    this.names = new Map(theCase.participants.map((p) => [p.id, { name: p.name || label("side", p.side), side: p.side, role: p.role }]));
    if (theCase.mediator_id) this.names.set(theCase.mediator_id, { name: t("role_mediator"), role: "mediator" });
    this.location = "waiting";
    this.status = "scheduled";
    this.mode = mode;
    this.messages = {};          // channel -> [{key, frame, mine, state}]
    this.proposals = new Map();  // proposal_id -> {accepted sides}
    this.locations = {};         // mediator: participant -> location
    this.online = new Set();
    this.members = new Set();    // who is in my channel
    this.media = {};             // mediator: whose camera and microphone are on
    this.caucuses = [];
    this.typing = new Map();
    this.safeguards = [];
    this.documents = [];          // mediator's console: what I was shown (GET /documents)
    this.build();
  }

  async start() {
    const token = () => identity.forCase(this.caseId)?.token || this.me.token;
    this.conn = new RoomConnection({
      caseId: this.caseId, token: this.me.token, tokenProvider: token,
      onFrame: (frame) => this.onFrame(frame),
      onState: (state, reason) => this.onConnection(state, reason),
    });
    window.odrRoom = this.conn; // handle for tests and for support staff in the console
    // Audio and video follow the room's frames, so they exist before the first frame arrives.
    this.video = new Video({ caseId: this.caseId, tokenProvider: token, send: (frame) => this.conn.sendNow(frame),
      container: this.videoBox, me: this.me, who: (id) => this.who(id) });
    await this.video.loadConfig();
    this.conn.open();
    return () => { this.video.dispose(); this.conn.close(); clearTimeout(this.bannerTimer); document.getElementById("connection").hidden = true; clearTimeout(this.sittingTimer); };
  }

  // -- layout ---------------------------------------------------------------------------------
  build() {
    this.where = h("div", { class: "where waiting", id: "where", role: "status", "aria-live": "polite" });
    this.whatNow = h("p", { class: "what-now", id: "what-now", "aria-live": "polite" });
    this.list = h("ol", { class: "messages", id: "messages", "aria-label": t("messages"), tabindex: "0" });
    this.typingLine = h("div", { class: "typing", "aria-live": "off" });
    this.input = h("input", { type: "text", id: "message", maxlength: 4000, autocomplete: "off" });
    this.inputLabel = h("label", { for: "message", class: "visually-hidden" }, t("message_label"));
    this.sendButton = h("button", { type: "submit" }, t("send"));
    const composer = h("form", { class: "composer", id: "composer" }, this.inputLabel, this.input, this.sendButton);
    composer.addEventListener("submit", (e) => { e.preventDefault(); this.sendChat(); });
    this.input.addEventListener("input", () => this.typingSignal());
    this.proposalForm = this.buildProposalForm();
    this.offers = new OffersPanel({ send: (frame) => Boolean(this.conn?.sendNow(frame)), me: this.me, mediator: this.mediator });
    this.documentForm = this.buildDocumentForm();
    this.videoBox = h("div", { class: "video", id: "video" });
    const main = h("div", {}, this.where, this.whatNow, this.list, this.typingLine, composer,
      h("details", { id: "proposal-details" }, h("summary", {}, t("proposal_new")), this.proposalForm),
      h("details", { id: "document-details" }, h("summary", {}, t("document_new")), this.documentForm),
      this.offers.element,
      section(t("video_title"), this.videoBox));
    this.console = this.mediator ? h("aside", { class: "card", id: "console", "aria-label": t("console") }) : null;
    mount(h("h1", {}, t("room_title")), this.calendar ? nextSittingLine(this.calendar) : null,
      h("div", { class: `room${this.mediator ? " with-console" : ""}` }, main, this.console),
      h("p", {}, h("a", { href: `/cases/${this.caseId}`, "data-link": "" }, t("back_to_case"))));
    this.render();
  }

  buildProposalForm() {
    const summary = h("input", { type: "text", id: "proposal-summary", maxlength: 500 });
    const terms = h("textarea", { id: "proposal-terms" });
    const submit = h("button", { type: "submit", id: "proposal-send" }, t("proposal_send"));
    const form = h("form", {},
      h("div", { class: "field" }, h("label", { for: "proposal-summary" }, t("proposal_summary")), summary),
      h("div", { class: "field" }, h("label", { for: "proposal-terms" }, t("proposal_terms")), terms, h("small", { class: "hint" }, t("proposal_terms_hint"))),
      submit);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!summary.value.trim()) return;
      const frame = { type: "proposal", summary: summary.value.trim(), terms: terms.value.split("\n").map((s) => s.trim()).filter(Boolean) };
      this.addMine(frame);
      summary.value = ""; terms.value = "";
      form.closest("details").open = false;
    });
    return form;
  }

  buildDocumentForm() {
    const file = h("input", { type: "file", id: "document-file", accept: ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.odt,.doc,.xls", "aria-describedby": "document-hint" });
    const submit = h("button", { type: "submit", id: "document-send" }, t("document_send"));
    this.documentProgress = h("progress", { id: "document-progress", max: "100", value: "0", hidden: true, "aria-label": t("document_uploading") });
    this.documentStatus = h("p", { id: "document-status", role: "status", "aria-live": "polite" });
    const form = h("form", { id: "document-form" },
      h("div", { class: "field" }, h("label", { for: "document-file" }, t("document_choose")), file,
        h("small", { class: "hint", id: "document-hint" }, t("document_hint"))),
      submit, this.documentProgress, this.documentStatus);
    form.addEventListener("submit", (e) => { e.preventDefault(); this.shareFile(file, submit); });
    return form;
  }

  async shareFile(input, button) {
    const file = input.files && input.files[0];
    if (!file) { this.documentStatus.textContent = t("document_choose_first"); return; }
    if (!this.inChannel() || this.status !== "live") { toast(t("not_in_channel")); return; }
    const where = this.location;
    button.disabled = true;
    this.documentProgress.hidden = false;
    this.documentProgress.value = 0;
    this.documentStatus.textContent = t("document_uploading");
    try {
      await sessions.uploadDocument(this.caseId, file, { token: this.token(),
        onProgress: (share) => { this.documentProgress.value = Math.round(share * 100); } });
      this.documentStatus.textContent = t(where === "joint" ? "document_sent_joint" : "document_sent_caucus");
      input.value = "";
      input.closest("details").open = false;
    } catch (error) {
      this.documentStatus.textContent = this.problemText(error);
    } finally {
      button.disabled = false;
      this.documentProgress.hidden = true;
    }
  }

  /** A problem as a sentence in the person's language (its code's message if we have one). */
  problemText(error) {
    const code = String(error?.problem?.type || "").split("/").pop();
    const known = label("document_error", code);
    return known !== code ? known : (error?.problem?.detail || error?.message || t("error_generic"));
  }

  token() { return identity.forCase(this.caseId)?.token || this.me.token; }

  async saveDocument(f, button) {
    button.disabled = true;
    const before = button.textContent;
    button.textContent = t("document_downloading");
    try {
      await sessions.downloadDocument(this.caseId, f.document_id, f.title || "document", { token: this.token() });
    } catch (error) {
      toast(this.problemText(error));
    } finally {
      button.disabled = false;
      button.textContent = before;
    }
  }

  async refreshDocuments() {
    if (!this.mediator) return;
    try {
      this.documents = (await sessions.documents(this.caseId, { token: this.token() })).items;
    } catch { return; }
    this.render();
  }

  async mediatorAct(action, doc) {
    try {
      if (action === "share") await sessions.shareDocument(this.caseId, doc.id, { token: this.token() });
      else await sessions.annexDocument(this.caseId, doc.id, { token: this.token() });
      toast(t(action === "share" ? "document_shared_joint" : "document_annexed"));
    } catch (error) {
      toast(this.problemText(error));
    }
    await this.refreshDocuments();
  }

  // -- frames ---------------------------------------------------------------------------------
  onFrame(f) {
    switch (f.type) {
      case "welcome":
        this.location = f.location;
        this.status = f.status;
        this.mode = f.mode;
        if (f.locations) this.locations = f.locations;
        if (f.caucuses) this.caucuses = f.caucuses;
        if (f.safeguards) this.safeguards = f.safeguards;
        if (f.media) this.media = f.media;
        if (f.online) this.online = new Set(f.online); // the room says who is here, waiting room included
        this.members = new Set(f.members || []);
        this.video.setChannel(this.location, [...this.members]); // after a reconnect: close what no longer holds
        this.video.resume();
        this.video.report();
        this.offers.reconnected(); // blind offers are not replayed: the panel asks once the session is live
        this.refreshDocuments();
        break;
      case "location": // my own move: media first, then the screen
        this.location = f.location;
        this.members = new Set(f.members || []);
        this.video.setChannel(this.location, [...this.members]);
        break;
      case "media.drop":
        this.video.drop(f.peers || []);
        return;
      case "roster":
        this.locations = f.locations; this.mode = f.mode; this.caucuses = f.caucuses; this.status = f.status;
        this.media = f.media || {};
        if (f.online) this.online = new Set(f.online);
        break;
      case "presence":
        // The mediator's roster says who is here (a second tab closing is no departure); others
        // follow the presence frames of their channel.
        if (!this.mediator) { if (f.online) this.online.add(f.participant_id); else this.online.delete(f.participant_id); }
        if (f.online) this.video.reset(f.participant_id);
        if (this.mediator && f.location !== undefined && f.location !== null) this.locations[f.participant_id] = f.location;
        break;
      case "typing":
        if (f.from === this.me.subject) break;
        if (f.active) this.typing.set(f.from, Date.now()); else this.typing.delete(f.from);
        setTimeout(() => this.renderTyping(), 3100);
        break;
      case "ack":
        if (f.op === "session.start") this.status = "live";
        if (f.id) this.acknowledged(f);
        break;
      case "error":
        this.failed(f);
        break;
      case "chat": case "proposal": case "document": case "proposal.accept": case "proposal.accepted":
      case "member.joined": case "member.left":
        this.store(f);
        if (f.type === "document") this.refreshDocuments();
        if (f.channel === this.location && (f.type === "member.joined" || f.type === "member.left")) {
          if (f.type === "member.joined" && f.members) this.members = new Set(f.members);
          if (f.type === "member.left") this.members.delete(f.participant_id);
          this.video.setChannel(this.location, [...this.members]); // someone new: call them
        }
        if (f.type === "member.joined" && this.status !== "live") this.status = "live";
        break;
      case "signal":
        this.video.onSignal(f);
        return;
      case "session.started":
        this.status = "live";
        break;
      case "session.ended":
        this.status = "ended";
        this.video.setChannel("waiting", []);
        toast(t("session_ended"));
        break;
      case "balance":
        this.balance = f;
        break;
      case "offers":
        this.offers.onFrame(f);
        return;
      case "resumed": // history older than the server keeps cannot be replayed: say so, once
        if (f.gap && f.reason !== "session-changed" && f.after > 0) toast(t("history_gap"));
        return;
      default:
        return;
    }
    this.render();
  }

  store(f) {
    const list = (this.messages[f.channel] ||= []);
    if (f.type === "proposal") { // the author's side counts as having accepted it
      const p = this.proposals.get(f.proposal_id) || { sides: new Set(), accepted: false };
      const side = f.from === this.me.subject ? this.me.side : this.names.get(f.from)?.side;
      if (side) p.sides.add(side);
      this.proposals.set(f.proposal_id, p);
    }
    if (f.type === "proposal.accept") this.proposals.get(f.proposal_id)?.sides.add(f.side);
    if (f.type === "proposal.accepted") { const p = this.proposals.get(f.proposal_id); if (p) p.accepted = true; }
    const mine = f.from === this.me.subject;
    const existing = mine && f.id ? list.find((m) => m.key === f.id) : null;
    if (existing) { existing.frame = { ...existing.frame, ...f }; existing.state = "sent"; return; }
    list.push({ key: f.id || `${f.channel}:${f.seq}`, frame: f, mine, state: "sent" });
  }

  addMine(frame) {
    if (!this.inChannel()) { toast(t("not_in_channel")); return; }
    const id = this.conn.send(frame);
    const channel = this.location;
    (this.messages[channel] ||= []).push({ key: id, frame: { ...frame, id, from: this.me.subject, channel }, mine: true, state: "sending" });
    this.render();
  }

  acknowledged(f) {
    for (const list of Object.values(this.messages)) {
      const m = list.find((x) => x.key === f.id);
      if (m) { m.state = "sent"; m.frame.seq = f.seq; }
    }
  }

  failed(f) {
    // Audio/video signalling sent just before a move reaches the server after it and is refused;
    // the connection it was for is already closed, so there is nothing to tell the person.
    if (!f.ref && f.code === "not-in-channel") return;
    for (const list of Object.values(this.messages)) {
      const m = list.find((x) => x.key === f.ref);
      if (m) m.state = "failed";
    }
    toast(label("room_error", f.code));
    this.offers.render(); // buttons it disabled while waiting come back
  }

  onConnection(state, reason) {
    console.info("room connection", state, reason || "");
    const banner = document.getElementById("connection");
    clearTimeout(this.bannerTimer);
    if (state === "open") { banner.hidden = true; return; }
    this.video.hold(); // nothing leaves this browser until the room says where we are
    if (state === "reconnecting") {
      // Short drops stay invisible; a longer one is said once, politely.
      this.bannerTimer = setTimeout(() => { banner.textContent = t("reconnecting"); banner.hidden = false; }, 2000);
      return;
    }
    banner.textContent = label("room_closed", reason);
    banner.hidden = false;
  }

  // -- actions --------------------------------------------------------------------------------
  inChannel() { return this.location && this.location !== "waiting"; }

  sendChat() {
    const text = this.input.value.trim();
    if (!text) return;
    this.addMine({ type: "chat", text });
    this.input.value = "";
    this.conn.sendNow({ type: "typing", active: false });
    this.typingSentAt = 0;
  }

  typingSignal() {
    if (!this.inChannel()) return;
    const now = Date.now();
    if (!this.typingSentAt || now - this.typingSentAt > 2500) {
      this.conn.sendNow({ type: "typing", active: true });
      this.typingSentAt = now;
    }
  }

  control(frame) {
    if (!this.conn.sendNow(frame)) toast(t("reconnecting"));
  }

  // -- rendering ------------------------------------------------------------------------------
  who(id) {
    if (id === this.me.subject) return t("you");
    return this.names.get(id)?.name || (id?.startsWith("med-") ? t("role_mediator") : t("participant"));
  }

  render() {
    const loc = this.location || "waiting";
    const kind = loc === "joint" ? "joint" : loc.startsWith("caucus:") ? "caucus" : "waiting";
    this.where.className = `where ${kind}`;
    this.where.dataset.location = loc;
    let text;
    if (kind === "joint") text = t("where_joint");
    else if (kind === "caucus") text = this.mediator ? t("where_caucus_mediator", { side: label("side", loc.split(":")[1]) }) : t("where_caucus");
    else text = this.status === "ended" ? t("where_ended") : this.waitingText();
    const alone = kind !== "waiting" && this.status === "live" && ![...this.members].some((id) => id !== this.me.subject);
    this.where.replaceChildren(...[h("span", { class: "icon", "aria-hidden": "true" }, kind === "joint" ? "●" : kind === "caucus" ? "◆" : "◌"), h("span", {}, text),
      this.video?.local && !alone ? h("span", { class: "media-line", id: "where-media" }, this.video.audience()) : null].filter(Boolean));
    this.inputLabel.textContent = kind === "joint" ? t("message_to_joint") : kind === "caucus" ? t("message_to_caucus") : t("message_label");
    this.input.placeholder = this.inputLabel.textContent;
    const usable = kind !== "waiting" && this.status === "live";
    this.input.disabled = !usable;
    this.sendButton.disabled = !usable;
    this.proposalForm.querySelector("button").disabled = !usable;
    this.offers.setLive(this.status === "live");
    this.documentForm.querySelector("#document-send").disabled = !usable;
    this.renderWhatNow(kind, alone);
    this.renderMessages(loc);
    this.renderTyping();
    if (this.console) this.renderConsole();
  }

  /** What happens now, for this person's role and where they are: a party alone in a channel is
   * told to wait, a mediator is told the next step (start, admit, caucus, draft). */
  renderWhatNow(kind, alone) {
    let key;
    if (this.mediator) {
      const waiting = [...this.names].filter(([id, p]) => p.role !== "mediator" && (this.locations[id] || "waiting") === "waiting"
        && this.online.has(id)).length;
      if (this.status === "ended") key = "now_mediator_ended";
      else if (this.status !== "live") key = waiting ? "now_mediator_start" : "now_mediator_before";
      else if (waiting) key = "now_mediator_admit";
      else key = kind === "caucus" ? "now_mediator_caucus" : "now_mediator_live";
      this.whatNow.dataset.now = key;
      this.whatNow.textContent = t(key, { count: waiting });
      return;
    }
    if (this.status === "ended") key = "now_party_ended";
    else if (kind === "waiting") key = this.status === "live" ? "now_party_waiting_live" : "now_party_waiting";
    else if (alone) key = "now_party_alone";
    else key = kind === "caucus" ? "now_party_caucus" : "now_party_joint";
    this.whatNow.dataset.now = key;
    this.whatNow.textContent = t(key);
  }

  /** Before the next sitting's time the waiting room says when it starts (in the case's zone), and
   * at that time it opens: the words change to the usual ones without a reload. */
  waitingText() {
    const next = this.calendar?.next_sitting;
    const starts = next ? new Date(next.starts_at).getTime() : 0;
    if (!next || starts <= Date.now()) return t(this.mediator ? "where_waiting_mediator" : "where_waiting");
    clearTimeout(this.sittingTimer);
    this.sittingTimer = setTimeout(() => this.render(), Math.min(starts - Date.now() + 500, 2 ** 31 - 1));
    return t("sitting_room_starts", { when: fmtDateTime(next.starts_at, this.calendar.time_zone) });
  }

  renderMessages(channel) {
    const list = this.messages[channel] || [];
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.dataset.channel = channel;
    this.list.replaceChildren(...list.map((m) => this.renderMessage(m)));
    if (!list.length) this.list.append(h("li", { class: "system" }, channel === "waiting" ? t(this.mediator ? "waiting_text_mediator" : "waiting_text") : t("no_messages")));
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  renderMessage(m) {
    const f = m.frame;
    const cls = [m.mine ? "mine" : "", f.type === "proposal" ? "proposal" : "", f.type.startsWith("member.") || f.type === "proposal.accepted" || f.type === "proposal.accept" ? "system" : ""].join(" ").trim();
    const li = h("li", { class: cls, dataset: { seq: f.seq ?? "", type: f.type } });
    if (f.type === "chat") li.append(h("span", { class: "who" }, `${this.who(f.from)}:`), h("span", { class: "text" }, f.text));
    else if (f.type === "proposal") {
      const p = this.proposals.get(f.proposal_id);
      li.append(h("span", { class: "who" }, `${this.who(f.from)} — ${t("proposal")}:`), h("strong", {}, f.summary),
        f.terms?.length ? h("ul", {}, f.terms.map((x) => h("li", {}, x))) : null);
      if (p?.accepted) li.append(h("p", { class: "accepted" }, t("proposal_accepted")));
      else if (!this.mediator && f.proposal_id && !m.mine && !p?.sides.has(this.me.side)) {
        const accept = h("button", { type: "button", class: "secondary", dataset: { accept: f.proposal_id } }, t("proposal_accept"));
        accept.addEventListener("click", () => { this.conn.send({ type: "proposal.accept", proposal_id: f.proposal_id }); accept.disabled = true; });
        li.append(" ", accept);
      }
    } else if (f.type === "proposal.accept") li.append(t("proposal_accepted_by", { side: label("side", f.side) }));
    else if (f.type === "proposal.accepted") li.append(t("proposal_accepted"));
    else if (f.type === "document") {
      const save = h("button", { type: "button", class: "secondary", dataset: { download: f.document_id } }, t("document_download"));
      save.addEventListener("click", () => this.saveDocument(f, save));
      li.classList.add("document");
      li.append(h("span", { class: "who" }, `${this.who(f.from)}:`), t("document_shared", { title: f.title }), " ", save);
    }
    else if (f.type === "member.joined") li.append(t("joined", { who: this.who(f.participant_id) }));
    else if (f.type === "member.left") li.append(t("left", { who: this.who(f.participant_id) }));
    if (m.state === "sending") li.append(h("span", { class: "muted" }, ` (${t("sending")})`));
    if (m.state === "failed") li.append(h("span", { class: "muted" }, ` (${t("not_sent")})`));
    return li;
  }

  renderTyping() {
    const now = Date.now();
    const names = [...this.typing].filter(([, at]) => now - at < 3000).map(([id]) => this.who(id));
    this.typingLine.textContent = names.length ? t("typing", { who: names.join(", ") }) : "";
  }

  renderConsole() {
    const c = this.console;
    const rows = [...this.names].filter(([id, p]) => id !== this.me.subject && p.role !== "mediator");
    // Only where a person can be moved now: the joint channel unless the room is in shuttle
    // mode, and their own side's caucus (moving them there opens it); never the other side's.
    const placesFor = (side, where) => ["waiting", "joint", "caucus:claimant", "caucus:respondent"].filter((pl) => pl === where
      || pl === "waiting" || (pl === "joint" && this.mode !== "shuttle") || pl === `caucus:${side}`);
    const start = h("button", { type: "button", id: "session-start" }, t("session_start"));
    start.addEventListener("click", () => this.control({ type: "session.start" }));
    const end = h("button", { type: "button", class: "danger" }, t("session_end"));
    end.addEventListener("click", () => { if (confirm(t("session_end_confirm"))) this.control({ type: "session.end" }); });
    const people = h("ul", { class: "list people", id: "people" }, rows.map(([id, p]) => {
      const where = this.locations[id] || "waiting";
      const online = this.online.has(id);
      const move = h("select", { "aria-label": t("move_named", { who: p.name }), dataset: { move: id } }, placesFor(p.side, where).map((pl) => h("option", { value: pl, selected: pl === where },
        pl.startsWith("caucus:") && !this.caucuses.includes(pl.split(":")[1]) ? t("place_open_caucus", { place: label("place", pl) }) : label("place", pl))));
      move.addEventListener("change", () => this.control({ type: "move", participant_id: id, to: move.value }));
      const li = h("li", { dataset: { participant: id } }, h("strong", {}, p.name), " ", h("span", { class: "muted" }, `${label("side", p.side)} · ${label("role", p.role)} · ${online ? t("online") : t("offline")}`),
        " ", h("span", { class: "media-state", dataset: { media: id } }, this.mediaText(id)), " ", move);
      if (where === "waiting" && this.status === "live") {
        const admit = h("button", { type: "button", dataset: { admit: id }, "aria-label": t("admit_named", { who: p.name }) }, t("admit"));
        admit.addEventListener("click", () => this.control({ type: "admit", participant_ids: [id] }));
        li.append(" ", admit);
      }
      return li;
    }));
    const caucusButtons = ["claimant", "respondent"].map((side) => {
      const open = this.caucuses.includes(side);
      const b = h("button", { type: "button", class: "secondary", id: `caucus-${side}` }, open ? t("caucus_close", { side: label("side", side) }) : t("caucus_open", { side: label("side", side) }));
      b.addEventListener("click", () => this.control(open ? { type: "caucus.close", side } : { type: "caucus.open", side, with_side: true }));
      return b;
    });
    const shuttle = h("button", { type: "button", class: "secondary", id: "mode" }, this.mode === "shuttle" ? t("mode_joint") : t("mode_shuttle"));
    shuttle.addEventListener("click", () => this.control({ type: "mode", mode: this.mode === "shuttle" ? "joint" : "shuttle" }));
    const goto = ["joint", "caucus:claimant", "caucus:respondent"].filter((pl) => pl !== this.location
      && (pl === "joint" ? this.mode !== "shuttle" : this.caucuses.includes(pl.split(":")[1]))).map((pl) => {
      const b = h("button", { type: "button", class: "secondary" }, t("go_to", { place: label("place", pl) }));
      b.addEventListener("click", () => this.control({ type: "move", participant_id: this.me.subject, to: pl }));
      return b;
    });
    const refresh = h("button", { type: "button", class: "secondary" }, t("balance_refresh"));
    refresh.addEventListener("click", () => this.control({ type: "balance" }));
    c.replaceChildren(...[
      h("h2", {}, t("console")),
      h("p", {}, t("session_status"), ": ", h("strong", { id: "session-status" }, label("session_status", this.status)), " · ", t("mode"), ": ", label("mode", this.mode)),
      this.safeguards.length ? h("p", { class: "notice" }, t("safeguards"), ": ", this.safeguards.map((s) => label("safeguard", s)).join(", ")) : null,
      h("div", { class: "actions" }, this.status !== "live" ? start : end),
      h("h3", {}, t("who_is_where")), people,
      h("h3", {}, t("caucuses")), h("div", { class: "actions" }, caucusButtons, shuttle),
      h("h3", {}, t("mediator_moves")), h("div", { class: "actions" }, goto),
      h("h3", {}, t("balance")), this.renderBalance(), refresh,
      h("h3", {}, t("documents")), this.renderDocuments()].filter(Boolean));
  }

  /** The mediator's documents: carry a caucus one into the joint session (from there), attach
   * one shared in the joint session to the agreement. */
  renderDocuments() {
    if (!this.documents.length) return h("p", { class: "muted" }, t("documents_none"));
    const inJoint = this.location === "joint" && this.status === "live";
    return h("ul", { class: "list", id: "documents" }, this.documents.map((d) => {
      const where = d.shared_in.map((c) => label("place", c)).join(", ");
      const li = h("li", { dataset: { document: d.id } }, h("strong", {}, d.available ? d.name : t("document_destroyed")), " ",
        h("span", { class: "muted" }, where), d.annexed ? h("span", { class: "muted" }, ` · ${t("document_is_annex")}`) : null);
      if (d.available && d.channel.startsWith("caucus:") && !d.shared_in.includes("joint")) {
        const share = h("button", { type: "button", class: "secondary", dataset: { share: d.id }, disabled: !inJoint,
          title: inJoint ? "" : t("document_share_from_joint") }, t("document_share_joint"));
        share.addEventListener("click", () => this.mediatorAct("share", d));
        li.append(" ", share);
        if (!inJoint) li.append(h("small", { class: "hint" }, ` ${t("document_share_from_joint")}`));
      }
      if (d.available && d.shared_in.includes("joint") && !d.annexed) {
        const annex = h("button", { type: "button", class: "secondary", dataset: { annex: d.id } }, t("document_annex"));
        annex.addEventListener("click", () => this.mediatorAct("annex", d));
        li.append(" ", annex);
      }
      return li;
    }));
  }

  /** Whose camera and microphone are on, for the console. */
  mediaText(id) {
    const m = (this.media || {})[id];
    if (!m) return t("media_state_off");
    return [m.video ? t("media_state_camera") : null, m.audio ? t("media_state_mic") : null].filter(Boolean).join(", ");
  }

  renderBalance() {
    const b = this.balance;
    if (!b) return h("p", { class: "muted" }, t("balance_none"));
    const sides = ["claimant", "respondent"];
    return h("dl", { class: "facts", id: "balance" }, ["messages", "characters", "speaking_seconds"].flatMap((metric) => [
      h("dt", {}, label("metric", metric)),
      h("dd", {}, sides.map((side) => {
        const share = b.shares?.[metric]?.[side] ?? 0;
        return h("div", {}, `${label("side", side)}: ${Math.round(share * 100)}%`,
          h("div", { class: "bar", style: { width: `${Math.max(2, share * 100)}%` }, role: "img", "aria-label": `${Math.round(share * 100)}%` }));
      })),
    ]));
  }
}
