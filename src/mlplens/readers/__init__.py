"""Safe readers of the array files a user's data comes in (.npz, IDX, NumPy-only pickles): every
header checked before anything is read or inflated, no Python objects unpickled, memory bounded.
They know no dataset; a known one (MNIST) passes its bound as `Expected`."""
