// mlplens explorer: draw a digit, watch every node. Plain JavaScript, no network, no build step.
// The data block (weights, pictures, statistics, digits) is written by mlplens.report.pagedata.
(function () {
  'use strict';

  const DATA = JSON.parse(document.getElementById('mlplens-data').textContent);
  const $ = (id) => document.getElementById(id);

  // ---- decoding -------------------------------------------------------------------------
  function bytes(b64) {
    const text = atob(b64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  function floats(b64) {
    const raw = bytes(b64);
    return new Float32Array(raw.buffer, 0, raw.length / 4);
  }
  function pictureBlock(block) {  // {shape: [n, h, w], pixels} -> decoded once
    if (!block) return null;
    if (!block.decoded) {
      block.decoded = {n: block.shape[0], h: block.shape[1], w: block.shape[2],
                       pixels: bytes(block.pixels), legend: block.legend};
    }
    return block.decoded;
  }

  const [H, W] = DATA.image_shape;
  const NPIX = H * W;
  const layers = DATA.layers.map((layer, k) => {
    const stats = DATA.stats.layers[k];
    const extra = {};
    for (const name of Object.keys(stats.extra)) extra[name] = floats(stats.extra[name]);
    return {
      name: layer.name, units: layer.units, inputs: layer.inputs, activation: layer.activation,
      kernel: floats(layer.kernel), bias: floats(layer.bias),
      stats: {active: floats(stats.active), mean: floats(stats.mean),
              classMean: floats(stats.class_mean), classes: stats.classes,
              scale: stats.scale, extra: extra},
    };
  });
  const L = layers.length;
  const OUT = layers[L - 1];
  const digits = {pixels: bytes(DATA.digits.pixels), labels: bytes(DATA.digits.labels),
                  count: DATA.digits.count};
  const colormaps = {};
  for (const name of Object.keys(DATA.colormaps)) colormaps[name] = bytes(DATA.colormaps[name]);

  // ---- the forward pass (Keras Dense: z = a W + b, W stored (n_in, n_out) row-major) ---------
  function activate(z, activation) {
    const n = z.length;
    const a = new Float64Array(n);
    if (activation === 'relu') for (let j = 0; j < n; j++) a[j] = z[j] > 0 ? z[j] : 0;
    else if (activation === 'linear') a.set(z);
    else if (activation === 'sigmoid') for (let j = 0; j < n; j++) a[j] = 1 / (1 + Math.exp(-z[j]));
    else if (activation === 'tanh') for (let j = 0; j < n; j++) a[j] = Math.tanh(z[j]);
    else if (activation === 'softmax') {
      let max = -Infinity;
      for (let j = 0; j < n; j++) if (z[j] > max) max = z[j];
      let sum = 0;
      for (let j = 0; j < n; j++) { a[j] = Math.exp(z[j] - max); sum += a[j]; }
      for (let j = 0; j < n; j++) a[j] /= sum;
    } else throw new Error('unknown activation ' + activation);
    return a;
  }

  function forward(x) {
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
      a = activate(z, layer.activation);
      posts.push(a);
    }
    return {pres: pres, posts: posts};
  }

  // d/dz of (g . activation(z)), as mlplens.report.stats._backward
  function backward(g, z, post, activation) {
    const n = g.length, h = new Float64Array(n);
    if (activation === 'relu') for (let j = 0; j < n; j++) h[j] = z[j] > 0 ? g[j] : 0;
    else if (activation === 'linear') h.set(g);
    else if (activation === 'sigmoid') for (let j = 0; j < n; j++) h[j] = g[j] * post[j] * (1 - post[j]);
    else if (activation === 'tanh') for (let j = 0; j < n; j++) h[j] = g[j] * (1 - post[j] * post[j]);
    else if (activation === 'softmax') {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += g[j] * post[j];
      for (let j = 0; j < n; j++) h[j] = post[j] * (g[j] - dot);
    }
    return h;
  }

  // Contribution of hidden node j of layer k to the logit z_c of class c: a_kj * dz_c/da_kj.
  function contributions(result, c) {
    const contrib = new Array(L).fill(null), grads = new Array(L).fill(null);
    if (L < 2) return {contrib: contrib, grads: grads};
    let g = new Float64Array(OUT.inputs);
    for (let i = 0; i < OUT.inputs; i++) g[i] = OUT.kernel[i * OUT.units + c];
    for (let k = L - 2; k >= 0; k--) {
      const layer = layers[k], n = layer.units, post = result.posts[k];
      const ck = new Float64Array(n);
      for (let j = 0; j < n; j++) ck[j] = post[j] * g[j];
      contrib[k] = ck;
      grads[k] = g;
      if (k > 0) {
        const h = backward(g, result.pres[k], post, layer.activation);
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
    return {contrib: contrib, grads: grads};
  }

  function argmax(values) {
    let best = 0;
    for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
    return best;
  }

  // ---- drawing -> 28x28, the MNIST way (mlplens.report.prep.mnist_like is the reference) ----
  const FIELD = 28, BOX = 20;
  const roundHalfUp = (x) => Math.floor(x + 0.5);

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

  function mnistLike(ink, height, width) {
    const out = new Uint8Array(FIELD * FIELD);
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
    if (r1 < 0) return out;
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
    let mass = 0, my = 0, mx = 0;
    for (let i = 0; i < nh; i++) {
      let rowSum = 0;
      for (let j = 0; j < nw; j++) rowSum += small[i * nw + j];
      my += i * rowSum;
      mass += rowSum;
    }
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

  // ---- state ------------------------------------------------------------------------------
  const state = {
    history: [{base: null, strokes: []}],  // undo stack; the last entry is what is shown
    stroke: null,  // the stroke being drawn
    pixels: new Uint8Array(NPIX), x: new Float64Array(NPIX), result: null,
    predicted: 0, contrib: null, grads: null,
    selected: {layer: L - 1, node: 0}, cursor: {layer: -1, node: 0},
    follow: true,  // until a node is picked, the panel shows the predicted class's node
    cellMode: 'activation', cmap: 'gray', position: 0, galleryMethod: null,
    timings: [], lastUpdate: 0, lastCompute: 0,
  };
  const current = () => state.history[state.history.length - 1];

  // ---- running the net on an input ----------------------------------------------------------
  function setInputPixels(pixels, note) {
    state.pixels = Uint8Array.from(pixels);
    for (let i = 0; i < NPIX; i++) state.x[i] = Math.fround(state.pixels[i] / 255);
    state.note = note;
    run();
  }

  function run() {
    const started = performance.now();
    const result = forward(state.x);
    const logits = result.pres[L - 1];
    state.predicted = argmax(OUT.activation === 'softmax' ? result.posts[L - 1] : logits);
    const back = contributions(result, state.predicted);
    state.result = result;
    state.contrib = back.contrib;
    state.grads = back.grads;
    state.lastCompute = performance.now() - started;
    render();
  }

  // ---- the drawing pad ------------------------------------------------------------------------
  const pad = $('pad');
  const padContext = pad.getContext('2d', {willReadFrequently: true});
  const STROKE_WIDTH = 19;
  let pending = false;

  function digitPixels(index) {
    return digits.pixels.subarray(index * NPIX, (index + 1) * NPIX);
  }

  function paintDigit(index) {
    const image = new ImageData(W, H);
    const source = digitPixels(index);
    for (let i = 0; i < NPIX; i++) {
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = 255;
      image.data[4 * i + 3] = source[i];
    }
    const small = document.createElement('canvas');
    small.width = W;
    small.height = H;
    small.getContext('2d').putImageData(image, 0, 0);
    padContext.imageSmoothingEnabled = false;
    padContext.drawImage(small, 0, 0, pad.width, pad.height);
  }

  function paintStroke(points) {
    padContext.strokeStyle = '#fff';
    padContext.fillStyle = '#fff';
    padContext.lineWidth = STROKE_WIDTH;
    padContext.lineCap = 'round';
    padContext.lineJoin = 'round';
    if (points.length === 1) {
      padContext.beginPath();
      padContext.arc(points[0][0], points[0][1], STROKE_WIDTH / 2, 0, 2 * Math.PI);
      padContext.fill();
      return;
    }
    padContext.beginPath();
    padContext.moveTo(points[0][0], points[0][1]);
    for (let i = 1; i < points.length; i++) padContext.lineTo(points[i][0], points[i][1]);
    padContext.stroke();
  }

  function repaint() {
    const shown = current();
    padContext.clearRect(0, 0, pad.width, pad.height);
    if (shown.base !== null) paintDigit(shown.base);
    for (const stroke of shown.strokes) paintStroke(stroke);
    if (state.stroke) paintStroke(state.stroke);
  }

  function padInk() {  // the canvas's alpha channel in [0, 1]: the ink
    const data = padContext.getImageData(0, 0, pad.width, pad.height).data;
    const ink = new Float64Array(pad.width * pad.height);
    for (let i = 0; i < ink.length; i++) ink[i] = data[4 * i + 3] / 255;
    return ink;
  }

  // What the network gets from the pad: a test digit as it is, or the ink made MNIST-like.
  function updateFromPad() {
    const started = performance.now();
    const shown = current();
    if (shown.base !== null && shown.strokes.length === 0 && !state.stroke) {
      setInputPixels(digitPixels(shown.base),
                     'test digit #' + shown.base + ', labelled ' + digits.labels[shown.base]);
    } else {
      const pixels = mnistLike(padInk(), pad.height, pad.width);
      setInputPixels(pixels, shown.base !== null ? 'test digit #' + shown.base +
                     ' with your strokes, refitted' : 'your drawing, fitted into 20x20 and ' +
                     'centred by mass in 28x28, as MNIST was made');
    }
    state.lastUpdate = performance.now() - started;
    state.timings.push({update: state.lastUpdate, compute: state.lastCompute});
    if (state.timings.length > 500) state.timings.shift();
  }

  function refresh() {
    repaint();
    updateFromPad();
  }
  function schedule() {  // pointer moves come faster than frames: one update per frame
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      refresh();
    });
  }

  function padPoint(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * pad.width / box.width,
            (event.clientY - box.top) * pad.height / box.height];
  }

  pad.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    state.stroke = [padPoint(event)];
    schedule();
  });
  pad.addEventListener('pointermove', (event) => {
    if (!state.stroke) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of (events.length ? events : [event])) state.stroke.push(padPoint(e));
    schedule();
  });
  function endStroke() {
    if (!state.stroke) return;
    const shown = current();
    state.history.push({base: shown.base, strokes: shown.strokes.concat([state.stroke])});
    state.stroke = null;
    refresh();
  }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);

  function clearPad() {
    const shown = current();
    if (shown.base !== null || shown.strokes.length) state.history.push({base: null, strokes: []});
    refresh();
  }
  function undo() {
    if (state.history.length > 1) state.history.pop();
    refresh();
  }
  function loadTestDigit(index) {
    state.history.push({base: index, strokes: []});
    refresh();
  }
  function randomDigit() {
    let index = Math.floor(Math.random() * digits.count);
    if (digits.count > 1 && index === current().base) index = (index + 1) % digits.count;
    loadTestDigit(index);
  }
  $('clear').addEventListener('click', clearPad);
  $('undo').addEventListener('click', undo);
  $('random').addEventListener('click', randomDigit);

  // ---- colours ------------------------------------------------------------------------------
  const DARK = [22, 27, 38], WARM = [255, 178, 62], HOT = [255, 240, 200], COOL = [90, 167, 255];
  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }
  function cellColour(t) {  // t in [-1, 1]
    let rgb;
    if (t >= 0) rgb = t < 0.75 ? mix(DARK, WARM, t / 0.75) : mix(WARM, HOT, (t - 0.75) / 0.25);
    else rgb = mix(DARK, COOL, Math.min(1, -t));
    return 'rgb(' + Math.round(rgb[0]) + ',' + Math.round(rgb[1]) + ',' + Math.round(rgb[2]) + ')';
  }
  function fmt(value, digitsAfter) {
    if (!isFinite(value)) return String(value);
    return value.toFixed(digitsAfter === undefined ? 3 : digitsAfter);
  }
  function signed(value) { return (value >= 0 ? '+' : '−') + fmt(Math.abs(value)); }

  // ---- prediction bars ----------------------------------------------------------------------
  const bars = [];
  for (let c = 0; c < OUT.units; c++) {
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.setAttribute('role', 'button');
    bar.tabIndex = 0;
    const value = document.createElement('div');
    value.className = 'value';
    const fill = document.createElement('div');
    fill.className = 'fill';
    const digit = document.createElement('div');
    digit.className = 'digit';
    digit.textContent = String(c);
    bar.append(value, fill, digit);
    bar.addEventListener('click', () => select(L - 1, c));
    bar.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); select(L - 1, c); }
    });
    $('bars').append(bar);
    bars.push({bar: bar, value: value, fill: fill});
  }
  function renderBars() {
    const probs = state.result.posts[L - 1];
    const showsProbability = OUT.activation === 'softmax';
    let max = 0;
    for (let c = 0; c < probs.length; c++) max = Math.max(max, Math.abs(probs[c]));
    for (let c = 0; c < bars.length; c++) {
      const p = probs[c];
      const share = showsProbability ? p : (max > 0 ? Math.abs(p) / max : 0);
      bars[c].fill.style.height = (Math.max(0, share) * 84).toFixed(1) + 'px';
      bars[c].value.textContent = showsProbability ? (100 * p).toFixed(1) + '%' : fmt(p, 2);
      bars[c].bar.classList.toggle('top', c === state.predicted);
      bars[c].bar.setAttribute('aria-label', 'class ' + c + ': ' + bars[c].value.textContent);
    }
  }

  // ---- activation strips ----------------------------------------------------------------------
  const strips = layers.map((layer, k) => {
    const wrap = document.createElement('div');
    wrap.className = 'strip';
    const head = document.createElement('div');
    head.className = 'strip-head';
    const title = document.createElement('span');
    const bold = document.createElement('b');
    bold.textContent = (k === L - 1 ? 'Output' : 'Layer ' + (k + 1)) + ' · ' + layer.name;
    title.append(bold, document.createTextNode(
      ' · ' + layer.units + ' nodes, ' + layer.activation));
    const info = document.createElement('span');
    head.append(title, info);
    const canvas = document.createElement('canvas');
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'group');
    canvas.setAttribute('aria-label', (k === L - 1 ? 'Output layer' : 'Layer ' + (k + 1)) +
      ', ' + layer.units + ' nodes: arrow keys move between nodes, Enter opens one');
    wrap.append(head, canvas);
    $('strips').append(wrap);
    const strip = {k: k, canvas: canvas, info: info, cell: 10, gap: 1, cols: 1};
    canvas.addEventListener('mousemove', (event) => hoverCell(strip, event));
    canvas.addEventListener('mouseleave', hideTooltip);
    canvas.addEventListener('click', (event) => {
      const node = cellAt(strip, event);
      if (node !== null) select(k, node);
    });
    canvas.addEventListener('keydown', (event) => stripKey(strip, event));
    canvas.addEventListener('focus', () => {
      if (!canvas.matches(':focus-visible')) return;  // a click, not the keyboard
      if (state.cursor.layer !== k) {
        state.cursor = {layer: k, node: state.selected.layer === k ? state.selected.node : 0};
      }
      renderStrip(strip);
      showCursorTip(strip);
    });
    canvas.addEventListener('blur', () => {
      if (state.cursor.layer === k) state.cursor = {layer: -1, node: 0};
      hideTooltip();
      renderStrip(strip);
    });
    return strip;
  });

  function layoutStrips() {
    const width = Math.max(200, $('strips').clientWidth);
    for (const strip of strips) {
      const units = layers[strip.k].units;
      strip.cell = units <= 16 ? 26 : units <= 64 ? 16 : units <= 300 ? 12 : 10;
      strip.gap = units <= 16 ? 4 : 1;
      strip.cols = Math.max(1, Math.min(units, Math.floor((width + strip.gap) /
                                                          (strip.cell + strip.gap))));
      const rows = Math.ceil(units / strip.cols);
      const ratio = window.devicePixelRatio || 1;
      const cssW = strip.cols * (strip.cell + strip.gap) - strip.gap;
      const cssH = rows * (strip.cell + strip.gap) - strip.gap;
      strip.canvas.width = Math.round(cssW * ratio);
      strip.canvas.height = Math.round(cssH * ratio);
      strip.canvas.style.width = cssW + 'px';
      strip.canvas.style.height = cssH + 'px';
      strip.ratio = ratio;
    }
  }

  function cellBox(strip, node) {
    const col = node % strip.cols, row = Math.floor(node / strip.cols);
    return {x: col * (strip.cell + strip.gap), y: row * (strip.cell + strip.gap)};
  }
  function cellAt(strip, event) {
    const box = strip.canvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    const col = Math.floor(x / (strip.cell + strip.gap)), row = Math.floor(y / (strip.cell + strip.gap));
    if (col < 0 || col >= strip.cols || row < 0) return null;
    const node = row * strip.cols + col;
    return node < layers[strip.k].units ? node : null;
  }

  function cellValues(k) {
    const mode = state.cellMode;
    if (mode === 'contribution' && state.contrib[k]) {
      const values = state.contrib[k];
      let max = 0;
      for (let j = 0; j < values.length; j++) max = Math.max(max, Math.abs(values[j]));
      return {values: values, scale: max || 1, label: 'contribution'};
    }
    const scale = k === L - 1 && OUT.activation === 'softmax' ? 1 : layers[k].stats.scale;
    return {values: state.result.posts[k], scale: scale || 1,
            label: k === L - 1 && OUT.activation === 'softmax' ? 'probability' : 'activation'};
  }

  function renderStrip(strip) {
    const k = strip.k, context = strip.canvas.getContext('2d');
    const {values, scale, label} = cellValues(k);
    context.setTransform(strip.ratio, 0, 0, strip.ratio, 0, 0);
    context.clearRect(0, 0, strip.canvas.width, strip.canvas.height);
    let active = 0;
    for (let j = 0; j < values.length; j++) {
      const {x, y} = cellBox(strip, j);
      context.fillStyle = cellColour(Math.max(-1, Math.min(1, values[j] / scale)));
      context.fillRect(x, y, strip.cell, strip.cell);
      if (values[j] > 0) active++;
    }
    if (k === L - 1 && strip.cell >= 20) {
      context.font = '600 12px system-ui, sans-serif';
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      for (let j = 0; j < values.length; j++) {
        const {x, y} = cellBox(strip, j);
        context.fillStyle = values[j] / scale > 0.55 ? '#111' : '#c9d1e0';
        context.fillText(String(j), x + strip.cell / 2, y + strip.cell / 2 + 1);
      }
    }
    const outline = (node, colour, dash) => {
      const {x, y} = cellBox(strip, node);
      context.save();
      context.strokeStyle = colour;
      context.lineWidth = 2;
      if (dash) context.setLineDash([2, 2]);
      context.strokeRect(x + 1, y + 1, strip.cell - 2, strip.cell - 2);
      context.restore();
    };
    if (state.selected.layer === k) outline(state.selected.node, '#ffffff', false);
    if (state.cursor.layer === k) outline(state.cursor.node, '#5aa7ff', true);
    strip.info.textContent = label === 'contribution'
      ? 'colour: contribution to "' + state.predicted + '", ±' + fmt(scale)
      : (k === L - 1 ? '' : active + ' of ' + values.length + ' active now · ') +
        'colour: ' + label + ' 0 to ' + fmt(scale, 2);
  }

  const tooltip = $('tooltip');
  function cellText(k, node) {
    const parts = [(k === L - 1 ? 'class ' : 'node ') + node];
    const post = state.result.posts[k][node];
    if (k === L - 1 && OUT.activation === 'softmax') {
      parts.push('probability ' + fmt(post, 4), 'logit ' + fmt(state.result.pres[k][node]));
    } else {
      parts.push('activation ' + fmt(post));
      if (state.contrib[k]) parts.push('contribution ' + signed(state.contrib[k][node]));
    }
    return parts.join(' · ');
  }
  function placeTooltip(text, clientX, clientY) {
    tooltip.textContent = text;
    tooltip.hidden = false;
    const width = tooltip.offsetWidth;
    const left = Math.min(window.innerWidth - width - 8, clientX + 14);
    tooltip.style.left = Math.max(4, left) + 'px';
    tooltip.style.top = (clientY + 16) + 'px';
  }
  function hideTooltip() { tooltip.hidden = true; }
  function hoverCell(strip, event) {
    const node = cellAt(strip, event);
    if (node === null) { hideTooltip(); return; }
    tooltip.dataset.layer = strip.k;
    tooltip.dataset.node = node;
    placeTooltip(cellText(strip.k, node), event.clientX, event.clientY);
  }
  function showCursorTip(strip) {
    const box = strip.canvas.getBoundingClientRect();
    const {x, y} = cellBox(strip, state.cursor.node);
    tooltip.dataset.layer = strip.k;
    tooltip.dataset.node = state.cursor.node;
    placeTooltip(cellText(strip.k, state.cursor.node), box.left + x + strip.cell / 2,
                 box.top + y + strip.cell / 2);
    $('announce').textContent = tooltip.textContent;
  }
  function stripKey(strip, event) {
    const units = layers[strip.k].units;
    let node = state.cursor.layer === strip.k ? state.cursor.node
      : state.selected.layer === strip.k ? state.selected.node : 0;
    const moves = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: strip.cols, ArrowUp: -strip.cols};
    if (event.key in moves) node = Math.min(units - 1, Math.max(0, node + moves[event.key]));
    else if (event.key === 'Home') node = 0;
    else if (event.key === 'End') node = units - 1;
    else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(strip.k, node);
      return;
    } else return;
    event.preventDefault();
    state.cursor = {layer: strip.k, node: node};
    renderStrip(strip);
    showCursorTip(strip);
  }

  // ---- pictures -----------------------------------------------------------------------------
  const frames = DATA.frames ? DATA.frames.frames : [];
  const positions = frames.length + 1;  // frames, then the trained model
  state.position = positions - 1;

  // The pictures of method `name` for layer k at the slider's position (the trained model's
  // when the method has no frames), and a note saying which.
  function pictures(method, k) {
    if (state.position < frames.length && frames[state.position].methods[method.name]) {
      return {block: pictureBlock(frames[state.position].methods[method.name][k]),
              when: 'step ' + frames[state.position].step};
    }
    return {block: pictureBlock(method.layers[k]),
            when: frames.length && state.position < frames.length ? 'trained' : ''};
  }

  function paintPicture(canvas, block, node, lut) {
    canvas.width = block.w;
    canvas.height = block.h;
    const image = new ImageData(block.w, block.h);
    const size = block.w * block.h, offset = node * size;
    for (let i = 0; i < size; i++) {
      const v = block.pixels[offset + i];
      image.data[4 * i] = lut[3 * v];
      image.data[4 * i + 1] = lut[3 * v + 1];
      image.data[4 * i + 2] = lut[3 * v + 2];
      image.data[4 * i + 3] = 255;
    }
    canvas.getContext('2d').putImageData(image, 0, 0);
  }

  function renderPictures() {
    const {layer: k, node} = state.selected;
    const box = $('node-pictures');
    box.replaceChildren();
    const lut = colormaps[state.cmap];
    for (const method of DATA.methods) {
      const {block, when} = pictures(method, k);
      if (!block) continue;
      const figure = document.createElement('div');
      figure.className = 'picture';
      figure.dataset.method = method.name;
      const canvas = document.createElement('canvas');
      paintPicture(canvas, block, node, lut);
      canvas.title = method.description;
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = method.name + (when ? ' · ' + when : '');
      const legend = document.createElement('div');
      legend.className = 'legend';
      legend.textContent = method.normalization + ': ' + block.legend[0] + ' → ' +
        block.legend[2] + (block.legend[1] ? ', middle = ' + block.legend[1] : '');
      figure.append(canvas, name, legend);
      box.append(figure);
    }
  }

  // ---- the node panel -----------------------------------------------------------------------
  function row(body, label, value, tone) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = label;
    const td = document.createElement('td');
    td.textContent = value;
    if (tone) td.className = tone;
    tr.append(th, td);
    body.append(tr);
  }

  function renderNode() {
    const {layer: k, node} = state.selected;
    const layer = layers[k], stats = layer.stats, isOut = k === L - 1;
    $('node-title').textContent = (isOut ? 'Output node ' + node + ' (class ' + node + ')'
                                         : 'Layer ' + (k + 1) + ', node ' + node);
    $('node-sub').textContent = 'layer “' + layer.name + '” · ' + layer.units + ' nodes · ' +
      layer.activation;
    const body = $('node-stats').tBodies[0];
    body.replaceChildren();
    const post = state.result.posts[k][node], pre = state.result.pres[k][node];
    if (isOut && OUT.activation === 'softmax') {
      row(body, 'probability now', fmt(post, 4));
      row(body, 'logit now', fmt(pre));
      row(body, 'mean probability', fmt(stats.mean[node]));
    } else {
      row(body, 'activation now', fmt(post), post > 0 ? 'pos' : '');
      if (!isOut) {
        const c = state.contrib[k][node], g = state.grads[k][node];
        row(body, 'contribution to “' + state.predicted + '” now',
            signed(c) + '  (' + fmt(post) + ' × ' + fmt(g) + ')', c > 0 ? 'pos' : c < 0 ? 'neg' : '');
        let rank = 1;
        const all = state.contrib[k];
        for (let j = 0; j < all.length; j++) if (all[j] > c) rank++;
        row(body, 'rank in its layer', rank + ' of ' + all.length + (c === 0 ? ' (no effect)' : ''));
      }
      row(body, 'active (z > 0) on', (100 * stats.active[node]).toFixed(1) + '% of images');
      row(body, 'mean activation', fmt(stats.mean[node]));
    }
    const classes = stats.classes, means = stats.classMean.subarray(node * classes, (node + 1) * classes);
    const top = argmax(means);
    row(body, 'strongest for class', top + ' (mean ' + fmt(means[top]) + ')');
    for (const name of Object.keys(stats.extra)) row(body, name, fmt(stats.extra[name][node]));
    const chart = $('class-chart');
    chart.replaceChildren();
    let max = 0;
    for (let c = 0; c < classes; c++) max = Math.max(max, Math.abs(means[c]));
    for (let c = 0; c < classes; c++) {
      const bar = document.createElement('div');
      bar.style.height = (max > 0 ? 100 * Math.abs(means[c]) / max : 0).toFixed(1) + '%';
      if (c === top) bar.className = 'top';
      const label = document.createElement('span');
      label.textContent = String(c);
      bar.append(label);
      chart.append(bar);
    }
    $('class-caption').textContent = 'Mean ' + (isOut && OUT.activation === 'softmax'
      ? 'probability' : 'activation') + ' per true class, on ' + DATA.stats.source + '.' +
      (isOut ? '' : ' Contribution = activation × ∂(logit of the predicted class)/∂activation ' +
       '(for the last hidden layer: activation × its weight into that logit).');
  }

  function select(k, node, follow) {
    state.follow = Boolean(follow);
    state.selected = {layer: k, node: node};
    for (const strip of strips) renderStrip(strip);
    renderNode();
    renderPictures();
    renderGallery();
  }

  // ---- the gallery: every node of the selected layer --------------------------------------------
  const gallery = $('gallery');
  const galleryMethod = $('gallery-method');
  for (const method of DATA.methods) {
    const option = document.createElement('option');
    option.value = method.name;
    option.textContent = method.name;
    galleryMethod.append(option);
  }
  state.galleryMethod = DATA.methods.length ? DATA.methods[0].name : null;
  galleryMethod.addEventListener('change', () => {
    state.galleryMethod = galleryMethod.value;
    renderGallery();
  });
  const galleryLayout = {scale: 1, cols: 1, gap: 2, w: W, h: H};

  function renderGallery() {
    const method = DATA.methods.find((m) => m.name === state.galleryMethod);
    const k = state.selected.layer;
    const {block, when} = method ? pictures(method, k) : {block: null, when: ''};
    $('gallery-title').textContent = 'Every node of ' +
      (k === L - 1 ? 'the output layer' : 'layer ' + (k + 1)) + ' · ' + layers[k].name +
      (method ? ' · ' + method.name : '') + (when ? ' · ' + when : '');
    if (!block) {
      gallery.width = gallery.height = 0;
      return;
    }
    const scale = block.n <= 16 ? 4 : block.n <= 64 ? 2 : 1;
    const gap = 4;
    const width = Math.max(200, $('gallery-panel').clientWidth - 30);
    const cols = Math.max(1, Math.min(block.n, Math.floor((width + gap) / (block.w * scale + gap))));
    const rows = Math.ceil(block.n / cols);
    Object.assign(galleryLayout, {scale: scale, cols: cols, gap: gap, w: block.w, h: block.h});
    const tileW = block.w * scale, tileH = block.h * scale;
    const cssW = cols * (tileW + gap) - gap, cssH = rows * (tileH + gap) - gap;
    const ratio = window.devicePixelRatio || 1;
    // Every picture side by side at one pixel per value, then scaled up without smoothing.
    const sheet = document.createElement('canvas');
    sheet.width = block.w * block.n;
    sheet.height = block.h;
    const image = new ImageData(sheet.width, sheet.height);
    const lut = colormaps[state.cmap], size = block.w * block.h;
    for (let node = 0; node < block.n; node++) {
      for (let y = 0; y < block.h; y++) {
        for (let x = 0; x < block.w; x++) {
          const v = block.pixels[node * size + y * block.w + x];
          const at = 4 * (y * sheet.width + node * block.w + x);
          image.data[at] = lut[3 * v];
          image.data[at + 1] = lut[3 * v + 1];
          image.data[at + 2] = lut[3 * v + 2];
          image.data[at + 3] = 255;
        }
      }
    }
    sheet.getContext('2d').putImageData(image, 0, 0);
    gallery.width = Math.round(cssW * ratio);
    gallery.height = Math.round(cssH * ratio);
    gallery.style.width = cssW + 'px';
    gallery.style.height = cssH + 'px';
    const context = gallery.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.imageSmoothingEnabled = false;
    for (let node = 0; node < block.n; node++) {
      const x = (node % cols) * (tileW + gap), y = Math.floor(node / cols) * (tileH + gap);
      context.drawImage(sheet, node * block.w, 0, block.w, block.h, x, y, tileW, tileH);
    }
    const node = state.selected.node;
    const x = (node % cols) * (tileW + gap), y = Math.floor(node / cols) * (tileH + gap);
    context.strokeStyle = '#ffb23e';
    context.lineWidth = 2;
    context.strokeRect(x - 1, y - 1, tileW + 2, tileH + 2);
  }
  gallery.addEventListener('click', (event) => {
    const box = gallery.getBoundingClientRect();
    const {scale, cols, gap, w, h} = galleryLayout;
    const col = Math.floor((event.clientX - box.left) / (w * scale + gap));
    const rowIndex = Math.floor((event.clientY - box.top) / (h * scale + gap));
    const node = rowIndex * cols + col;
    if (col >= 0 && col < cols && node >= 0 && node < layers[state.selected.layer].units) {
      select(state.selected.layer, node);
    }
  });

  // ---- training frames ------------------------------------------------------------------------
  const slider = $('step');
  let playing = null;
  function positionLabel() {
    const info = DATA.frames;
    const accuracy = DATA.model.test_accuracy;
    if (state.position < frames.length) {
      const frame = frames[state.position];
      return 'step ' + frame.step + ' · test accuracy ' + fmt(frame.test_accuracy, 4);
    }
    return 'trained model' + (info && info.final_step !== null ? ' (step ' + info.final_step + ')' : '') +
      (accuracy !== null ? ' · test accuracy ' + fmt(accuracy, 4) : '');
  }
  function setPosition(position) {
    state.position = Math.max(0, Math.min(positions - 1, position));
    slider.value = String(state.position);
    $('step-label').textContent = positionLabel();
    slider.setAttribute('aria-valuetext', $('step-label').textContent);
    renderPictures();
    renderGallery();
  }
  if (frames.length) {
    $('training').hidden = false;
    slider.max = String(positions - 1);
    const methods = Object.keys(frames[0].methods).join(', ');
    $('training-note').textContent = 'The pictures (' + methods + ') at ' + frames.length +
      ' of the run\'s ' + DATA.frames.snapshot_count + ' training snapshots, then the trained ' +
      'model. The prediction above always uses the trained weights.';
    slider.addEventListener('input', () => setPosition(Number(slider.value)));
    $('play').addEventListener('click', () => {
      if (playing) { clearInterval(playing); playing = null; $('play').textContent = 'Play'; return; }
      if (state.position >= positions - 1) setPosition(0);
      $('play').textContent = 'Pause';
      playing = setInterval(() => {
        if (state.position >= positions - 1) {
          clearInterval(playing);
          playing = null;
          $('play').textContent = 'Play';
          return;
        }
        setPosition(state.position + 1);
      }, 600);
    });
  }

  // ---- controls, keys and rendering -------------------------------------------------------------
  const cmapSelect = $('cmap');
  for (const name of Object.keys(colormaps)) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    cmapSelect.append(option);
  }
  cmapSelect.addEventListener('change', () => {
    state.cmap = cmapSelect.value;
    renderPictures();
    renderGallery();
  });
  $('cell-mode').addEventListener('change', () => {
    state.cellMode = $('cell-mode').value;
    render();
  });
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    if (target instanceof HTMLSelectElement || target instanceof HTMLInputElement) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key === 'c') clearPad();
    else if (key === 'u') undo();
    else if (key === 'r') randomDigit();
    else if (key === 'escape') hideTooltip();
  });

  function renderInputView() {
    const canvas = $('input-view');
    const image = new ImageData(W, H);
    for (let i = 0; i < NPIX; i++) {
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = state.pixels[i];
      image.data[4 * i + 3] = 255;
    }
    canvas.width = W;
    canvas.height = H;
    canvas.getContext('2d').putImageData(image, 0, 0);
    $('input-note').textContent = 'What the network sees (' + H + '×' + W + '): ' + state.note + '.';
  }

  function render() {
    if (state.follow && state.selected.node !== state.predicted) {
      select(L - 1, state.predicted, true);
    }
    renderInputView();
    renderBars();
    for (const strip of strips) renderStrip(strip);
    renderNode();
    if (!tooltip.hidden && tooltip.dataset.layer !== undefined) {
      tooltip.textContent = cellText(Number(tooltip.dataset.layer), Number(tooltip.dataset.node));
    }
    const last = state.timings.length ? state.timings[state.timings.length - 1] : null;
    $('about').textContent = 'Forward pass with contributions ' + fmt(state.lastCompute, 2) +
      ' ms' + (last ? ', whole update ' + fmt(last.update, 2) + ' ms' : '') +
      ', in this browser. Node statistics from ' + DATA.stats.source + '; test digits are ' +
      DATA.digits.source + '.';
  }

  const model = DATA.model;
  $('model-line').textContent = [model.name, model.describe,
    model.test_accuracy !== null ? 'test accuracy ' + fmt(model.test_accuracy, 4) : '']
    .filter(Boolean).join(' · ');

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { layoutStrips(); render(); renderGallery(); }, 100);
  });

  layoutStrips();
  loadTestDigit(0);
  state.history = [current()];  // the first digit is where undo stops
  select(L - 1, state.predicted, true);
  if (frames.length) setPosition(positions - 1);

  // For tests and the curious: the page's own functions.
  window.mlplens = {
    state: state, layers: layers, forward: forward, mnistLike: mnistLike,
    loadTestDigit: loadTestDigit, setInputPixels: setInputPixels, select: select,
    setPosition: setPosition, padInk: padInk, clear: clearPad, undo: undo,
    probabilities: () => Array.from(state.result.posts[L - 1]),
    activations: () => state.result.posts.map((a) => Array.from(a)),
    contributions: () => state.contrib.map((c) => (c ? Array.from(c) : null)),
    input: () => Array.from(state.pixels),
    cellCentre: (k, node) => {
      const strip = strips[k], box = strip.canvas.getBoundingClientRect();
      const {x, y} = cellBox(strip, node);
      return {x: box.left + x + strip.cell / 2, y: box.top + y + strip.cell / 2};
    },
    layout: () => strips.map((strip) => strip.cols),
    ready: true,
  };
})();
