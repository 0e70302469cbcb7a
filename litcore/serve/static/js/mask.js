// The mask task's view: frame + masks on the canvas, clicks and the brush.
//
// Click = positive point, shift-click or right-click = negative. The brush is
// the fallback: it starts from the shown mask, drag paints, shift- or
// right-drag erases, Enter sends the painted mask as a full-mask action.

import * as rle from "./rle.js";
import { Stage } from "./stage.js";

export class MaskView {
  constructor(canvas, session, ui) {
    this.stage = new Stage(canvas);
    this.session = session;
    this.ui = ui;                  // {run(promiseFn), brushSize()}
    this.points = new Map();       // index -> clicks made on it, drawn as markers
    this.current = null;           // shown Prediction
    this.painting = 0;             // 0 / 1 paint / -1 erase while the mouse is down
    canvas.addEventListener("contextmenu", (ev) => ev.preventDefault());
    canvas.addEventListener("mousedown", (ev) => this.down(ev));
    canvas.addEventListener("mousemove", (ev) => this.move(ev));
    window.addEventListener("mouseup", () => { this.painting = 0; });
    canvas.addEventListener("mouseleave", () => { this.stage.cursor = null; this.stage.draw(); });
  }

  get brushing() { return this.stage.brush !== null; }
  get objectNumber() { return this.session.state.object_index + 1; }

  /** Masks to draw at `index`: finished objects dashed, the current one solid. */
  show(index, pred, image) {
    this.current = pred;
    this.stage.setImage(image);
    const layers = [];
    const s = this.session.state;
    for (let k = 0; k < s.object_index; k++) {
      const kept = this.session.kept.get(`${k}:${index}`);
      if (kept?.mask) layers.push({ obj: k + 1, mask: rle.decode(kept.mask), dashed: true });
    }
    if (pred?.mask) layers.push({ obj: this.objectNumber, mask: rle.decode(pred.mask) });
    this.stage.points = index === this.session.frontier ? (this.points.get(index) ?? []) : [];
    this.stage.setMasks(layers);
  }

  down(ev) {
    ev.preventDefault();
    const p = this.stage.toImage(ev);
    if (!p) return;
    const negative = ev.shiftKey || ev.button === 2;
    if (this.brushing) {
      this.painting = negative ? -1 : 1;
      this.stage.paint(p.x, p.y, this.ui.brushSize(), this.painting > 0 ? 1 : 0);
      return;
    }
    if (ev.button !== 0 && ev.button !== 2) return;
    this.ui.run(async () => {
      const s = this.session;
      await s.act({ kind: "click", x: p.x, y: p.y, positive: !negative });
      const list = this.points.get(s.view) ?? [];
      list.push({ x: p.x, y: p.y, positive: !negative });
      this.points.set(s.view, list);
      this.stage.setPoints(list);
      s.status(`${negative ? "Negative" : "Positive"} click at (${p.x}, ${p.y}). Enter accepts the frame.`);
    });
  }

  move(ev) {
    if (!this.brushing) return;
    const p = this.stage.toImage(ev);
    if (!p) return;
    this.stage.cursor = { x: p.x, y: p.y, r: this.ui.brushSize() };
    if (this.painting) this.stage.paint(p.x, p.y, this.ui.brushSize(), this.painting > 0 ? 1 : 0);
    else this.stage.draw();
  }

  startBrush() {
    this.session.requireFrontier();
    const { width: w, height: h } = this.stage;
    const start = this.current?.mask ? rle.decode(this.current.mask) : new Uint8Array(w * h);
    this.stage.brush = { obj: this.objectNumber, mask: start };
    this.stage._overlay = null;
    this.stage.draw();
  }

  stopBrush() {
    this.stage.brush = null;
    this.stage.cursor = null;
    this.stage._overlay = null;
    this.stage.draw();
  }

  /** Send the painted mask (a final action: it replaces the prediction). */
  async submitBrush() {
    const { width: w, height: h } = this.stage;
    const mask = rle.encode(this.stage.brush.mask, h, w);
    this.stopBrush();
    await this.session.act({ kind: "mask", mask });
    this.points.delete(this.session.view);
    this.session.status("Mask painted. Enter accepts the frame.");
  }

  resetClicks(index) { this.points.delete(index); }
}
