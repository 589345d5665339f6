// The circuit of one input (circuit.js) and the forward pass with interventions (net.js,
// interventions.js), by hand on a net small enough to check every number.
import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const loaded = load('format', 'activations', 'net', 'interventions', 'circuit');
// Arrays and objects made in the scripts' realm, as this realm's, for deepEqual.
const js = (name) => {
  const value = loaded(name);
  return typeof value === 'function' ? (...args) => plain(value(...args)) : value;
};
const plain = (value) => (value instanceof Float64Array || value === undefined ? value
  : JSON.parse(JSON.stringify(value, (key, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v))));
const forward = js('forward'), contributions = js('contributions'), fixedNodes = js('fixedNodes');

// 2 inputs -> 3 relu -> 2 linear, Keras layout (kernel (inputs, units), row-major).
const NET = [
  {units: 3, inputs: 2, activation: 'relu', kernel: Float32Array.of(1, -1, 2, 1, 0, -1),
   bias: Float32Array.of(0, 1, 1)},
  {units: 2, inputs: 3, activation: 'linear', kernel: Float32Array.of(2, 1, 1, 1, -1, 3),
   bias: Float32Array.of(0.5, 0)},
];
const X = Float64Array.of(1, 2);

// x W1 + b1 = [3, -1, 0] + [0, 1, 1] = [3, 0, 1]: node 1 sits at z = 0, which is off.
// z2 = [6 + 0 - 1, 3 + 0 + 3] + [0.5, 0] = [5.5, 6]: class 1.
function attributed(list) {
  const fixed = fixedNodes(list || [], NET.length);
  const result = forward(NET, X, fixed);
  const target = js('predictedClass')(NET, result);
  return {result, target, back: contributions(NET, result, target, fixed)};
}

test('attribution by hand: nodes, derivatives and edges of the tiny net', () => {
  const {result, target, back} = attributed();
  assertNumbers(result.pres[1], [5.5, 6]);
  assert.equal(target, 1);
  assertNumbers(back.grads[0], [1, 1, 3]);  // W2[:, 1]
  assertNumbers(back.contrib[0], [3, 0, 3]);
  assertNumbers(back.preGrads[0], [1, 0, 3]);  // node 1 is off
  assertNumbers(back.preGrads[1], [0, 1]);
  const edge = (k, s, t) => js('edgeContribution')(NET, X, result, back.preGrads, k, s, t);
  // input -> node 0: (x . W1[:, 0]) * 1 = 3; node 2 -> class 1: 1 * 3 * 1
  assert.deepEqual([edge(0, -1, 0), edge(0, -1, 2), edge(1, 2, 1), edge(1, 0, 1)], [3, 0, 3, 3]);
});

test('conservation: pixels and biases add up to the logit, with a node switched off too', () => {
  for (const list of [[], [{layer: 0, node: 0, value: 0, off: true}]]) {
    const {result, target, back} = attributed(list);
    const h = back.preGrads[0];
    let total = 0;
    for (let i = 0; i < 2; i++) {  // x_i * (W1 h)_i
      let through = 0;
      for (let j = 0; j < 3; j++) through += NET[0].kernel[i * 3 + j] * h[j];
      total += X[i] * through;
    }
    for (let j = 0; j < 3; j++) total += NET[0].bias[j] * h[j];
    total += NET[1].bias[target];
    assert.equal(total, result.pres[1][target]);
  }
});

test('the pruned circuit keeps the fewest nodes and edges, largest first', () => {
  const {result, target, back} = attributed();
  const circuit = js('pruneCircuit')(NET, X, result, back, target, 0.9);
  assert.deepEqual(circuit.nodes, [[0, 2]]);  // |c| = [3, 0, 3]: 6 of 6 (ties by index)
  assert.deepEqual(circuit.nodeValues, [[3, 3]]);
  assert.deepEqual(circuit.edges, [{sources: [-1], targets: [0], values: [3]},  // input -> 2: 0
                                   {sources: [0, 2], targets: [1, 1], values: [3, 3]}]);
  assert.deepEqual([circuit.nodeShares, circuit.edgeShares], [[1], [1, 1]]);
  const half = js('pruneCircuit')(NET, X, result, back, target, 0.5);
  assert.deepEqual(half.nodes, [[0]]);
  assert.deepEqual(half.edges[1], {sources: [0], targets: [1], values: [3]});
  assert.deepEqual(half.nodeShares, [0.5]);
});

test('fewestForShare is minimal: no smaller set of entries reaches the share', () => {
  const fewest = js('fewestForShare');
  const values = [1, -4, 2, 3, 0, -0.5];
  for (const keep of [0.1, 0.4, 0.7, 0.9, 0.95, 1]) {
    const kept = fewest(values, keep), total = 10.5;
    const sum = (set) => set.reduce((s, i) => s + Math.abs(values[i]), 0);
    assert.ok(sum(kept) >= keep * total * (1 - 1e-12));
    for (let mask = 0; mask < 64; mask++) {  // every subset of the six entries
      const set = [0, 1, 2, 3, 4, 5].filter((i) => mask & (1 << i));
      if (set.length < kept.length) assert.ok(sum(set) < keep * total * (1 - 1e-12), `${set}`);
    }
  }
  assert.deepEqual(fewest(values, 0.7), [1, 3, 2]);  // 4 + 3 = 7 is short of 7.35
  assert.deepEqual(fewest(values, 1), [1, 3, 2, 0, 5]);  // never the zero
  assert.deepEqual(fewest([0, 0], 0.9), []);
});

test('fewestForShare orders ties by index and values alike in their top 32 bits by value', () => {
  const fewest = js('fewestForShare');
  // |v| = 2 3 3 1 2 3 0 1, total 15, 75%: 11.25 takes the three 3s and both 2s, each by index
  assert.deepEqual(fewest([2, -3, 3, 1, -2, 3, 0, 1], 0.75), [1, 2, 5, 0, 4]);
  // all of 1 + 2^-40 (twice), 1 + 2^-45 and 1 share their top 32 bits; then 0.5
  assert.deepEqual(fewest([1, 1 + 2 ** -40, -(1 + 2 ** -45), 1 + 2 ** -40, 0.5], 1),
                   [1, 3, 2, 0, 4]);
});

// The rule written plainly: every index sorted by a comparator, summed until the goal.
function fewestByComparator(values, keep) {
  const magnitude = values.map(Math.abs), total = magnitude.reduce((s, v) => s + v, 0);
  if (total === 0) return [];
  const order = magnitude.map((_, i) => i).sort((a, b) => magnitude[b] - magnitude[a] || a - b);
  const goal = keep * total * (1 - 1e-12);
  let running = 0, count = 0;
  while (count < order.length) {
    running += magnitude[order[count++]];
    if (running >= goal) break;
  }
  return order.slice(0, count);
}

test('fewestForShare keeps what sorting by a comparator keeps, on ties, spreads and sizes', () => {
  const fewest = js('fewestForShare');
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const kinds = [() => Math.floor(random() * 5) - 2,  // small integers: ties everywhere
                 () => (random() - 0.5) * 2 ** (40 * random() - 20),  // a wide spread
                 () => 1 + Math.floor(random() * 8) * 2 ** -44,  // equal in their top 32 bits
                 () => (random() < 0.7 ? 0 : random() - 0.5)];  // mostly zeros, as ReLUs give
  for (let round = 0; round < 120; round++) {
    const n = 1 + Math.floor(random() * (round % 4 === 0 ? 20000 : 300));
    const values = Array.from({length: n}, kinds[round % kinds.length]);
    for (const keep of [0.3, 0.9, 1]) {
      assert.deepEqual(fewest(values, keep), fewestByComparator(values, keep), `${round} ${keep}`);
    }
  }
});

test('pruneCircuit keeps what the rule written plainly keeps, on a random net', () => {
  let seed = 777;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  const sizes = [30, 40, 25, 5];
  const net = sizes.slice(1).map((units, k) => ({
    units, inputs: sizes[k], activation: k < sizes.length - 2 ? 'relu' : 'linear',
    kernel: Float32Array.from({length: sizes[k] * units}, random),
    bias: Float32Array.from({length: units}, () => random() / 10)}));
  const x = Float64Array.from({length: sizes[0]}, () => Math.max(0, random() * 2));
  const result = forward(net, x), target = js('predictedClass')(net, result);
  const back = contributions(net, result, target);
  const edge = js('edgeContribution');
  for (const keep of [0.5, 0.9, 1]) {  // at 1: 19 and 11 nodes, 209 edges between them
    const circuit = js('pruneCircuit')(net, x, result, back, target, keep);
    const nodes = back.contrib.slice(0, -1).map((c) => fewestByComparator(Array.from(c), keep));
    assert.deepEqual(circuit.nodes, nodes);
    const ends = [[-1], ...nodes, [target]];
    for (let k = 0; k < net.length; k++) {
      const pairs = ends[k].flatMap((s) => ends[k + 1].map((t) => [s, t]));
      const values = pairs.map(([s, t]) => edge(net, x, result, back.preGrads, k, s, t));
      const kept = fewestByComparator(values, keep);
      assert.deepEqual(circuit.edges[k], {sources: kept.map((i) => pairs[i][0]),
                                          targets: kept.map((i) => pairs[i][1]),
                                          values: kept.map((i) => values[i])}, `${keep} ${k}`);
    }
  }
});

test('an ablated node passes 0 on and a clamped one its value; neither passes a gradient down', () => {
  const off = attributed([{layer: 0, node: 0, value: 0, off: true}]);
  assertNumbers(off.result.posts[0], [0, 0, 1]);
  assertNumbers(off.result.pres[0], [3, 0, 1]);  // what node 0 would have had
  assertNumbers(off.result.pres[1], [-0.5, 3]);
  assertNumbers(off.back.contrib[0], [0, 0, 3]);
  assertNumbers(off.back.preGrads[0], [0, 0, 3]);
  const both = attributed([{layer: 0, node: 0, value: 0, off: true},
                           {layer: 0, node: 1, value: 2, off: false}]);
  assertNumbers(both.result.posts[0], [0, 2, 1]);
  assertNumbers(both.result.pres[1], [1.5, 5]);  // [0 + 2 - 1, 0 + 2 + 3] + b2
  assertNumbers(both.back.contrib[0], [0, 2, 3]);
  assertNumbers(both.back.preGrads[0], [0, 0, 3]);
});

test('the interventions list: one per node, the newest last, as forward takes it', () => {
  const add = js('withIntervention');
  let list = add([], 0, 4, 0, true);
  list = add(list, 1, 2, 1.5, false);
  list = add(list, 0, 4, 2, false);  // replaces the first
  assert.deepEqual(list, [{layer: 1, node: 2, value: 1.5, off: false},
                          {layer: 0, node: 4, value: 2, off: false}]);
  assert.deepEqual(fixedNodes(list, 3), [[[4, 2]], [[2, 1.5]], []]);
  assert.deepEqual(js('withoutIntervention')(list, 1, 2), [list[1]]);
  assert.deepEqual(js('interventionOf')(list, 0, 4), list[1]);
  assert.equal(js('interventionOf')(list, 0, 5), null);
  assert.deepEqual(list.map(js('describeIntervention')),
                   ['layer 2, node 2 clamped to 1.500', 'layer 1, node 4 clamped to 2.000']);
  assert.equal(js('describeIntervention')({layer: 0, node: 3, value: 0, off: true}), 'layer 1, node 3 off');
});

test('tracing a node: its top-k inputs down to the input and outputs up to the classes', () => {
  const {result} = attributed();
  const trace = js('traceNode');
  // from hidden node 2: the input carries 0 into it; out of it |1 * [1, 3]|: class 1
  const up = trace(NET, X, result, 0, 2, 1);
  assert.deepEqual(up.nodes, [[2], [1]]);
  assert.deepEqual(up.edges, [[], [{source: 2, target: 1, value: 3}]]);
  // from class 0: |a_i W2[i, 0]| = [6, 0, 1], so nodes 0 and 2 (node 1 carries nothing)
  const down = trace(NET, X, result, 1, 0, 2);
  assert.deepEqual(down.nodes, [[0, 2], [0]]);
  assert.deepEqual(down.edges, [[{source: -1, target: 0, value: 3}],
                                [{source: 0, target: 0, value: 6}, {source: 2, target: 0, value: -1}]]);
});
