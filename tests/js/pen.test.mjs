import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('mnist_like', 'pen', 'enough_ink');
const PEN = 2.5;

// The rows (from top, left) of the box that holds every non-zero pixel; the rest is 0.
function field(top, left, rows) {
  const out = new Array(28 * 28).fill(0);
  rows.forEach((row, i) => row.forEach((v, j) => { out[(top + i) * 28 + left + j] = v; }));
  return out;
}

test('the pen: full within its radius, fading over one pixel, its width across a line', () => {
  // A line from (1, 1.5) to (3, 1.5): rows at distance 1 from it get 1.75 - 1 = 0.75; the
  // corner pixels' centres are sqrt(0.5² + 1²) from the line's ends.
  const corner = 1.75 - Math.sqrt(1.25);
  assertNumbers(js('penInk')([[[1, 1.5], [3, 1.5]]], 3, 4, PEN),
                [corner, 0.75, 0.75, corner, 1, 1, 1, 1, corner, 0.75, 0.75, corner]);
  assertNumbers(js('penInk')([], 1, 2, PEN), [0, 0]);
});

// What mlplens.core.mnist_like.strokes_like (the NumPy reference) makes of the same strokes.
test('a single dot: the pen\'s disk, centred by mass', () => {
  assertNumbers(js('strokesLike')([[[5, 7]]], PEN),
                field(13, 13, [[176, 245, 75], [245, 255, 121], [75, 121, 0]]));
});

test('a cross of any size: 20 px wide with the pen, the same strokes', () => {
  const small = js('strokesLike')([[[0, 0], [30, 30]], [[30, 0], [0, 30]]], PEN);
  const large = js('strokesLike')([[[0, 0], [270, 270]], [[270, 0], [0, 270]]], PEN);
  assertNumbers(large, small);
  const top = [[176, 245, 86, 0], [245, 255, 255, 86], [86, 255, 255, 255, 86]];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < top[i].length; j++) {
      assert.equal(small[(4 + i) * 28 + 4 + j], top[i][j]);
      assert.equal(small[(4 + i) * 28 + 23 - j], top[i][j]);  // mirrored
    }
  }
  assert.equal(small[13 * 28 + 13], 255);
  assert.equal(small[3 * 28 + 4] + small[24 * 28 + 4] + small[4 * 28 + 3] + small[4 * 28 + 24], 0);
});

test('a seven: the top bar drawn across 2.5 rows, the stem at 2.5 px across', () => {
  const out = js('strokesLike')([[[10, 10], [90, 10], [40, 110]]], PEN);
  assertNumbers(Array.from(out.subarray(7 * 28 + 5, 7 * 28 + 22)),
                [176, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 245, 75]);
  assertNumbers(Array.from(out.subarray(9 * 28 + 5, 9 * 28 + 22)),
                [75, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 190, 255, 247, 19]);
  assertNumbers(Array.from(out.subarray(26 * 28 + 5, 26 * 28 + 13)), [0, 0, 0, 0, 0, 128, 255, 128]);
  assert.equal(out.slice(0, 7 * 28).some((v) => v > 0), false);
});

test('no strokes: an empty field', () => {
  assertNumbers(js('strokesLike')([], PEN), new Array(28 * 28).fill(0));
});

test('strokes on a test digit: drawn where they are, the more inked pixel wins', () => {
  const digit = new Uint8Array(28 * 28);
  digit[10 * 28 + 10] = 200;
  digit[4 * 28 + 9] = 50;  // under the stroke: the stroke's 255 wins
  const out = js('strokesOnto')(digit, [[[100, 50], [100, 70]]], 0.1, PEN);
  assertNumbers(out, field(3, 8, [[0, 43, 43, 0], [43, 255, 255, 43], [64, 255, 255, 64],
                                  [64, 255, 255, 64], [43, 255, 255, 43], [0, 43, 43, 0],
                                  [0, 0, 0, 0], [0, 0, 200, 0]]));
});

test('enough ink: at least minRows rows and minInk pixels of ink', () => {
  const enoughInk = js('enoughInk');
  const rows = (count, value) => {
    const pixels = new Uint8Array(28 * 28);
    for (let r = 0; r < count; r++) pixels[(5 + r) * 28 + 3] = value;
    return pixels;
  };
  assert.equal(enoughInk(rows(6, 255), 28, 6, 6), true);
  assert.equal(enoughInk(rows(5, 255), 28, 6, 5), false);  // too few rows
  assert.equal(enoughInk(rows(6, 254), 28, 6, 6), false);  // too little ink
  assert.equal(enoughInk(new Uint8Array(28 * 28), 28, 0, 0), false);  // none at all
});
