// HTTP to the services, same origin under /intake, /sessions, /agreements, /notifications: the
// one place that fetches. intake.js, sessions.js, agreements.js and notifications.js beside it
// name the paths; the rest of the client calls them. Errors arrive as RFC 9457 problem details;
// ApiError keeps them for the form that asked.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, { token, body, form, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json, application/problem+json", ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (form) {
    init.body = new URLSearchParams(form);
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, { title: "Network error", detail: String(error.message || error) });
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!response.ok) throw new ApiError(response.status, data || { title: response.statusText });
  return data;
}

export const get = (path, opts) => api("GET", path, opts);
export const post = (path, body, opts = {}) => api("POST", path, { ...opts, body });
export const put = (path, body, opts = {}) => api("PUT", path, { ...opts, body });
export const patch = (path, body, opts = {}) => api("PATCH", path, { ...opts, body });
export const del = (path, opts) => api("DELETE", path, opts);

/** The unverified claims of a token: the client only reads its own subject, role and scope. */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part + "=".repeat((4 - (part.length % 4)) % 4)))));
  } catch {
    return {};
  }
}

/** Save a protected file (the Bearer header rules out a plain link): fetch it, hand it to the
 * browser as a download. */
export async function download(path, token, filename) {
  const response = await api("GET", path, { token, raw: true });
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Send a file as the request body, reporting progress (0..1) to `onProgress`: fetch cannot
 * report upload progress, so this one request uses XMLHttpRequest. Problems arrive as ApiError,
 * as from `api`. */
export function upload(path, file, { token, headers = {}, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = { detail: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data || { title: xhr.statusText }));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { title: "Network error", detail: "the upload was interrupted" })));
    xhr.addEventListener("abort", () => reject(new ApiError(0, { title: "Cancelled", detail: "the upload was cancelled" })));
    xhr.send(file);
  });
}
