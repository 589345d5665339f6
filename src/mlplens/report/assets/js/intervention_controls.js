// The interventions' controls: for the selected hidden node, switch it off, clamp it to a
// value or release it (one such editor in the node panel, one beside the circuit); and the list
// of interventions in force, each removable, with undo and reset.

function controlButton(text, title) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = text;
  if (title) button.title = title;
  return button;
}

// apply(layer, node, value, off) and release(layer, node) change the state.
function createInterventionEditor(container, {layers, state, apply, release}) {
  const L = layers.length;
  const label = document.createElement('span');
  label.className = 'intervention-label';
  const off = controlButton('Switch off', 'Hold this node at 0');
  const value = document.createElement('input');
  value.type = 'number';
  value.step = '0.1';
  value.setAttribute('aria-label', 'value to clamp the node to');
  const clamp = controlButton('Clamp', 'Hold this node at the value beside');
  const free = controlButton('Release', 'Let this node compute again');
  container.classList.add('intervention-editor');
  container.append(label, off, value, clamp, free);
  let shownFor = '';

  off.addEventListener('click', () => apply(state.selected.layer, state.selected.node, 0, true));
  const clampNow = () => {
    const v = Number(value.value);
    if (value.value !== '' && isFinite(v)) apply(state.selected.layer, state.selected.node, v, false);
  };
  clamp.addEventListener('click', clampNow);
  value.addEventListener('keydown', (event) => { if (event.key === 'Enter') clampNow(); });
  free.addEventListener('click', () => release(state.selected.layer, state.selected.node));

  function render() {
    const {layer, node} = state.selected;
    container.hidden = layer === L - 1;  // only hidden nodes can be held
    if (container.hidden) return;
    const current = interventionOf(state.interventions, layer, node);
    label.textContent = current ? describeIntervention(current)
      : 'Layer ' + (layer + 1) + ', node ' + node + ':';
    label.classList.toggle('held', Boolean(current));
    free.hidden = !current;
    const key = layer + ':' + node;
    if (key !== shownFor) {  // a new node: offer its activation now, twice, as a value to try
      shownFor = key;
      value.value = fmt(current && !current.off ? current.value
                                                : 2 * state.result.posts[layer][node], 2);
    }
  }
  return {render: render};
}

// elements: list (a <ul>), undo, reset (buttons), note. remove(layer, node), undo(), reset().
function createInterventionList({elements, state, remove, undo, reset}) {
  elements.undo.addEventListener('click', undo);
  elements.reset.addEventListener('click', reset);

  function render() {
    const list = state.interventions;
    elements.list.replaceChildren();
    for (const entry of list) {
      const item = document.createElement('li');
      const text = document.createElement('span');
      text.textContent = describeIntervention(entry);
      const cross = controlButton('×', 'Remove this intervention');
      cross.setAttribute('aria-label', 'remove: ' + describeIntervention(entry));
      cross.addEventListener('click', () => remove(entry.layer, entry.node));
      item.append(text, cross);
      elements.list.append(item);
    }
    elements.undo.disabled = elements.reset.disabled = list.length === 0;
    elements.note.textContent = list.length
      ? 'The prediction, the strips and the circuit are those of the net with these held.'
      : 'None: the network as trained. Pick a hidden node to switch it off or clamp it.';
  }
  return {render: render};
}
