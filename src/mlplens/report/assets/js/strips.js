// The activation strips: per layer a canvas with one coloured cell per node. A cell's tooltip
// gives its numbers; a click, or the arrow keys and Enter, open its node.

// DARK: an inactive cell, a neutral lighter than the panel so that the grid stays visible.
const DARK = [44, 52, 70], WARM = [255, 178, 62], HOT = [255, 240, 200], COOL = [90, 167, 255];

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// A cell's colour for t in [-1, 1]: dark at 0, warm to hot for positive, cool for negative.
function cellColour(t) {
  let rgb;
  if (t >= 0) rgb = t < 0.75 ? mix(DARK, WARM, t / 0.75) : mix(WARM, HOT, (t - 0.75) / 0.25);
  else rgb = mix(DARK, COOL, Math.min(1, -t));
  return 'rgb(' + Math.round(rgb[0]) + ',' + Math.round(rgb[1]) + ',' + Math.round(rgb[2]) + ')';
}

// Reads state (result, contrib, predicted, cellMode, selected, cursor); changes it only through
// select(k, node) and moveCursor(k, node).
// outputNames: one name per output node; head: what the output means (main.js).
function createStrips({container, tooltip, announce, layers, outputNames, head, state, select,
                       moveCursor}) {
  const L = layers.length;
  // The output as probabilities (net.js' outputProbabilities), or null.
  const probabilities = () => outputProbabilities(layers, state.result, head);
  const outputName = (node) => (head === 'regression' ? 'value' : 'class ' + outputNames[node]);

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
    container.append(wrap);
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
        moveCursor(k, state.selected.layer === k ? state.selected.node : 0);
      }
      showCursorTip(strip);
    });
    canvas.addEventListener('blur', () => {
      hideTooltip();
      if (state.cursor.layer === k) moveCursor(-1, 0);
    });
    return strip;
  });

  // Cell sizes and columns for the container's width.
  function layout() {
    const width = Math.max(200, container.clientWidth);
    for (const strip of strips) {
      const units = layers[strip.k].units;
      strip.cell = units <= 16 ? 26 : units <= 64 ? 16 : units <= 300 ? 12 : 10;
      strip.gap = units <= 16 ? 4 : 1;
      strip.cols = Math.max(1, Math.min(units, Math.floor((width + strip.gap) /
                                                          (strip.cell + strip.gap))));
      const rows = Math.ceil(units / strip.cols);
      strip.ratio = sizeCanvas(strip.canvas, strip.cols * (strip.cell + strip.gap) - strip.gap,
                               rows * (strip.cell + strip.gap) - strip.gap);
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
    if (state.cellMode === 'contribution' && state.contrib[k]) {
      const values = state.contrib[k];
      let max = 0;
      for (let j = 0; j < values.length; j++) max = Math.max(max, Math.abs(values[j]));
      return {values: values, scale: max || 1, label: 'contribution'};
    }
    const probability = k === L - 1 && probabilities();
    return {values: probability || state.result.posts[k],
            scale: (probability ? 1 : layers[k].stats.colourScale) || 1,
            label: probability ? 'probability' : 'activation'};
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
      // The classes' names when every one fits its cell, else their numbers.
      const named = outputNames.every((name) => context.measureText(name).width <= strip.cell - 2);
      for (let j = 0; j < values.length; j++) {
        const {x, y} = cellBox(strip, j);
        context.fillStyle = values[j] / scale > 0.55 ? '#111' : '#c9d1e0';
        context.fillText(named ? outputNames[j] : String(j), x + strip.cell / 2,
                         y + strip.cell / 2 + 1);
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
      ? 'colour: contribution to "' + outputNames[state.target] + '", ±' + fmt(scale)
      : (k === L - 1 ? '' : active + ' of ' + values.length + ' active now · ') +
        'colour: ' + label + ' 0 to ' + fmt(scale, 2);
  }

  function cellText(k, node) {
    const parts = [k === L - 1 ? outputName(node) : 'node ' + node];
    const post = state.result.posts[k][node], probability = k === L - 1 && probabilities();
    if (probability) {
      parts.push('probability ' + fmt(probability[node], 4),
                 'logit ' + fmt(state.result.pres[k][node]));
    } else {
      parts.push('activation ' + fmt(post));
      if (state.contrib[k]) parts.push('contribution ' + signed(state.contrib[k][node]));
    }
    return parts.join(' · ');
  }
  function placeTooltip(k, node, clientX, clientY) {
    tooltip.dataset.layer = k;
    tooltip.dataset.node = node;
    tooltip.textContent = cellText(k, node);
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
    placeTooltip(strip.k, node, event.clientX, event.clientY);
  }
  function showCursorTip(strip) {
    const box = strip.canvas.getBoundingClientRect();
    const {x, y} = cellBox(strip, state.cursor.node);
    placeTooltip(strip.k, state.cursor.node, box.left + x + strip.cell / 2,
                 box.top + y + strip.cell / 2);
    announce.textContent = tooltip.textContent;
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
    moveCursor(strip.k, node);
    showCursorTip(strip);
  }

  return {
    layout: layout,
    // Every strip from state, and the open tooltip's numbers with them.
    render() {
      for (const strip of strips) renderStrip(strip);
      if (!tooltip.hidden && tooltip.dataset.layer !== undefined) {
        tooltip.textContent = cellText(Number(tooltip.dataset.layer), Number(tooltip.dataset.node));
      }
    },
    hideTooltip: hideTooltip,
    // The centre of node's cell in layer k, in page (client) coordinates.
    cellCentre(k, node) {
      const strip = strips[k], box = strip.canvas.getBoundingClientRect();
      const {x, y} = cellBox(strip, node);
      return {x: box.left + x + strip.cell / 2, y: box.top + y + strip.cell / 2};
    },
    columns: () => strips.map((strip) => strip.cols),
  };
}
