import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('activations', 'net');
const activate = js('activate'), gate = js('gate');

// Expected: mlplens.core.activations.activate and gate in NumPy float64 (math.erf for gelu),
// at these inputs.
const X = [-7.0, -3.5, -1.25, -0.5, -1e-09, 0.0, 0.3, 1.0, 2.9, 6.5];
const NUMPY = {
  'linear': {act: [-7.0, -3.5, -1.25, -0.5, -1e-09, 0.0, 0.3, 1.0, 2.9, 6.5],
    slope: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], offset: 0.0},
  'relu': {act: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0, 2.9, 6.5],
    slope: [-0.0, -0.0, -0.0, -0.0, -0.0, 0.0, 1.0, 1.0, 1.0, 1.0], offset: 0.0},
  'relu6': {act: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0, 2.9, 6.0],
    slope: [-0.0, -0.0, -0.0, -0.0, -0.0, 0.0, 1.0, 1.0, 1.0, 0.9230769230769231], offset: 0.0},
  'leaky_relu(0.2)': {act: [-1.4000000000000001, -0.7000000000000001, -0.25, -0.1, -2.0000000000000003e-10, 0.0, 0.3, 1.0, 2.9, 6.5],
    slope: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1.0, 1.0, 1.0, 1.0], offset: 0.0},
  'elu(1.0)': {act: [-0.9990881180344455, -0.9698026165776815, -0.7134952031398099, -0.3934693402873666, -9.999999995e-10, 0.0, 0.3, 1.0, 2.9, 6.5],
    slope: [0.1427268740049208, 0.27708646187933755, 0.5707961625118478, 0.7869386805747332, 0.9999999995, 1.0, 1.0, 1.0, 1.0, 1.0], offset: 0.0},
  'elu(0.5)': {act: [-0.49954405901722276, -0.48490130828884076, -0.3567476015699049, -0.1967346701436833, -4.9999999975e-10, 0.0, 0.3, 1.0, 2.9, 6.5],
    slope: [0.0713634370024604, 0.13854323093966878, 0.2853980812559239, 0.3934693402873666, 0.49999999975, 0.5, 1.0, 1.0, 1.0, 1.0], offset: 0.0},
  'selu': {act: [-1.7564961617648047, -1.705009340957283, -1.2543954463378648, -0.6917581878028713, -1.758099339968327e-09, 0.0, 0.31521029620664415, 1.0507009873554805, 3.047032863330893, 6.829556417810623],
    slope: [0.2509280231092578, 0.48714552598779515, 1.0035163570702919, 1.3835163756057427, 1.758099339968327, 1.7580993408473766, 1.0507009873554805, 1.0507009873554805, 1.0507009873554805, 1.0507009873554805], offset: 0.0},
  'gelu': {act: [-8.958667141456544e-12, -0.0008142017766243903, -0.13206221708356913, -0.15426876936299344, -4.999999996010577e-10, 0.0, 0.18537342665668577, 0.8413447460685429, 2.8945891414288862, 6.49999999973896],
    slope: [1.2798095916366492e-12, 0.0002326290790355401, 0.10564977366685531, 0.3085375387259869, 0.49999999960105773, 0.5, 0.6179114221889526, 0.8413447460685429, 0.998134186699616, 0.99999999995984], offset: 0.0},
  'gelu_tanh': {act: [-2.3314683517128287e-15, -0.0006161976553737403, -0.13228579703028542, -0.15428599017485606, -4.999999996010577e-10, 0.0, 0.18537092354275922, 0.8411919906082768, 2.895033333764528, 6.499999999999372],
    slope: [3.3306690738754696e-16, 0.0001760564729639258, 0.10582863762422834, 0.3085719803497121, 0.49999999960105773, 0.5, 0.6179030784758641, 0.8411919906082768, 0.998287356470527, 0.9999999999999034], offset: 0.0},
  'silu': {act: [-0.006377358360804518, -0.10259280762974711, -0.27837517353163604, -0.18877033439907273, -4.999999997500001e-10, 0.0, 0.1723327550434977, 0.7310585786300049, 2.7487546670725886, 6.490242315331209],
    slope: [0.0009110511944006454, 0.029312230751356316, 0.22270013882530884, 0.37754066879814546, 0.4999999997500001, 0.5, 0.574442516811659, 0.7310585786300049, 0.9478464369215823, 0.998498817743263], offset: 0.0},
  'mish': {act: [-0.006380263409573669, -0.1040957544863712, -0.3084139611415277, -0.22074377465173, -5.9999999968e-10, 0.0, 0.20800137234811503, 0.8650983882673103, 2.8842668281130717, 6.499970703939837],
    slope: [0.000911466201367667, 0.029741644138963203, 0.24673116891322217, 0.44148754930346, 0.59999999968, 0.6, 0.6933379078270501, 0.8650983882673103, 0.9945747683148524, 0.9999954929138212], offset: 0.0},
  'softplus': {act: [0.0009114664537742447, 0.029750418272620566, 0.2519290813453729, 0.4740769841801067, 0.6931471800599454, 0.6931471805599453, 0.8543552444685272, 1.3132616875182228, 2.953562776217963, 6.501502310159754],
    slope: [0.09889081630088158, 0.18954193208209277, 0.35297447937165793, 0.4381403927596772, 0.499999930347883, 0.5, 0.5373602130286064, 0.6201145069582775, 0.7794536536751785, 0.893593096861509], offset: 0.6931471805599453},
  'sigmoid': {act: [0.0009110511944006454, 0.02931223075135632, 0.22270013882530884, 0.3775406687981454, 0.49999999975, 0.5, 0.574442516811659, 0.7310585786300049, 0.9478464369215823, 0.998498817743263],
    slope: [0.07129842125794277, 0.13448221978532676, 0.22183988893975295, 0.2449186624037092, 0.25000002068509275, 0.25, 0.24814172270553012, 0.2310585786300049, 0.15442980583502838, 0.07669212580665584], offset: 0.5},
  'hard_sigmoid': {act: [0.0, 0.0, 0.2916666666666667, 0.4166666666666667, 0.4999999998333333, 0.5, 0.5499999999999999, 0.6666666666666666, 0.9833333333333334, 1.0],
    slope: [0.07142857142857142, 0.14285714285714285, 0.16666666666666666, 0.16666666666666663, 0.1666666804567285, 0.16666666666666666, 0.16666666666666646, 0.16666666666666663, 0.16666666666666669, 0.07692307692307693], offset: 0.5},
  'hard_swish': {act: [-0.0, -0.0, -0.36458333333333337, -0.20833333333333334, -4.999999998333334e-10, 0.0, 0.16499999999999998, 0.6666666666666666, 2.8516666666666666, 6.5],
    slope: [0.0, 0.0, 0.2916666666666667, 0.4166666666666667, 0.4999999998333333, 0.5, 0.5499999999999999, 0.6666666666666666, 0.9833333333333333, 1.0], offset: 0.0},
  'tanh': {act: [-0.9999983369439447, -0.9981778976111987, -0.8482836399575129, -0.46211715726000974, -1e-09, 0.0, 0.2913126124515909, 0.7615941559557649, 0.9939631673505832, 0.9999954793514042],
    slope: [0.1428569052777064, 0.28519368503177106, 0.6786269119660103, 0.9242343145200195, 1.0, 1.0, 0.971042041505303, 0.7615941559557649, 0.34274591977606317, 0.1538454583617545], offset: 0.0},
};
// Math.tanh may differ from the C library's in its last bit; every other function is exact.
const ONE_ULP = new Set(['tanh', 'mish', 'gelu_tanh']);

function assertClose(actual, expected, name, what) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = ONE_ULP.has(name) ? 2 * Number.EPSILON * Math.abs(expected[i]) : 0;
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance,
              `${name} ${what}[${i}] is ${actual[i]}, NumPy's ${expected[i]}`);
  }
}

test('every activation equals NumPy\'s, value and gate (slope, offset)', () => {
  for (const [name, wanted] of Object.entries(NUMPY)) {
    assertClose(activate(Float64Array.from(X), name), wanted.act, name, 'value');
    const {slope, offset} = gate(Float64Array.from(X), name);
    assertClose(slope, wanted.slope, name, 'slope');
    assert.equal(offset, wanted.offset, name + ' offset');
  }
});

test('activations by hand: piecewise ones exactly, parameters read from the name', () => {
  assertNumbers(activate(Float64Array.of(-2, 0, 3, 7), 'relu6'), [0, 0, 3, 6]);
  assertNumbers(activate(Float64Array.of(-2, 3), 'leaky_relu(0.25)'), [-0.5, 3]);
  assertNumbers(activate(Float64Array.of(-4, -1.5, 0, 1.5, 4), 'hard_sigmoid'), [0, 0.25, 0.5, 0.75, 1]);
  assertNumbers(activate(Float64Array.of(-4, -1.5, 1.5, 4), 'hard_swish'), [-0, -0.375, 1.125, 4]);
  assertNumbers(activate(Float64Array.of(0), 'gelu'), [0]);
  assertNumbers(activate(Float64Array.of(0), 'softplus'), [Math.LN2]);
  assertNumbers(js('erf')(0), 0);
  assert.equal(js('erf')(-8), -1);
  // a gate reproduces its activation: offset + slope * z
  for (const name of Object.keys(NUMPY)) {
    const z = Float64Array.of(-2.5, -0.1, 0.7, 3.3), {slope, offset} = gate(z, name);
    const a = activate(z, name);
    z.forEach((v, j) => assert.ok(Math.abs(offset + slope[j] * v - a[j]) <= 4e-16 * (1 + Math.abs(a[j])),
                                  name));
  }
  assert.throws(() => activate(Float64Array.of(0), 'swish'), /unknown activation swish/);
});

test('a hidden softmax passes its exact Jacobian, by hand', () => {
  // p = [0.5, 0.5]; softmax: p * (g - g.p) with g.p = 3: [-0.5, 0.5]; log-softmax:
  // g - p * sum(g) = [2, 4] - 3
  const back = js('linearisedBackward'), g = Float64Array.of(2, 4), z = Float64Array.of(1, 1);
  assertNumbers(back({activation: 'softmax', norm: null}, z, g), [-0.5, 0.5]);
  assertNumbers(back({activation: 'log_softmax', norm: null}, z, g), [-1, 1]);
});

test('softmax and log-softmax over the layer, as NumPy', () => {
  assertNumbers(activate(Float64Array.of(1.5, -0.25, 3), 'softmax'), [0.17682018210744427, 0.030726740326436432, 0.7924530775661193]);
  assertNumbers(activate(Float64Array.of(1.5, -0.25, 3), 'log_softmax'), [-1.7326219831020326, -3.4826219831020326, -0.23262198310203266]);
  assertNumbers(activate(Float64Array.of(5, 5), 'softmax'), [0.5, 0.5]);
});

// x = [1, 2, 3, 6]: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5, epsilon 0.5: sigma = 2.
const NORM = {scale: Float32Array.of(1, 2, 0.5, -1), offset: Float32Array.of(0, 1, 0, 0.25),
              epsilon: 0.5, after: false};

test('LayerNorm by hand, before and after the activation', () => {
  const x = Float64Array.of(1, 2, 3, 6);
  // (x - 3) / 2 = [-1, -0.5, 0, 1.5]; * scale + offset
  assertNumbers(js('layerNorm')(NORM, x), [-1, 0, 0, -1.25]);
  assertNumbers(js('layerOutput')({activation: 'leaky_relu(0.5)', norm: NORM}, x), [-0.5, 0, 0, -0.625]);
  // after: relu = [0, 0, 0, 2]: mean 0.5, variance 0.75, + epsilon 0.25 = 1: sigma = 1
  const after = {activation: 'relu', norm: {...NORM, epsilon: 0.25, after: true}};
  assertNumbers(js('layerOutput')(after, Float64Array.of(-3, -2, -1, 2)), [-0.5, 0, -0.25, -1.25]);
});

test('through LayerNorm with its scale frozen: g * scale / sigma, less its mean', () => {
  // u = [1, 1, 1, 1] * scale / 2 = [0.5, 1, 0.25, -0.5], mean 0.3125
  assertNumbers(js('frozenNormBackward')(NORM, Float64Array.of(1, 2, 3, 6), Float64Array.of(1, 1, 1, 1)),
                [0.1875, 0.6875, -0.0625, -0.8125]);
  // norm first, then leaky 0.5's gates at the normed values [-1, 0, 0, -1.25]: all 0.5
  // (at 0 the derivative, 0.5), so g * slope = [1, 1, 1, 1] and then the frozen norm as above
  const first = {activation: 'leaky_relu(0.5)', norm: NORM};
  assertNumbers(js('linearisedBackward')(first, Float64Array.of(1, 2, 3, 6), Float64Array.of(2, 2, 2, 2)),
                [0.1875, 0.6875, -0.0625, -0.8125]);
  // norm after a ReLU at z = [-3, -2, -1, 2] (b = [0, 0, 0, 2], sigma 1): u = 2 * scale =
  // [2, 4, 1, -2], less its mean 1.25: [0.75, 2.75, -0.25, -3.25]; then the ReLU's on/off
  const after = {activation: 'relu', norm: {...NORM, epsilon: 0.25, after: true}};
  assertNumbers(js('linearisedBackward')(after, Float64Array.of(-3, -2, -1, 2), Float64Array.of(2, 2, 2, 2)),
                [0, 0, 0, -3.25]);
});

// A net of every kind of layer: inputs -> LayerNorm+GELU -> SiLU+LayerNorm (after) -> 3 logits.
function mixedNet() {
  const layer = (inputs, units, activation, norm, seed) => {
    const kernel = new Float32Array(inputs * units), bias = new Float32Array(units);
    for (let i = 0; i < kernel.length; i++) kernel[i] = Math.sin(seed + 1.7 * i);
    for (let j = 0; j < units; j++) bias[j] = 0.3 * Math.cos(seed + j);
    return {units, inputs, activation, kernel, bias, norm};
  };
  const norm = (n, after) => ({scale: Float32Array.from({length: n}, (_, j) => 0.5 + 0.25 * j),
                               offset: Float32Array.from({length: n}, (_, j) => 0.1 * j - 0.2),
                               epsilon: 1e-5, after});
  return [layer(5, 4, 'gelu', norm(4, false), 1), layer(4, 3, 'silu', norm(3, true), 2),
          layer(3, 3, 'linear', null, 3)];
}

test('on the linearised net the logit is the sum of every input, bias and offset term', () => {
  const net = mixedNet(), x = Float64Array.of(0.2, -1, 0.5, 0.9, -0.3);
  const result = js('forward')(net, x), target = 2;
  const back = js('contributions')(net, result, target);
  // pixels: x . (W_0 h_0); biases: b_k . h_k; offsets: LayerNorm offsets and act(0)s through
  // the gates above them
  let total = 0;
  const h0 = back.preGrads[0];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) total += x[i] * net[0].kernel[i * 4 + j] * h0[j];
  for (let k = 0; k < 3; k++) for (let j = 0; j < net[k].units; j++) total += net[k].bias[j] * back.preGrads[k][j];
  // layer 1 (norm first): a = act(0) + slope * (scale/sigma (z - mean) + offset)
  const normed = js('layerNorm')(net[0].norm, result.pres[0]), g1 = js('gate')(normed, 'gelu');
  for (let j = 0; j < 4; j++) total += back.grads[0][j] * (g1.offset + g1.slope[j] * net[0].norm.offset[j]);
  // layer 2 (norm after): a = scale/sigma (b - mean) + offset, b = act(0) + slope z; the
  // centring removes act(0)
  for (let j = 0; j < 3; j++) total += back.grads[1][j] * net[1].norm.offset[j];
  const logit = result.pres[2][target];
  assert.ok(Math.abs(total - logit) < 1e-12 * (1 + Math.abs(logit)), `${total} vs ${logit}`);
});

test('contributions on the linearised net equal NumPy\'s (mlplens.core.circuits.contributions)', () => {
  const net = mixedNet(), x = Float64Array.of(0.2, -1, 0.5, 0.9, -0.3);
  const {contrib} = js('contributions')(net, js('forward')(net, x), 2);
  // contributions(stack, x, target=[2]) for this net in NumPy (its forward pass in float32)
  const numpy = [[0.061529894192899, -0.06485699314246188, 0.035122948266802005, -0.9173037634122309],
                 [-0.07193314855092103, 0.4628803009130499, -1.0943834909935608]];
  numpy.forEach((wanted, k) => wanted.forEach((value, j) =>
    assert.ok(Math.abs(contrib[k][j] - value) < 1e-6, `layer ${k} node ${j}: ${contrib[k][j]} vs ${value}`)));
});
