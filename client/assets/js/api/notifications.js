// The notifications service: the in-app feed, its live stream, people's own contacts, and the
// dev mailbox.
import { get, post, put } from "./http.js";

export const feed = ({ limit, token }) => get(`/notifications/feed?limit=${limit}`, { token });

export const markRead = (notificationId, { token }) => post(`/notifications/feed/${notificationId}/read`, undefined, { token });

/** The live feed for an EventSource, which cannot send headers: the token goes in the query
 * string, to our own origin only. */
export const feedStreamUrl = ({ token }) => `/notifications/feed/stream?access_token=${encodeURIComponent(token)}`;

/** Where notices to `subject` go; each person sets their own, with their own token. */
export const saveContact = (subject, { email }, { token }) =>
  put(`/notifications/contacts/${encodeURIComponent(subject)}`, { email }, { token });

/** The local mailbox page (dev and demo setups): the emails that were sent. */
export const MAILBOX_URL = "/notifications/mailbox";
