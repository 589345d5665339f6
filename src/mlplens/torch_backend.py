"""The one place mlplens imports torch: only to read a live `torch.nn.Module` (`stack_from`).

torch is never a dependency: a module object can only exist where torch is installed, and
files from torch (safetensors state_dicts, ONNX) are read without it.
"""

from __future__ import annotations

from typing import Any


def import_torch() -> Any:
    """torch, with the submodules the module reader uses (torch.fx, torch.nn.functional)."""
    import torch
    import torch.fx
    import torch.nn.functional

    return torch
