// A drawing's strokes -> a 28x28 input drawn with a pen of MNIST's stroke width, so that the
// strokes are as thick as MNIST's whatever size the drawing has on the pad (resizing the pad's
// ink would thin big drawings and fatten small ones). mlplens.core.mnist_like's pen_ink,
// strokes_like and strokes_onto are the NumPy reference: the same steps, the same rounding.

// Strokes (arrays of [x, y]; one point is a dot) drawn with a round pen of diameter pen onto
// rows x cols pixels, pixel (i, j) centred at (j + 0.5, i + 0.5): ink clip(pen/2 + 0.5 - d, 0, 1),
// d the distance to the nearest stroke, so the ink across a straight stroke adds up to pen.
function penInk(strokes, rows, cols, pen) {
  const nearest = new Float64Array(rows * cols).fill(Infinity);
  for (const stroke of strokes) {
    const segments = stroke.length > 1 ? stroke.length - 1 : 1;
    for (let s = 0; s < segments; s++) {
      const [ax, ay] = stroke[s], [bx, by] = stroke.length > 1 ? stroke[s + 1] : stroke[s];
      const dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy;
      for (let i = 0; i < rows; i++) {
        const py = i + 0.5;
        for (let j = 0; j < cols; j++) {
          const px = j + 0.5;
          const t = length2 > 0
            ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / length2)) : 0;
          const ex = ax + t * dx - px, ey = ay + t * dy - py;
          const d = Math.sqrt(ex * ex + ey * ey);
          if (d < nearest[i * cols + j]) nearest[i * cols + j] = d;
        }
      }
    }
  }
  const ink = new Float64Array(rows * cols);
  for (let i = 0; i < ink.length; i++) ink[i] = Math.min(1, Math.max(0, pen / 2 + 0.5 - nearest[i]));
  return ink;
}

// A drawing on its own: scaled so its points' bounding box's longer side is 20 - pen (drawn,
// the ink's is 20, as MNIST's), drawn on the smallest grid that holds it, placed by mass.
function strokesLike(strokes, pen) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const stroke of strokes) {
    for (const [x, y] of stroke) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  if (x1 < x0) return new Uint8Array(FIELD * FIELD);
  const scale = (BOX - pen) / Math.max(x1 - x0, y1 - y0, 1);
  const rows = Math.ceil((y1 - y0) * scale + pen), cols = Math.ceil((x1 - x0) * scale + pen);
  const scaled = strokes.map((stroke) => stroke.map(([x, y]) =>
    [(x - x0) * scale + pen / 2, (y - y0) * scale + pen / 2]));
  return placeByMass(penInk(scaled, rows, cols, pen), rows, cols);
}

// Strokes on a test digit (uint8 28x28): drawn where they are, points times scale (the pad's
// pixels per field pixel), each pixel the more inked of the two.
function strokesOnto(pixels, strokes, scale, pen) {
  const ink = penInk(strokes.map((stroke) => stroke.map(([x, y]) => [x * scale, y * scale])),
                     FIELD, FIELD, pen);
  const out = new Uint8Array(FIELD * FIELD);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(pixels[i], Math.floor(ink[i] * 255 + 0.5));
  return out;
}
