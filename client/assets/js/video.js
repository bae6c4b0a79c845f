// Audio and video, peer to peer: the room only relays the WebRTC offer, answer and ICE
// candidates (`signal` frames) between people in the same channel; media never passes through
// the server. Used when the browser allows a camera or microphone; the session works without.
import { t } from "./i18n.js";
import { h } from "./ui.js";

export class Video {
  constructor({ send, container, me }) {
    this.send = send;
    this.me = me;
    this.container = container;
    this.peers = new Map(); // participant -> RTCPeerConnection
    this.local = null;
    this.members = () => [];
    this.render();
  }

  render() {
    const supported = !!(navigator.mediaDevices && window.RTCPeerConnection);
    if (!supported) {
      this.container.replaceChildren(h("p", { class: "muted" }, t("video_unsupported")));
      return;
    }
    const button = h("button", { type: "button", class: "secondary", id: "video-toggle" }, this.local ? t("video_stop") : t("video_start"));
    button.addEventListener("click", () => (this.local ? this.stop() : this.start()));
    this.container.replaceChildren(button);
    if (this.local) this.container.append(this.tile("local", this.local, true));
    for (const [id, pc] of this.peers) if (pc.remote) this.container.append(this.tile(id, pc.remote, false));
  }

  tile(id, stream, muted) {
    const v = h("video", { autoplay: true, playsinline: true, "aria-label": muted ? t("video_you") : t("video_other") });
    v.muted = muted;
    v.srcObject = stream;
    return v;
  }

  async start() {
    try {
      this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch {
      this.container.append(h("p", { role: "alert" }, t("video_denied")));
      return;
    }
    for (const id of this.members()) if (id !== this.me.subject) await this.call(id);
    this.render();
  }

  stop() {
    for (const [id, pc] of this.peers) { pc.close(); this.send({ type: "signal", to: id, kind: "hangup", data: {} }); }
    this.peers.clear();
    this.local?.getTracks().forEach((tr) => tr.stop());
    this.local = null;
    if (this.container.isConnected) this.render();
  }

  peer(id) {
    if (this.peers.has(id)) return this.peers.get(id);
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.onicecandidate = (e) => { if (e.candidate) this.send({ type: "signal", to: id, kind: "ice", data: e.candidate.toJSON() }); };
    pc.ontrack = (e) => { pc.remote = e.streams[0]; this.render(); };
    if (this.local) for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    this.peers.set(id, pc);
    return pc;
  }

  async call(id) {
    const pc = this.peer(id);
    await pc.setLocalDescription(await pc.createOffer());
    this.send({ type: "signal", to: id, kind: "offer", data: pc.localDescription.toJSON() });
  }

  async onSignal(f) {
    try {
      if (f.kind === "hangup") { this.peers.get(f.from)?.close(); this.peers.delete(f.from); this.render(); return; }
      const pc = this.peer(f.from);
      if (f.kind === "offer") {
        await pc.setRemoteDescription(f.data);
        await pc.setLocalDescription(await pc.createAnswer());
        this.send({ type: "signal", to: f.from, kind: "answer", data: pc.localDescription.toJSON() });
      } else if (f.kind === "answer") {
        await pc.setRemoteDescription(f.data);
      } else if (f.kind === "ice") {
        await pc.addIceCandidate(f.data);
      }
    } catch (error) {
      console.warn("signalling failed", error);
    }
  }
}
