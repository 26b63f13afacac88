"""A 3D cost-volume stereo network with soft-argmin (GC-Net style, CPU-sized)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._blocks import Encoder, mixed_part, output_layer, shift_right


class CostVolumeStereo(nn.Module):
    """Concatenation cost volume at 1/4 resolution, 3D convolutions, soft-argmin.

    The cost volume is upsampled to full resolution (trilinear) before the soft-argmin so
    that the regression is over ``max_disp // 4 + 1`` hypotheses spaced 4 px apart scaled
    back to full-resolution pixels.
    """

    def __init__(self, width: int = 8, max_disp: int = 32):
        super().__init__()
        self.levels = max_disp // 4 + 1
        self.enc = Encoder(3, width)
        c = 4 * width
        self.agg = mixed_part(nn.Sequential(
            nn.Conv3d(2 * c, width, 3, 1, 1), nn.ELU(inplace=True),
            nn.Conv3d(width, width, 3, 1, 1), nn.ELU(inplace=True),
            output_layer(nn.Conv3d(width, 1, 3, 1, 1)),
        ))

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        a, b = self.enc(left)[2], self.enc(right)[2]
        vol = torch.stack([torch.cat([a, shift_right(b, d)], 1) for d in range(self.levels)], 2)
        cost = self.agg(vol)  # (B, 1, D, h, w)
        cost = F.interpolate(cost, size=(self.levels, *left.shape[-2:]), mode="trilinear", align_corners=False)
        prob = torch.softmax(-cost.squeeze(1), dim=1)  # (B, D, H, W)
        disps = 4.0 * torch.arange(self.levels, dtype=left.dtype, device=left.device).view(1, -1, 1, 1)
        return (prob * disps).sum(1, keepdim=True)
