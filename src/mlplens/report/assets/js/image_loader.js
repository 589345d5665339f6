// Loading a picture (PNG or JPEG) as the input: from the file picker, a drop anywhere on the
// page or a paste. It is decoded by an <img> from an object URL (the page's policy admits blob:
// images) and read back from a canvas; the chosen mode turns its pixels into 28x28, which
// show(pixels, label, picture) hands to the page. Changing the mode redoes the picture shown.
// target {height, width, channels, asIsOnly}: the model's input. With asIsOnly (any model but
// MNIST's 28x28 grey) every picture is resized as it is, in colour for a colour model.

function createImageLoader({elements, show, shownPicture, target}) {
  const {button, file, mode, message} = elements;
  const {height: H, width: W, channels, asIsOnly} = target;
  let last = null;  // the last picture read: {name, values (grey, or RGB), height, width}

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  async function decode(blob) {
    const url = URL.createObjectURL(blob);
    try {
      const image = new Image();
      image.src = url;
      await image.decode();
      return image;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  async function load(blob) {
    const name = blob.name || 'the pasted image';
    const kind = imageKind(new Uint8Array(await blob.slice(0, 8).arrayBuffer()));
    if (!kind) {
      say(name + ' is not a PNG or JPEG image.');
      return;
    }
    let image;
    try {
      image = await decode(blob);
    } catch {
      say(name + ' could not be decoded: a damaged ' + kind + ' file?');
      return;
    }
    const width = image.naturalWidth, height = image.naturalHeight;
    if (width * height > IMAGE_MAX_PIXELS) {
      say(name + ' is ' + width + '×' + height + ' pixels, too large' +
          (asIsOnly ? '.' : ' for a digit.'));
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d', {willReadFrequently: true});
    context.drawImage(image, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    last = {name, values: channels === 3 ? rgbOf(rgba) : greyOf(rgba), height, width};
    apply(last);
  }

  function apply(picture) {
    const {name, values: grey, height, width} = picture;
    if (asIsOnly || mode.value === 'as-is') {
      say('');
      show(resizeAsIs(grey, height, width, channels, H, W), name + ' as it is, area-averaged to ' +
           H + '×' + W + (channels === 3 ? ', in colour' : ''), picture);
      return;
    }
    const found = inkOf(grey, height, width);
    if (!found) {
      say(name + ' is one flat colour: there is no digit in it.');
      return;
    }
    say('');
    show(mnistLike(found.ink, height, width), name + ' made MNIST-like (' +
         (found.inverted ? 'inverted, ' : '') + 'fitted into 20×20, centred by mass)', picture);
  }

  function loadFirst(files) {
    if (files && files.length) load(files[0]);
  }

  button.addEventListener('click', () => file.click());
  file.addEventListener('change', () => {
    loadFirst(file.files);
    file.value = '';  // the same file chosen again is a change again
  });
  mode.addEventListener('change', () => {
    if (last && shownPicture() === last) apply(last);
  });
  // Anywhere on the page: a file dropped elsewhere would otherwise replace the page.
  document.addEventListener('dragover', (event) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (event) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    loadFirst(event.dataTransfer.files);
  });
  document.addEventListener('paste', (event) => {
    const files = event.clipboardData ? event.clipboardData.files : null;
    if (!files || !files.length) {
      say('Nothing to load: the clipboard holds no image file.');
      return;
    }
    event.preventDefault();
    loadFirst(files);
  });

  return {open: () => file.click()};
}
