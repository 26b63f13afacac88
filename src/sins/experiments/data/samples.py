"""Sample containers shared by the embedded data, the renderer and the readers."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

CAUSES = ("occluded", "border", "textureless", "specular", "repetitive", "depth_edge", "shadow")


@dataclass
class StereoSample:
    """A rectified stereo pair. left/right (3,H,W) in [0,1]; disparity (1,H,W) px of the LEFT view
    (left[x] matches right[x - d]); valid (1,H,W) bool; causes: name -> (1,H,W) bool."""

    left: torch.Tensor
    right: torch.Tensor
    disparity: torch.Tensor
    valid: torch.Tensor
    causes: dict[str, torch.Tensor] = field(default_factory=dict)
    name: str = ""
    depth: torch.Tensor | None = None
    K: torch.Tensor | None = None
    baseline: float | None = None
    #: per-pixel semantic class (1,H,W) int64 of the left view where the renderer knows it (see CLASSES), else None
    labels: torch.Tensor | None = None


@dataclass
class VideoSample:
    """A short clip; frames (T,3,H,W), the target is frames[T // 2]; depth/valid (1,H,W) of the
    target; K (3,3); poses (T,4,4) target->frame-t transforms (identity for the target), or None
    when the true poses are unknown (real video)."""

    frames: torch.Tensor
    depth: torch.Tensor
    valid: torch.Tensor
    K: torch.Tensor
    poses: torch.Tensor | None
    causes: dict[str, torch.Tensor] = field(default_factory=dict)
    name: str = ""
    #: per-pixel semantic class (1,H,W) int64 of the target frame where known, else None
    labels: torch.Tensor | None = None

    @property
    def target_index(self) -> int:
        return self.frames.shape[0] // 2
