// One input's circuit, by the rules of mlplens.core.circuits: what every hidden node and every
// edge adds to the logit of one class, pruned to the fewest nodes and edges that keep a share
// of each layer's total |contribution|; and the top-k trace of one node through every layer.
// Layers are indexed as in net.js (0 = the first Dense layer); source -1 is the input.

// Indices of the fewest values whose |v| sum to at least `keep` of the total, largest first,
// ties by index (NumPy's stable argsort). Largest first is optimal: no smaller set reaches it.
function fewestForShare(values, keep) {
  const n = values.length, magnitude = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) { magnitude[i] = Math.abs(values[i]); total += magnitude[i]; }
  if (total === 0) return [];
  const order = Array.from({length: n}, (_, i) => i)
    .sort((a, b) => magnitude[b] - magnitude[a] || a - b);
  // The same slack as NumPy's, so float summation order cannot add one more entry.
  const goal = keep * total * (1 - 1e-12);
  let running = 0, count = 0;
  while (count < n) {
    running += magnitude[order[count++]];
    if (running >= goal) break;
  }
  return order.slice(0, count);
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

// The pruned circuit for the logit of `target`, from forward's result and contributions' back:
// per hidden layer the kept nodes (largest |contribution| first) and their contributions; per
// layer the kept edges into it among kept ends ({source, target, value}) and the shares kept.
function pruneCircuit(layers, x, result, back, target, keep) {
  const L = layers.length, nodes = [], nodeValues = [], nodeShares = [];
  for (let k = 0; k < L - 1; k++) {
    const kept = fewestForShare(back.contrib[k], keep);
    nodes.push(kept);
    nodeValues.push(kept.map((j) => back.contrib[k][j]));
    nodeShares.push(shareKept(kept, back.contrib[k]));
  }
  const ends = [[-1], ...nodes, [target]];
  const edges = [], edgeShares = [];
  for (let k = 0; k < L; k++) {
    const sources = ends[k], targets = ends[k + 1];
    const matrix = new Float64Array(sources.length * targets.length);
    sources.forEach((s, row) => targets.forEach((t, column) => {
      matrix[row * targets.length + column] =
        edgeContribution(layers, x, result, back.preGrads, k, s, t);
    }));
    const kept = fewestForShare(matrix, keep);
    edges.push(kept.map((at) => ({source: sources[Math.floor(at / targets.length)],
                                  target: targets[at % targets.length], value: matrix[at]})));
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
