"""A per-pixel disparity field: no network, one free parameter per pixel."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class DisparityField(nn.Module):
    """Optimises the disparity of one image directly (the loss landscape without a network prior).

    Disparity = ``max_disp * sigmoid(theta)``, one ``theta`` per pixel of a (H, W) grid.
    ``forward(left, right)`` ignores the images except for their size: the field is resized
    bilinearly when they differ from the grid.
    """

    def __init__(self, height: int = 64, width: int = 128, max_disp: float = 32.0, init: float = 0.25):
        super().__init__()
        self.max_disp = float(max_disp)
        p = torch.full((1, 1, height, width), float(torch.logit(torch.tensor(init))))
        self.theta = nn.Parameter(p)

    @torch.no_grad()
    def set_disparity(self, disparity: torch.Tensor) -> None:
        """Start the field at a given disparity (1, 1, H, W), e.g. the ground truth (clamped inside (0, max_disp))."""
        d = disparity.to(self.theta.dtype)
        if d.shape[-2:] != self.theta.shape[-2:]:
            raise ValueError(f"disparity {tuple(d.shape[-2:])} does not match the field grid {tuple(self.theta.shape[-2:])}")
        d = torch.nan_to_num(d, nan=0.0).clamp(1e-3 * self.max_disp, (1 - 1e-3) * self.max_disp)
        self.theta.copy_(torch.logit(d / self.max_disp).reshape(self.theta.shape))

    def forward(self, left: torch.Tensor, right: torch.Tensor | None = None) -> torch.Tensor:
        d = self.max_disp * torch.sigmoid(self.theta)
        if d.shape[-2:] != left.shape[-2:]:
            d = F.interpolate(d, size=left.shape[-2:], mode="bilinear", align_corners=False)
        return d.expand(left.shape[0], -1, -1, -1)
