"""A 2D correlation stereo network (DispNet-C style, CPU-sized)."""
from __future__ import annotations

import torch
import torch.nn as nn

from ._blocks import Decoder, Encoder, shift_right


class CorrStereo(nn.Module):
    """Shared encoder, a 1D correlation layer at 1/4 resolution, a 2D U-Net decoder.

    ``max_disp`` is in full-resolution pixels; the correlation covers ``max_disp // 4 + 1``
    shifts at 1/4 resolution. Output: left disparity (B, 1, H, W) in [0, max_disp].
    """

    def __init__(self, width: int = 16, max_disp: int = 32):
        super().__init__()
        self.max_disp = float(max_disp)
        self.shifts = max_disp // 4 + 1
        self.enc = Encoder(3, width)
        self.dec = Decoder(width, cin_bottom=4 * width + self.shifts)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        fl, fr = self.enc(left), self.enc(right)
        a, b = fl[2], fr[2]
        corr = torch.cat([(a * shift_right(b, d)).mean(1, keepdim=True) for d in range(self.shifts)], 1)
        bottom = torch.cat([a, corr], 1)
        return self.max_disp * self.dec(fl, bottom)
