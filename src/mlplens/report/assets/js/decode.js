// The page's data block -> typed arrays. mlplens.report.pagedata writes numbers as base64 of
// their little-endian bytes: uint8 pixels and labels, float32 weights and statistics.

function bytesFromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function floatsFromBase64(text) {
  const raw = bytesFromBase64(text);
  return new Float32Array(raw.buffer, 0, raw.length / 4);
}

// A picture block {shape: [n, h, w] or [n, h, w, 3] (colour), pixels, legend}, decoded on first
// use and kept with it: most blocks (every method, layer and training frame) are never looked at.
function pictureBlock(block) {
  if (!block) return null;
  if (!block.decoded) {
    block.decoded = {n: block.shape[0], h: block.shape[1], w: block.shape[2],
                     c: block.shape[3] || 1, pixels: bytesFromBase64(block.pixels),
                     legend: block.legend};
  }
  return block.decoded;
}

// Every Dense layer with its weights (Keras layout: kernel (inputs, units), row-major), its
// LayerNorm (null for none; after: applied after the activation) and the statistics of its
// nodes.
function decodeLayers(data) {
  return data.layers.map((layer, k) => {
    const stats = data.stats.layers[k];
    const extra = {};
    for (const name of Object.keys(stats.extra)) extra[name] = floatsFromBase64(stats.extra[name]);
    return {
      name: layer.name, units: layer.units, inputs: layer.inputs, activation: layer.activation,
      kernel: floatsFromBase64(layer.kernel), bias: floatsFromBase64(layer.bias),
      norm: layer.norm ? {scale: floatsFromBase64(layer.norm.scale),
                          offset: floatsFromBase64(layer.norm.offset),
                          epsilon: layer.norm.epsilon, after: layer.norm.after} : null,
      // Named as in nodes.json; classMeans is (units, classes), row-major.
      stats: {firingFraction: floatsFromBase64(stats.firing_fraction),
              meanActivation: floatsFromBase64(stats.mean_activation),
              classMeans: floatsFromBase64(stats.class_means), classes: stats.classes,
              colourScale: stats.colour_scale, extra: extra},
    };
  });
}

// The test images: count pictures of the image shape (channels interleaved), one after
// another, and their labels; brightness (float32), when the data's images are floats, is what
// the network is given, pixels what is drawn.
function decodeDigits(data) {
  return {pixels: bytesFromBase64(data.digits.pixels), labels: bytesFromBase64(data.digits.labels),
          count: data.digits.count,
          brightness: data.digits.brightness ? floatsFromBase64(data.digits.brightness) : null};
}

// Each colormap as 256 RGB triples, by name, in the data block's order.
function decodeColormaps(data) {
  const colormaps = {};
  for (const name of Object.keys(data.colormaps)) colormaps[name] = bytesFromBase64(data.colormaps[name]);
  return colormaps;
}
