// A loaded picture's pixels -> the model's input, in one of two ways: made MNIST-like (the
// steps of mlplens.digit_image.read_digit) or used as it is, at any size and in colour
// (mlplens.core.mnist_like.as_is). Those are the references: the same arithmetic, the same
// rounding. Needs mnist_like.js.

const IMAGE_NOISE = 0.15;  // digit_image.NOISE: fainter ink is paper grain or JPEG ringing
const IMAGE_MAX_PIXELS = 40000000;  // digit_image.MAX_PIXELS: a bigger picture is no digit

// 'PNG' or 'JPEG' from a file's first bytes, or null: the file's name or type may lie.
function imageKind(bytes) {
  const starts = (magic) => magic.every((value, i) => bytes[i] === value);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'PNG';
  if (starts([0xff, 0xd8, 0xff])) return 'JPEG';
  return null;
}

// RGBA bytes (a canvas's getImageData) -> uint8 grey, as Pillow's convert('L') computes it
// (ITU-R 601-2 luma in 16-bit fixed point); alpha is ignored, as there.
function greyOf(rgba) {
  const grey = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < grey.length; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    grey[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  return grey;
}

function median(values) {
  const sorted = Float64Array.from(values).sort(), half = sorted.length >> 1;
  return sorted.length % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

// uint8 grey, height x width -> {ink: values in [0, 1], inverted}, or null when no ink is left
// (a flat picture): digit_image.ink_of. The border's median is the background; a light one
// means dark ink on paper, which MNIST has the other way round.
function inkOf(grey, height, width) {
  const border = [];
  for (let c = 0; c < width; c++) border.push(grey[c] / 255);
  for (let c = 0; c < width; c++) border.push(grey[(height - 1) * width + c] / 255);
  for (let r = 0; r < height; r++) border.push(grey[r * width] / 255);
  for (let r = 0; r < height; r++) border.push(grey[r * width + width - 1] / 255);
  let background = median(border);
  const inverted = background > 0.5;
  if (inverted) background = 1 - background;
  if (background >= 1) return null;
  const ink = new Float64Array(grey.length);
  let any = false;
  for (let i = 0; i < grey.length; i++) {
    const level = inverted ? 1 - grey[i] / 255 : grey[i] / 255;
    const value = Math.min(1, Math.max(0, (level - background) / (1 - background)));
    ink[i] = value < IMAGE_NOISE ? 0 : value;
    if (ink[i] > 0) any = true;
  }
  return any ? {ink, inverted} : null;
}

// RGBA bytes -> interleaved RGB, alpha ignored (as Pillow's convert('RGB') of an opaque picture).
function rgbOf(rgba) {
  const rgb = new Uint8Array(rgba.length / 4 * 3);
  for (let i = 0, n = rgba.length / 4; i < n; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return rgb;
}

// uint8 values, height x width x channels (interleaved) -> uint8 outH x outW x channels by area
// averaging alone, each channel on its own: mnist_like.as_is(picture, (outH, outW)).
function resizeAsIs(values, height, width, channels, outH, outW) {
  const ay = boxWeights(height, outH), ax = boxWeights(width, outW);
  const out = new Uint8Array(outH * outW * channels);
  const tall = new Float64Array(outH * width);  // ay @ one channel
  for (let ch = 0; ch < channels; ch++) {
    tall.fill(0);
    for (let i = 0; i < outH; i++) {
      for (let r = 0; r < height; r++) {
        const weight = ay[i * height + r];
        if (weight === 0) continue;
        for (let c = 0; c < width; c++) {
          tall[i * width + c] += weight * (values[(r * width + c) * channels + ch] / 255);
        }
      }
    }
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let sum = 0;
        for (let c = 0; c < width; c++) sum += tall[i * width + c] * ax[j * width + c];
        out[(i * outW + j) * channels + ch] = Math.min(255, Math.max(0, Math.floor(sum * 255 + 0.5)));
      }
    }
  }
  return out;
}
