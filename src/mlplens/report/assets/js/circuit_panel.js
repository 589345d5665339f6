// The circuit panel: the pruned circuit of the input shown (state.circuit) drawn left to right,
// the input, then each layer's kept nodes as their pictures with their contributions, and the
// kept edges among them; a traced node's top-k edges over it. Hover a node or an edge for its
// numbers; click a node to open and trace it, elsewhere to stop tracing. From the keyboard: the
// arrow keys move a cursor among the drawn nodes, Enter traces its node, Escape stops tracing.

const CIRCUIT_NODES = 14;  // nodes drawn per layer, most |contribution| first: the rest counted
const CIRCUIT_EDGES = 60;  // edges drawn per layer, most |contribution| first

// Which nodes of hidden layer k the panel draws: the kept ones it has room for, then any traced,
// held or selected node of the layer; ordered by contribution, the largest at the top.
function shownNodes(state, k) {
  const kept = state.circuit.nodes[k];
  const shown = new Set(kept.slice(0, CIRCUIT_NODES));
  if (state.traced) for (const j of state.traced.nodes[k]) shown.add(j);
  for (const entry of state.interventions) if (entry.layer === k) shown.add(entry.node);
  if (state.selected.layer === k) shown.add(state.selected.node);
  const contrib = state.contrib[k];
  return {nodes: [...shown].sort((a, b) => contrib[b] - contrib[a] || a - b),
          more: Math.max(0, kept.length - CIRCUIT_NODES)};
}

// The first CIRCUIT_EDGES of a layer's kept edges (circuit.js' parallel arrays, largest first)
// whose ends are both drawn, as {source, target, value}: the scan stops there, since the wide
// net keeps tens of thousands of edges a layer.
function drawnEdges(edges, sources, targets) {
  const drawn = [];
  for (let e = 0; e < edges.values.length && drawn.length < CIRCUIT_EDGES; e++) {
    if (sources.has(edges.sources[e]) && targets.has(edges.targets[e])) {
      drawn.push({source: edges.sources[e], target: edges.targets[e], value: edges.values[e]});
    }
  }
  return drawn;
}

function distanceToSegment(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1, dy = y2 - y1, length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / length)) : 0;
  return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
}

// elements: canvas, tip, note, keep (a <select>), topk (an <input>), clear (a button),
// announce (a live region for what the keyboard's cursor is on).
// picture(k, node): a canvas of the node's picture, or null; select(k, node, follow, stay)
// opens a node;
// setTrace(trace or null), setKeep(share), setTraceK(k) change the state. paintInput(canvas)
// paints the input shown; outputNames: one name per output node (a regression's: 'value').
function createCircuitPanel({elements, layers, outputNames, state, picture, paintInput, select,
                             setTrace, setKeep, setTraceK}) {
  const L = layers.length, canvas = elements.canvas, tip = elements.tip;
  let hits = {nodes: [], edges: []}, hovered = null;
  let cursor = null;  // the keyboard's node, {layer, node} (layer -1: the input), or null
  const inputCanvas = document.createElement('canvas');

  elements.keep.addEventListener('change', () => setKeep(Number(elements.keep.value)));
  elements.topk.addEventListener('change', () => {
    const k = Math.round(Number(elements.topk.value));
    if (k >= 1 && k <= 20) setTraceK(k);
  });
  elements.clear.addEventListener('click', () => setTrace(null));

  function hitAt(event) {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    const node = hits.nodes.find((h) => x >= h.x - 2 && x <= h.x + h.s + 2 && y >= h.y - 2 &&
                                        y <= h.y + h.s + 2);
    if (node) return node;
    let best = null, bestDistance = 5;
    for (const edge of hits.edges) {
      const d = distanceToSegment(x, y, edge.x1, edge.y1, edge.x2, edge.y2);
      if (d < bestDistance) { best = edge; bestDistance = d; }
    }
    return best;
  }
  function showTip(hit, clientX, clientY) {
    tip.textContent = hitText(hit);
    tip.hidden = false;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4,
                                          clientX + 12)) + 'px';
    tip.style.top = (clientY + 16) + 'px';
  }
  function traceHit(hit) {  // a hidden or output node: open it and trace it
    if (hit.layer < 0) return;
    select(hit.layer, hit.node, false, true);
    setTrace({layer: hit.layer, node: hit.node});
  }
  canvas.addEventListener('mousemove', (event) => {
    hovered = hitAt(event);
    if (!hovered) { tip.hidden = true; return; }
    showTip(hovered, event.clientX, event.clientY);
  });
  canvas.addEventListener('mouseleave', () => { hovered = null; tip.hidden = true; });
  canvas.addEventListener('click', (event) => {
    const hit = hitAt(event);
    if (hit && hit.node !== undefined) traceHit(hit);
    else if (!hit) setTrace(null);
  });

  // ---- the keyboard's cursor ----------------------------------------------------------------
  // The drawn node the cursor is on; as the circuit changes under it, the top node of its layer
  // (or of the first hidden layer).
  function cursorHit() {
    const sameLayer = (h) => cursor !== null && h.layer === cursor.layer;
    return hits.nodes.find((h) => sameLayer(h) && h.node === cursor.node) ||
      hits.nodes.find(sameLayer) || hits.nodes.find((h) => h.layer === 0) || hits.nodes[0];
  }
  const middle = (h) => h.y + h.s / 2;
  function nearestIn(layer, from) {  // the node of `layer` drawn at the height nearest from's
    let best = null;
    for (const h of hits.nodes) {
      if (h.layer !== layer) continue;
      if (!best || Math.abs(middle(h) - middle(from)) < Math.abs(middle(best) - middle(from))) {
        best = h;
      }
    }
    return best;
  }
  canvas.addEventListener('keydown', (event) => {
    const at = cursorHit(), trace = event.key === 'Enter' || event.key === ' ';
    let next = at;
    if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
      const column = hits.nodes.filter((h) => h.layer === at.layer);
      const i = column.indexOf(at) + (event.key === 'ArrowDown' ? 1 : -1);
      next = column[Math.max(0, Math.min(column.length - 1, i))];
    } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      next = nearestIn(at.layer + (event.key === 'ArrowRight' ? 1 : -1), at) || at;
    } else if (event.key === 'Escape') {
      setTrace(null);
      return;
    } else if (!trace) return;
    event.preventDefault();  // no scrolling the page
    cursor = {layer: next.layer, node: next.node};
    if (trace) traceHit(next);
    render();
    elements.announce.textContent = tip.textContent;
  });
  canvas.addEventListener('focus', () => {
    if (!canvas.matches(':focus-visible')) return;  // a click, not the keyboard
    cursor = cursor || {layer: 0, node: null};  // cursorHit: the first hidden layer's top node
    render();
    elements.announce.textContent = tip.textContent;
  });
  canvas.addEventListener('blur', () => {
    cursor = null;
    tip.hidden = true;
    render();
  });

  const outputName = (node) => (outputNames[node] === 'value' && outputNames.length === 1
    ? 'value' : 'class ' + outputNames[node]);
  const nodeName = (k, node) => (k < 0 ? 'input' : k === L - 1 ? outputName(node)
                                 : 'layer ' + (k + 1) + ' node ' + node);
  function hitText(hit) {
    const result = state.result;
    if (hit.node !== undefined) {
      if (hit.layer < 0) return 'the input: its pixels feed every node of layer 1';
      if (hit.layer === L - 1) return nodeName(hit.layer, hit.node) + ' · logit ' +
        fmt(result.pres[L - 1][hit.node]) + ' · click to trace';
      return nodeName(hit.layer, hit.node) + ' · activation ' +
        fmt(result.posts[hit.layer][hit.node]) + ' · contribution ' +
        signed(state.contrib[hit.layer][hit.node]) + ' · click to open and trace';
    }
    const {layer: k, source, target} = hit;
    const signal = edgeSignal(layers, state.x, result, k, source, target);
    const contribution = edgeContribution(layers, state.x, result, state.preGrads, k, source,
                                          target);
    const head = nodeName(source < 0 ? -1 : k - 1, source) + ' → ' + nodeName(k, target);
    if (source < 0) return head + ' · Σ pixel × weight ' + fmt(signal) + ' · contribution ' +
      signed(contribution);
    return head + ' · weight ' + fmt(layers[k].kernel[source * layers[k].units + target]) +
      ' · activation ' + fmt(result.posts[k - 1][source]) + ' · contribution ' +
      signed(contribution);
  }

  // ---- drawing ------------------------------------------------------------------------------
  function colour(value, alpha) {
    return value >= 0 ? 'rgba(255,178,62,' + alpha + ')' : 'rgba(90,167,255,' + alpha + ')';
  }

  function render() {
    const circuit = state.circuit;
    const width = canvas.parentElement.clientWidth, height = 400;
    const ratio = sizeCanvas(canvas, width, height);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = false;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    // Columns: the input, every hidden layer, the output; each node a square of side s.
    const columns = [{layer: -1, nodes: [-1], more: 0}];  // the input is edges' source -1
    for (let k = 0; k < L - 1; k++) columns.push({layer: k, ...shownNodes(state, k)});
    columns.push({layer: L - 1, nodes: Array.from({length: layers[L - 1].units}, (_, j) => j),
                  more: 0});
    const top = 24, bottom = 22, room = height - top - bottom;
    // The input's column is only its picture wide; the layers share the rest.
    const first = 90, step = (width - first - 110) / Math.max(1, columns.length - 2);
    const place = new Map();  // "layer:node" -> {x, y, s}
    hits = {nodes: [], edges: []};
    columns.forEach((column, c) => {
      const n = column.nodes.length;
      const s = column.layer < 0 ? 56 : Math.max(8, Math.min(26, Math.floor(room / n) - 3));
      const gap = n > 1 ? Math.min(s + 8, (room - s) / (n - 1)) : 0;
      const y0 = top + (room - (gap * (n - 1) + s)) / 2;
      const x = c === 0 ? 8 : first + (c - 1) * step;
      column.nodes.forEach((node, i) => {
        const at = {x: x, y: y0 + i * gap, s: s, layer: column.layer, node: node};
        place.set(column.layer + ':' + node, at);
        hits.nodes.push(at);
      });
      ctx.fillStyle = '#98a2b6';
      ctx.fillText(column.layer < 0 ? 'input' : column.layer === L - 1 ? 'output · logit'
        : 'layer ' + (column.layer + 1) + ' · ' + circuit.nodes[column.layer].length + ' of ' +
          layers[column.layer].units, x, 10);
      if (column.more) ctx.fillText('+' + column.more + ' more kept', x, height - 10);
    });

    // Edges: the circuit's, each layer's largest first; dimmed under a trace.
    const tracing = Boolean(state.traced);
    const lines = [], shown = columns.map((column) => new Set(column.nodes));
    for (let k = 0; k < L; k++) {
      for (const e of drawnEdges(circuit.edges[k], shown[k], shown[k + 1])) {
        lines.push({k: k, e: e, trace: false});
      }
      if (tracing) for (const e of state.traced.edges[k]) lines.push({k: k, e: e, trace: true});
    }
    const scale = (trace) => {
      let max = 0;
      for (const line of lines) if (line.trace === trace) max = Math.max(max, Math.abs(line.e.value));
      return max || 1;
    };
    const maxCircuit = scale(false), maxTrace = scale(true);
    for (const {k, e, trace} of lines) {
      const from = place.get((k - 1) + ':' + e.source), to = place.get(k + ':' + e.target);
      if (!from || !to) continue;
      const x1 = from.x + from.s, y1 = from.y + from.s / 2, x2 = to.x, y2 = to.y + to.s / 2;
      const weight = Math.abs(e.value) / (trace ? maxTrace : maxCircuit);
      ctx.strokeStyle = colour(e.value, trace ? 0.95 : tracing ? 0.12 : 0.35 + 0.6 * weight);
      ctx.lineWidth = 0.6 + (trace ? 4 : 3.4) * weight;
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      ctx.stroke();
      hits.edges.push({x1: x1, y1: y1, x2: x2, y2: y2, layer: k, source: e.source, target: e.target});
    }

    // Nodes: picture, a frame in the colour of its contribution, its number and value.
    const traced = (k, node) => tracing && state.traced.nodes[k].includes(node);
    for (const at of hits.nodes) {
      const {x, y, s, layer: k, node} = at;
      if (k < 0) {
        paintInput(inputCanvas);
        ctx.drawImage(inputCanvas, x, y, s, s);
        ctx.strokeStyle = '#34405a';
        ctx.lineWidth = 1;
        ctx.strokeRect(x - 0.5, y - 0.5, s + 1, s + 1);
        continue;
      }
      const image = picture(k, node);
      if (image) ctx.drawImage(image, x, y, s, s);
      const isOut = k === L - 1, value = isOut ? state.result.pres[k][node] : state.contrib[k][node];
      const held = !isOut && interventionOf(state.interventions, k, node);
      const chosen = state.selected.layer === k && state.selected.node === node;
      ctx.lineWidth = chosen || traced(k, node) ? 2.5 : 1.5;
      ctx.strokeStyle = held ? '#ff5c7a' : chosen ? '#ffffff'
        : isOut ? (node === circuit.target ? '#ffb23e' : '#34405a') : colour(value, 1);
      ctx.strokeRect(x - 1, y - 1, s + 2, s + 2);
      ctx.fillStyle = isOut && node !== circuit.target ? '#98a2b6' : '#e6e9f0';
      const text = isOut ? outputNames[node] + '  ' + fmt(value, 2)
                         : '#' + node + ' ' + signed(value).replace(/(\.\d\d)\d$/, '$1');
      ctx.fillText(text + (held ? (held.off ? ' off' : ' =' + fmt(held.value, 2)) : ''),
                   x + s + 5, y + s / 2);
    }
    const names = circuit.nodes.map((kept, k) => kept.length + ' of ' + layers[k].units);
    elements.note.textContent = 'Circuit of “' + outputNames[circuit.target] + '”: ' +
      (names.length ? names.join(' and ') + ' nodes' : 'no hidden nodes') + ' keep ' +
      Math.round(100 * circuit.keep) + '% of each layer\'s |contribution| to its logit, and ' +
      circuit.edges.reduce((n, e) => n + e.values.length, 0) + ' edges ' +
      Math.round(100 * circuit.keep) + '% of theirs. Orange adds to the logit, blue takes ' +
      'away; the largest ' + CIRCUIT_NODES + ' nodes and ' + CIRCUIT_EDGES +
      ' edges of a layer are drawn.' + (tracing ? ' Traced: ' +
      nodeName(state.traced.layer, state.traced.node) + ', its top ' + state.traceK +
      ' inputs and outputs per layer by |activation × weight|.' : '');
    if (hovered && !tip.hidden) tip.hidden = true;  // its numbers may be stale
    if (cursor) drawCursor(ctx);
  }
  // A ring around the cursor's node, and its numbers in the tip beside it.
  function drawCursor(ctx) {
    const at = cursorHit(), box = canvas.getBoundingClientRect();
    cursor = {layer: at.layer, node: at.node};
    ctx.strokeStyle = '#5aa7ff';  // the page's focus colour
    ctx.lineWidth = 2;
    ctx.strokeRect(at.x - 4, at.y - 4, at.s + 8, at.s + 8);
    showTip(at, box.left + at.x + at.s, box.top + at.y + at.s / 2);
  }
  // Where node `node` of layer k is drawn (canvas pixels from its corner), or null: for tests.
  function nodeCentre(k, node) {
    const at = hits.nodes.find((h) => h.layer === k && h.node === node);
    return at ? [at.x + at.s / 2, at.y + at.s / 2] : null;
  }
  // The middle of the drawn edge source -> target into layer k, or null: for tests.
  function edgeMiddle(k, source, target) {
    const at = hits.edges.find((e) => e.layer === k && e.source === source && e.target === target);
    return at ? [(at.x1 + at.x2) / 2, (at.y1 + at.y2) / 2] : null;
  }
  return {render: render, nodeCentre: nodeCentre, edgeMiddle: edgeMiddle};
}
