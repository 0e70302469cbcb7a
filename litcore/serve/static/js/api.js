// Thin client of the `lit serve` JSON API (see litcore/serve/API.md).
//
// The access token comes from the page's URL (?token=...), is kept for the
// tab in sessionStorage and removed from the address bar, and travels as a
// Bearer header on every call. The event stream is read with fetch rather
// than EventSource, so it carries the same header and is cancelled with an
// AbortController.

const params = new URLSearchParams(location.search);
if (params.has("token")) {
  sessionStorage.setItem("lit-token", params.get("token"));
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function headers(extra = {}) {
  const token = sessionStorage.getItem("lit-token");
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function check(res) {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    const d = body.detail ?? body.error ?? body.message;
    if (typeof d === "string") message = d;
    else if (Array.isArray(d)) message = d.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  } catch { /* not JSON: keep the status line */ }
  throw new ApiError(res.status, message);
}

export async function get(path) {
  return (await check(await fetch(path, { headers: headers() }))).json();
}

export async function post(path, body = {}) {
  const res = await fetch(path, {
    method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
  });
  return (await check(res)).json();
}

export async function del(path) {
  return (await check(await fetch(path, { method: "DELETE", headers: headers() }))).json();
}

/** An image (frame) as an ImageBitmap, fetched with the token header. */
export async function image(path) {
  const res = await check(await fetch(path, { headers: headers() }));
  return createImageBitmap(await res.blob());
}

/** An object URL of a fetched image, for <img> elements (thumbnails). */
export async function blobUrl(path) {
  const res = await check(await fetch(path, { headers: headers() }));
  return URL.createObjectURL(await res.blob());
}

/** A file download (export) through the token header. */
export async function download(path, fallbackName) {
  const res = await check(await fetch(path, { headers: headers() }));
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return { name: a.download, size: blob.size };
}

/**
 * Read a server-sent event stream; calls onEvent(type, data) per event.
 * Returns {done: Promise, abort()}; aborting resolves `done` quietly.
 */
export function stream(path, onEvent) {
  const ctl = new AbortController();
  const done = (async () => {
    const res = await check(await fetch(path, { headers: headers({ Accept: "text/event-stream" }), signal: ctl.signal }));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let type = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (data) onEvent(type, JSON.parse(data));
      }
    }
  })().catch((e) => { if (e.name !== "AbortError") throw e; });
  return { done, abort: () => ctl.abort() };
}
