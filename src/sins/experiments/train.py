"""Entry point of one training run: ``sins experiments train CONFIG`` and, under torchrun,
``python -m sins.experiments.train CONFIG OUT [--resume]``.

The run is split along the data's way: :mod:`.config` (what to run) -> :mod:`.objectives` (what is
minimised) -> :mod:`.loop` (steps, checkpoints, DDP) -> :mod:`.evaluation` (held-out L_syn and
errors, per cause). This module re-exports the pieces a caller needs.
"""
from __future__ import annotations

import sys

from .config import Config, ConfigError, load_config, validate_config
from .loop import NonFiniteLoss, main, train
from .objectives import proxy_disparity

__all__ = ["Config", "ConfigError", "NonFiniteLoss", "load_config", "main", "proxy_disparity", "train", "validate_config"]

if __name__ == "__main__":
    sys.exit(main())
