import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('activations', 'net');
const forward = js('forward'), contributions = js('contributions');

// The hand-made net of tests/conftest.py: 4 inputs -> 2 relu -> 3 softmax, Keras layout.
const TINY = [
  {units: 2, inputs: 4, activation: 'relu',
   kernel: Float32Array.of(1, 0, 2, -1, 0, 1, -1, 3), bias: Float32Array.of(1, -2)},
  {units: 3, inputs: 2, activation: 'softmax',
   kernel: Float32Array.of(1, 0, 2, 0, 1, -1), bias: Float32Array.of(0, 1, -1)},
];

test('the forward pass of the tiny net, by hand', () => {
  // x W1 = [1 + 1 - 2, -0.5 + 6] = [0, 5.5]; z1 = [1, 3.5]; a1 W2 = [1, 3.5, 2 - 3.5];
  // z2 = [1, 4.5, -2.5]; softmax = exp(z2 - 4.5) / sum = [e^-3.5, 1, e^-7] / sum
  const {pres, posts} = forward(TINY, Float64Array.of(1, 0.5, 0, 2));
  assertNumbers(pres[0], [1, 3.5]);
  assertNumbers(posts[0], [1, 3.5]);
  assertNumbers(pres[1], [1, 4.5, -2.5]);
  const sum = Math.exp(-3.5) + 1 + Math.exp(-7);
  assertNumbers(posts[1], [Math.exp(-3.5) / sum, 1 / sum, Math.exp(-7) / sum]);
  const decimals = [0.0292863078976980506, 0.969829322233691087, 0.000884369868610862496];
  posts[1].forEach((p, j) => assert.ok(Math.abs(p - decimals[j]) < 1e-15, `${p} vs ${decimals[j]}`));
  assert.equal(js('predictedClass')(TINY, {pres, posts}), 1);
});

test('a ReLU that is off passes nothing on', () => {
  // x = 0: z1 = b1 = [1, -2], a1 = [1, 0]; z2 = [1, 0, 2] + [0, 1, -1] = [1, 1, 1]
  const {pres, posts} = forward(TINY, new Float64Array(4));
  assertNumbers(posts[0], [1, 0]);
  assertNumbers(pres[1], [1, 1, 1]);
  assertNumbers(posts[1], [1 / 3, 1 / 3, 1 / 3]);
});

test('last hidden layer: contribution = activation x weight into the logit', () => {
  const result = forward(TINY, Float64Array.of(1, 0.5, 0, 2));  // a1 = [1, 3.5]
  const toOne = contributions(TINY, result, 1);
  assertNumbers(toOne.contrib[0], [0, 3.5]);  // a1 * W2[:, 1] = [1 * 0, 3.5 * 1]
  assertNumbers(toOne.grads[0], [0, 1]);
  assert.equal(toOne.contrib[1], null);  // none for the output layer
  assertNumbers(contributions(TINY, result, 2).contrib[0], [2, -3.5]);  // a1 * [2, -1]
});

test('contributions reach deeper layers through the ReLUs that are on', () => {
  const layers = [
    {units: 2, inputs: 2, activation: 'relu', kernel: Float32Array.of(1, -1, 1, 1), bias: Float32Array.of(0, 0)},
    {units: 2, inputs: 2, activation: 'relu', kernel: Float32Array.of(1, 0, -1, 1), bias: Float32Array.of(0, -2)},
    {units: 2, inputs: 2, activation: 'linear', kernel: Float32Array.of(1, 2, 3, -1), bias: Float32Array.of(0, 0)},
  ];
  // x = [1, 2]: zA = [3, 1]; zB = [3 - 1, 1 - 2] = [2, -1], aB = [2, 0]; z = [2, 4]: class 1
  const result = forward(layers, Float64Array.of(1, 2));
  assertNumbers(result.posts[1], [2, 0]);
  assertNumbers(result.pres[2], [2, 4]);
  assert.equal(js('predictedClass')(layers, result), 1);
  const {contrib, grads} = contributions(layers, result, 1);
  assertNumbers(grads[1], [2, -1]);  // the output kernel's column 1
  assertNumbers(contrib[1], [4, 0]);
  // through B's ReLUs (only the first is on): gA = WB [2, 0] = [2, -2]; aA * gA = [6, -2]
  assertNumbers(grads[0], [2, -2]);
  assertNumbers(contrib[0], [6, -2]);
});

test('a net without hidden layers has no contributions', () => {
  const result = forward(TINY.slice(1), Float64Array.of(1, 2));
  assert.deepEqual(Array.from(contributions(TINY.slice(1), result, 0).contrib), [null]);
});

test('argmax takes the first of equal largest values', () => {
  assert.equal(js('argmax')([1, 3, 3, -1]), 1);
  assert.equal(js('argmax')([7]), 0);
});

test('pixels become the input as Keras sees it: v / 255 in float32', () => {
  assertNumbers(js('inputsFromBrightness')(js('brightnessOf')(Uint8Array.of(0, 255, 128))),
                [0, 1, 0.501960813999176]);
});

// Expected values: mlplens.core.pixel_scale.PixelScale(...).to_inputs in NumPy's float32.
test('inputs follow the model\'s pixel scale, each step in float32 as NumPy computes it', () => {
  const fromBrightness = js('inputsFromBrightness');
  const fromPixels = (pixels, scale) => fromBrightness(js('brightnessOf')(pixels), scale);
  const pixels = Uint8Array.of(0, 1, 128, 255);
  assertNumbers(fromPixels(pixels, {high: 1, mean: null, std: null}),
                [0, 0.003921568859368563, 0.501960813999176, 1]);
  assertNumbers(fromPixels(pixels, {high: 16, mean: null, std: null}),
                [0, 0.062745101749897, 8.031373023986816, 16]);
  assertNumbers(fromPixels(pixels, {high: 1, mean: 0.1307, std: 0.3081}),
                [-0.4242129623889923, -0.4114847183227539, 1.2050011157989502,
                 2.821486711502075]);
  assertNumbers(fromBrightness(Float32Array.of(0.0625, 0.3), {high: 16, mean: null, std: null}),
                [1, 4.800000190734863]);
  assertNumbers(js('brightnessOf')(Uint8Array.of(0, 51, 255)), [0, 0.20000000298023224, 1]);
});

test('each head: the class picked, the output explained and the probabilities shown', () => {
  const one = (activation) => [{units: 1, inputs: 2, activation, kernel: Float32Array.of(1, -1),
                                bias: Float32Array.of(0)}];
  const three = (activation) => [{units: 3, inputs: 1, activation, kernel: Float32Array.of(1, -2, 0.5),
                                  bias: Float32Array.of(0, 0, 0)}];
  const picked = js('predictedClass'), explained = js('explainedOutput');
  const shown = js('outputProbabilities');
  // binary, a logit: z = 0.5 - 2 = -1.5 -> class 0; p(class 1) = sigmoid(-1.5)
  let net = one('linear'), result = forward(net, Float64Array.of(0.5, 2));
  assert.equal(picked(net, result, 'binary'), 0);
  assert.equal(explained(net, result, 'binary'), 0);
  assertNumbers(shown(net, result, 'binary'), [1 / (1 + Math.exp(1.5))]);
  result = forward(net, Float64Array.of(2, 0.5));  // z = 1.5 -> class 1
  assert.equal(picked(net, result, 'binary'), 1);
  // binary, a sigmoid: its own output
  net = one('sigmoid');
  result = forward(net, Float64Array.of(2, 0.5));
  assertNumbers(shown(net, result, 'binary'), [1 / (1 + Math.exp(-1.5))]);
  assert.equal(picked(net, result, 'binary'), 1);
  // regression: no probabilities; its one output explained
  net = one('linear');
  assert.equal(shown(net, result, 'regression'), null);
  assert.equal(explained(net, result, 'regression'), 0);
  // multilabel of logits: each label's own sigmoid, not summing to 1; the most confident picked
  net = three('linear');
  result = forward(net, Float64Array.of(2));  // z = [2, -4, 1]
  assertNumbers(shown(net, result, 'multilabel'),
                [1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(4)), 1 / (1 + Math.exp(-1))]);
  assert.equal(picked(net, result, 'multilabel'), 0);
  // classes of logits: none shown; log-softmax: its exponent
  assert.equal(shown(net, result, 'classes'), null);
  net = three('log_softmax');
  result = forward(net, Float64Array.of(2));
  const p = shown(net, result, 'classes');
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-15);
  assert.equal(picked(net, result, 'classes'), 0);
});
