"""A per-pixel disparity field: no network, one free parameter per pixel of each scene."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class DisparityField(nn.Module):
    """Optimises the disparity of each image directly (the loss landscape without a network prior).

    Disparity = ``max_disp * sigmoid(theta)``, one ``theta`` per pixel of a (H, W) grid and per scene.
    With ``names`` (the samples' names) the field holds one grid per scene and
    ``forward(left, right, names=[...])`` returns the grids of those scenes; with a single scene the
    grid is shared by every sample. The field is resized bilinearly when the images differ from the grid.
    """

    #: the objectives pass the samples' names to models that hold one parameter set per scene
    per_scene = True

    def __init__(self, height: int = 64, width: int = 128, max_disp: float = 32.0, init: float = 0.25,
                 names: list[str] | None = None):
        super().__init__()
        self.max_disp = float(max_disp)
        self.names = list(names) if names else []
        n = max(1, len(self.names))
        p = torch.full((n, 1, height, width), float(torch.logit(torch.tensor(init))))
        self.theta = nn.Parameter(p)

    @torch.no_grad()
    def set_disparity(self, disparity: torch.Tensor) -> None:
        """Start the field at given disparities (S or 1, 1, H, W), e.g. the ground truth (clamped inside (0, max_disp))."""
        d = disparity.to(self.theta.dtype)
        if d.shape[-2:] != self.theta.shape[-2:]:
            raise ValueError(f"disparity {tuple(d.shape[-2:])} does not match the field grid {tuple(self.theta.shape[-2:])}")
        d = torch.nan_to_num(d, nan=0.0).clamp(1e-3 * self.max_disp, (1 - 1e-3) * self.max_disp)
        self.theta.copy_(torch.logit(d / self.max_disp).expand_as(self.theta))

    def forward(self, left: torch.Tensor, right: torch.Tensor | None = None, names: list[str] | None = None) -> torch.Tensor:
        d = self.max_disp * torch.sigmoid(self.theta)
        if names is not None and self.names:
            try:
                idx = [self.names.index(n) for n in names]
            except ValueError as e:
                raise ValueError(f"the field holds no scene called {e}; it was built for {len(self.names)} scenes") from None
            d = d[idx]
        elif d.shape[0] == 1:
            d = d.expand(left.shape[0], -1, -1, -1)
        if d.shape[-2:] != left.shape[-2:]:
            d = F.interpolate(d, size=left.shape[-2:], mode="bilinear", align_corners=False)
        return d
