"""A monocular U-Net trained on stereo pairs (Monodepth style)."""
from __future__ import annotations

import torch
import torch.nn as nn

from ._blocks import Decoder, Encoder, PatchDiscriminator, output_layer


class MonoUNet(nn.Module):
    """Predicts the left disparity from the left image alone; ``right`` is only used by the loss."""

    def __init__(self, width: int = 16, max_disp: float = 32.0, classes: int = 0, discriminator: bool = False):
        super().__init__()
        self.max_disp = float(max_disp)
        self.enc = Encoder(3, width)
        self.dec = Decoder(width)
        # classes > 0: a segmentation head on the shared decoder features (semantic guidance, trained jointly)
        self.seg = output_layer(nn.Conv2d(width, classes, 3, 1, 1)) if classes else None
        #: the class logits (B, classes, H, W) of the last forward pass (None without the head)
        self.last_logits: torch.Tensor | None = None
        # discriminator: a PatchGAN judging real against synthesised left views (adversarial loss); it trains with
        # the same optimiser, on its own loss only (see objectives.stereo_objective)
        self.disc = PatchDiscriminator(3, 16) if discriminator else None

    def forward(self, left: torch.Tensor, right: torch.Tensor | None = None) -> torch.Tensor:
        if self.seg is None:
            return self.max_disp * self.dec(self.enc(left))
        x = self.dec.features(self.enc(left))
        self.last_logits = self.seg(x)
        return self.max_disp * torch.sigmoid(self.dec.out(x))
