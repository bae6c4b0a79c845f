// The room's websocket, kept alive across drops without the user noticing: on an unexpected
// close it reconnects with backoff, naming the last sequence it saw on each channel (`resume=`)
// and the session it belonged to, so the server replays exactly what was missed. Frames already
// seen are dropped by sequence; outgoing content frames carry client ids and are resent until
// acknowledged, so a resend after a drop is stored once.
import { ROOM_PROTOCOL, roomSocketUrl } from "./api/sessions.js";

const FINAL = new Map([
  [4001, "unauthorized"], [4002, "protocol"], [4003, "forbidden"], [4004, "room-closed"], [4011, "session-ended"],
  [4012, "revoked"],
]);

export class RoomConnection {
  constructor({ caseId, token, tokenProvider, onFrame, onState }) {
    this.caseId = caseId;
    this.token = token;
    this.tokenProvider = tokenProvider; // the freshest token at each reconnect
    this.onFrame = onFrame;
    this.onState = onState || (() => {});
    this.lastSeq = {};        // channel -> highest seq delivered to the view
    this.sessionId = null;
    this.pending = new Map(); // client id -> frame waiting for its ack
    this.closedByUs = false;
    this.attempt = 0;
    this.holdReconnect = false; // tests hold the reconnect to make a gap; never set by the UI
    this.socket = null;
  }

  url() {
    const params = new URLSearchParams({ token: this.token });
    const resume = Object.entries(this.lastSeq).map(([ch, seq]) => `${ch}:${seq}`).join(",");
    if (this.sessionId) {
      params.set("session", this.sessionId);
      params.set("resume", resume || "joint:0");
    }
    return roomSocketUrl(this.caseId, params);
  }

  open() {
    this.closedByUs = false;
    if (this.tokenProvider) this.token = this.tokenProvider() || this.token;
    const socket = new WebSocket(this.url(), ROOM_PROTOCOL);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("open");
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.receive(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      if (this.closedByUs) return;
      if (FINAL.has(event.code)) {
        this.onState("closed", FINAL.get(event.code), event.code);
        return;
      }
      this.onState("reconnecting");
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const delay = Math.min(8000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closedByUs) return;
      if (this.holdReconnect) { this.scheduleReconnect(); return; }
      this.open();
    }, delay);
  }

  receive(frame) {
    if (frame.type === "welcome") {
      const first = !this.sessionId;
      if (this.sessionId && frame.session_id !== this.sessionId) this.lastSeq = {};
      this.sessionId = frame.session_id;
      this.onFrame(frame);
      if (first) { // a fresh page: load the history of the channels this person may see now
        const channels = frame.location && frame.location !== "waiting" ? [frame.location] : [];
        for (const ch of channels) this.sendNow({ type: "resume", channel: ch, after: 0 });
      }
      for (const [id, pending] of this.pending) this.sendNow({ ...pending, id }); // resend unacknowledged
      return;
    }
    if (frame.type === "resumed" && frame.more) { // a long history comes in pages
      this.sendNow({ type: "resume", channel: frame.channel, after: frame.through });
    }
    if (frame.type === "ack" && frame.id) this.pending.delete(frame.id);
    if (frame.type === "error" && frame.ref && frame.code !== "unavailable") this.pending.delete(frame.ref);
    if (frame.channel && Number.isInteger(frame.seq)) {
      const last = this.lastSeq[frame.channel] ?? 0;
      if (frame.seq <= last && frame.type !== "ack") return; // already shown
      if (frame.type !== "ack") this.lastSeq[frame.channel] = frame.seq;
    }
    this.onFrame(frame);
  }

  /** Content frames (chat, proposals, ...) get a client id and are kept until acknowledged. */
  send(frame) {
    const id = frame.id || (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
    const full = { ...frame, id };
    this.pending.set(id, full);
    this.sendNow(full);
    return id;
  }

  /** Control and ephemeral frames (typing, admit, signalling): sent if connected, else dropped. */
  sendNow(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Drop the connection as a network failure would (tests use it; the user never does). */
  drop() {
    if (this.socket) this.socket.close(4000, "dropped");
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "left");
  }
}
