// The node panel: the selected node's pictures (one per method), its numbers now and its
// statistics, and its mean per true class as a small chart.

// elements: title, sub, pictures, stats (a table), chart, caption. pictures(method, k): the
// block and its note at the training slider's position; palette(method) and
// colourmap(method): the colours it is painted with and their name. outputNames: one name per
// output node; labelName(c): the name of the statistics' label c (a class, or for regression
// the label read as a number); head: what the output means (main.js).
function createNodePanel({elements, layers, methods, statsSource, outputNames, labelName, head,
                          state, pictures, palette, colourmap}) {
  const L = layers.length;
  const regression = head === 'regression';
  const outputTitle = (node) => 'Output node ' + node + (regression ? ' (the value)'
    : head === 'binary' ? ' (logit of class ' + outputNames[node] + ')'
      : ' (class ' + outputNames[node] + ')');

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

  // The title, the numbers and the class chart: what changes with the input.
  function render() {
    const {layer: k, node} = state.selected;
    const layer = layers[k], stats = layer.stats, isOut = k === L - 1;
    elements.title.textContent = isOut ? outputTitle(node) : 'Layer ' + (k + 1) + ', node ' + node;
    elements.sub.textContent = 'layer “' + layer.name + '” · ' + layer.units + ' nodes · ' +
      layer.activation;
    const body = elements.stats.tBodies[0];
    body.replaceChildren();
    const post = state.result.posts[k][node], pre = state.result.pres[k][node];
    const probability = isOut && outputProbabilities(layers, state.result, head);
    if (regression && isOut) {
      row(body, 'value now', fmt(post, 4));
      row(body, 'mean value', fmt(stats.meanActivation[node]));
    } else if (probability) {
      row(body, 'probability now', fmt(probability[node], 4));
      row(body, 'logit now', fmt(pre));
      row(body, 'mean ' + (layers[k].activation === 'linear' ? 'logit' : 'probability'),
          fmt(stats.meanActivation[node]));
    } else {
      row(body, 'activation now', fmt(post), post > 0 ? 'pos' : '');
      if (!isOut) {
        const c = state.contrib[k][node], g = state.grads[k][node];
        row(body, 'contribution to “' + outputNames[state.target] + '” now',
            signed(c) + '  (' + fmt(post) + ' × ' + fmt(g) + ')', c > 0 ? 'pos' : c < 0 ? 'neg' : '');
        let rank = 1;
        const all = state.contrib[k];
        for (let j = 0; j < all.length; j++) if (all[j] > c) rank++;
        row(body, 'rank in its layer', rank + ' of ' + all.length + (c === 0 ? ' (no effect)' : ''));
      }
      row(body, 'active (z > 0) on', (100 * stats.firingFraction[node]).toFixed(1) + '% of images');
      row(body, 'mean activation', fmt(stats.meanActivation[node]));
    }
    const classes = stats.classes, means = stats.classMeans.subarray(node * classes, (node + 1) * classes);
    const top = argmax(means);
    row(body, regression ? 'highest mean at label' : 'strongest for class',
        labelName(top) + ' (mean ' + fmt(means[top]) + ')');
    for (const name of Object.keys(stats.extra)) row(body, name, fmt(stats.extra[name][node]));
    elements.chart.replaceChildren();
    elements.chart.style.gridTemplateColumns = 'repeat(' + classes + ', 1fr)';
    let max = 0;
    for (let c = 0; c < classes; c++) max = Math.max(max, Math.abs(means[c]));
    for (let c = 0; c < classes; c++) {
      const bar = document.createElement('div');
      bar.style.height = (max > 0 ? 100 * Math.abs(means[c]) / max : 0).toFixed(1) + '%';
      if (c === top) bar.className = 'top';
      const label = document.createElement('span');
      label.textContent = labelName(c);
      bar.title = labelName(c) + ': ' + fmt(means[c]);
      bar.append(label);
      elements.chart.append(bar);
    }
    const meanOf = isOut && regression ? 'value'
      : isOut && probability && layers[k].activation !== 'linear' ? 'probability' : 'activation';
    elements.caption.textContent = 'Mean ' + meanOf + (regression
      ? ' per label (the labels read as numbers), on ' : ' per true class, on ') + statsSource +
      '.' + (isOut ? '' : ' Contribution = activation × ∂(' + (regression ? 'the value'
        : 'logit of the predicted class') + ')/∂activation ' +
       '(for the last hidden layer: activation × its weight into that logit).');
  }

  // The node's pictures: what changes with the node, the slider and the colormap.
  function renderPictures() {
    const {layer: k, node} = state.selected;
    elements.pictures.replaceChildren();
    for (const method of methods) {
      const {block, when} = pictures(method, k);
      if (!block) continue;
      const figure = document.createElement('div');
      figure.className = 'picture';
      figure.dataset.method = method.name;
      const canvas = document.createElement('canvas');
      paintNode(canvas, block, node, palette(method));
      canvas.title = method.description;
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = method.name + (when ? ' · ' + when : '');
      const legend = document.createElement('div');
      legend.className = 'legend';
      legend.textContent = method.normalization + ': ' + block.legend[0] + ' → ' +
        block.legend[2] + (block.legend[1] ? ', middle = ' + block.legend[1] : '') +
        (block.c === 3 ? ' · in its own colours' : colourmap(method) !== state.cmap ? ' · in ' + colourmap(method) + ': ' + state.cmap +
         ' is for signed pictures' : '');
      figure.append(canvas, name, legend);
      elements.pictures.append(figure);
    }
  }

  return {render: render, renderPictures: renderPictures};
}
