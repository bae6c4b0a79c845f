// Audio and video, peer to peer, following the room's channels. Media never passes through our
// server; the room relays only the WebRTC offer, answer and ICE candidates (`signal` frames), and
// only between people in the same channel. Which connections may exist is the server's call:
//   - `location` (you moved) comes with who is in your new channel: every other connection is
//     closed at once, before anything else happens;
//   - `media.drop` (someone left the channel you shared) names the peers to close;
//   - a `hangup` from a peer closes that peer; after a reconnect, `welcome` says where you are.
// One honest end closing is enough to stop media both ways, and while the room connection is
// down this browser sends nothing (its tracks are held), so a caucus is never seen or heard from
// outside it. Each pair negotiates with WebRTC's "perfect negotiation" pattern (either side may
// offer; the polite one yields on a collision), so late joiners, cameras turned on later and ICE
// restarts after a network change all go through the same path.
import * as sessions from "./api/sessions.js";
import { label, t } from "./i18n.js";
import { h } from "./ui.js";

const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 24 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true };
const POLITE_PAUSE_MS = 400;
const WATCHDOG_MS = 3000;   // the watchdog's first patience with a pair that is not connected
const PATIENCE_MAX_MS = 30000; // ... doubled after each recovery step, up to this
const DEBUG = (() => { try { return !!localStorage.getItem("odr.debug"); } catch { return false; } })();
const debug = (...args) => { if (DEBUG) console.info("video:", ...args); }; // localStorage["odr.debug"] = 1

class Peer {
  constructor(video, id) {
    this.id = id;
    this.video = video;
    this.polite = video.me.subject < id; // the same answer on both ends: exactly one is polite
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.chain = Promise.resolve(); // signals of one peer are applied one at a time, in order
    this.early = [];                // ICE candidates waiting for a remote description
    this.progress = Date.now();     // the last negotiation step or moment connected
    this.patience = WATCHDOG_MS;    // how long the watchdog lets a pair be without progress
    this.steps = 0;                 // recovery steps taken since this pair was last connected
    this.watchdog = setInterval(() => this.check(), 500);
    this.stream = new MediaStream();
    const pc = (this.pc = new RTCPeerConnection(video.rtcConfig()));
    pc.onicecandidate = ({ candidate }) => { if (candidate) video.signal(id, "ice", candidate.toJSON()); };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0];
      if (stream && stream !== this.stream) this.stream = stream;
      else if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
      video.renderTile(id);
    };
    pc.onnegotiationneeded = async () => {
      // Both ends call when they find themselves in one channel. The polite end waits a
      // moment before its first offer, so that the usual case has no collision at all (and
      // if the other end has nothing to send, this offer still goes out).
      if (this.polite && !pc.remoteDescription) await new Promise((r) => setTimeout(r, POLITE_PAUSE_MS));
      debug("negotiation needed", id, pc.signalingState);
      await this.offer();
    };
    pc.oniceconnectionstatechange = () => { if (pc.iceConnectionState === "failed") pc.restartIce(); };
    pc.onconnectionstatechange = () => {
      debug("state", id, pc.connectionState);
      if (pc.connectionState === "connecting") this.progress = Date.now(); // ICE and DTLS under way
      video.renderTile(id);
    };
  }

  /** Make and send an offer, if this connection is stable (else it is fired again once stable,
   * if still needed). */
  async offer() {
    const pc = this.pc;
    if (this.closed || this.makingOffer || pc.signalingState !== "stable") return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      // Not if the other side's offer rolled ours back meanwhile (its answer is already sent).
      if (!this.closed && pc.signalingState === "have-local-offer") {
        this.progress = Date.now();
        this.video.signal(this.id, "offer", pc.localDescription.toJSON());
      }
    } catch (error) {
      console.warn("negotiation failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Send what the local stream has on this connection (nothing while held). */
  feed(local, held) {
    if (this.closed) return;
    const live = this.pc.getTransceivers().filter((tr) => tr.currentDirection !== "stopped" && tr.direction !== "stopped");
    for (const kind of ["audio", "video"]) {
      const track = local?.getTracks().find((x) => x.kind === kind) || null;
      const tr = live.find((x) => x.sender.track?.kind === kind) || live.find((x) => x.receiver.track?.kind === kind);
      if (!tr) {
        if (track && !held) this.pc.addTrack(track, local);
        continue;
      }
      const want = held ? null : track;
      if (tr.sender.track !== want) tr.sender.replaceTrack(want).catch((e) => console.warn("replaceTrack", e));
      if (want && tr.direction !== "sendrecv") tr.direction = "sendrecv"; // renegotiates
      if (want) tr.sender.setStreams?.(local);
    }
  }

  receive(f) {
    this.chain = this.chain.then(() => this.apply(f)).catch((error) => console.warn("signalling failed", error));
  }

  async apply(f) {
    if (this.closed) return;
    const pc = this.pc;
    debug("signal", f.kind, "from", this.id, pc.signalingState, this.makingOffer ? "making offer" : "", this.polite ? "polite" : "");
    if (f.kind === "answer" && pc.signalingState === "stable") return; // for a connection already replaced
    if (f.kind === "offer" || f.kind === "answer") {
      const collision = f.kind === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      try {
        await pc.setRemoteDescription(f.data); // a polite peer's own offer is rolled back here
      } catch (error) {
        // An offer this connection cannot take (the other end started afresh: new DTLS
        // fingerprint): start afresh too and answer it there.
        if (f.kind !== "offer") throw error;
        debug("fresh connection for an offer", this.id, String(error));
        this.video.rebuild(this.id, { offer: f, patience: this.patience });
        return;
      }
      this.progress = Date.now();
      if (f.kind === "offer" && !this.closed) {
        await pc.setLocalDescription();
        this.video.signal(this.id, "answer", pc.localDescription.toJSON());
      }
      // Candidates that came while we ignored an offer or had no remote description yet: the
      // polite side gathered them for its own offer, and its answer uses the same ICE session.
      const early = this.early.splice(0);
      for (const candidate of early) await pc.addIceCandidate(candidate).catch(() => {});
    } else if (f.kind === "ice") {
      if (this.ignoreOffer || !pc.remoteDescription) { this.early.push(f.data); return; }
      // A candidate of a connection already replaced fails here; it was not for this one.
      await pc.addIceCandidate(f.data).catch(() => {});
    }
  }

  /** A pair that makes no progress recovers by itself, whatever stalled it: an offer or answer
   * lost on the way or never made (a starved browser, a signal that crossed a move; also the
   * renegotiation of a connected pair, when a camera is turned on later), ICE that
   * stays "new", "checking" or "disconnected" or fails, a DTLS handshake that never ends. The
   * first step renegotiates in place (a lost offer is sent again, a remote offer left unanswered
   * is answered, a negotiated pair restarts ICE); the next ones start a fresh connection, on the
   * impolite end only (with something to send): the polite end keeps renegotiating in place and
   * takes the fresh connection's offer (``apply`` starts afresh too when it must), so the two
   * ends never replace the connection under each other. Each step doubles the patience (up to
   * PATIENCE_MAX_MS, kept across fresh connections, reset once connected), so that two slow ends
   * do not keep undoing each other's attempts, and the perfect negotiation roles settle a
   * collision when both act at once. Nothing here widens who may connect: a fresh connection is
   * only made with a member of my channel (``rebuild``). */
  check() {
    const pc = this.pc;
    if (this.closed || this.video.held) return; // held: every connection starts afresh on resume
    // Connected is not enough: a renegotiation whose offer or answer was lost (a camera turned
    // on later, an ICE restart) leaves a connected pair that carries nothing new.
    if (pc.connectionState === "connected" && pc.signalingState === "stable") {
      this.progress = Date.now();
      this.patience = WATCHDOG_MS;
      this.steps = 0;
      return;
    }
    // Nothing said yet and nothing to send: the other end, which has, offers first.
    if (!this.video.local && !pc.localDescription && !pc.remoteDescription) return;
    if (Date.now() - this.progress < this.patience) return;
    this.progress = Date.now();
    this.patience = Math.min(this.patience * 2, PATIENCE_MAX_MS);
    this.steps += 1;
    // With nothing to send, a fresh connection would have nothing to offer: this end keeps
    // renegotiating, and so does a polite end, whose impolite other end starts afresh.
    if (this.steps === 1 || this.polite || !this.video.local) {
      debug("renegotiate", this.id, pc.signalingState, pc.connectionState, this.patience);
      this.chain = this.chain.then(() => this.renegotiate()).catch((error) => console.warn("renegotiation failed", error));
      return;
    }
    debug("fresh connection", this.id, pc.signalingState, pc.connectionState, this.patience);
    this.video.rebuild(this.id, { patience: this.patience, steps: this.steps });
  }

  /** The first recovery step, in the signalling chain (not between the steps of a signal). */
  async renegotiate() {
    const pc = this.pc;
    if (this.closed || (pc.connectionState === "connected" && pc.signalingState === "stable")) return;
    if (pc.signalingState === "have-local-offer") {
      // My offer had no answer: send the very same offer again. Not a new one: an answer to
      // the first that comes late still fits, and the other end answers a repeat alike.
      this.progress = Date.now();
      this.video.signal(this.id, "offer", pc.localDescription.toJSON());
    } else if (pc.signalingState === "have-remote-offer") {
      // An offer I have not answered (answering failed): answer it now, or else forget it and
      // offer myself, with fresh ICE.
      try {
        await pc.setLocalDescription();
        this.video.signal(this.id, "answer", pc.localDescription.toJSON());
        this.ignoreOffer = false;
        for (const candidate of this.early.splice(0)) await pc.addIceCandidate(candidate).catch(() => {});
      } catch (error) {
        debug("answer failed", this.id, String(error));
        await pc.setRemoteDescription({ type: "rollback" });
        pc.restartIce();
        await this.offer();
      }
    } else if (pc.remoteDescription) {
      pc.restartIce(); // negotiated but not connected: new ICE credentials, through a new offer
      await this.offer();
    } else {
      await this.offer(); // never offered (or the offer was rolled back): offer now
    }
  }

  close() {
    this.closed = true;
    clearInterval(this.watchdog);
    this.pc.close();
  }
}

export class Video {
  constructor({ caseId, tokenProvider, send, container, me, who }) {
    this.caseId = caseId;
    this.tokenProvider = tokenProvider;
    this.send = send;
    this.container = container;
    this.me = me;
    this.who = who;
    this.location = "waiting";
    this.members = new Set(); // the others in my channel, as the server last said
    this.peers = new Map();   // participant id -> Peer
    this.local = null;
    this.audioOnly = false;
    this.held = false;
    this.ice = { iceServers: [], iceTransportPolicy: "all" };
    this.supported = !!(navigator.mediaDevices && window.RTCPeerConnection);
    this.onOnline = () => this.restartIce();
    window.addEventListener("online", this.onOnline);
    window.odrVideo = this; // handle for tests and for support staff in the console
    this.build();
  }

  /** ICE servers (and TURN credentials of my own) from the sessions service; asked again
   * before they expire. Without them, direct connections still work on most networks. */
  async loadConfig() {
    clearTimeout(this.iceTimer);
    try {
      const r = await sessions.iceServers(this.caseId, { token: this.tokenProvider() });
      this.ice = { iceServers: r.ice_servers.map((s) => ({ urls: s.urls, username: s.username ?? undefined, credential: s.credential ?? undefined })),
        iceTransportPolicy: r.ice_transport_policy };
      for (const peer of this.peers.values()) peer.pc.setConfiguration(this.rtcConfig());
      this.iceTimer = setTimeout(() => this.loadConfig(), Math.max(30, r.expires_in - 120) * 1000);
    } catch (error) {
      console.warn("ICE servers unavailable", error);
      this.iceTimer = setTimeout(() => this.loadConfig(), 30000);
    }
  }

  rtcConfig() {
    return { iceServers: this.ice.iceServers, iceTransportPolicy: this.ice.iceTransportPolicy };
  }

  // -- what the room tells us ----------------------------------------------------------------

  /** Where I am and who is there. A new location closes every connection first. */
  setChannel(location, members) {
    debug("channel", location, members.join(), "had", [...this.peers.keys()].join());
    // No hang-ups here: the server has already told the others to drop me (`media.drop`, in
    // order with the move), and a hang-up of mine could overtake their next call to me and
    // close the new connection instead of the old one.
    if (location !== this.location) {
      for (const id of [...this.peers.keys()]) this.close(id, { hangup: false });
      this.location = location;
    }
    this.members = new Set((location === "waiting" ? [] : members).filter((id) => id !== this.me.subject));
    for (const id of [...this.peers.keys()]) if (!this.members.has(id)) this.close(id, { hangup: false });
    if (this.local && !this.held) for (const id of this.members) this.connect(id);
    this.render();
  }

  /** The server says these peers left the channel we shared. */
  drop(peers) {
    debug("drop", peers.join());
    for (const id of peers) this.close(id, { hangup: false });
    this.members = new Set([...this.members].filter((id) => !peers.includes(id)));
    this.render();
  }

  /** The room connection is down: nothing is sent until ``resume`` (after the room's welcome). */
  hold() {
    if (this.held) return;
    this.held = true;
    for (const peer of this.peers.values()) peer.feed(this.local, true);
  }

  /** The room connection is back and ``setChannel`` has applied where I am. What was said while
   * it was down is lost (signalling is not replayed), so every connection starts afresh; the
   * others do the same when they hear I am online again (``reset``). */
  resume() {
    if (!this.held) return;
    this.held = false;
    for (const id of [...this.peers.keys()]) this.close(id, { hangup: false });
    if (this.local) for (const id of this.members) this.connect(id);
    this.render();
  }

  /** A peer in my channel (re)connected to the room: its old connection with me is gone. */
  reset(id) {
    debug("reset", id);
    if (!this.members.has(id)) return;
    this.close(id, { hangup: false });
    if (this.local && !this.held) this.connect(id);
  }

  onSignal(f) {
    if (f.kind === "hangup") { this.close(f.from, { hangup: false }); this.render(); return; }
    if (!this.members.has(f.from)) { debug("ignored", f.kind, "from", f.from); return; } // not (or no longer) in my channel
    const fresh = !this.peers.has(f.from);
    const peer = this.connect(f.from);
    peer.receive(f);
    if (fresh) this.render();
  }

  // -- connections ---------------------------------------------------------------------------

  connect(id) {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = new Peer(this, id);
      this.peers.set(id, peer);
      peer.feed(this.local, this.held);
    }
    return peer;
  }

  /** Replace the connection with ``id`` by a fresh one (answering ``offer`` on it, if given). */
  rebuild(id, { offer = null, patience = WATCHDOG_MS, steps = 0 } = {}) {
    if (!this.members.has(id) || this.held) return;
    this.close(id, { hangup: false });
    const peer = this.connect(id);
    peer.patience = patience;
    peer.steps = steps;
    if (offer) peer.receive(offer);
  }

  close(id, { hangup }) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.close();
    this.peers.delete(id);
    if (hangup) this.send({ type: "signal", to: id, kind: "hangup" });
    this.tiles.get(id)?.remove();
    this.tiles.delete(id);
  }

  signal(to, kind, data) {
    this.send({ type: "signal", to, kind, data });
  }

  restartIce() {
    for (const peer of this.peers.values()) if (!peer.closed) peer.pc.restartIce();
  }

  // -- the local camera and microphone ---------------------------------------------------------

  async start() {
    this.errorLine.textContent = "";
    const wanted = { audio: { ...AUDIO, ...(this.micId ? { deviceId: { exact: this.micId } } : {}) },
      video: this.audioOnly ? false : { ...VIDEO, ...(this.camId ? { deviceId: { exact: this.camId } } : {}) } };
    try {
      this.local = await navigator.mediaDevices.getUserMedia(wanted);
    } catch {
      this.errorLine.textContent = t("video_denied");
      return;
    }
    for (const peer of this.peers.values()) peer.feed(this.local, this.held);
    if (!this.held) for (const id of this.members) this.connect(id);
    this.report();
    await this.listDevices();
    this.render();
  }

  leave() {
    for (const id of [...this.peers.keys()]) this.close(id, { hangup: true });
    this.local?.getTracks().forEach((tr) => tr.stop());
    this.local = null;
    this.report();
    this.render();
  }

  toggle(kind) {
    const track = this.local?.getTracks().find((x) => x.kind === kind);
    if (!track) return;
    track.enabled = !track.enabled;
    this.report();
    this.render();
  }

  async setAudioOnly(on) {
    this.audioOnly = on;
    if (!this.local) { this.render(); return; }
    if (on) {
      for (const track of this.local.getVideoTracks()) { track.stop(); this.local.removeTrack(track); }
    } else {
      try {
        const [track] = (await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, ...(this.camId ? { deviceId: { exact: this.camId } } : {}) } })).getVideoTracks();
        this.local.addTrack(track);
      } catch {
        this.errorLine.textContent = t("video_denied");
      }
    }
    for (const peer of this.peers.values()) peer.feed(this.local, this.held);
    this.report();
    this.render();
  }

  async useDevice(kind, deviceId) {
    if (kind === "audio") this.micId = deviceId; else this.camId = deviceId;
    if (!this.local || (kind === "video" && this.audioOnly)) return;
    const base = kind === "audio" ? AUDIO : VIDEO;
    try {
      const fresh = await navigator.mediaDevices.getUserMedia({ [kind]: { ...base, deviceId: { exact: deviceId } } });
      const [track] = fresh.getTracks();
      for (const old of this.local.getTracks().filter((x) => x.kind === kind)) {
        track.enabled = old.enabled;
        old.stop();
        this.local.removeTrack(old);
      }
      this.local.addTrack(track);
      for (const peer of this.peers.values()) peer.feed(this.local, this.held);
      this.render();
    } catch {
      this.errorLine.textContent = t("video_device_failed");
    }
  }

  async listDevices() {
    try {
      this.devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.deviceId && (d.kind === "audioinput" || d.kind === "videoinput"));
    } catch {
      this.devices = [];
    }
  }

  /** Tell the room whether my camera and microphone are on (the mediator's console shows it). */
  report() {
    const on = (kind) => !!this.local?.getTracks().some((x) => x.kind === kind && x.enabled && x.readyState === "live");
    this.send({ type: "media", audio: on("audio"), video: on("video") });
  }

  // -- what the person sees --------------------------------------------------------------------

  /** Who can see and hear me now, in words. */
  audience() {
    if (!this.local) return t("media_off");
    if (this.location !== "waiting" && !this.members.size) return t("media_audience_alone");
    if (this.location === "joint") return t("media_audience_joint");
    if (this.location.startsWith("caucus:")) {
      return this.me.role === "mediator" ? t("media_audience_caucus_mediator", { side: label("side", this.location.split(":")[1]) }) : t("media_audience_caucus");
    }
    return t("media_audience_waiting");
  }

  build() {
    this.tiles = new Map();
    if (!this.supported) {
      this.container.replaceChildren(h("p", { class: "muted" }, t("video_unsupported")));
      return;
    }
    this.audienceLine = h("p", { class: "media-audience", id: "media-audience", role: "status", "aria-live": "polite" });
    this.errorLine = h("p", { role: "alert", class: "error-text" });
    this.controls = h("div", { class: "actions media-controls" });
    this.settings = h("div", { class: "media-settings" });
    this.grid = h("div", { class: "tiles", id: "video-tiles" });
    this.container.replaceChildren(this.audienceLine, this.controls, this.settings, this.errorLine, this.grid);
    this.render();
  }

  render() {
    if (!this.supported) return;
    this.audienceLine.textContent = this.audience();
    this.audienceLine.dataset.location = this.location;
    const button = (id, text, onclick, cls = "secondary") => h("button", { type: "button", class: cls, id, onclick }, text);
    const track = (kind) => this.local?.getTracks().find((x) => x.kind === kind);
    const controls = [];
    if (!this.local) {
      controls.push(button("video-toggle", this.audioOnly ? t("video_start_audio") : t("video_start"), () => this.start(), ""));
    } else {
      const mic = track("audio");
      const cam = track("video");
      if (mic) controls.push(button("mic-toggle", mic.enabled ? t("mic_off") : t("mic_on"), () => this.toggle("audio")));
      if (cam) controls.push(button("camera-toggle", cam.enabled ? t("camera_off") : t("camera_on"), () => this.toggle("video")));
      controls.push(button("video-toggle", t("video_stop"), () => this.leave()));
    }
    this.controls.replaceChildren(...controls);
    const audioOnly = h("input", { type: "checkbox", id: "audio-only", checked: this.audioOnly, onchange: (e) => this.setAudioOnly(e.target.checked) });
    const settings = [h("div", { class: "checkbox" }, audioOnly, h("label", { for: "audio-only" }, t("audio_only")))];
    if (this.local && this.devices?.length) {
      for (const [kind, inputKind, current] of [["audio", "audioinput", track("audio")], ["video", "videoinput", track("video")]]) {
        const options = this.devices.filter((d) => d.kind === inputKind);
        if (options.length < 2 || (kind === "video" && this.audioOnly)) continue;
        const id = `device-${kind}`;
        const chosen = current?.getSettings?.().deviceId;
        const select = h("select", { id, onchange: (e) => this.useDevice(kind, e.target.value) },
          options.map((d, n) => h("option", { value: d.deviceId, selected: d.deviceId === chosen }, d.label || `${t(kind === "audio" ? "microphone" : "camera")} ${n + 1}`)));
        settings.push(h("div", { class: "field" }, h("label", { for: id }, t(kind === "audio" ? "microphone" : "camera")), select));
      }
    }
    this.settings.replaceChildren(...settings);
    // Tiles: mine first, then everyone I have a connection with. Kept across renders so that
    // playing videos do not restart.
    const wanted = new Set(this.peers.keys());
    if (this.local && track("video")) wanted.add("local");
    for (const [id, tile] of this.tiles) if (!wanted.has(id)) { tile.remove(); this.tiles.delete(id); }
    for (const id of wanted) this.renderTile(id);
  }

  renderTile(id) {
    if (!this.supported) return;
    const local = id === "local";
    const peer = this.peers.get(id);
    if (!local && (!peer || !peer.stream.getTracks().length)) return; // a tile once media arrives
    let tile = this.tiles.get(id);
    if (!tile) {
      const v = h("video", { autoplay: true, playsinline: true });
      v.muted = local;
      tile = h("figure", { class: "tile", dataset: { peer: id } }, v, h("figcaption", {}));
      this.tiles.set(id, tile);
      if (local) this.grid.prepend(tile); else this.grid.append(tile);
    }
    const v = tile.querySelector("video");
    const stream = local ? this.local : peer.stream;
    if (v.srcObject !== stream) v.srcObject = stream;
    const name = local ? t("you") : this.who(id);
    v.setAttribute("aria-label", local ? t("video_you") : t("video_of", { who: name }));
    const state = local || ["connected", "completed"].includes(peer.pc.connectionState) ? "" : ` (${t("video_connecting")})`;
    tile.querySelector("figcaption").textContent = name + state;
  }

  /** Inbound media per peer from getStats (tests read it; so can support staff). */
  async inbound() {
    const out = {};
    for (const [id, peer] of this.peers) {
      const entry = { state: peer.pc.connectionState, audioBytes: 0, videoBytes: 0, frames: 0, relay: false };
      const stats = await peer.pc.getStats();
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === "inbound-rtp") {
          if (s.kind === "audio") entry.audioBytes += s.bytesReceived || 0;
          if (s.kind === "video") { entry.videoBytes += s.bytesReceived || 0; entry.frames += s.framesDecoded || 0; }
        }
        if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      const pair = pairId && stats.get(pairId);
      if (pair) entry.relay = [stats.get(pair.localCandidateId), stats.get(pair.remoteCandidateId)].some((c) => c?.candidateType === "relay");
      out[id] = entry;
    }
    return out;
  }

  /** Leaving the room page: hang up on everyone (they close at once) and release the devices. */
  dispose() {
    clearTimeout(this.iceTimer);
    window.removeEventListener("online", this.onOnline);
    for (const id of [...this.peers.keys()]) this.close(id, { hangup: true });
    this.local?.getTracks().forEach((tr) => tr.stop());
    this.local = null;
  }
}
