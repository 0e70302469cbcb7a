// COCO run-length encoding, byte-compatible with pycocotools (maskApi.c).
//
// Masks travel between page and server as {size: [h, w], counts: "<string>"}.
// Runs are counted in column-major order (down each column, left to right),
// starting with a run of zeros; the string packs each run (minus the run two
// places back, from the fourth run on) as 5-bit groups with a continuation
// bit, offset by 48 so every byte is printable. The page keeps masks row-major
// (Uint8Array of h*w, canvas order), so both directions transpose on the fly.

/** Run lengths of a row-major 0/1 mask of height h and width w, column-major, zeros first. */
export function maskToCounts(mask, h, w) {
  if (mask.length !== h * w) throw new Error(`mask has ${mask.length} pixels, expected ${h}x${w}`);
  const counts = [];
  let prev = 0, run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x] ? 1 : 0;
      if (v !== prev) { counts.push(run); run = 0; prev = v; }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** Row-major Uint8Array (0/1) from column-major run lengths. */
export function countsToMask(counts, h, w) {
  const mask = new Uint8Array(h * w);
  let pos = 0, v = 0;
  for (const c of counts) {
    if (c < 0 || pos + c > h * w) throw new Error("RLE runs exceed the mask size");
    if (v) for (let k = pos; k < pos + c; k++) mask[(k % h) * w + Math.floor(k / h)] = 1;
    pos += c; v = 1 - v;
  }
  if (pos !== h * w) throw new Error(`RLE covers ${pos} pixels, expected ${h * w}`);
  return mask;
}

/** pycocotools' rleToString. Values stay far below 2^31, so 32-bit shifts are exact. */
export function countsToString(counts) {
  let s = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;                                   // arithmetic shift, as C's long
      more = (c & 0x10) ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** pycocotools' rleFrString; throws on bytes outside the alphabet. */
export function stringToCounts(s) {
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0, k = 0, more = true, c = 0;
    while (more) {
      if (p >= s.length) throw new Error("RLE string ends inside a run");
      c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string has an invalid character at ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);            // multiply, not shift: k may reach 7
      more = (c & 0x20) !== 0;
      p++; k++;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k); // sign-extend the last group
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** {size, counts} of a row-major mask. */
export function encode(mask, h, w) {
  return { size: [h, w], counts: countsToString(maskToCounts(mask, h, w)) };
}

/** Row-major Uint8Array of a COCO RLE object. */
export function decode(rle) {
  const [h, w] = rle.size;
  return countsToMask(stringToCounts(rle.counts), h, w);
}

/** Pixel count of a COCO RLE without decoding it (every odd run is foreground). */
export function area(rle) {
  return stringToCounts(rle.counts).reduce((a, c, i) => a + (i % 2 ? c : 0), 0);
}
