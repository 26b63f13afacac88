"""A monocular depth network with a pose network, trained on video (Monodepth2 / SfMLearner style)."""
from __future__ import annotations

import torch
import torch.nn as nn

from ._blocks import Decoder, Encoder, conv, mixed_part, output_layer


def axis_angle_to_matrix(vec: torch.Tensor) -> torch.Tensor:
    """Rodrigues: (B, 3) axis-angle -> (B, 3, 3) rotation."""
    theta = vec.norm(dim=1, keepdim=True).clamp_min(1e-8)
    k = vec / theta
    kx, ky, kz = k.unbind(1)
    z = torch.zeros_like(kx)
    K = torch.stack([z, -kz, ky, kz, z, -kx, -ky, kx, z], 1).view(-1, 3, 3)
    s, c = torch.sin(theta).view(-1, 1, 1), torch.cos(theta).view(-1, 1, 1)
    eye = torch.eye(3, dtype=vec.dtype, device=vec.device).expand_as(K)
    return eye + s * K + (1 - c) * (K @ K)


def pose_vec_to_matrix(vec: torch.Tensor) -> torch.Tensor:
    """(B, 6) [axis-angle, translation] -> (B, 4, 4) rigid transform."""
    T = torch.eye(4, dtype=vec.dtype, device=vec.device).repeat(vec.shape[0], 1, 1)
    T[:, :3, :3] = axis_angle_to_matrix(vec[:, :3])
    T[:, :3, 3] = vec[:, 3:]
    return T


def invert_rigid(T: torch.Tensor) -> torch.Tensor:
    """Inverse of rigid transforms (B, 4, 4): ``[R^T, -R^T t]``."""
    R, t = T[:, :3, :3], T[:, :3, 3:]
    out = torch.eye(4, dtype=T.dtype, device=T.device).repeat(T.shape[0], 1, 1)
    out[:, :3, :3] = R.transpose(1, 2)
    out[:, :3, 3:] = -R.transpose(1, 2) @ t
    return out


POSE_ORDERS = ("temporal", "target_first")
#: how the pose net's output layer starts: PyTorch's default (random), or at zero (the identity transform)
POSE_INITS = ("random", "zero")


class PoseNet(nn.Module):
    """Two stacked frames -> 6-DoF target->source transform (4x4), initialised near identity.

    ``levels`` stride-2 convolutions, then a 1 x 1 convolution averaged over the image (SfMLearner's pose net
    has seven)."""

    def __init__(self, width: int = 16, scale: float = 0.01, levels: int = 3, init: str = "random"):
        super().__init__()
        if levels < 3:
            raise ValueError(f"the pose network needs at least 3 levels, got {levels}")
        if init not in POSE_INITS:
            raise ValueError(f"pose_init {init!r} is not one of {', '.join(POSE_INITS)}")
        self.scale = scale
        deeper = [conv(4 * width, 4 * width, 2) for _ in range(levels - 3)]
        self.net = mixed_part(nn.Sequential(conv(6, width, 2), conv(width, 2 * width, 2), conv(2 * width, 4 * width, 2),
                                            *deeper))
        self.out = output_layer(nn.Conv2d(4 * width, 6, 1))
        if init == "zero":  # drawn as usual first, so that every other weight of the model starts the same
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        v = self.out(self.net(torch.cat([target, source], 1))).mean((2, 3)) * self.scale
        return pose_vec_to_matrix(v)


class DepthPose(nn.Module):
    """Depth U-Net (sigmoid -> depth in [min_depth, max_depth] via inverse depth) and a pose net.

    ``levels``: the depth U-Net's levels; ``pose_levels``: the pose net's stride-2 convolutions (see
    :class:`~sins.experiments.models._blocks.Encoder` and :class:`PoseNet` for what they see). ``pose_order``:
    ``"temporal"`` (the default) gives the pose net the two frames in temporal order and inverts the transform of
    an earlier source, as Monodepth2 does, so that the pose net always sees the camera move the same way (forward,
    on a street); ``"target_first"`` gives it (target, source) for every source. With ``"target_first"`` the pose
    net learnt one translation for both sources, backwards for the earlier one (cosine to the true translation
    about 0 over the two), so that the per-pixel minimum fell back on the later source alone."""

    #: bumped when the model's behaviour changes under the same config (2: temporal pose order), so that
    #: finished runs of the old code are trained again (see ``runner._hash``)
    VERSION = 2

    def __init__(self, width: int = 16, min_depth: float = 0.1, max_depth: float = 100.0, explain: bool = False,
                 pose_scale: float = 0.01, uncertainty: bool = False, levels: int = 3, pose_levels: int = 3,
                 pose_order: str = "temporal", pose_init: str = "random"):
        super().__init__()
        if pose_order not in POSE_ORDERS:
            raise ValueError(f"pose_order {pose_order!r} is not one of {', '.join(POSE_ORDERS)}")
        self.pose_order = pose_order
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.enc = Encoder(3, width, levels)
        # uncertainty: a second sigmoid channel of the depth decoder (CoProU's placement), clamped to [0.01, 1]
        self.has_uncertainty = bool(uncertainty)
        self.dec = Decoder(width, channels=2 if uncertainty else 1, levels=levels)
        #: the target's predicted uncertainty of the last forward pass (None without the head)
        self.last_uncertainty: torch.Tensor | None = None
        self.pose = PoseNet(width, scale=pose_scale, levels=pose_levels, init=pose_init)
        # SfMLearner's explainability head: per source frame, a per-pixel weight in (0, 1)
        self.mask = mixed_part(nn.Sequential(conv(6, width), conv(width, width),
                                            output_layer(nn.Conv2d(width, 1, 3, 1, 1)))) if explain else None
        if self.mask is not None:
            nn.init.constant_(self.mask[-1].bias, 3.0)  # start near E = 1 (sigmoid(3) = 0.95)

    def explain(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Explainability mask E_s (B, 1, H, W) in (0, 1) of one source frame (needs ``explain=True``)."""
        if self.mask is None:
            raise RuntimeError("this DepthPose was built without an explainability head (explain=False)")
        return torch.sigmoid(self.mask(torch.cat([target, source], 1)))

    def depth(self, img: torch.Tensor) -> torch.Tensor:
        return self._depth_and_uncertainty(img)[0]

    def _depth_and_uncertainty(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        s = self.dec(self.enc(img))
        lo, hi = 1.0 / self.max_depth, 1.0 / self.min_depth
        u = s[:, 1:2].clamp(0.01, 1.0) if self.has_uncertainty else None
        return 1.0 / (lo + (hi - lo) * s[:, :1]), u

    def relative_pose(self, frames: torch.Tensor, t: int, i: int) -> torch.Tensor:
        """The target (frame ``t``) -> source (frame ``i``) transform (B, 4, 4) of a clip (B, T, 3, H, W)."""
        if self.pose_order == "temporal" and i < t:
            return invert_rigid(self.pose(frames[:, i], frames[:, t]))
        return self.pose(frames[:, t], frames[:, i])

    def swapped_pose(self, frames: torch.Tensor, t: int, i: int) -> torch.Tensor:
        """The source (frame ``i``) -> target (frame ``t``) transform, predicted from the two frames in the order
        opposite to the one :meth:`relative_pose` gives the pose net (a cycle between the two is not closed by
        construction; the inverse of :meth:`relative_pose` would be)."""
        if self.pose_order == "temporal" and i < t:
            return invert_rigid(self.pose(frames[:, t], frames[:, i]))
        return self.pose(frames[:, i], frames[:, t])

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """frames (B, T, 3, H, W), target in the middle -> (depth (B,1,H,W), [T (B,4,4) target->source])."""
        t = frames.shape[1] // 2
        tgt = frames[:, t]
        poses = [self.relative_pose(frames, t, i) for i in range(frames.shape[1]) if i != t]
        depth, self.last_uncertainty = self._depth_and_uncertainty(tgt)
        return depth, poses
