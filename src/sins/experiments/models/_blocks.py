"""Small building blocks shared by the models."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def output_layer(layer: nn.Module) -> nn.Module:
    """Mark a layer whose output is one of the network's outputs (disparity, depth, pose, a mask, logits, a cost):
    under bfloat16 mixed precision it stays in float32 (:func:`sins.experiments.loop.mixed_precision`), so that
    the outputs the losses and the warp read keep float32's resolution."""
    layer.keep_float32 = True
    return layer


def mixed_part(part: nn.Module) -> nn.Module:
    """Mark a part of a network made only of layers (convolutions, activations, resampling, concatenation) that
    may run in bfloat16 under mixed precision (:func:`sins.experiments.loop.mixed_precision`); geometry and
    losses must stay outside such a part."""
    part.mixed_part = True
    return part


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.ELU(inplace=True))


def level_channels(width: int, k: int) -> int:
    """Channels of encoder level ``k`` (resolution 1 / 2**k): width, 2 width, then 4 width for every deeper level."""
    return width * 2 ** min(k, 2)


class Encoder(nn.Module):
    """Encoder with ``levels`` levels: features at 1, 1/2, ..., 1/2**(levels-1) resolution.

    Through the U-Net decoder, three levels (the default) see about 35 pixels across: enough for a 32 x 64 image,
    not to see the layout of a 96 x 192 one (where the road is, where the horizon is). Five levels see about 140
    pixels; the encoders of Monodepth2 and SfMLearner reach further still."""

    mixed_part = True  # may run in bfloat16 under mixed precision (see mixed_part)

    def __init__(self, cin: int = 3, width: int = 16, levels: int = 3):
        super().__init__()
        if levels < 2:
            raise ValueError(f"an encoder needs at least 2 levels, got {levels}")
        self.levels = levels
        self.c0 = nn.Sequential(conv(cin, width), conv(width, width))
        for k in range(1, levels):  # c1, c2, ...: the parameter names of the three-level encoder stay as they were
            a, b = level_channels(width, k - 1), level_channels(width, k)
            setattr(self, f"c{k}", nn.Sequential(conv(a, b, 2), conv(b, b)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for k in range(self.levels):
            x = getattr(self, f"c{k}")(x)
            feats.append(x)
        return feats


#: Whether the decoder hands its upsampling a dense gradient (see :class:`_DenseGrad`); the benchmark turns it off
#: to measure it. The gradient is copied, not changed; the convolutions' backward may then pick another oneDNN
#: kernel, so results can differ in the last bits, as with another thread count (bit-identical over 300 quick steps
#: of the U-Net and the video nets; the correlation net's training amplifies such last-bit differences, whatever
#: their source).
DENSE_UPSAMPLE_GRADS = True


class _DenseGrad(torch.autograd.Function):
    """Identity whose backward makes the incoming gradient contiguous in its input's memory layout.

    The gradient that reaches an upsampled feature map from ``torch.cat`` is a strided slice of the concatenation's
    gradient; ``upsample_bilinear2d``'s CPU backward is several times slower on such a slice than on a dense
    channels-last tensor, more than the copy costs. ``benchmarks/experiments.py --only seeds`` measures what this
    and :func:`sins.experiments.loop.keep_freed_memory` together save per training step."""

    @staticmethod
    def forward(ctx, x):
        ctx.fmt = torch.channels_last if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last) else torch.contiguous_format
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g.contiguous(memory_format=ctx.fmt)


def upsample_to(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear upsampling (``align_corners=False``) of ``x`` to ``size``, as the decoders use it."""
    y = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return _DenseGrad.apply(y) if DENSE_UPSAMPLE_GRADS and y.requires_grad else y


class Decoder(nn.Module):
    """U-Net decoder from the encoder's ``levels`` levels to ``channels`` full-resolution channels in (0, 1);
    ``cin_bottom``: the channels of a bottom that replaces the deepest encoder level (e.g. with a correlation)."""

    mixed_part = True  # may run in bfloat16 under mixed precision (see mixed_part)

    def __init__(self, width: int = 16, cin_bottom: int | None = None, channels: int = 1, levels: int = 3):
        super().__init__()
        self.levels = levels
        for k in range(levels - 2, -1, -1):  # ..., u1, u0: from level k + 1 up to level k
            below = (cin_bottom or level_channels(width, k + 1)) if k + 1 == levels - 1 else level_channels(width, k + 1)
            setattr(self, f"u{k}", conv(below + level_channels(width, k), level_channels(width, k)))
        self.out = output_layer(nn.Conv2d(width, channels, 3, 1, 1))

    def features(self, feats: list[torch.Tensor], bottom: torch.Tensor | None = None) -> torch.Tensor:
        """The full-resolution decoder features before the output layer (a second head can read them)."""
        if len(feats) != self.levels:
            raise ValueError(f"decoder of {self.levels} levels got {len(feats)} feature maps")
        x = feats[-1] if bottom is None else bottom
        for k in range(self.levels - 2, -1, -1):
            x = upsample_to(x, feats[k].shape[-2:])
            x = getattr(self, f"u{k}")(torch.cat([x, feats[k]], 1))
        return x

    def forward(self, feats: list[torch.Tensor], bottom: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.out(self.features(feats, bottom)))


class PatchDiscriminator(nn.Module):
    """The CycleGAN / pix2pix 70 x 70 PatchGAN (Pilzer et al.'s and RNW's discriminator): 4 x 4 convolutions with
    strides 2, 2, 2, 1, 1, LeakyReLU 0.2, instance norm on layers 2-4, no bias, N(0, 0.02) weights and a raw
    (no sigmoid) patch map at 1/8 resolution. ``ndf`` 64 in the papers; 16 here, so that it stays smaller than
    the depth network."""

    mixed_part = True  # may run in bfloat16 under mixed precision (see mixed_part)

    def __init__(self, cin: int = 3, ndf: int = 16):
        super().__init__()
        def block(a, b, stride, norm):  # TF's SAME padding: 1 each side at stride 2, 1 before and 2 after at stride 1
            layers = [nn.Conv2d(a, b, 4, 2, 1, bias=False)] if stride == 2 else [nn.ZeroPad2d((1, 2, 1, 2)),
                                                                                  nn.Conv2d(a, b, 4, 1, 0, bias=False)]
            if norm:
                layers.append(nn.InstanceNorm2d(b))
            return layers + [nn.LeakyReLU(0.2, inplace=True)]
        self.net = nn.Sequential(*block(cin, ndf, 2, False), *block(ndf, 2 * ndf, 2, True), *block(2 * ndf, 4 * ndf, 2, True),
                                 *block(4 * ndf, 8 * ndf, 1, True), nn.ZeroPad2d((1, 2, 1, 2)),
                                 output_layer(nn.Conv2d(8 * ndf, 1, 4, 1, 0, bias=False)))
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
