"""One input's circuit: the net linearised at an input, each node's contribution to the logit,
the exact decomposition into pixels, biases, nodes and edges, node scores and interventions."""
