// The sessions service: the mediation room, its websocket, the proposals made in it, and the
// ICE servers for audio and video.
import { download, get, post, upload } from "./http.js";

/** The room's state (open or not, mode). */
export const room = (caseId, { token }) => get(`/sessions/rooms/${caseId}`, { token });

/** A proposal made in the room (summary and terms). */
export const proposal = (caseId, proposalId, { token }) => get(`/sessions/rooms/${caseId}/proposals/${proposalId}`, { token });

/** Share a file in the channel I am in; `onProgress` gets 0..1 while it uploads. The name
 * travels percent-encoded in a header (never in the address, which servers log). */
export const uploadDocument = (caseId, file, { token, onProgress }) => upload(
  `/sessions/rooms/${encodeURIComponent(caseId)}/documents`, file,
  { token, onProgress, headers: { "Content-Type": file.type || "application/octet-stream", "X-Document-Name": encodeURIComponent(file.name) } });

/** The documents I was shown in this room (and the agreement's annexes). */
export const documents = (caseId, { token }) => get(`/sessions/rooms/${encodeURIComponent(caseId)}/documents`, { token });

/** Save a document (it comes as an attachment; the name is the one it was shared with). */
export const downloadDocument = (caseId, documentId, name, { token }) => download(
  `/sessions/rooms/${encodeURIComponent(caseId)}/documents/${encodeURIComponent(documentId)}/content`, token, name);

/** Mediator: carry a caucus document into the joint session (where the mediator is). */
export const shareDocument = (caseId, documentId, { token }) => post(
  `/sessions/rooms/${encodeURIComponent(caseId)}/documents/${encodeURIComponent(documentId)}/share`, undefined, { token });

/** Mediator: attach a document shared in the joint session to the agreement as an annex. */
export const annexDocument = (caseId, documentId, { token }) => post(
  `/sessions/rooms/${encodeURIComponent(caseId)}/documents/${encodeURIComponent(documentId)}/annex`, undefined, { token });

/** STUN/TURN servers and my own TURN credentials. */
export const iceServers = (caseId, { token }) => get(`/sessions/rooms/${encodeURIComponent(caseId)}/ice-servers`, { token });

/** The websocket subprotocol the room speaks. */
export const ROOM_PROTOCOL = "odr.sessions.v1";

/** The room's websocket address on this origin; `params` is its query (URLSearchParams). */
export function roomSocketUrl(caseId, params) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/sessions/rooms/${encodeURIComponent(caseId)}/ws?${params}`;
}
