// One input's circuit, by the rules of mlplens.core.circuits.circuit: what every hidden node and every
// edge adds to the logit of one class, pruned to the fewest nodes and edges that keep a share
// of each layer's total |contribution|; and the top-k trace of one node through every layer.
// Layers are indexed as in net.js (0 = the first Dense layer); source -1 is the input.
//
// This runs on every frame while the user draws, and a wide net (784-2048-1024-10) has over
// 100,000 candidate edges between its kept nodes: sorting them with a comparator, and fresh
// arrays for them every frame, took most of a frame. So the sort is a radix sort on typed
// arrays kept from frame to frame, and only over the largest entries that can reach the share.

// Which 32-bit half of a float64 holds its sign, exponent and top 20 mantissa bits (the
// platform's byte order). For |v| >= 0 that word, as an integer, orders as |v| does.
const HIGH_WORD = new Uint32Array(Float64Array.of(1).buffer)[1] === 0x3ff00000 ? 1 : 0;
const DIGIT = 1 << 16;  // the radix sort's two digits: the high word's upper and lower 16 bits
let shareScratch = {size: 0};
let matrixScratch = new Float64Array(0);

// fewestForShare's arrays for n entries, grown (never shrunk) as the circuit needs.
function shareScratchFor(n) {
  if (shareScratch.size < n) {
    const size = Math.max(n, 2 * shareScratch.size), magnitude = new Float64Array(size);
    shareScratch = {size: size, magnitude: magnitude, words: new Uint32Array(magnitude.buffer),
                    order: new Uint32Array(size), sorted: new Uint32Array(size),
                    sums: new Float64Array(DIGIT / 2), upper: new Uint32Array(DIGIT / 2),
                    lower: new Uint32Array(DIGIT)};
  }
  return shareScratch;
}

// Indices of the fewest values whose |v| sum to at least `keep` of the total, largest first,
// ties by index (NumPy's stable argsort). Largest first is optimal: no smaller set reaches it.
// The total, the goal and the running sum are summed in the same order as with a comparator
// sort of every index (the tests' fewestByComparator), so the same entries are kept.
function fewestForShare(values, keep) {
  const n = values.length, scratch = shareScratchFor(n);
  const magnitude = scratch.magnitude, words = scratch.words, sums = scratch.sums;
  sums.fill(0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(values[i]);
    magnitude[i] = v;
    total += v;
    sums[words[2 * i + HIGH_WORD] >>> 16] += v;
  }
  if (total === 0) return new Uint32Array(0);
  // The same slack as NumPy's, so float summation order cannot add one more entry.
  const goal = keep * total * (1 - 1e-12);
  const candidates = sortDescending(scratch, n, lowestBucket(sums, goal, n));
  return scratch.sorted.slice(0, entriesToGoal(magnitude, scratch.sorted, candidates, goal));
}

// The highest bucket (the top 16 bits of |v|) whose entries and those above surely reach the
// goal, or 0 (every entry). Surely: the buckets' sums are added in another order than the
// running sum, and a sum of m non-negative terms in any order is within m * 2^-53 of the
// exact one (relative), so the margin of 8 (n + buckets) * 2^-53 outweighs both sums' rounding.
function lowestBucket(sums, goal, n) {
  const enough = goal * (1 + 8 * (n + sums.length) * 2 ** -53);
  let above = 0;
  for (let bucket = sums.length - 1; bucket > 0; bucket--) {
    above += sums[bucket];
    if (above >= enough) return bucket;
  }
  return 0;
}

// The entries in buckets `lowest` and above into scratch.sorted, largest |v| first and ties by
// index; returns how many. Two stable counting passes on the high word (its lower 16 bits,
// then its upper) leave out of order only entries that share all 32 of those bits, which an
// insertion pass then puts in order by their whole value.
function sortDescending(scratch, n, lowest) {
  const {magnitude, words, order, sorted, upper, lower} = scratch;
  upper.fill(0);
  lower.fill(0);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const word = words[2 * i + HIGH_WORD];
    if (word >>> 16 < lowest) continue;
    order[count++] = i;
    upper[word >>> 16]++;
    lower[word & 0xffff]++;
  }
  startsLargestFirst(lower);
  for (let j = 0; j < count; j++) {
    const i = order[j];
    sorted[lower[words[2 * i + HIGH_WORD] & 0xffff]++] = i;
  }
  startsLargestFirst(upper);
  for (let j = 0; j < count; j++) {
    const i = sorted[j];
    order[upper[words[2 * i + HIGH_WORD] >>> 16]++] = i;
  }
  for (let j = 0; j < count; j++) {
    const i = order[j], v = magnitude[i];
    let at = j;
    while (at > 0 && (magnitude[sorted[at - 1]] < v ||
                      (magnitude[sorted[at - 1]] === v && sorted[at - 1] > i))) {
      sorted[at] = sorted[at - 1];
      at--;
    }
    sorted[at] = i;
  }
  return count;
}

// Counts per digit into where each digit's entries start, the largest digit first.
function startsLargestFirst(counts) {
  let at = 0;
  for (let digit = counts.length - 1; digit >= 0; digit--) {
    const count = counts[digit];
    counts[digit] = at;
    at += count;
  }
}

// How many of the first `count` sorted entries it takes for their running sum (in order, as
// NumPy's cumsum) to reach the goal; all of them if they fall short (keep 1 with rounding).
function entriesToGoal(magnitude, sorted, count, goal) {
  let running = 0;
  for (let j = 0; j < count; j++) {
    running += magnitude[sorted[j]];
    if (running >= goal) return j + 1;
  }
  return count;
}

// The part of z_t of layer k that edge source -> t carries: a_source * W_k[source, t]; from
// the input (source -1), every pixel's summed: x . W_0[:, t].
function edgeSignal(layers, x, result, k, source, t) {
  const layer = layers[k], n = layer.units, kernel = layer.kernel;
  if (source >= 0) return result.posts[k - 1][source] * kernel[source * n + t];
  let sum = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) sum += x[i] * kernel[i * n + t];
  return sum;
}

// What edge source -> t into layer k adds to the logit: its signal x dz_c/dz_kt.
function edgeContribution(layers, x, result, preGrads, k, source, t) {
  return edgeSignal(layers, x, result, k, source, t) * preGrads[k][t];
}

function shareKept(kept, values) {
  let total = 0, held = 0;
  for (let i = 0; i < values.length; i++) total += Math.abs(values[i]);
  for (const i of kept) held += Math.abs(values[i]);
  return total ? held / total : 1;
}

// x . W_0[:, t] for every target t into signals: edgeSignal's sums for the input, in its
// order (pixel by pixel, the inked ones), a row of the kernel at a time.
function inputSignals(layer, x, targets, signals) {
  const n = layer.units, kernel = layer.kernel;
  signals.fill(0);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v === 0) continue;
    const row = i * n;
    for (let c = 0; c < targets.length; c++) signals[c] += v * kernel[row + targets[c]];
  }
}

// What every candidate edge into layer k adds to the logit, as edgeContribution computes it,
// into matrix (sources by targets, row-major).
function edgeMatrix(layers, x, result, preGrads, k, sources, targets, matrix) {
  const layer = layers[k], n = layer.units, kernel = layer.kernel, grad = preGrads[k];
  const width = targets.length;
  if (k === 0) {  // the input is one source
    inputSignals(layer, x, targets, matrix);
    for (let c = 0; c < width; c++) matrix[c] *= grad[targets[c]];
    return;
  }
  const post = result.posts[k - 1];
  for (let row = 0; row < sources.length; row++) {
    const signal = post[sources[row]], base = sources[row] * n, at = row * width;
    for (let c = 0; c < width; c++) {
      const t = targets[c];
      matrix[at + c] = signal * kernel[base + t] * grad[t];
    }
  }
}

// A matrix of `size` entries in the scratch kept from frame to frame, for edgeMatrix to fill.
function scratchMatrix(size) {
  if (matrixScratch.length < size) {
    matrixScratch = new Float64Array(Math.max(size, 2 * matrixScratch.length));
  }
  return matrixScratch.subarray(0, size);
}

// The kept entries of an edge matrix as parallel arrays of sources, targets and values, in
// kept order: an object per edge would be ~70,000 objects a frame on the wide net.
function keptEdges(kept, sources, targets, matrix) {
  const count = kept.length, width = targets.length;
  const edges = {sources: new Int32Array(count), targets: new Int32Array(count),
                 values: new Float64Array(count)};
  for (let e = 0; e < count; e++) {
    const at = kept[e], row = Math.floor(at / width);
    edges.sources[e] = sources[row];
    edges.targets[e] = targets[at - row * width];
    edges.values[e] = matrix[at];
  }
  return edges;
}

// The pruned circuit for the logit of `target`, from forward's result and contributions' back:
// per hidden layer the kept nodes (largest |contribution| first) and their contributions; per
// layer the kept edges into it among kept ends (keptEdges' arrays) and the shares kept.
function pruneCircuit(layers, x, result, back, target, keep) {
  const L = layers.length, nodes = [], nodeValues = [], nodeShares = [];
  for (let k = 0; k < L - 1; k++) {
    const kept = fewestForShare(back.contrib[k], keep);
    nodes.push(Array.from(kept));
    nodeValues.push(Array.from(kept, (j) => back.contrib[k][j]));
    nodeShares.push(shareKept(kept, back.contrib[k]));
  }
  const ends = [[-1], ...nodes, [target]];
  const edges = [], edgeShares = [];
  for (let k = 0; k < L; k++) {
    const sources = ends[k], targets = ends[k + 1];
    const matrix = scratchMatrix(sources.length * targets.length);
    edgeMatrix(layers, x, result, back.preGrads, k, sources, targets, matrix);
    const kept = fewestForShare(matrix, keep);
    edges.push(keptEdges(kept, sources, targets, matrix));
    edgeShares.push(shareKept(kept, matrix));
  }
  return {target: target, keep: keep, nodes: nodes, nodeValues: nodeValues, edges: edges,
          nodeShares: nodeShares, edgeShares: edgeShares};
}

// The `count` indices of the largest positive scores, largest first (ties by index).
function topScores(scores, count) {
  return Array.from(scores.keys()).filter((i) => scores[i] > 0)
    .sort((a, b) => scores[b] - scores[a] || a - b).slice(0, count);
}

// From node `node` of layer `start`: per layer, the `count` nodes whose edges carry the most
// signal (summed |a_i W_ij| over the nodes traced next to them) into the traced nodes above
// (down to the input) and out of the traced nodes below (up to the output). nodes[k]: the
// traced nodes of layer k; edges[k]: the edges into layer k between traced nodes, with signal.
function traceNode(layers, x, result, start, node, count) {
  const L = layers.length;
  const nodes = new Array(L).fill(null).map(() => []), edges = new Array(L).fill(null).map(() => []);
  nodes[start] = [node];
  const link = (k, sources, targets) => {
    for (const s of sources) for (const t of targets) {
      const signal = edgeSignal(layers, x, result, k, s, t);
      if (signal !== 0) edges[k].push({source: s, target: t, value: signal});
    }
  };
  for (let k = start; k > 0; k--) {  // inputs: layer k - 1 into the traced nodes of layer k
    const scores = new Float64Array(layers[k].inputs);
    for (let i = 0; i < scores.length; i++) {
      for (const t of nodes[k]) scores[i] += Math.abs(edgeSignal(layers, x, result, k, i, t));
    }
    nodes[k - 1] = topScores(scores, count);
    link(k, nodes[k - 1], nodes[k]);
  }
  link(0, [-1], nodes[0]);
  for (let k = start + 1; k < L; k++) {  // outputs: the traced nodes of layer k - 1 into layer k
    const scores = new Float64Array(layers[k].units);
    for (let t = 0; t < scores.length; t++) {
      for (const s of nodes[k - 1]) scores[t] += Math.abs(edgeSignal(layers, x, result, k, s, t));
    }
    nodes[k] = topScores(scores, count);
    link(k, nodes[k - 1], nodes[k]);
  }
  return {layer: start, node: node, nodes: nodes, edges: edges};
}
