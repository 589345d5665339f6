// Interventions: hidden nodes switched off (held at 0) or clamped to a value, as
// mlplens.core.circuits.intervene takes them. The list {layer, node, value, off} is in the order they
// were made; a node has at most one (a newer replaces it), so undo is taking the last off.

function withIntervention(list, layer, node, value, off) {
  return withoutIntervention(list, layer, node)
    .concat([{layer: layer, node: node, value: off ? 0 : value, off: Boolean(off)}]);
}

function withoutIntervention(list, layer, node) {
  return list.filter((entry) => entry.layer !== layer || entry.node !== node);
}

function interventionOf(list, layer, node) {
  return list.find((entry) => entry.layer === layer && entry.node === node) || null;
}

// The list as net.js's forward takes it: per layer index, [node, value] pairs.
function fixedNodes(list, layerCount) {
  const fixed = new Array(layerCount).fill(null).map(() => []);
  for (const entry of list) fixed[entry.layer].push([entry.node, entry.value]);
  return fixed;
}

function describeIntervention(entry) {
  return 'layer ' + (entry.layer + 1) + ', node ' + entry.node +
    (entry.off ? ' off' : ' clamped to ' + fmt(entry.value));
}
