// An ink image (a loaded picture) -> a 28x28 MNIST-style input, the way MNIST's digits were
// made: fitted into a 20x20 box by area averaging, then placed so that the centre of mass is the
// field's centre. mlplens.core.mnist_like is the NumPy reference; the same steps, the same
// rounding.

const FIELD = 28, BOX = 20;

function roundHalfUp(x) {
  return Math.floor(x + 0.5);
}

// (target, source) row-major weights: output i averages source [i*s, (i+1)*s), s = source/target.
function boxWeights(source, target) {
  const step = source / target, w = new Float64Array(target * source);
  for (let i = 0; i < target; i++) {
    const start = i * step, stop = (i + 1) * step;
    for (let r = Math.floor(start); r < Math.min(source, Math.ceil(stop)); r++) {
      const overlap = Math.min(stop, r + 1) - Math.max(start, r);
      if (overlap > 0) w[i * source + r] = overlap / step;
    }
  }
  return w;
}

// ink: height x width values in [0, 1], row-major -> uint8 28x28 (all zeros without ink).
function mnistLike(ink, height, width) {
  let r0 = height, r1 = -1, c0 = width, c1 = -1;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (ink[r * width + c] > 0) {
        if (r < r0) r0 = r;
        if (r > r1) r1 = r;
        if (c < c0) c0 = c;
        if (c > c1) c1 = c;
      }
    }
  }
  if (r1 < 0) return new Uint8Array(FIELD * FIELD);
  const h = r1 - r0 + 1, w = c1 - c0 + 1, longer = Math.max(h, w);
  const nh = Math.max(1, roundHalfUp(h * BOX / longer));
  const nw = Math.max(1, roundHalfUp(w * BOX / longer));
  const ay = boxWeights(h, nh), ax = boxWeights(w, nw);
  const wide = new Float64Array(h * nw);  // crop @ ax^T
  for (let r = 0; r < h; r++) {
    const base = (r0 + r) * width + c0;
    for (let j = 0; j < nw; j++) {
      let sum = 0;
      for (let c = 0; c < w; c++) sum += ink[base + c] * ax[j * w + c];
      wide[r * nw + j] = sum;
    }
  }
  const small = new Float64Array(nh * nw);  // ay @ wide
  for (let i = 0; i < nh; i++) {
    for (let j = 0; j < nw; j++) {
      let sum = 0;
      for (let r = 0; r < h; r++) sum += ay[i * h + r] * wide[r * nw + j];
      small[i * nw + j] = sum;
    }
  }
  return placeByMass(small, nh, nw);
}

// Ink nh x nw in [0, 1] (at most 28 x 28), row-major -> uint8 28x28: placed at offset
// roundHalfUp(13.5 - centre of mass) on each axis, clamped inside the field (no ink: zeros).
function placeByMass(small, nh, nw) {
  const out = new Uint8Array(FIELD * FIELD);
  let mass = 0, my = 0, mx = 0;
  for (let i = 0; i < nh; i++) {
    let rowSum = 0;
    for (let j = 0; j < nw; j++) rowSum += small[i * nw + j];
    my += i * rowSum;
    mass += rowSum;
  }
  if (!(mass > 0)) return out;
  for (let j = 0; j < nw; j++) {
    let colSum = 0;
    for (let i = 0; i < nh; i++) colSum += small[i * nw + j];
    mx += j * colSum;
  }
  const top = Math.min(Math.max(roundHalfUp(13.5 - my / mass), 0), FIELD - nh);
  const left = Math.min(Math.max(roundHalfUp(13.5 - mx / mass), 0), FIELD - nw);
  for (let i = 0; i < nh; i++) {
    for (let j = 0; j < nw; j++) {
      const v = Math.floor(small[i * nw + j] * 255 + 0.5);
      out[(top + i) * FIELD + left + j] = Math.min(255, Math.max(0, v));
    }
  }
  return out;
}
