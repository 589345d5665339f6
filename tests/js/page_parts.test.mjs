// The pure helpers of the page's parts: number formats, the training slider's pictures and
// labels, the strips' cell colours.
import assert from 'node:assert/strict';
import test from 'node:test';
import {load} from './load.mjs';

const js = load('decode', 'format', 'training', 'strips');

test('numbers: 3 decimals unless told, a true minus sign when signed', () => {
  const fmt = js('fmt'), signed = js('signed');
  assert.deepEqual([fmt(1 / 3), fmt(-1.5, 2), fmt(2, 0), fmt(NaN), fmt(-Infinity)],
                   ['0.333', '-1.50', '2', 'NaN', '-Infinity']);
  assert.deepEqual([signed(-0.5), signed(0), signed(2)], ['−0.500', '+0.000', '+2.000']);
});

test('the slider: a frame\'s pictures where the method has them, else the trained model\'s', () => {
  const picturesAt = js('picturesAt');
  const block = (pixels) => ({shape: [1, 1, 2], pixels: pixels, legend: []});
  const frames = [{step: 0, test_accuracy: 0.1, methods: {linear: [block('AQI=')]}},
                  {step: 8, test_accuracy: 0.5, methods: {linear: [block('AwQ=')]}}];
  const linear = {name: 'linear', layers: [block('BQY=')]};
  const seed = {name: 'seed', layers: [block('BwA=')]};
  const at = (method, position) => {
    const {block: shown, when} = picturesAt(frames, position, method, 0);
    return [Array.from(shown.pixels), when];
  };
  assert.deepEqual(at(linear, 0), [[1, 2], 'step 0']);
  assert.deepEqual(at(linear, 1), [[3, 4], 'step 8']);
  assert.deepEqual(at(linear, 2), [[5, 6], '']);  // the last position: the trained model
  assert.deepEqual(at(seed, 1), [[7, 0], 'trained']);  // no frames for seed
  assert.deepEqual(Array.from(picturesAt([], 0, seed, 0).block.pixels), [7, 0]);
  assert.equal(picturesAt([], 0, {name: 'none', layers: [null]}, 0).block, null);

  const positionLabel = js('positionLabel');
  assert.equal(positionLabel(frames, 1, 40, 0.9), 'step 8 · test accuracy 0.5000');
  assert.equal(positionLabel(frames, 2, 40, 0.91234), 'trained model (step 40) · test accuracy 0.9123');
  assert.equal(positionLabel(frames, 2, null, null), 'trained model');
});

test('cell colours: a neutral lighter than the panel at 0, warm then hot up to 1, cool down to -1', () => {
  const cellColour = js('cellColour');
  assert.deepEqual([0, 0.375, 0.75, 1, -1, -2].map(cellColour),
                   ['rgb(44,52,70)', 'rgb(150,115,66)', 'rgb(255,178,62)', 'rgb(255,240,200)',
                    'rgb(90,167,255)', 'rgb(90,167,255)']);
});

test('the gallery says why a method draws nothing for a layer', () => {
  const missingNote = load('gallery')('missingNote');
  assert.equal(missingNote({name: 'maximize', layers: [null, null, {}]}, 3),
               'maximize draws the output layer only (a hidden layer would take minutes).');
  assert.equal(missingNote({name: 'x', layers: [{}, null, {}]}, 3),
               'x draws no pictures of this layer.');
});
