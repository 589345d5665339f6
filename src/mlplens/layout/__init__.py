"""What a figure shows and where, before anything is drawn: a projection normalised and captioned
(`views`), a tabular node's bars (`bars`), a diagram's nodes, edges and positions (`diagram`).

Pure NumPy over core's numbers; `render` draws the results without importing this package."""
