// The page: gallery (or study assignments), the annotation view, the side
// panel (objects, counters, update state, export) and the keyboard.

import * as api from "./api.js";
import * as rle from "./rle.js";
import { Session } from "./session.js";
import { MaskView } from "./mask.js";
import { LabelView } from "./labels.js";
import { css } from "./palette.js";

const $ = (id) => document.getElementById(id);
let info = null, session = null, view = null, clock = { value: 0, at: 0 };

function status(text, error = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

/** Run a user command; a refused one (4xx) shows the server's message instead of throwing. */
async function run(fn) {
  try { await fn(); } catch (e) { status(e.message || String(e), true); } finally { renderControls(); }
}

const ui = { run, brushSize: () => Number($("brush-size").value) };

// ---------- start: gallery / study ----------

function userName() {
  const u = $("user").value.trim();
  localStorage.setItem("lit-user", u);
  return u;
}

function entryCard(group, lines, onOpen, done = false) {
  const b = document.createElement("button");
  b.className = "entry" + (done ? " done" : "");
  b.dataset.group = group;
  const img = document.createElement("img");
  img.alt = group;
  api.blobUrl(`/api/gallery/${encodeURIComponent(group)}/thumbnail`).then((u) => { img.src = u; }).catch(() => {});
  const name = document.createElement("strong");
  name.textContent = group;
  b.append(img, name);
  for (const line of lines) {
    const t = document.createElement("span");
    t.className = "tag";
    t.textContent = line;
    b.appendChild(t);
  }
  b.addEventListener("click", () => run(onOpen));
  return b;
}

async function loadGallery() {
  const g = await api.get("/api/gallery");
  const noun = g.group_noun || "group";
  $("start-note").textContent = `Choose a ${noun} to annotate (${g.entries.length} available).`;
  $("gallery").replaceChildren(...g.entries.map((e) => entryCard(e.group,
    [`${e.length} ${info.kind === "labels" ? "images" : "frames"}`, e.objects.length > 1 ? `${e.objects.length} objects` : ""].filter(Boolean),
    () => openNew({ user: userName(), group: e.group, lit: $("lit-start").checked }))));
}

async function loadStudy() {
  const user = userName();
  if (!user) throw new Error("user: enter your participant id");
  const s = await api.get(`/api/study/${encodeURIComponent(user)}`);
  $("start-note").textContent = `Study mode: your ${s.assignments.length} assignments, in order. LIT is set per assignment.`;
  $("gallery").replaceChildren(...s.assignments.map((a, k) => entryCard(a.group,
    [`#${k + 1} · LIT ${a.lit ? "on" : "off"}`, a.done ? "done" : (a.session ? "in progress" : "to do")],
    () => (a.session ? resume(a.session) : openNew({ user, group: a.group })), a.done)));
}

async function openNew(body) { enter(await api.post("/api/sessions", body)); }
async function resume(id) { enter(await api.get(`/api/sessions/${encodeURIComponent(id)}`)); }

// ---------- the session view ----------

function enter(state) {
  const old = $("stage");
  const canvas = old.cloneNode(false);      // a fresh canvas drops the last view's listeners
  old.replaceWith(canvas);
  session = new Session(state, { onState, onShow, onMode, onStatus: status });
  window.litSession = session;   // for the benchmark and the browser test (latencies, state)
  view = state.kind === "labels"
    ? new LabelView(canvas, $("cls-labels"), $("cls-other"), session, ui)
    : new MaskView(canvas, session, ui);
  if (state.labels) view.setLabels?.(state.labels);
  document.body.classList.toggle("kind-labels", state.kind === "labels");
  document.body.classList.toggle("kind-mask", state.kind !== "labels");
  $("cls").hidden = state.kind !== "labels";
  $("start").hidden = true;
  $("work").hidden = false;
  $("lit-switch").hidden = $("update").hidden = false;
  $("lit-switch").title = info?.study ? "The study fixes LIT on or off for this video"
    : "LIT on: the adapter learns from your corrections and proposes revisions (L)";
  history.replaceState(null, "", `${location.pathname}${location.search}#session=${encodeURIComponent(state.id)}`);
  onState(state, true);
  status(state.kind === "labels"
    ? "Pick the right label (1-5, or Other); Enter accepts the first; F shows the adapter's revision."
    : "Check the frame. Space propagates; F flags a wrong frame; click to correct; Enter accepts.");
  run(() => session.show(session.view));
  canvas.focus();
}

function onState(state, objectChanged) {
  clock = { value: state.counters.seconds, at: performance.now() };
  const c = state.counters;
  $("c-corrections").textContent = c.user_corrections;
  $("c-clicks").textContent = c.clicks;
  $("c-auto").textContent = c.auto_corrections;
  $("c-updates").textContent = state.update.updates;
  $("c-last").textContent = state.update.last_seconds == null ? "–" : `${state.update.last_seconds.toFixed(2)} s`;
  renderUpdate(state);
  $("lit").checked = state.lit;
  $("where").textContent = state.kind === "labels" ? `${state.user} · stream ${state.group}`
    : `${state.user} · ${state.group} · object ${state.object} (${state.object_index + 1}/${state.objects.length})`;
  if (objectChanged || $("objects").childElementCount !== state.objects.length) renderObjects(state);
  else markObjects(state);
  const slider = $("slider");
  slider.min = state.first;
  slider.max = state.length - 1;     // the whole video; show() clamps to what is computed
  renderProgress(state);
  if (objectChanged) view?.resetClicks?.(state.frontier);
  renderControls();
}

function renderProgress(state) {
  const span = Math.max(1, state.length - 1 - state.first);
  const reached = (state.frontier ?? state.length - 1) - state.first;
  $("progress-done").style.width = `${(100 * reached) / span}%`;
}

function renderUpdate(state) {
  const el = $("update"), u = state.update;
  let kind, text;
  if (!state.lit) { kind = "off"; text = "LIT off · no learning"; }
  else if (u.error) { kind = "error"; text = `update failed: ${u.error}`; }
  else if (u.running || u.queued) {
    kind = "running";
    text = `training adapter…${u.queued ? ` (+${u.queued} queued)` : ""}`;
  } else if (u.updates) {
    kind = "ready";
    text = `adapter ready · ${u.updates} update${u.updates > 1 ? "s" : ""} · last ${u.last_seconds?.toFixed(2) ?? "?"} s`;
  } else { kind = "untrained"; text = "adapter untrained: learns from your first correction"; }
  el.className = `badge ${kind === "running" ? "running" : kind === "off" || kind === "error" ? "off" : "idle"}`;
  el.dataset.state = kind;
  el.textContent = text;
}

function renderObjects(state) {
  $("objects").replaceChildren(...state.objects.map((name, k) => {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = css(k + 1);
    const label = document.createElement("span");
    label.textContent = `${state.kind === "labels" ? "stream" : "object"} ${name}`;
    li.append(sw, label);
    return li;
  }));
  markObjects(state);
}

function markObjects(state) {
  [...$("objects").children].forEach((li, k) => {
    li.classList.toggle("current", k === state.object_index && !state.done);
    li.classList.toggle("finished", k < state.object_index || state.done);
  });
}

function onShow(index, pred, image) {
  view.show(index, pred, image);
  const s = session.state;
  $("slider").value = index;
  renderProgress(s);   // propagation moves the frontier
  const where = index === s.frontier ? "frontier" : `done${pred.outcome ? ` · ${pred.outcome}` : ""}`;
  const empty = pred.mask && rle.area(pred.mask) === 0;    // say so: an empty mask is invisible
  $("frame-label").textContent = `${s.kind === "labels" ? "image" : "frame"} ${index} / ${s.length - 1} · ${where}` +
    (pred.source && pred.source !== "model" && pred.source !== "kept" ? ` · ${pred.source}` : "") +
    (empty ? " · empty mask" : "");
  renderControls();
}

function onMode(mode) {
  document.body.dataset.mode = mode;
  renderControls();
}

function renderBanner() {
  const b = $("banner"), s = session?.state;
  let text = "", cls = "info";
  if (!s) return;
  const brushing = view instanceof MaskView && view.brushing;
  if (s.done) { text = "All objects are done: export the masks, then finish the session."; cls = "done"; }
  else if (session.mode === "revision") { text = "Adapter's revision: Enter accepts it · Esc rejects it and lets you correct"; cls = "warn"; }
  else if (session.mode === "propagating") text = "Propagating forward: Space stops at the frame shown";
  else if (brushing) text = "Brush: drag paints, ⇧/right-drag erases · Enter applies the mask · Esc leaves the brush";
  else if (session.mode === "correcting") text = `Correcting ${s.kind === "labels" ? "image" : "frame"} ${session.view}: click to refine · Enter accepts`;
  else if (!session.atFrontier) text = `Viewing a done ${s.kind === "labels" ? "image" : "frame"}: End goes back to the frontier (${s.frontier})`;
  b.textContent = text || "\u00a0";        // the banner keeps its height: the canvas never jumps under the mouse
  b.className = `banner ${text ? (cls === "warn" ? "" : cls) : "empty"}`;
  document.querySelector(".stage-wrap").classList.toggle("revision", session.mode === "revision");
  document.querySelector(".stage-wrap").classList.toggle("brush", brushing);
}

function renderControls() {
  const s = session?.state;
  const propagating = session?.mode === "propagating";
  const editable = !!s && !s.done && session.atFrontier && !propagating;
  const brushing = view instanceof MaskView && view.brushing;
  const p = $("propagate");
  p.textContent = propagating ? "Stop ■" : "Propagate ▶▶";
  p.classList.toggle("running", propagating);
  p.classList.toggle("primary", !propagating);
  p.disabled = !propagating && !editable;
  $("flag").disabled = !editable || session.mode === "revision" || brushing;
  $("accept").disabled = !editable;
  $("reject").disabled = !editable || session.mode !== "revision";
  $("brush").disabled = !editable;
  $("brush").classList.toggle("primary", brushing);
  $("lit").disabled = !s || !!info?.study || propagating;
  $("prev").disabled = $("next").disabled = !s || propagating;
  document.body.dataset.busy = propagating ? "1" : "0";
  renderBanner();
}

// ---------- commands ----------

const commands = {
  propagate: () => (session.mode === "propagating" ? session.cancel() : session.propagate()),
  flag: () => session.flag(),
  accept: async () => {
    if (view instanceof MaskView && view.brushing) return view.submitBrush();
    const index = session.view;
    await session.accept();
    view.resetClicks?.(index);
  },
  escape: () => {
    if (view instanceof MaskView && view.brushing) { view.stopBrush(); return null; }
    if (session.mode === "revision") return session.reject();
    if (session.mode === "propagating") return session.cancel();
    return null;
  },
  brush: () => { if (view.brushing) view.stopBrush(); else view.startBrush(); },
  lit: () => session.setLit(!session.state.lit),
};

function bind() {
  $("user").value = localStorage.getItem("lit-user") || "annotator";
  $("study-load").addEventListener("click", () => run(loadStudy));
  for (const id of ["propagate", "flag", "accept", "brush"]) $(id).addEventListener("click", () => run(commands[id]));
  $("reject").addEventListener("click", () => run(() => session.reject()));
  $("prev").addEventListener("click", () => run(() => session.step(-1)));
  $("next").addEventListener("click", () => run(() => session.step(1)));
  $("slider").addEventListener("input", (ev) => run(() => session.show(Number(ev.target.value))));
  $("lit").addEventListener("change", (ev) => run(() => session.setLit(ev.target.checked)));
  for (const b of document.querySelectorAll(".export button")) {
    b.addEventListener("click", () => run(async () => {
      const f = b.dataset.format;
      const r = await api.download(`${session.base}/export?format=${f}`, `${session.state.group}-${f}.${f === "coco" ? "json" : "zip"}`);
      status(`Exported ${r.name} (${Math.ceil(r.size / 1024)} kB).`);
    }));
  }
  $("finish").addEventListener("click", () => run(async () => {
    await session.close();
    session = view = null;
    history.replaceState(null, "", location.pathname + location.search);
    $("work").hidden = true;
    $("start").hidden = false;
    $("lit-switch").hidden = $("update").hidden = true;
    await (info.study ? loadStudy() : loadGallery());
  }));
  document.addEventListener("keydown", onKey);
  // A clicked control gives the keyboard back: Space/Enter must reach the page's shortcuts,
  // not re-activate the last button or toggle the LIT checkbox on key-up.
  for (const el of [$("work"), document.querySelector("header")]) {
    el.addEventListener("click", (ev) => {
      const c = ev.target.closest("button, input[type=checkbox]");
      if (c) c.blur();
    });
  }
  setInterval(tick, 250);
  setInterval(() => {
    if (!session || session.state.done) return;
    session.refresh().catch((e) => {
      if (e.status === 404) status(`${e.message}: the session was closed (idle too long?). Finish and open it again.`, true);
    });
  }, 1000);
}

function onKey(ev) {
  if (!session || $("work").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;   // leave browser shortcuts alone
  const t = ev.target;
  if (t instanceof HTMLInputElement && t.type !== "range" && t.type !== "checkbox") return;
  if (t instanceof HTMLSelectElement) return;
  const k = ev.key;
  const map = {
    ArrowLeft: () => session.step(ev.shiftKey ? -10 : -1), ArrowRight: () => session.step(ev.shiftKey ? 10 : 1),
    Home: () => session.show(session.state.first), End: () => session.show(session.last),
    Enter: commands.accept, Escape: commands.escape,
    f: commands.flag, F: commands.flag, l: commands.lit, L: commands.lit,
  };
  if (view instanceof MaskView) {
    map[" "] = commands.propagate;
    map.b = map.B = commands.brush;
    map["["] = () => { $("brush-size").value = Number($("brush-size").value) - 2; };
    map["]"] = () => { $("brush-size").value = Number($("brush-size").value) + 2; };
  } else if (/^[1-5]$/.test(k) && view.labelAt(Number(k) - 1) !== undefined) {
    map[k] = () => view.pick(view.labelAt(Number(k) - 1));
  }
  if (!map[k]) return;
  ev.preventDefault();
  run(map[k]);
}

function tick() {
  if (!session) return;
  const live = !session.state.done;
  const sec = clock.value + (live ? (performance.now() - clock.at) / 1000 : 0);
  $("c-time").textContent = `${Math.floor(sec / 60)}:${String(Math.floor(sec % 60)).padStart(2, "0")}`;
}

async function boot() {
  bind();
  try {
    info = await api.get("/api/info");
    document.title = `litcore · ${info.dataset ?? "live annotation"}`;
    $("study-load").hidden = !info.study;
    $("lit-start-label").hidden = !!info.study;
    $("lit-start").checked = info.lit_default ?? true;
    if (info.study) $("start-note").textContent = "Study mode: enter your participant id and show your assignments.";
    else await loadGallery();
    const m = /session=([^&]+)/.exec(location.hash);
    if (m) await resume(decodeURIComponent(m[1]));
  } catch (e) { status(e.message, true); $("start-note").textContent = `Cannot reach the server: ${e.message}`; }
}

boot();
