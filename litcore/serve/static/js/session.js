// One annotation session, task-neutral: navigation, flag / accept / reject,
// actions and streamed propagation, exactly as the API names them.
//
// Only the frontier item is editable (the model works forward through the
// items); items before it are done and can be viewed. The task views
// (mask.js, labels.js) draw a Prediction and turn user input into Actions.

import * as api from "./api.js";

export class Session {
  constructor(state, hooks) {
    this.state = state;
    this.hooks = hooks;            // {onState(state), onShow(index, prediction, image), onMode(mode), onStatus(text, error)}
    this.mode = "idle";            // idle | revision | correcting | propagating
    this.view = state.frontier ?? state.first;
    this.images = new Map();       // index -> ImageBitmap (small LRU: frames repeat as the user scrubs)
    this.kept = new Map();         // "object_index:index" -> Prediction, for overlaying finished objects
    this.timings = [];             // [{what, ms, at}] user command → result drawn; read by benchmarks/bench_serve_page.py
    this._showToken = 0;
    this._stream = null;
  }

  get base() { return `/api/sessions/${encodeURIComponent(this.state.id)}`; }
  get frontier() { return this.state.frontier; }
  get atFrontier() { return this.frontier !== null && this.view === this.frontier; }
  get last() { return this.frontier ?? this.state.length - 1; }

  /** Keep the last 1000 latencies (ms from the user's command to the result on screen). */
  time(what, t0) {
    const now = performance.now();
    this.timings.push({ what, ms: now - t0, at: now });
    if (this.timings.length > 1000) this.timings.shift();
  }

  setMode(mode) { this.mode = mode; this.hooks.onMode(mode); }
  status(text, error = false) { this.hooks.onStatus(text, error); }

  setState(state) {
    const objectChanged = state.object_index !== this.state.object_index;
    this.state = state;
    this.hooks.onState(state, objectChanged);
  }

  async refresh() {
    const state = await api.get(this.base);
    if (this.mode === "propagating") {   // the stream owns the frontier (and the object) until it ends
      if (state.object_index !== this.state.object_index) return;
      state.frontier = this.state.frontier;
    }
    this.setState(state);
  }

  async image(index) {
    const cached = this.images.get(index);   // an ImageBitmap, or the Promise of a prefetch
    if (cached) {
      const img = await cached;
      if (img) return img;
    }
    const img = await api.image(`${this.base}/items/${index}/image`);
    this.images.set(index, img);
    if (this.images.size > 96) {
      this.images.delete(this.images.keys().next().value);   // not closed: the stage may still draw it
    }
    return img;
  }

  /** Start loading the frames after `from` (they do not depend on the model), so streaming draws at once. */
  prefetch(from, n) {
    for (let i = from; i < Math.min(from + n, this.state.length); i++) {
      if (!this.images.has(i)) this.images.set(i, api.image(`${this.base}/items/${i}/image`).catch(() => {
        this.images.delete(i);
        return null;
      }));
    }
  }

  /** The latest prediction seen per object and item: a frontier's becomes the kept one unless corrected after. */
  remember(pred) {
    if (pred) this.kept.set(`${this.state.object_index}:${pred.index}`, pred);
  }

  /** Show item `index` (clamped to the viewable range); `pred` skips the fetch when it is known. */
  async show(index, pred = null) {
    const i = Math.max(this.state.first, Math.min(this.last, index));
    const token = ++this._showToken;
    this.view = i;
    const [img, p] = await Promise.all([this.image(i), pred ?? api.get(`${this.base}/items/${i}/prediction`)]);
    if (token !== this._showToken) return;   // a newer show() won: draw only the latest
    this.remember(p);
    this.hooks.onShow(i, p, img);
  }

  async step(delta) { if (this.mode !== "propagating") await this.show(this.view + delta); }

  requireFrontier() {
    if (this.state.done) throw new Error("the session is finished: export the masks or close it");
    if (this.mode === "propagating") throw new Error("propagation is running: stop it first (Space)");
    if (!this.atFrontier) throw new Error(`frame ${this.view} is done; only the frontier (${this.frontier}, End) can be edited`);
  }

  async flag() {
    this.requireFrontier();
    const t0 = performance.now();
    const { revision } = await api.post(`${this.base}/items/${this.view}/flag`);
    if (!revision) {
      this.setMode("correcting");
      const u = this.state.update;
      const why = !this.state.lit ? "LIT is off"
        : (u.running || u.queued) ? "the adapter is still learning from your last correction"
        : "the adapter has not learnt from this object yet";
      this.status(`No revision (${why}): correct the frame with clicks or the brush, then Enter.`);
      return null;
    }
    await this.show(this.view, revision);
    this.setMode("revision");
    this.time("revision", t0);
    this.status(`Adapter's revision shown in ${Math.round(performance.now() - t0)} ms: Enter accepts, Esc rejects.`);
    return revision;
  }

  async reject() {
    this.requireFrontier();
    const pred = await api.post(`${this.base}/items/${this.view}/reject`);
    await this.show(this.view, pred);
    this.setMode("correcting");
    this.status("Revision rejected: correct the frame with clicks or the brush, then Enter.");
    return pred;
  }

  async act(action) {
    this.requireFrontier();
    const t0 = performance.now();
    const pred = await api.post(`${this.base}/items/${this.view}/action`, action);
    await this.show(this.view, pred);
    this.setMode("correcting");
    this.time(action.kind, t0);
    return pred;
  }

  async accept() {
    this.requireFrontier();
    const index = this.view;
    const state = await api.post(`${this.base}/items/${index}/accept`);
    this.setMode("idle");
    this.setState(state);
    if (state.done) this.status("All objects are done: export the masks or finish the session.");
    else this.status(`${state.kind === "labels" ? "Image" : "Frame"} ${index} accepted.`);
    await this.show(this.frontier ?? index);
    return state;
  }

  async setLit(enabled) { this.setState(await api.post(`${this.base}/lit`, { enabled })); }

  /** Stream the model forward from the frontier; resolves with the end state. */
  async propagate(until = null) {
    this.requireFrontier();
    this.setMode("propagating");
    this.status("Propagating… Space stops at the frame shown.");
    let end = null, last = this.frontier;
    const q = until === null ? "" : `?until=${until}`;
    this._stream = api.stream(`${this.base}/propagate${q}`, (type, data) => {
      if (type === "item") {
        const t0 = performance.now();
        this.time("event", t0);
        if (data.index <= last) return;   // the next object's first item: drawn after `end`
        last = this.state.frontier = data.index;
        this.prefetch(data.index + 1, 4);
        this.show(data.index, data).then(() => this.time("frame", t0), () => {});
      }
      else if (type === "end") end = data;
      else if (type === "error") this.status(data.detail ?? String(data), true);
    });
    try {
      await this._stream.done;
    } finally {
      this._stream = null;
      try {
        this.setState(end ? (end.state ?? end) : await api.get(this.base));
        const reason = end?.reason ?? "cancelled";
        this.status({ end: "Reached the last frame.", until: "Stopped where asked.", cancelled: "Stopped.",
                      object: "Object finished; the next object starts." }[reason] ?? `Stopped (${reason}).`);
        await this.show(this.frontier ?? this.state.length - 1);
      } finally {
        this.setMode("idle");        // last: once idle, the page shows the final frontier
      }
    }
    return this.state;
  }

  async cancel() {
    if (this.mode !== "propagating") return false;
    const { cancelled } = await api.post(`${this.base}/cancel`);
    return cancelled;
  }

  async close() {
    this._stream?.abort();
    return api.del(this.base);
  }
}
