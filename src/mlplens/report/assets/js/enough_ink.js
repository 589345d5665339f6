// Whether an input has ink enough to be read as a digit: a dot or a short dash, fitted into
// MNIST's box, would be called some digit with confidence, but no MNIST digit is that small.
// mlplens.core.mnist_like.enough_ink is the reference; minRows and minInk come from there.

// pixels: uint8 rows of width values.
function enoughInk(pixels, width, minRows, minInk) {
  let first = -1, last = -1, ink = 0;
  for (let i = 0; i < pixels.length; i++) {
    if (pixels[i] > 0) {
      const row = Math.floor(i / width);
      if (first < 0) first = row;
      last = row;
      ink += pixels[i];
    }
  }
  return first >= 0 && last - first + 1 >= minRows && ink / 255 >= minInk;
}
