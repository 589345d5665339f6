// Numbers as the page writes them.

function fmt(value, digitsAfter) {
  if (!isFinite(value)) return String(value);
  return value.toFixed(digitsAfter === undefined ? 3 : digitsAfter);
}

// With its sign always shown, and a true minus sign.
function signed(value) {
  return (value >= 0 ? '+' : '−') + fmt(Math.abs(value));
}
