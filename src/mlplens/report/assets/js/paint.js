// Pictures of uint8 values onto canvases. A palette gives each value 0..255 its colour as four
// bytes (RGBA); every picture of the page is painted by paintPixels through one.

// Size a canvas to cssW x cssH CSS pixels, backed by as many device pixels as the screen has, so
// pictures stay sharp on high-density screens; the ratio of device to CSS pixels.
function sizeCanvas(canvas, cssW, cssH) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssW * ratio);
  canvas.height = Math.round(cssH * ratio);
  canvas.style.width = cssW + 'px';
  canvas.style.height = cssH + 'px';
  return ratio;
}

// A colormap of the data block (256 RGB triples) as an opaque palette.
function paletteFromColormap(rgb) {
  const palette = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    palette[4 * v] = rgb[3 * v];
    palette[4 * v + 1] = rgb[3 * v + 1];
    palette[4 * v + 2] = rgb[3 * v + 2];
    palette[4 * v + 3] = 255;
  }
  return palette;
}

// Value v is grey (v, v, v): the input as the network sees it.
function grayPalette() {
  const palette = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    palette[4 * v] = palette[4 * v + 1] = palette[4 * v + 2] = v;
    palette[4 * v + 3] = 255;
  }
  return palette;
}

// Value v is white ink of opacity v: a test digit on the drawing pad, whose ink is its alpha.
function inkPalette() {
  const palette = new Uint8ClampedArray(256 * 4).fill(255);
  for (let v = 0; v < 256; v++) palette[4 * v + 3] = v;
  return palette;
}

// The RGBA bytes (into rgba, 4 per value) of values coloured by palette.
function colourPixels(values, palette, rgba) {
  for (let i = 0; i < values.length; i++) {
    const at = 4 * values[i];
    rgba[4 * i] = palette[at];
    rgba[4 * i + 1] = palette[at + 1];
    rgba[4 * i + 2] = palette[at + 2];
    rgba[4 * i + 3] = palette[at + 3];
  }
}

// Sizes canvas to width x height and paints values (row-major) on it, one pixel per value.
function paintPixels(canvas, values, width, height, palette) {
  canvas.width = width;
  canvas.height = height;
  const image = new ImageData(width, height);
  colourPixels(values, palette, image.data);
  canvas.getContext('2d').putImageData(image, 0, 0);
}

// The RGBA bytes of interleaved RGB values (a colour picture or input): drawn as they are.
function rgbPixels(values, rgba) {
  for (let i = 0, n = values.length / 3; i < n; i++) {
    rgba[4 * i] = values[3 * i];
    rgba[4 * i + 1] = values[3 * i + 1];
    rgba[4 * i + 2] = values[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
}

// paintPixels for a picture of 1 channel (coloured by palette) or 3 (RGB, drawn as it is).
function paintPicture(canvas, values, width, height, channels, palette) {
  if (channels !== 3) {
    paintPixels(canvas, values, width, height, palette);
    return;
  }
  canvas.width = width;
  canvas.height = height;
  const image = new ImageData(width, height);
  rgbPixels(values, image.data);
  canvas.getContext('2d').putImageData(image, 0, 0);
}

// Node `node`'s picture of a decoded picture block on canvas.
function paintNode(canvas, block, node, palette) {
  const size = block.w * block.h * block.c;
  paintPicture(canvas, block.pixels.subarray(node * size, (node + 1) * size), block.w, block.h,
               block.c, palette);
}
