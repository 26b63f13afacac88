"""A monocular U-Net trained on stereo pairs (Monodepth style)."""
from __future__ import annotations

import torch
import torch.nn as nn

from ._blocks import Decoder, Encoder


class MonoUNet(nn.Module):
    """Predicts the left disparity from the left image alone; ``right`` is only used by the loss."""

    def __init__(self, width: int = 16, max_disp: float = 32.0):
        super().__init__()
        self.max_disp = float(max_disp)
        self.enc = Encoder(3, width)
        self.dec = Decoder(width)

    def forward(self, left: torch.Tensor, right: torch.Tensor | None = None) -> torch.Tensor:
        return self.max_disp * self.dec(self.enc(left))
