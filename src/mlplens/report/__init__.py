"""Self-contained HTML: the interactive explorer of one network and the report of a reproduce run.

Templates, CSS and JavaScript are package assets (report/assets/); `pagedata` builds what the
explorer shows, `page` fills the templates. Nothing here imports Keras.
"""

from __future__ import annotations

from .explorer import all_views, build_explorer, refuse_tables, write_explorer
from .pagedata import explorer_data, snapshot_frames

__all__ = ["all_views", "build_explorer", "explorer_data", "refuse_tables", "snapshot_frames",
           "write_explorer"]
