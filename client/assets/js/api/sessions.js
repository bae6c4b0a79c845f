// The sessions service: the mediation room, its websocket, the proposals made in it, and the
// ICE servers for audio and video.
import { get } from "./http.js";

/** The room's state (open or not, mode). */
export const room = (caseId, { token }) => get(`/sessions/rooms/${caseId}`, { token });

/** A proposal made in the room (summary and terms). */
export const proposal = (caseId, proposalId, { token }) => get(`/sessions/rooms/${caseId}/proposals/${proposalId}`, { token });

/** STUN/TURN servers and my own TURN credentials. */
export const iceServers = (caseId, { token }) => get(`/sessions/rooms/${encodeURIComponent(caseId)}/ice-servers`, { token });

/** The websocket subprotocol the room speaks. */
export const ROOM_PROTOCOL = "odr.sessions.v1";

/** The room's websocket address on this origin; `params` is its query (URLSearchParams). */
export function roomSocketUrl(caseId, params) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/sessions/rooms/${encodeURIComponent(caseId)}/ws?${params}`;
}
