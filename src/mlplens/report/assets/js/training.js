// Watching it learn: a slider over pictures at chosen training snapshots, then the trained
// model's. Position p < frames.length is frame p; the last position is the trained model.

// The pictures of method for layer k at a slider position (the trained model's when the method
// has no frame there), and a note saying which.
function picturesAt(frames, position, method, k) {
  if (position < frames.length && frames[position].methods[method.name]) {
    return {block: pictureBlock(frames[position].methods[method.name][k]),
            when: 'step ' + frames[position].step};
  }
  return {block: pictureBlock(method.layers[k]),
          when: frames.length && position < frames.length ? 'trained' : ''};
}

// finalStep: the trained model's step, if it is the run's last snapshot (else null);
// accuracy: its test accuracy, or null.
function positionLabel(frames, position, finalStep, accuracy) {
  if (position < frames.length) {
    const frame = frames[position];
    return 'step ' + frame.step + ' · test accuracy ' + fmt(frame.test_accuracy, 4);
  }
  return 'trained model' + (finalStep !== null ? ' (step ' + finalStep + ')' : '') +
    (accuracy !== null ? ' · test accuracy ' + fmt(accuracy, 4) : '');
}

// elements: section, slider, label, play, note. Shown only when there are frames; moves go to
// setPosition(position), which is expected to call show().
function createTraining({elements, frameData, accuracy, state, setPosition}) {
  const frames = frameData ? frameData.frames : [];
  const last = frames.length;  // the trained model's position
  const finalStep = frameData ? frameData.final_step : null;
  const {slider, label, play} = elements;
  let playing = null;

  function stop() {
    clearInterval(playing);
    playing = null;
    play.textContent = 'Play';
  }

  if (frames.length) {
    elements.section.hidden = false;
    slider.max = String(last);
    const methods = Object.keys(frames[0].methods).join(', ');
    elements.note.textContent = 'The pictures (' + methods + ') at ' + frames.length +
      ' of the run\'s ' + frameData.snapshot_count + ' training snapshots, then the trained ' +
      'model. The prediction above always uses the trained weights.';
    slider.addEventListener('input', () => setPosition(Number(slider.value)));
    play.addEventListener('click', () => {
      if (playing) { stop(); return; }
      if (state.position >= last) setPosition(0);
      play.textContent = 'Pause';
      playing = setInterval(() => {
        if (state.position >= last) { stop(); return; }
        setPosition(state.position + 1);
      }, 600);
    });
  }

  return {
    frames: frames,
    last: last,
    show(position) {
      slider.value = String(position);
      label.textContent = positionLabel(frames, position, finalStep, accuracy);
      slider.setAttribute('aria-valuetext', label.textContent);
    },
  };
}
