// The classification view: the image, the top-5 labels, the person picks one.
//
// Picking the model's own first label is no correction: the page simply
// accepts. Any other pick is a label action followed by accept, so one key
// press (1-5) labels an image and moves on.

export class LabelView {
  constructor(canvas, list, other, session, ui) {
    this.canvas = canvas;
    this.list = list;
    this.other = other;
    this.session = session;
    this.ui = ui;
    this.current = null;
    other.addEventListener("change", () => {
      if (other.value !== "") this.ui.run(() => this.pick(Number(other.value)));
    });
  }

  setLabels(names) {
    this.other.length = 1;
    names.forEach((name, i) => this.other.add(new Option(name, String(i))));
  }

  show(index, pred, image) {
    this.current = pred;
    const ctx = this.canvas.getContext("2d");
    this.canvas.width = image.width;
    this.canvas.height = image.height;
    ctx.drawImage(image, 0, 0);
    this.list.replaceChildren();
    (pred?.labels ?? []).slice(0, 5).forEach((l, k) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.className = k === 0 ? "top" : "";
      b.dataset.label = String(l.label);
      b.innerHTML = `<span></span><span class="p"></span>`;
      b.firstChild.textContent = l.name;
      b.lastChild.textContent = l.prob == null ? "" : `${Math.round(100 * l.prob)}%`;
      b.title = `Key ${k + 1}`;
      b.addEventListener("click", () => this.ui.run(() => this.pick(l.label)));
      li.appendChild(b);
      this.list.appendChild(li);
    });
    this.other.value = "";
  }

  /** The k-th shown label (0-based), for the number keys. */
  labelAt(k) { return this.current?.labels?.[k]?.label; }

  async pick(label) {
    const s = this.session;
    s.requireFrontier();
    if (label !== this.current?.labels?.[0]?.label) await s.act({ kind: "label", label });
    await s.accept();
  }
}
