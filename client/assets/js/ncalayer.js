// NCALayer, the NCA RK desktop application that holds a person's digital-signature keys, listens
// on a websocket on their own computer (wss://127.0.0.1:13579). The page sends it the bytes to
// sign and NCALayer asks the person for their key and password in its own window; the key never
// reaches the page. Messages are those of NCALayer's documented `kz.gov.pki.knca.commonUtils`
// module: on connecting NCALayer says `{"result": {"version": ...}}`; `createCAdESFromBase64`
// with [storage, "SIGNATURE", base64 data, attach=false] answers `{"code": "200",
// "responseObject": <base64 detached CMS>}` or another code with a `message`.

export class NcaLayerError extends Error {}

/** A detached CMS (base64) over `base64Data`, made by NCALayer at `url` with a signing key. */
export function createCAdES(url, base64Data, { storage = "PKCS12" } = {}) {
  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      reject(new NcaLayerError(String(error)));
      return;
    }
    let greeted = false;
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      try { socket.close(); } catch { /* already closed */ }
      fn(value);
    };
    socket.addEventListener("error", () => finish(reject, new NcaLayerError("unreachable")));
    socket.addEventListener("close", () => finish(reject, new NcaLayerError("closed")));
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        finish(reject, new NcaLayerError("unreadable answer"));
        return;
      }
      if (!greeted) {
        greeted = true;
        socket.send(JSON.stringify({
          module: "kz.gov.pki.knca.commonUtils",
          method: "createCAdESFromBase64",
          args: [storage, "SIGNATURE", base64Data, false],
        }));
        return;
      }
      if (message.code === "200" && message.responseObject) finish(resolve, message.responseObject);
      else finish(reject, new NcaLayerError(message.message || `code ${message.code}`));
    });
  });
}
