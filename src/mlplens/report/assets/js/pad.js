// The drawing pad: paints a drawing (a test digit, strokes of white ink on top); reports pointer
// strokes, in the canvas's pixels, to handlers.start(point), .extend(points) and .end().

const STROKE_WIDTH = 19;

function createPad(canvas, digitShape, handlers) {
  const context = canvas.getContext('2d');
  const [digitHeight, digitWidth] = digitShape;
  const ink = inkPalette();

  function padPoint(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }
  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    handlers.start(padPoint(event));
  });
  canvas.addEventListener('pointermove', (event) => {
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    handlers.extend((events.length ? events : [event]).map(padPoint));
  });
  canvas.addEventListener('pointerup', handlers.end);
  canvas.addEventListener('pointercancel', handlers.end);

  function paintDigit(pixels) {  // one pixel per value, then scaled up to the pad unsmoothed
    const small = document.createElement('canvas');
    paintPixels(small, pixels, digitWidth, digitHeight, ink);
    context.imageSmoothingEnabled = false;
    context.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function paintStroke(points) {
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineWidth = STROKE_WIDTH;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    if (points.length === 1) {
      context.beginPath();
      context.arc(points[0][0], points[0][1], STROKE_WIDTH / 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(points[0][0], points[0][1]);
    for (let i = 1; i < points.length; i++) context.lineTo(points[i][0], points[i][1]);
    context.stroke();
  }

  return {
    // digitPixels: a test digit's uint8 pixels, or null for a blank pad.
    paint(digitPixels, strokes) {
      context.clearRect(0, 0, canvas.width, canvas.height);
      if (digitPixels !== null) paintDigit(digitPixels);
      for (const stroke of strokes) paintStroke(stroke);
    },
    width: canvas.width,
  };
}
