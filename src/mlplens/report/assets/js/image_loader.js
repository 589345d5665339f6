// Loading a picture (PNG or JPEG) as the input: from the file picker, a drop anywhere on the
// page or a paste. It is decoded by an <img> from an object URL (the page's policy admits blob:
// images) and read back from a canvas; the chosen mode turns its pixels into 28x28, which
// show(pixels, label, picture) hands to the page. Changing the mode redoes the picture shown.

function createImageLoader({elements, show, shownPicture}) {
  const {button, file, mode, message} = elements;
  let last = null;  // the last picture read: {name, grey, height, width}

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
      say(name + ' is ' + width + '×' + height + ' pixels, too large for a digit.');
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d', {willReadFrequently: true});
    context.drawImage(image, 0, 0);
    last = {name, grey: greyOf(context.getImageData(0, 0, width, height).data), height, width};
    apply(last);
  }

  function apply(picture) {
    const {name, grey, height, width} = picture;
    if (mode.value === 'as-is') {
      say('');
      show(asIs(grey, height, width), name + ' as it is, area-averaged to 28×28', picture);
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
