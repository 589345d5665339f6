"""A hidden layer's sparse dictionary: its features, how well it reconstructs the layer, the
features drawn like nodes, and how polysemantic the nodes are."""
