import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('paint');

// The RGBA of values 0, 1, 128, 255 under palette.
function colours(palette) {
  const rgba = new Uint8ClampedArray(4 * 4);
  js('colourPixels')(Uint8Array.of(0, 1, 128, 255), palette, rgba);
  return rgba;
}

test('a colormap (256 RGB triples) becomes an opaque palette', () => {
  const rgb = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) rgb.set([v, 255 - v, (7 * v) % 256], 3 * v);
  assertNumbers(colours(js('paletteFromColormap')(rgb)),
                [0, 255, 0, 255, 1, 254, 7, 255, 128, 127, 128, 255, 255, 0, 249, 255]);
});

test('gray shows a value as its grey, opaque', () => {
  assertNumbers(colours(js('grayPalette')()),
                [0, 0, 0, 255, 1, 1, 1, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
});

test('ink is white, as opaque as the value', () => {
  assertNumbers(colours(js('inkPalette')()),
                [255, 255, 255, 0, 255, 255, 255, 1, 255, 255, 255, 128, 255, 255, 255, 255]);
});

test('a colour picture\'s RGB values are drawn as they are, opaque', () => {
  const rgba = new Uint8ClampedArray(8);
  js('rgbPixels')(Uint8Array.of(255, 0, 10, 1, 2, 3), rgba);
  assertNumbers(rgba, [255, 0, 10, 255, 1, 2, 3, 255]);
});
