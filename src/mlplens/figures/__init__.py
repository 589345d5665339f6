"""Figures written to a folder: every layer of a stack, the article reproduced, the views beyond
it, training evolution. Each joins `core` (computing), `render` (drawing) and `output` (writing)."""
