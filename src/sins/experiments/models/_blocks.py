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


class PatchDiscriminator(nn.Module):
    """The CycleGAN / pix2pix 70 x 70 PatchGAN (Pilzer et al.'s and RNW's discriminator): 4 x 4 convolutions with
    strides 2, 2, 2, 1, 1, LeakyReLU 0.2, instance norm on layers 2-4, no bias, N(0, 0.02) weights and a raw
    (no sigmoid) patch map at 1/8 resolution. ``ndf`` 64 in the papers; 16 here, so that it stays smaller than
    the depth network."""

    def __init__(self, cin: int = 3, ndf: int = 16):
        super().__init__()
        def block(a, b, stride, norm):  # TF's SAME padding: 1 each side at stride 2, 1 before and 2 after at stride 1
            layers = [nn.Conv2d(a, b, 4, 2, 1, bias=False)] if stride == 2 else [nn.ZeroPad2d((1, 2, 1, 2)),
                                                                                  nn.Conv2d(a, b, 4, 1, 0, bias=False)]
            if norm:
                layers.append(nn.InstanceNorm2d(b))
            return layers + [nn.LeakyReLU(0.2, inplace=True)]
        self.net = nn.Sequential(*block(cin, ndf, 2, False), *block(ndf, 2 * ndf, 2, True), *block(2 * ndf, 4 * ndf, 2, True),
                                 *block(4 * ndf, 8 * ndf, 1, True), nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(8 * ndf, 1, 4, 1, 0, bias=False))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def shift_right(feat: torch.Tensor, d: int) -> torch.Tensor:
    """``out[..., x] = feat[..., x - d]`` with zeros where x - d < 0 (left view convention)."""
    if d == 0:
        return feat
    out = torch.zeros_like(feat)
    out[..., d:] = feat[..., :-d]
    return out
