// One colour per object, the same in the overlay, the object list and the legend.
// Bright, mutually distinct hues (Tableau 10 order) so a mask reads on any frame;
// exported palette PNGs keep DAVIS's palette, which is the server's business.

const COLOURS = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [188, 189, 34], [23, 190, 207], [127, 127, 127],
];

/** [r, g, b] of object number `k` (1-based, as in label maps). */
export function colour(k) {
  return COLOURS[(Math.max(1, k) - 1) % COLOURS.length];
}

/** CSS colour string of object `k`, with optional alpha. */
export function css(k, alpha = 1) {
  const [r, g, b] = colour(k);
  return alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}
