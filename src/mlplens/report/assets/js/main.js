// Starts the explorer: reads the data block, builds the page's parts and wires them together.
// `state` is the page's one state object. The parts read it; only the functions under
// "changing the state" write it, and each redraws what depends on what it changed.

function startExplorer() {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('mlplens-data').textContent);
  const [H, W] = data.image_shape;
  const C = data.channels || 1;  // colour inputs are interleaved (H, W, 3), as Keras flattens
  const NPIX = H * W * C;
  // 'draw': MNIST's 28x28 grey digits, drawn on the pad; 'images': any other model takes the
  // data's test images (a strip to click) or a loaded picture, resized as it is.
  const drawing = data.input !== 'images';
  // What the output means (mlplens.core.heads): 'classes', 'binary' (one output: class 1's
  // logit or probability), 'multilabel' (independent labels) or 'regression' (a number).
  const head = data.head || 'classes';
  // binary: class 0 and class 1; regression: the labels' names (labels read as numbers)
  const classNames = data.class_names;
  const outputNames = head === 'binary' ? [classNames[1]] : head === 'regression' ? ['value']
    : classNames;  // one per output node
  // What a test image's label is called: its class's name, else its number.
  const labelName = (label) => (label < classNames.length ? classNames[label] : String(label));
  const noun = drawing ? 'test digit' : 'test image';
  const layers = decodeLayers(data);
  const L = layers.length;
  const digits = decodeDigits(data);
  const colormaps = decodeColormaps(data);
  const palettes = {};
  for (const name of Object.keys(colormaps)) palettes[name] = paletteFromColormap(colormaps[name]);
  const gray = grayPalette();

  const state = {
    // Undo stack of drawings {base, strokes}; the last is shown. base: null (a blank pad) or
    // {pixels, brightness, label, index} (a test image; brightness null unless the data's
    // images are floats) or {pixels, label, picture} (a loaded image).
    history: [],
    stroke: null,  // the stroke being drawn
    pixels: new Uint8Array(NPIX), x: new Float64Array(NPIX), note: '', result: null,
    enough: false,  // ink enough to be read as a digit: else the page asks for one
    // predicted: the class picked (net.js' predictedClass); target: the output node whose
    // logit the contributions and the circuit explain (explainedOutput).
    predicted: 0, target: 0, contrib: null, grads: null, preGrads: null,
    // Hidden nodes held off or at a value ({layer, node, value, off}, see interventions.js);
    // the circuit of the input (circuit.js) at share `keep`; the node traced, its top traceK.
    interventions: [], circuit: null, keep: 0.9, trace: null, traced: null, traceK: 3,
    selected: {layer: L - 1, node: 0}, cursor: {layer: -1, node: 0},
    follow: true,  // until a node is picked, the panel shows the predicted class's node
    cellMode: 'activation', cmap: 'gray',
    position: data.frames ? data.frames.frames.length : 0,  // the training slider's: the trained model
    galleryMethod: data.methods.length ? data.methods[0].name : null,
    timings: [], lastCompute: 0,  // milliseconds: whole updates from the pad, forward passes
  };

  // ---- the parts of the page ------------------------------------------------------------------
  const training = createTraining({
    elements: {section: $('training'), slider: $('step'), label: $('step-label'), play: $('play'),
               note: $('training-note')},
    frameData: data.frames, accuracy: data.model.test_accuracy, state, setPosition});
  const pictures = (method, k) => picturesAt(training.frames, state.position, method, k);
  // A diverging map's middle colour says zero: min-max pictures, whose middle is the middle of
  // their range, are painted gray instead.
  const colourmap = (method) =>
    (method.signed || !data.diverging.includes(state.cmap) ? state.cmap : 'gray');
  const palette = (method) => palettes[colourmap(method)];
  const pad = createPad($('pad'), [H, W], {start: startStroke, extend: extendStroke, end: endStroke});
  const bars = createBars($('bars'), head === 'regression' ? outputNames : classNames,
                         (c) => select(L - 1, head === 'binary' ? 0 : c), head === 'regression');
  const strips = createStrips({container: $('strips'), tooltip: $('tooltip'),
                               announce: $('announce'), layers, outputNames, head, state, select,
                               moveCursor});
  const nodePanel = createNodePanel({
    elements: {title: $('node-title'), sub: $('node-sub'), pictures: $('node-pictures'),
               stats: $('node-stats'), chart: $('class-chart'), caption: $('class-caption')},
    layers, methods: data.methods, statsSource: data.stats.source, outputNames, labelName, head,
    state, pictures,
    palette, colourmap});
  const gallery = createGallery({
    elements: {canvas: $('gallery'), panel: $('gallery-panel'), title: $('gallery-title'),
               method: $('gallery-method'), note: $('gallery-note')},
    methods: data.methods, layers, state, pictures, palette, chooseMethod: setGalleryMethod,
    select});

  // What is done in the circuit panel leaves it where it is on the screen, though the node
  // panel above it grows or shrinks with the node and its interventions.
  const steady = (change) => (...args) => {
    const before = $('circuit-panel').getBoundingClientRect().top;
    change(...args);
    window.scrollBy(0, $('circuit-panel').getBoundingClientRect().top - before);
  };
  const editors = [
    createInterventionEditor($('node-intervene'), {layers, state, apply: intervene, release}),
    createInterventionEditor($('circuit-intervene'), {layers, state, apply: steady(intervene),
                                                      release: steady(release)})];
  const interventionList = createInterventionList({
    elements: {list: $('intervention-list'), undo: $('intervention-undo'),
               reset: $('intervention-reset'), note: $('intervention-note')},
    state, remove: steady(release), undo: steady(undoIntervention),
    reset: steady(resetInterventions)});
  const circuitPanel = createCircuitPanel({
    elements: {canvas: $('circuit'), tip: $('circuit-tip'), note: $('circuit-note'),
               keep: $('circuit-keep'), topk: $('trace-k'), clear: $('trace-clear'),
               announce: $('announce')},
    layers, outputNames, state, picture: nodePicture, paintInput, select: steady(select),
    setTrace: steady(setTrace), setKeep, setTraceK});
  const references = drawing ? null : createReferences({
    container: $('references'), digits, shape: [H, W, C], labelName, choose: loadTestDigit});

  const cmapSelect = $('cmap');
  for (const name of Object.keys(palettes)) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = data.diverging.includes(name) ? name + ' (signed pictures)' : name;
    cmapSelect.append(option);
  }
  cmapSelect.addEventListener('change', () => setColormap(cmapSelect.value));
  $('cell-mode').addEventListener('change', () => setCellMode($('cell-mode').value));
  $('clear').addEventListener('click', clearPad);
  $('undo').addEventListener('click', undo);
  $('random').addEventListener('click', randomDigit);
  const loader = createImageLoader({
    elements: {button: $('load-image'), file: $('image-file'), mode: $('image-mode'),
               message: $('image-message')},
    show: loadImage, shownPicture: () => (shownDrawing().base || {}).picture,
    target: {height: H, width: W, channels: C, asIsOnly: !drawing}});
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
    if (key === 'c' && drawing) clearPad();
    else if (key === 'u') undo();
    else if (key === 'r') randomDigit();
    else if (key === 'i') loader.open();
    else if (key === 'escape') strips.hideTooltip();
  });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { strips.layout(); render(); gallery.render(); drawn(); }, 100);
  });
  $('below-training').hidden = $('below-gap').hidden = $('training').hidden;
  if (!drawing) showImagesInput();
  const model = data.model;
  $('model-line').textContent = [model.name, model.describe,
    model.test_accuracy !== null ? 'test ' + (model.score || 'accuracy') + ' ' +
      fmt(model.test_accuracy, 4) : '']
    .filter(Boolean).join(' · ');

  // A model that is not MNIST's: no drawing pad; the data's test images to click, pictures
  // loaded as they are, and the data's own credits.
  function showImagesInput() {
    for (const id of ['pad', 'clear', 'image-mode-label', 'mnist-credit']) $(id).hidden = true;
    $('references-panel').hidden = false;
    $('draw-title').textContent = 'Pick or load an image';
    $('random').textContent = 'Random test image';
    $('random').title = 'Random test image (R)';
    $('keys').textContent = 'Keys: R random test image, U undo, I load an image (or drop or ' +
      'paste one); Tab to a layer, arrows to move, Enter to open a node.';
    const view = $('input-view'), scale = Math.max(1, Math.floor(112 / Math.max(H, W)));
    view.style.width = W * scale + 'px';
    view.style.height = H * scale + 'px';
  }

  // ---- changing the state -------------------------------------------------------------------
  const shownDrawing = () => state.history[state.history.length - 1];

  function pushDrawing(drawing) {
    state.history.push(drawing);
    refresh();
  }
  function loadTestDigit(index) {
    pushDrawing({base: {pixels: digitPixels(index), index: index,
                        brightness: digits.brightness &&
                                    digits.brightness.subarray(index * NPIX, (index + 1) * NPIX),
                        label: noun + ' #' + index + ', labelled ' +
                               labelName(digits.labels[index])},
                 strokes: []});
  }
  function loadImage(pixels, label, picture) {
    pushDrawing({base: {pixels: pixels, label: label, picture: picture}, strokes: []});
  }
  function clearPad() {
    const shown = shownDrawing();
    if (shown.base !== null || shown.strokes.length) pushDrawing({base: null, strokes: []});
    else refresh();
  }
  function undo() {
    if (state.history.length > 1) state.history.pop();
    refresh();
  }
  function startStroke(point) {
    state.stroke = [point];
    schedule();
  }
  function extendStroke(points) {
    if (!state.stroke) return;
    state.stroke.push(...points);
    schedule();
  }
  function endStroke() {
    if (!state.stroke) return;
    const shown = shownDrawing(), stroke = state.stroke;
    state.stroke = null;
    pushDrawing({base: shown.base, strokes: shown.strokes.concat([stroke])});
  }

  // The network's input and everything it computes from it: pixels (uint8) as drawn, or the
  // float brightness of a test image when the data has it; on the model's pixel scale.
  function setInput(pixels, note, brightness) {
    state.pixels = Uint8Array.from(pixels);
    state.enough = !drawing || enoughInk(state.pixels, W, data.min_rows, data.min_ink);
    state.x = inputsFromBrightness(brightness || brightnessOf(state.pixels), data.pixel_scale);
    state.note = note;
    compute();
    render();
  }
  // Forward pass (with the interventions), contributions, circuit and trace of state.x.
  function compute() {
    const started = performance.now();
    const fixed = fixedNodes(state.interventions, L);
    const result = forward(layers, state.x, fixed);
    state.predicted = predictedClass(layers, result, head);
    state.target = explainedOutput(layers, result, head);
    const back = contributions(layers, result, state.target, fixed);
    state.result = result;
    state.contrib = back.contrib;
    state.grads = back.grads;
    state.preGrads = back.preGrads;
    state.circuit = pruneCircuit(layers, state.x, result, back, state.target, state.keep);
    state.traced = state.trace && traceNode(layers, state.x, result, state.trace.layer,
                                            state.trace.node, state.traceK);
    state.lastCompute = performance.now() - started;
  }
  function recompute() {
    compute();
    render();
  }
  function setInterventions(list) {
    state.interventions = list;
    recompute();
  }
  function intervene(layer, node, value, off) {
    setInterventions(withIntervention(state.interventions, layer, node, value, off));
  }
  function release(layer, node) {
    setInterventions(withoutIntervention(state.interventions, layer, node));
  }
  function undoIntervention() {
    setInterventions(state.interventions.slice(0, -1));
  }
  function resetInterventions() {
    setInterventions([]);
  }
  function setTrace(trace) {
    state.trace = trace;
    recompute();
  }
  function setTraceK(count) {
    state.traceK = count;
    recompute();
  }
  function setKeep(keep) {
    state.keep = keep;
    recompute();
  }
  function recordTiming(update) {
    state.timings.push({update: update, compute: state.lastCompute});
    if (state.timings.length > 500) state.timings.shift();
  }

  // follow: keep showing the predicted class's output node (until a node is picked). stay:
  // picked where its numbers and controls are at hand (the circuit): the page does not scroll.
  function select(k, node, follow, stay) {
    state.follow = Boolean(follow);
    if (!follow && !stay) revealNodePanel();
    state.selected = {layer: k, node: node};
    strips.render();
    nodePanel.render();
    nodePanel.renderPictures();
    for (const editor of editors) editor.render();
    if (state.circuit) circuitPanel.render();
    gallery.render();
    drawn();
  }
  // A node picked where its panel cannot be seen (a phone's one column): scroll to it.
  function revealNodePanel() {
    const box = $('node-panel').getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight / 2) {
      strips.hideTooltip();  // it would float over the panel, far from its cell
      $('node-panel').scrollIntoView({block: 'start'});
    }
  }
  function moveCursor(k, node) {  // the keyboard's place in a strip; layer -1: none
    state.cursor = {layer: k, node: node};
    strips.render();
    drawn();
  }
  function setPosition(position) {
    state.position = Math.max(0, Math.min(training.last, position));
    training.show(state.position);
    nodePanel.renderPictures();
    circuitPanel.render();
    gallery.render();
    drawn();
  }
  function setColormap(name) {
    state.cmap = name;
    nodePanel.renderPictures();
    circuitPanel.render();
    gallery.render();
    drawn();
  }
  function setCellMode(mode) {
    state.cellMode = mode;
    render();
  }
  function setGalleryMethod(name) {
    state.galleryMethod = name;
    gallery.render();
    drawn();
  }

  // ---- from the pad to the network ----------------------------------------------------------
  // A node's picture for the circuit: the first method's that draws its layer, at the
  // slider's position, in the picture colours; painted once per node, position and colours.
  const pictureCache = new Map();
  function nodePicture(k, node) {
    const key = [k, node, state.position, state.cmap].join(':');
    if (!pictureCache.has(key)) {
      if (pictureCache.size > 4000) pictureCache.clear();
      const method = data.methods.find((m) => pictures(m, k).block);
      let canvas = null;
      if (method) {
        canvas = document.createElement('canvas');
        paintNode(canvas, pictures(method, k).block, node, palette(method));
      }
      pictureCache.set(key, canvas);
    }
    return pictureCache.get(key);
  }

  // The input shown, as the network sees it (in colour for a colour model).
  function paintInput(canvas) {
    paintPicture(canvas, state.pixels, W, H, C, gray);
  }

  function digitPixels(index) {
    return digits.pixels.subarray(index * NPIX, (index + 1) * NPIX);
  }

  function refresh() {
    const shown = shownDrawing();
    if (drawing) pad.paint(shown.base === null ? null : shown.base.pixels,
              state.stroke ? shown.strokes.concat([state.stroke]) : shown.strokes);
    updateInput();
  }
  // What the network gets from the pad: a test digit or a loaded image as it is (with any
  // strokes drawn on it where they are), or the strokes alone scaled into MNIST's box and drawn
  // at its pen width.
  function updateInput() {
    const started = performance.now();
    const shown = shownDrawing();
    const strokes = state.stroke ? shown.strokes.concat([state.stroke]) : shown.strokes;
    if (shown.base !== null) {
      const label = shown.base.label;
      setInput(strokes.length ? strokesOnto(shown.base.pixels, strokes, W / pad.width, data.pen)
                              : shown.base.pixels,
               strokes.length ? label + ', with your strokes' : label,
               strokes.length ? null : shown.base.brightness);
    } else {
      setInput(strokesLike(strokes, data.pen),
               'your strokes fitted into 20×20 and drawn with MNIST\'s pen width, centred by mass');
    }
    recordTiming(performance.now() - started);
  }
  let pending = false;
  function schedule() {  // pointer moves come faster than frames: one update per frame
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      refresh();
    });
  }
  function randomDigit() {
    const shown = shownDrawing().base;
    let index = Math.floor(Math.random() * digits.count);
    if (digits.count > 1 && shown && index === shown.index) index = (index + 1) % digits.count;
    loadTestDigit(index);
  }

  // ---- drawing ----------------------------------------------------------------------------------
  // Everything that shows the input and what the network makes of it.
  function render() {
    if (state.follow && state.selected.node !== state.target) {
      select(L - 1, state.target, true);
    }
    paintInput($('input-view'));
    if (references) references.mark(shownDrawing().base ? shownDrawing().base.index : -1);
    $('input-note').textContent = 'What the network sees (' + H + '×' + W + (C > 1 ? '×' + C : '') +
      '): ' + state.note + '.';
    const shown = shownOutputs();
    bars.render(shown.values, shown.probability, state.enough ? shown.on : []);
    $('verdict').textContent = state.enough
      ? (drawing ? 'It reads ' : 'It says ') + verdict(shown) + '.'
      : 'Draw a digit: too little ink to read (a dot or a short dash is no digit).';
    $('verdict').classList.toggle('ask', !state.enough);
    strips.render();
    nodePanel.render();
    for (const editor of editors) editor.render();
    interventionList.render();
    circuitPanel.render();
    const last = state.timings.length ? state.timings[state.timings.length - 1] : null;
    $('about').textContent = 'Forward pass with contributions and circuit ' +
      fmt(state.lastCompute, 2) +
      ' ms' + (last ? ', whole update ' + fmt(last.update, 2) + ' ms' : '') +
      ', in this browser. Node statistics from ' + data.stats.source + '; ' + noun + 's are ' +
      data.digits.source + '.';
    drawn();
  }

  // The bars' values: a probability per class (binary: class 0's and class 1's; multilabel:
  // each label's own, not summing to 1), else the output's own numbers; on: the bars lit.
  function shownOutputs() {
    const p = outputProbabilities(layers, state.result, head);
    if (head === 'binary') {
      return {values: [1 - p[0], p[0]], probability: true, on: [state.predicted]};
    }
    const values = p || state.result.posts[L - 1];
    if (head === 'multilabel') {
      return {values: values, probability: true,
              on: Array.from(values.keys()).filter((j) => values[j] > 0.5)};
    }
    return {values: values, probability: Boolean(p),
            on: head === 'regression' ? [] : [state.predicted]};
  }
  function verdict(shown) {
    if (head === 'regression') return fmt(shown.values[0], 4);
    if (head === 'multilabel') {
      return shown.on.length ? shown.on.map((j) => classNames[j] + ' (' +
        (100 * shown.values[j]).toFixed(1) + '%)').join(', ') : 'no label above 50%';
    }
    return classNames[state.predicted] + (shown.probability ? ' (' +
      (100 * shown.values[state.predicted]).toFixed(1) + '%)' : '');
  }

  // Counts finished redraws in <body data-frame>, so that tests wait for the page, not a clock.
  let frame = 0;
  function drawn() {
    document.body.dataset.frame = String(++frame);
  }

  strips.layout();
  loadTestDigit(0);  // the first drawing: undo stops there
  select(L - 1, state.target, true);
  if (training.frames.length) setPosition(training.last);

  // For tests and the curious: the page's own functions.
  window.mlplens = {
    state: state, layers: layers, forward: (x) => forward(layers, x), mnistLike: mnistLike,
    loadTestDigit: loadTestDigit, setInputPixels: setInput, select: select,
    setPosition: setPosition, strokes: () => shownDrawing().strokes, clear: clearPad, undo: undo,
    probabilities: () => Array.from(state.result.posts[L - 1]),
    bars: () => Array.from(shownOutputs().values),
    activations: () => state.result.posts.map((a) => Array.from(a)),
    contributions: () => state.contrib.map((c) => (c ? Array.from(c) : null)),
    input: () => Array.from(state.pixels),
    // The circuit shown: per hidden layer the kept nodes and their contributions, per layer
    // the kept edges (sources, targets and values); typed arrays as plain ones.
    circuit: () => JSON.parse(JSON.stringify(
      state.circuit, (key, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v))),
    setInterventions: setInterventions, setKeep: setKeep, setTrace: setTrace,
    circuitNodeCentre: circuitPanel.nodeCentre, circuitEdgeMiddle: circuitPanel.edgeMiddle,
    cellCentre: strips.cellCentre,
    layout: strips.columns,
    ready: true,
  };
}
