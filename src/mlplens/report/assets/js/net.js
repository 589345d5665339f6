// The network's forward pass and the contributions of its hidden nodes, in float64 from the
// float32 weights. Keras Dense: z = a W + b, with W stored (inputs, units) row-major; then each
// layer's LayerNorm and activation (activations.js).

// The brightness of uint8 pixels: v / 255 rounded to float32, as NumPy computes it.
function brightnessOf(pixels) {
  const b = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) b[i] = pixels[i] / 255;
  return b;
}

// What the network gets from float32 brightness on its pixel scale (mlplens.core.pixel_scale:
// brightness * high, or (brightness - mean) / std), each step rounded to float32 as NumPy's
// float32 arithmetic is. scale: {high, mean, std}; omitted, the article's 0-1.
function inputsFromBrightness(brightness, scale) {
  const x = new Float64Array(brightness.length);
  const standardised = scale && scale.mean !== null && scale.mean !== undefined;
  const high = scale ? Math.fround(scale.high) : 1;
  const mean = standardised ? Math.fround(scale.mean) : 0;
  const std = standardised ? Math.fround(scale.std) : 1;
  for (let i = 0; i < brightness.length; i++) {
    const b = Math.fround(brightness[i]);
    x[i] = standardised ? Math.fround(Math.fround(b - mean) / std)
      : high !== 1 ? Math.fround(b * high) : b;
  }
  return x;
}


// Every layer's pre-activations (pres) and activations (posts) for the input x. fixed
// (optional): per layer index, [node, value] pairs that replace those activations, as
// mlplens.core.circuits.intervene does (see interventions.js); pres keep what the node would have had.
function forward(layers, x, fixed) {
  const pres = [], posts = [];
  let a = x;
  for (const layer of layers) {
    const n = layer.units, kernel = layer.kernel;
    const z = new Float64Array(n);
    for (let j = 0; j < n; j++) z[j] = layer.bias[j];
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v === 0) continue;  // most pixels and many ReLUs are zero
      const row = i * n;
      for (let j = 0; j < n; j++) z[j] += v * kernel[row + j];
    }
    pres.push(z);
    a = layerOutput(layer, z);
    for (const [node, value] of (fixed && fixed[pres.length - 1]) || []) a[node] = value;
    posts.push(a);
  }
  return {pres: pres, posts: posts};
}

// Contribution of hidden node j of layer k to the logit z_c of class c: a_kj * dz_c/da_kj on
// the linearised net (activations.js' linearisedBackward; for ReLU the true derivative).
// contrib[k] and grads[k] (that derivative) for every hidden layer; null for the output layer.
// preGrads[k]: dz_c/dz_k for every layer (the output's one-hot), what edges into layer k need.
// A node held fixed (fixed as forward's) is a constant: nothing below it moves the logit
// through it, so its dz_c/dz is 0.
function contributions(layers, result, c, fixed) {
  const L = layers.length, out = layers[L - 1];
  const contrib = new Array(L).fill(null), grads = new Array(L).fill(null);
  const preGrads = new Array(L).fill(null);
  preGrads[L - 1] = new Float64Array(out.units);
  preGrads[L - 1][c] = 1;
  if (L < 2) return {contrib: contrib, grads: grads, preGrads: preGrads};
  let g = new Float64Array(out.inputs);
  for (let i = 0; i < out.inputs; i++) g[i] = out.kernel[i * out.units + c];
  for (let k = L - 2; k >= 0; k--) {
    const layer = layers[k], n = layer.units, post = result.posts[k];
    const ck = new Float64Array(n);
    for (let j = 0; j < n; j++) ck[j] = post[j] * g[j];
    contrib[k] = ck;
    grads[k] = g;
    const h = linearisedBackward(layer, result.pres[k], g);
    for (const [node] of (fixed && fixed[k]) || []) h[node] = 0;
    preGrads[k] = h;
    if (k > 0) {
      const kernel = layer.kernel, below = new Float64Array(layer.inputs);
      for (let i = 0; i < layer.inputs; i++) {
        let sum = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) sum += kernel[row + j] * h[j];
        below[i] = sum;
      }
      g = below;
    }
  }
  return {contrib: contrib, grads: grads, preGrads: preGrads};
}

function argmax(values) {
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
  return best;
}

// The class the network picks (head: what the output means, mlplens.core.heads): the largest
// probability after a softmax (or output after an output LayerNorm), else the largest logit; class 1 when a binary head's one logit
// is above 0 (its probability above 0.5); for multilabel the most confident label; for
// regression its one output.
function predictedClass(layers, result, head) {
  const last = layers.length - 1;
  if (head === 'binary') return result.pres[last][0] > 0 ? 1 : 0;
  // a LayerNorm on the output reorders its logits (as core.forward.accuracy reads it)
  const after = layers[last].activation === 'softmax' || layers[last].norm;
  return argmax(after ? result.posts[last] : result.pres[last]);
}

// The output node whose logit the contributions and the circuit explain: the predicted
// class's, the one output of a binary or regression head.
function explainedOutput(layers, result, head) {
  return layers[layers.length - 1].units === 1 ? 0 : predictedClass(layers, result, head);
}

// What the output says as probabilities, one per output node, or null where it says none (a
// regression's number, logits of classes without a softmax): a softmax's (log-softmax's)
// probabilities; a binary or multilabel head's independent sigmoid of each logit.
function outputProbabilities(layers, result, head) {
  const last = layers.length - 1, activation = layers[last].activation;
  const posts = result.posts[last], pres = result.pres[last];
  if (activation === 'softmax' || activation === 'sigmoid') return posts;
  if (activation === 'log_softmax') return posts.map(Math.exp);
  if (head === 'binary' || head === 'multilabel') return pres.map((z) => 1 / (1 + Math.exp(-z)));
  return null;
}
