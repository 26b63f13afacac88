"""Small building blocks shared by the models."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.ELU(inplace=True))


class Encoder(nn.Module):
    """Three-level encoder: features at 1, 1/2 and 1/4 resolution."""

    def __init__(self, cin: int = 3, width: int = 16):
        super().__init__()
        self.c0 = nn.Sequential(conv(cin, width), conv(width, width))
        self.c1 = nn.Sequential(conv(width, 2 * width, 2), conv(2 * width, 2 * width))
        self.c2 = nn.Sequential(conv(2 * width, 4 * width, 2), conv(4 * width, 4 * width))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f0 = self.c0(x)
        f1 = self.c1(f0)
        f2 = self.c2(f1)
        return [f0, f1, f2]


class Decoder(nn.Module):
    """U-Net decoder from the three encoder levels to ``channels`` full-resolution channels in (0, 1)."""

    def __init__(self, width: int = 16, cin_bottom: int | None = None, channels: int = 1):
        super().__init__()
        cb = cin_bottom or 4 * width
        self.u1 = conv(cb + 2 * width, 2 * width)
        self.u0 = conv(2 * width + width, width)
        self.out = nn.Conv2d(width, channels, 3, 1, 1)

    def features(self, feats: list[torch.Tensor], bottom: torch.Tensor | None = None) -> torch.Tensor:
        """The full-resolution decoder features before the output layer (a second head can read them)."""
        f0, f1, f2 = feats
        x = f2 if bottom is None else bottom
        x = F.interpolate(x, size=f1.shape[-2:], mode="bilinear", align_corners=False)
        x = self.u1(torch.cat([x, f1], 1))
        x = F.interpolate(x, size=f0.shape[-2:], mode="bilinear", align_corners=False)
        return self.u0(torch.cat([x, f0], 1))

    def forward(self, feats: list[torch.Tensor], bottom: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.out(self.features(feats, bottom)))


def shift_right(feat: torch.Tensor, d: int) -> torch.Tensor:
    """``out[..., x] = feat[..., x - d]`` with zeros where x - d < 0 (left view convention)."""
    if d == 0:
        return feat
    out = torch.zeros_like(feat)
    out[..., d:] = feat[..., :-d]
    return out
