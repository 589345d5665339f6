// The prediction: one bar per class, under the class's name, a button that opens that class's
// output node (a binary head's two classes share its one output node); for a regression, the
// number itself.

// classNames: one name per bar; number: the one bar is a regression's value, shown as a number.
function createBars(container, classNames, onPick, number) {
  const bars = [];
  container.style.gridTemplateColumns = 'repeat(' + classNames.length + ', 1fr)';
  container.classList.toggle('named', classNames.some((name) => name.length > 2));
  container.classList.toggle('number', Boolean(number));
  for (let c = 0; c < classNames.length; c++) {
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
    digit.textContent = classNames[c];
    digit.title = classNames[c];
    bar.append(value, fill, digit);
    bar.addEventListener('click', () => onPick(c));
    bar.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); onPick(c); }
    });
    container.append(bar);
    bars.push({bar: bar, value: value, fill: fill});
  }

  // outputs: one value per bar; probabilities (showsProbability), else scaled to the largest
  // |value|; a regression's number has no bar. on: the bars to highlight (the class
  // predicted; every label above 50% for multilabel).
  function render(outputs, showsProbability, on) {
    let max = 0;
    for (let c = 0; c < outputs.length; c++) max = Math.max(max, Math.abs(outputs[c]));
    for (let c = 0; c < bars.length; c++) {
      const p = outputs[c];
      const share = number ? 0 : showsProbability ? p : (max > 0 ? Math.abs(p) / max : 0);
      bars[c].fill.style.height = (Math.max(0, share) * 84).toFixed(1) + 'px';
      bars[c].value.textContent = showsProbability ? (100 * p).toFixed(1) + '%'
        : fmt(p, number ? 4 : 2);
      bars[c].bar.classList.toggle('top', on.includes(c));
      bars[c].bar.setAttribute('aria-label', 'class ' + classNames[c] + ': ' +
                               bars[c].value.textContent);
    }
  }
  return {render: render};
}
