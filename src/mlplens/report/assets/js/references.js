// The data's own test images as a strip of thumbnails to click, for a model without the drawing
// pad (any but MNIST's 28x28 grey): choose(index) shows test image `index`.

// digits: decodeDigits' images; shape: [H, W, channels]; labelName(label): what a label is
// called.
function createReferences({container, digits, shape, labelName, choose}) {
  const [H, W, C] = shape, size = H * W * C;
  const scale = Math.max(1, Math.floor(40 / Math.max(H, W)));
  const gray = grayPalette();
  const buttons = [];
  for (let index = 0; index < digits.count; index++) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reference';
    button.dataset.index = String(index);
    const name = labelName(digits.labels[index]);
    button.title = 'test image #' + index + ', labelled ' + name;
    button.setAttribute('aria-label', button.title);
    const canvas = document.createElement('canvas');
    paintPicture(canvas, digits.pixels.subarray(index * size, (index + 1) * size), W, H, C, gray);
    canvas.style.width = W * scale + 'px';
    canvas.style.height = H * scale + 'px';
    button.append(canvas);
    button.addEventListener('click', () => choose(index));
    container.append(button);
    buttons.push(button);
  }

  // Marks the test image shown (-1: none).
  function mark(index) {
    for (let i = 0; i < buttons.length; i++) buttons[i].classList.toggle('shown', i === index);
  }
  return {mark: mark};
}
