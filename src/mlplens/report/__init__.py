"""Self-contained HTML: the interactive explorer of one network and the report of a reproduce run.

Templates, CSS and JavaScript are package assets (report/assets/); `pagedata` builds what the
explorer shows, `page` fills the templates. Nothing here imports Keras.
"""

from __future__ import annotations

from .explorer import all_views, build_explorer, write_explorer
from .pagedata import explorer_data, snapshot_frames
from .prep import mnist_like
from .stats import NodeStats, contributions, node_statistics

__all__ = ["NodeStats", "all_views", "build_explorer", "contributions", "explorer_data",
           "mnist_like", "node_statistics", "snapshot_frames", "write_explorer"]
