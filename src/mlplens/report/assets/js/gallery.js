// The gallery: the pictures of every node of the selected layer, for one method; a click on
// a picture opens its node.

// Why a method shows nothing for a layer: the explorer runs the slow ones (maximize) on the
// output layer only.
function missingNote(method, layerCount) {
  const drawn = method.layers.map((block, k) => (block ? k : -1)).filter((k) => k >= 0);
  if (drawn.length === 1 && drawn[0] === layerCount - 1) {
    return method.name + ' draws the output layer only (a hidden layer would take minutes).';
  }
  return method.name + ' draws no pictures of this layer.';
}

// elements: canvas, panel (its width sets the columns), title, method (a <select>), note.
// chooseMethod(name) and select(k, node) change the state; pictures and palette as the node panel's.
function createGallery({elements, methods, layers, state, pictures, palette, chooseMethod, select}) {
  const L = layers.length;
  const canvas = elements.canvas;
  const layout = {scale: 1, cols: 1, gap: 2, w: 0, h: 0};

  for (const method of methods) {
    const option = document.createElement('option');
    option.value = method.name;
    option.textContent = method.name;
    elements.method.append(option);
  }
  elements.method.addEventListener('change', () => chooseMethod(elements.method.value));

  canvas.addEventListener('click', (event) => {
    const box = canvas.getBoundingClientRect();
    const {scale, cols, gap, w, h} = layout;
    const col = Math.floor((event.clientX - box.left) / (w * scale + gap));
    const rowIndex = Math.floor((event.clientY - box.top) / (h * scale + gap));
    const node = rowIndex * cols + col;
    if (col >= 0 && col < cols && node >= 0 && node < layers[state.selected.layer].units) {
      select(state.selected.layer, node);
    }
  });

  function render() {
    const method = methods.find((m) => m.name === state.galleryMethod);
    const k = state.selected.layer;
    const {block, when} = method ? pictures(method, k) : {block: null, when: ''};
    elements.title.textContent = 'Every node of ' +
      (k === L - 1 ? 'the output layer' : 'layer ' + (k + 1)) + ' · ' + layers[k].name +
      (method ? ' · ' + method.name : '') + (when ? ' · ' + when : '');
    elements.note.textContent = method && !block ? missingNote(method, L) : '';
    if (!block) {
      canvas.width = canvas.height = 0;
      canvas.style.width = canvas.style.height = '0px';
      return;
    }
    const scale = block.n <= 16 ? 4 : block.n <= 64 ? 2 : 1;
    const gap = 4;
    const width = Math.max(200, elements.panel.clientWidth - 30);
    const cols = Math.max(1, Math.min(block.n, Math.floor((width + gap) / (block.w * scale + gap))));
    const rows = Math.ceil(block.n / cols);
    Object.assign(layout, {scale: scale, cols: cols, gap: gap, w: block.w, h: block.h});
    const tileW = block.w * scale, tileH = block.h * scale;
    const cssW = cols * (tileW + gap) - gap, cssH = rows * (tileH + gap) - gap;
    // Every picture at one pixel per value, one under the other as the block stores them, then
    // each scaled up to its tile without smoothing.
    const sheet = document.createElement('canvas');
    paintPicture(sheet, block.pixels, block.w, block.h * block.n, block.c, palette(method));
    const ratio = sizeCanvas(canvas, cssW, cssH);
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.imageSmoothingEnabled = false;
    for (let node = 0; node < block.n; node++) {
      const x = (node % cols) * (tileW + gap), y = Math.floor(node / cols) * (tileH + gap);
      context.drawImage(sheet, 0, node * block.h, block.w, block.h, x, y, tileW, tileH);
    }
    const node = state.selected.node;
    const x = (node % cols) * (tileW + gap), y = Math.floor(node / cols) * (tileH + gap);
    context.strokeStyle = '#ffb23e';
    context.lineWidth = 2;
    context.strokeRect(x - 1, y - 1, tileW + 2, tileH + 2);
  }

  return {render: render};
}
