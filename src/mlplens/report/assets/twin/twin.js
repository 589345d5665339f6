// Two nets, one drawing (mlplens explore A B): both nets run the same input; for each hidden
// layer of A, its most active nodes stand above the nodes of B they were matched to
// (mlplens.core.compare), each pair in one column; hovering a node lights up its partner.

const SHOWN = 12;  // nodes of each layer of A shown, the most active first

function startTwin() {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('mlplens-data').textContent);
  const classNames = data.class_names;
  const nets = data.nets.map((net) => ({
    name: net.name, describe: net.describe, scale: net.pixel_scale,
    layers: net.layers.map((layer) => ({units: layer.units, activation: layer.activation,
                                        kernel: floatsFromBase64(layer.kernel),
                                        bias: floatsFromBase64(layer.bias)})),
    pictures: net.pictures.map(pictureBlock),
  }));
  const digits = {pixels: bytesFromBase64(data.digits.pixels),
                  labels: bytesFromBase64(data.digits.labels), count: data.digits.count};
  const gray = grayPalette();
  const NPIX = FIELD * FIELD;
  const state = {digit: 0, base: null, strokes: [], stroke: null, pixels: null, results: null,
                 note: '', shown: []};

  const pad = createPad($('pad'), [FIELD, FIELD], {
    start(point) { state.stroke = [point]; update(); },
    extend(points) { if (state.stroke) { state.stroke.push(...points); update(); } },
    end() {
      if (!state.stroke) return;
      state.strokes.push(state.stroke);
      state.stroke = null;
      update();
    },
  });
  $('clear').addEventListener('click', () => { state.base = null; state.strokes = []; update(); });
  $('next').addEventListener('click', () => loadTestDigit((state.digit + 1) % digits.count));
  $('model-line').textContent = 'A: ' + nets[0].name + ' (' + nets[0].describe + ') · B: ' +
    nets[1].name + ' (' + nets[1].describe + ')';
  $('pairs-note').textContent = 'Each hidden layer of A: its ' + SHOWN + ' most active nodes ' +
    'for this input (top), each above the node of B matched to it (one to one, by the ' +
    'correlation r of their activations on ' + data.images.toLocaleString('en') +
    ' test images), with both activations. Hover a node to light up its partner.';

  function loadTestDigit(index) {
    state.digit = index;
    state.base = {pixels: digits.pixels.subarray(index * NPIX, (index + 1) * NPIX),
                  label: 'test digit #' + index + ', labelled ' + classNames[digits.labels[index]]};
    state.strokes = [];
    update();
  }

  function update() {
    const strokes = state.stroke ? state.strokes.concat([state.stroke]) : state.strokes;
    pad.paint(state.base === null ? null : state.base.pixels, strokes);
    if (state.base !== null) {
      setInput(strokes.length ? strokesOnto(state.base.pixels, strokes, FIELD / pad.width, data.pen)
                              : state.base.pixels,
               state.base.label + (strokes.length ? ', with your strokes' : ''));
    } else {
      setInput(strokesLike(strokes, data.pen), 'your strokes, fitted and centred as MNIST\'s');
    }
  }

  function setInput(pixels, note) {
    state.pixels = Uint8Array.from(pixels);
    state.note = note;
    const brightness = brightnessOf(state.pixels);
    state.results = nets.map((net) =>
      forward(net.layers, inputsFromBrightness(brightness, net.scale)));
    render();
  }

  const last = (k) => nets[k].layers.length - 1;
  const probabilities = (k) => state.results[k].posts[last(k)];
  const predicted = (k) => {
    const p = probabilities(k);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    return best;
  };

  function render() {
    paintPixels($('input-view'), state.pixels, FIELD, FIELD, gray);
    $('input-note').textContent = 'Both nets see: ' + state.note + '.';
    renderPredictions();
    renderPairs();
    document.body.dataset.frame = String(Number(document.body.dataset.frame || 0) + 1);
  }

  function renderPredictions() {
    const [a, b] = [predicted(0), predicted(1)];
    $('verdict').textContent = 'A reads ' + classNames[a] + ' (' +
      fmt(100 * probabilities(0)[a], 1) + '%), B reads ' + classNames[b] + ' (' +
      fmt(100 * probabilities(1)[b], 1) + '%).';
    const table = $('predictions');
    table.textContent = '';
    const header = table.insertRow();
    for (const text of ['class', 'A', '', 'B', '']) {
      const cell = document.createElement('th');
      cell.textContent = text;
      header.appendChild(cell);
    }
    classNames.forEach((name, c) => {
      const row = table.insertRow();
      row.classList.toggle('top', c === a || c === b);
      row.insertCell().textContent = name;
      for (const [k, side] of [[0, 'a'], [1, 'b']]) {
        const p = probabilities(k)[c];
        const bar = document.createElement('div');
        bar.className = 'bar ' + side;
        bar.style.width = Math.round(120 * p) + 'px';
        row.insertCell().appendChild(bar);
        row.insertCell().textContent = fmt(100 * p, 1) + '%';
      }
    });
  }

  // A node's picture and activation, as one cell of side 'a' or 'b'.
  function cell(side, k, layer, node, activation) {
    const box = document.createElement('div');
    box.className = 'cell ' + side;
    box.dataset.node = String(node);
    const canvas = document.createElement('canvas');
    const block = nets[k].pictures[layer - 1];
    paintPixels(canvas, block.pixels.subarray(node * NPIX, (node + 1) * NPIX), FIELD, FIELD, gray);
    const label = document.createElement('span');
    label.textContent = side.toUpperCase() + layer + ':' + node + ' ' + fmt(activation, 2);
    box.append(canvas, label);
    return box;
  }

  function renderPairs() {
    const container = $('pairs');
    container.textContent = '';
    state.shown = [];
    for (const match of data.matches) {
      const values = state.results[0].posts[match.layer - 1];
      const partners = state.results[1].posts[match.other - 1];
      const order = Array.from(values.keys()).sort((i, j) => values[j] - values[i] || i - j)
        .slice(0, SHOWN);
      const section = document.createElement('div');
      section.className = 'layer';
      section.dataset.layer = String(match.layer);
      const title = document.createElement('h3');
      title.textContent = 'Layer ' + match.layer + ' of A, matched to layer ' + match.other +
        ' of B (CKA ' + fmt(data.cka[match.layer - 1][match.other - 1]) + ')';
      const row = document.createElement('div');
      row.className = 'row';
      const shown = [];
      for (const node of order) {
        const partner = match.nodes[node];
        const pair = document.createElement('div');
        pair.className = 'pair';
        const top = cell('a', 0, match.layer, node, values[node]);
        const link = document.createElement('span');
        link.className = 'link';
        pair.append(top, link);
        if (partner >= 0) {
          const bottom = cell('b', 1, match.other, partner, partners[partner]);
          link.textContent = 'r ' + fmt(match.correlations[node], 2);
          pair.append(bottom);
          for (const [one, other] of [[top, bottom], [bottom, top]]) {
            one.addEventListener('pointerenter', () => { one.classList.add('linked');
                                                         other.classList.add('linked'); });
            one.addEventListener('pointerleave', () => { one.classList.remove('linked');
                                                         other.classList.remove('linked'); });
          }
        } else {
          link.textContent = 'no match';
          const none = document.createElement('div');
          none.className = 'none';
          none.textContent = 'only in A';
          pair.append(none);
        }
        row.appendChild(pair);
        shown.push([node, partner]);
      }
      section.append(title, row);
      container.appendChild(section);
      state.shown.push(shown);
    }
  }

  loadTestDigit(0);

  // For tests and the curious.
  window.mlplens = {
    loadTestDigit: loadTestDigit,
    input: () => Array.from(state.pixels),
    probabilities: () => [0, 1].map((k) => Array.from(probabilities(k))),
    activations: () => state.results.map((result) => result.posts.map((a) => Array.from(a))),
    pairs: () => state.shown.map((pairs) => pairs.map((pair) => pair.slice())),
    ready: true,
  };
}
