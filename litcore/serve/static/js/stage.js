// The canvas: the frame, the masks overlaid, click markers and the brush.
//
// The canvas has the image's own pixel size and CSS scales it to fit, so a
// mouse position maps to image pixels through the bounding box alone and a
// click is sent in the original image's coordinates.

import { colour } from "./palette.js";

export class Stage {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.image = null;          // ImageBitmap / HTMLImageElement of the frame
    this.masks = [];            // [{obj, mask: Uint8Array, h, w, dashed}]
    this.points = [];           // [{x, y, positive}]
    this.brush = null;          // {obj, mask: Uint8Array} while painting
    this.cursor = null;         // {x, y, r} brush outline
    this._overlay = null;       // cached ImageData of the masks
  }

  get width() { return this.canvas.width; }
  get height() { return this.canvas.height; }

  setImage(img) {
    this.image = img;
    const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
    this._overlay = null;
    this.draw();
  }

  setMasks(masks) { this.masks = masks; this._overlay = null; this.draw(); }
  setPoints(points) { this.points = points; this.draw(); }

  /** Image-pixel coordinates of a mouse event, or null outside the image. */
  toImage(ev) {
    const r = this.canvas.getBoundingClientRect();
    const x = Math.floor((ev.clientX - r.left) * this.canvas.width / r.width);
    const y = Math.floor((ev.clientY - r.top) * this.canvas.height / r.height);
    if (x < 0 || y < 0 || x >= this.canvas.width || y >= this.canvas.height) return null;
    return { x, y };
  }

  /** Paint (value 1) or erase (0) a disc into the brush mask. */
  paint(x, y, radius, value) {
    if (!this.brush) return;
    const w = this.width, h = this.height, m = this.brush.mask, r2 = radius * radius;
    for (let yy = Math.max(0, y - radius); yy <= Math.min(h - 1, y + radius); yy++) {
      for (let xx = Math.max(0, x - radius); xx <= Math.min(w - 1, x + radius); xx++) {
        if ((xx - x) ** 2 + (yy - y) ** 2 <= r2) m[yy * w + xx] = value;
      }
    }
    this._overlay = null;
    this.draw();
  }

  _buildOverlay() {
    const w = this.width, h = this.height;
    const data = new ImageData(w, h);
    const px = data.data;
    const layers = this.brush ? [...this.masks.filter((m) => m.obj !== this.brush.obj), { ...this.brush, brush: true }]
                              : this.masks;
    for (const layer of layers) {
      const [r, g, b] = colour(layer.obj);
      const m = layer.mask;
      if (!m || m.length !== w * h) continue;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if (!m[i]) continue;
          // Outline pixels (a 4-neighbour outside) are opaque so thin parts stay visible.
          const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 ||
            !m[i - 1] || !m[i + 1] || !m[i - w] || !m[i + w];
          const dashed = layer.dashed && ((x + y) >> 2) % 2 === 0;
          const o = i * 4;
          px[o] = r; px[o + 1] = g; px[o + 2] = b;
          px[o + 3] = edge ? (dashed ? 60 : 255) : (layer.brush ? 140 : 105);
        }
      }
    }
    return data;
  }

  draw() {
    const { ctx } = this;
    ctx.clearRect(0, 0, this.width, this.height);
    if (this.image) ctx.drawImage(this.image, 0, 0);
    if (!this._overlay) this._overlay = this._buildOverlay();
    // putImageData ignores alpha compositing; go through a scratch canvas.
    if (!this._scratch || this._scratch.width !== this.width || this._scratch.height !== this.height) {
      this._scratch = new OffscreenCanvas(this.width, this.height);
    }
    this._scratch.getContext("2d").putImageData(this._overlay, 0, 0);
    ctx.drawImage(this._scratch, 0, 0);
    const s = Math.max(3, Math.round(Math.min(this.width, this.height) / 80));
    for (const p of this.points) {
      ctx.beginPath();
      ctx.arc(p.x + 0.5, p.y + 0.5, s, 0, 2 * Math.PI);
      ctx.fillStyle = p.positive ? "#2ecc40" : "#ff4136";
      ctx.fill();
      ctx.lineWidth = Math.max(1, s / 3);
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    }
    if (this.cursor && this.brush) {
      ctx.beginPath();
      ctx.arc(this.cursor.x, this.cursor.y, this.cursor.r, 0, 2 * Math.PI);
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    }
  }
}
