// Every activation and LayerNorm a layer may apply, in float64, by the formulas of
// mlplens.core.activations and mlplens.core.stack.LayerNorm, so the page computes what NumPy
// does; and their frozen forms (gates, LayerNorm's frozen scale) that contributions and
// circuits take on the linearised net, as mlplens.core.circuits.circuit defines them.
// Activations are the canonical strings of the page's data, e.g. 'relu', 'leaky_relu(0.2)'.

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

// 'leaky_relu(0.2)' -> {name: 'leaky_relu', parameter: 0.2}; 'relu' -> {name, parameter: 0}.
function parseActivation(activation) {
  const open = activation.indexOf('(');
  if (open < 0 || !activation.endsWith(')')) return {name: activation, parameter: 0};
  return {name: activation.slice(0, open), parameter: Number(activation.slice(open + 1, -1))};
}

// The error function, as the C library computes it (fdlibm's s_erf.c, which glibc's is): the
// JavaScript Math has none.
const ERF_WORDS = new Float64Array(1);
const ERF_HALVES = new Uint32Array(ERF_WORDS.buffer);
const ERF_LOW = new Uint32Array(Float64Array.of(1).buffer)[0] === 0 ? 0 : 1;
function polynomial(s, coefficients) {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = coefficients[i] + s * value;
  return value;
}
const ERF_PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01,
  -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05];
const ERF_QQ = [1, 3.97917223959155352819e-01, 6.50222499887672944485e-02,
  5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06];
const ERF_PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01,
  -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01,
  3.54783043256182359371e-02, -2.16637559486879084300e-03];
const ERF_QA = [1, 1.06420880400844228286e-01, 5.40397917702171048937e-01,
  7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02,
  1.19844998467991074170e-02];
const ERF_RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01,
  -1.05586262253232909814e+01, -6.23753324503260060396e+01, -1.62396669462573470355e+02,
  -1.84605092906711035994e+02, -8.12874355063065934246e+01, -9.81432934416914548592e+00];
const ERF_SA = [1, 1.96512716674392571292e+01, 1.37657754143519042600e+02,
  4.34565877475229228821e+02, 6.45387271733267880336e+02, 4.29008140027567833386e+02,
  1.08635005541779435134e+02, 6.57024977031928170135e+00, -6.04244152148580987438e-02];
const ERF_RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01,
  -1.77579549177547519889e+01, -1.60636384855821916062e+02, -6.37566443368389627722e+02,
  -1.02509513161107724954e+03, -4.83519191608651397019e+02];
const ERF_SB = [1, 3.03380607434824582924e+01, 3.25792512996573918826e+02,
  1.53672958608443695994e+03, 3.19985821950859553908e+03, 2.55305040643316442583e+03,
  4.74528541206955367215e+02, -2.24409524465858183362e+01];
const ERX = 8.45062911510467529297e-01, EFX = 1.28379167095512586316e-01;

function erf(x) {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + EFX * x;
    const z = x * x;
    return x + x * (polynomial(z, ERF_PP) / polynomial(z, ERF_QQ));
  }
  if (ax < 1.25) {
    const s = ax - 1, q = polynomial(s, ERF_PA) / polynomial(s, ERF_QA);
    return x >= 0 ? ERX + q : -ERX - q;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const s = 1 / (ax * ax);
  const q = ax < 1 / 0.35 ? polynomial(s, ERF_RA) / polynomial(s, ERF_SA)
    : polynomial(s, ERF_RB) / polynomial(s, ERF_SB);
  ERF_WORDS[0] = ax;
  ERF_HALVES[ERF_LOW] = 0;  // ax with its low 32 bits cleared, as fdlibm's SET_LOW_WORD
  const z = ERF_WORDS[0];
  const r = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + q);
  return x >= 0 ? 1 - r / ax : r / ax - 1;
}

function sigmoidStable(x) {  // 1 / (1 + e^-x) without overflow, as NumPy's _sigmoid
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
function softplus(x) {  // NumPy's logaddexp(0, x)
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
function hardSigmoid(x) {
  return Math.min(Math.max(x + 3, 0), 6) / 6;
}

// One value through an elementwise activation (not softmax or log_softmax).
function activateOne(x, name, p) {
  switch (name) {
    case 'relu': return x > 0 ? x : 0;
    case 'linear': return x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
    case 'relu6': return Math.min(Math.max(x, 0), 6);
    case 'leaky_relu': return x > 0 ? x : x * p;
    case 'elu': return x > 0 ? x : p * Math.expm1(Math.min(x, 0));
    case 'selu': return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(Math.min(x, 0)));
    case 'gelu': return x * (0.5 * (1 + erf(x / Math.SQRT2)));
    case 'gelu_tanh': return 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_CUBIC * x ** 3)));
    case 'silu': return x * sigmoidStable(x);
    case 'mish': return x * Math.tanh(softplus(x));
    case 'softplus': return softplus(x);
    case 'hard_sigmoid': return hardSigmoid(x);
    case 'hard_swish': return x * hardSigmoid(x);
  }
  throw new Error('unknown activation ' + name);
}

// An activation over one layer's values (softmax and log_softmax over all of them).
function activate(z, activation) {
  const n = z.length, a = new Float64Array(n);
  const {name, parameter} = parseActivation(activation);
  if (name === 'softmax' || name === 'log_softmax') {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (z[j] > max) max = z[j];
    let sum = 0;
    for (let j = 0; j < n; j++) { a[j] = Math.exp(z[j] - max); sum += a[j]; }
    if (name === 'softmax') for (let j = 0; j < n; j++) a[j] /= sum;
    else for (let j = 0; j < n; j++) a[j] = (z[j] - max) - Math.log(sum);
    return a;
  }
  for (let j = 0; j < n; j++) a[j] = activateOne(z[j], name, parameter);
  return a;
}

// act'(x), for the slope of a gate at x = 0 (NumPy's core.activations.derivative).
function derivativeOne(x, name, p) {
  switch (name) {
    case 'relu': return x > 0 ? 1 : 0;
    case 'linear': return 1;
    case 'sigmoid': { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }
    case 'tanh': return 1 - Math.tanh(x) ** 2;
    case 'relu6': return x > 0 && x < 6 ? 1 : 0;
    case 'leaky_relu': return x > 0 ? 1 : p;
    case 'elu': return x > 0 ? 1 : p * Math.exp(Math.min(x, 0));
    case 'selu': return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(Math.min(x, 0)));
    case 'gelu': return 0.5 * (1 + erf(x / Math.SQRT2)) +
      x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    case 'gelu_tanh': {
      const t = Math.tanh(GELU_C * (x + GELU_CUBIC * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_CUBIC * x * x);
    }
    case 'silu': { const s = sigmoidStable(x); return s * (1 + x * (1 - s)); }
    case 'mish': {
      const t = Math.tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoidStable(x);
    }
    case 'softplus': return sigmoidStable(x);
    case 'hard_sigmoid': return x > -3 && x < 3 ? 1 / 6 : 0;
    case 'hard_swish': return hardSigmoid(x) + (x > -3 && x < 3 ? x / 6 : 0);
  }
  throw new Error('no elementwise derivative for ' + name);
}

// The activation frozen at z: act(z) = offset + slope * z, offset = act(0) and
// slope = (act(z) - act(0)) / z (the derivative where z = 0). For ReLU the slope is the
// on/off pattern: the linearised net of the circuits.
function gate(z, activation) {
  const {name, parameter} = parseActivation(activation);
  const n = z.length, slope = new Float64Array(n);
  const offset = activateOne(0, name, parameter);
  for (let j = 0; j < n; j++) {
    slope[j] = z[j] === 0 ? derivativeOne(0, name, parameter)
      : (activateOne(z[j], name, parameter) - offset) / z[j];
  }
  return {slope: slope, offset: offset};
}

// sqrt(var(x) + epsilon) over one layer's values (NumPy's population variance).
function normSigma(norm, x) {
  const n = x.length;
  let mean = 0;
  for (let j = 0; j < n; j++) mean += x[j];
  mean /= n;
  let variance = 0;
  for (let j = 0; j < n; j++) variance += (x[j] - mean) ** 2;
  return {mean: mean, sigma: Math.sqrt(variance / n + norm.epsilon)};
}

// LayerNorm: scale * (x - mean(x)) / sqrt(var(x) + epsilon) + offset.
function layerNorm(norm, x) {
  const {mean, sigma} = normSigma(norm, x), y = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) y[j] = (x[j] - mean) / sigma * norm.scale[j] + norm.offset[j];
  return y;
}

// Through LayerNorm with its scale frozen at input x (sigma fixed): d/dx of g . y is
// u - mean(u) with u = g * scale / sigma.
function frozenNormBackward(norm, x, g) {
  const {sigma} = normSigma(norm, x), n = g.length, h = new Float64Array(n);
  let mean = 0;
  for (let j = 0; j < n; j++) { h[j] = g[j] * norm.scale[j] / sigma; mean += h[j]; }
  mean /= n;
  for (let j = 0; j < n; j++) h[j] -= mean;
  return h;
}

// A layer's nodes from its pre-activations z: its LayerNorm and activation in order
// (mlplens.core.forward.layer_output). layer: {activation, norm: null or {scale, offset,
// epsilon, after}}.
function layerOutput(layer, z) {
  const norm = layer.norm;
  if (!norm) return activate(z, layer.activation);
  return norm.after ? layerNorm(norm, activate(z, layer.activation))
    : activate(layerNorm(norm, z), layer.activation);
}

// Through a softmax or log-softmax, which has no gate: its exact vector-Jacobian product
// (NumPy's activations.vjp).
function softmaxBackward(z, g, activation) {
  const p = activate(z, 'softmax'), n = g.length, h = new Float64Array(n);
  let dot = 0;
  for (let j = 0; j < n; j++) dot += activation === 'softmax' ? g[j] * p[j] : g[j];
  for (let j = 0; j < n; j++) {
    h[j] = activation === 'softmax' ? p[j] * (g[j] - dot) : g[j] - p[j] * dot;
  }
  return h;
}

// d/dz of (g . the layer's output) on the linearised net at z (mlplens.core.circuits.linearised): every
// activation frozen to its gate and LayerNorm to its frozen scale; a hidden softmax passes its
// exact Jacobian.
function linearisedBackward(layer, z, g) {
  const norm = layer.norm;
  const through = (values, upstream) => {
    if (layer.activation === 'softmax' || layer.activation === 'log_softmax') {
      return softmaxBackward(values, upstream, layer.activation);
    }
    const {slope} = gate(values, layer.activation), h = new Float64Array(upstream.length);
    for (let j = 0; j < h.length; j++) h[j] = upstream[j] * slope[j];
    return h;
  };
  if (!norm) return through(z, g);
  if (norm.after) return through(z, frozenNormBackward(norm, activate(z, layer.activation), g));
  return frozenNormBackward(norm, z, through(layerNorm(norm, z), g));
}
