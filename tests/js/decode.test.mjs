import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('decode');

test('bytes come out of base64 as they went in', () => {
  assertNumbers(js('bytesFromBase64')('AAEC/w=='), [0, 1, 2, 255]);
  assertNumbers(js('bytesFromBase64')(''), []);
});

test('float32 little-endian bytes become a Float32Array', () => {
  // 1, -2.5 and 0.1 as NumPy writes them: 0000803f 000020c0 cdcccc3d
  const floats = js('floatsFromBase64')('AACAPwAAIMDNzMw9');
  assert.equal(floats.constructor.name, 'Float32Array');
  assertNumbers(floats, [1, -2.5, 0.10000000149011612]);
});

test('a picture block is decoded once, on first use', () => {
  const block = {shape: [3, 1, 2], pixels: 'AQIDBAUG', legend: ['0', '', '1']};
  const decoded = js('pictureBlock')(block);
  assert.deepEqual([decoded.n, decoded.h, decoded.w], [3, 1, 2]);
  assertNumbers(decoded.pixels, [1, 2, 3, 4, 5, 6]);
  assert.equal(decoded.legend, block.legend);
  assert.equal(js('pictureBlock')(block), decoded);
  assert.equal(js('pictureBlock')(null), null);
});

test('layers, digits and colormaps from a data block', () => {
  const data = {
    layers: [{name: 'hidden', units: 2, inputs: 4, activation: 'relu',
              kernel: 'AACAPwAAAAAAAABAAACAvwAAAAAAAIA/AACAvwAAQEA=', bias: 'AACAPwAAAMA='}],
    stats: {layers: [{firing_fraction: 'AACAPwAAIMDNzMw9', mean_activation: 'AACAPwAAAMA=',
                      class_means: 'AACAPw==', classes: 1, colour_scale: 2.5,
                      extra: {selectivity: 'AAAgwA=='}}]},
    digits: {pixels: 'AQIDBAUG', labels: 'AAEC/w==', count: 1},
    colormaps: {gray: 'AAEC', hot: 'AQID'},
  };
  const [layer] = js('decodeLayers')(data);
  assert.deepEqual([layer.name, layer.units, layer.inputs, layer.activation],
                   ['hidden', 2, 4, 'relu']);
  assertNumbers(layer.kernel, [1, 0, 2, -1, 0, 1, -1, 3]);  // (inputs, units), row-major
  assertNumbers(layer.bias, [1, -2]);
  assertNumbers(layer.stats.firingFraction, [1, -2.5, 0.10000000149011612]);
  assertNumbers(layer.stats.meanActivation, [1, -2]);
  assertNumbers(layer.stats.classMeans, [1]);
  assertNumbers(layer.stats.extra.selectivity, [-2.5]);
  assert.deepEqual([layer.stats.classes, layer.stats.colourScale], [1, 2.5]);
  const digits = js('decodeDigits')(data);
  assertNumbers(digits.pixels, [1, 2, 3, 4, 5, 6]);
  assertNumbers(digits.labels, [0, 1, 2, 255]);
  assert.equal(digits.count, 1);
  assert.equal(digits.brightness, null);  // uint8 images: the pixels are all there is
  const colormaps = js('decodeColormaps')(data);
  assert.deepEqual(Object.keys(colormaps), ['gray', 'hot']);
  assertNumbers(colormaps.hot, [1, 2, 3]);
});

test('a colour block knows its channels; float test images bring their brightness', () => {
  const colour = js('pictureBlock')({shape: [1, 1, 2, 3], pixels: 'AQIDBAUG', legend: []});
  assert.deepEqual([colour.n, colour.h, colour.w, colour.c], [1, 1, 2, 3]);
  assert.equal(js('pictureBlock')({shape: [1, 1, 2], pixels: 'AQI=', legend: []}).c, 1);
  const digits = js('decodeDigits')({digits: {pixels: 'AQI=', labels: 'AA==', count: 1,
                                               brightness: 'AACAPwAAIMA='}});
  assertNumbers(digits.brightness, [1, -2.5]);
});
