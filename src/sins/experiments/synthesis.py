"""View synthesis by differentiable inverse warping.

This module is the single place where the sampling convention of
:func:`torch.nn.functional.grid_sample` is fixed: pixel centres sit at integer
coordinates ``0 .. W-1`` and the normalised grid uses ``align_corners=True``,
so that normalised ``-1`` is the centre of the first pixel and ``+1`` the
centre of the last one. Every warp in the package goes through
:func:`sample_pixels`.

Conventions (see the experiments contract): images ``(B, C, H, W)`` float in
[0, 1]; disparity ``(B, 1, H, W)`` in pixels of the LEFT view, positive, with
``left[x]`` matching ``right[x - d]``; depth ``(B, 1, H, W)`` in metres.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

ALIGN_CORNERS = True
PADDING_MODE = "border"


def pixel_grid(h: int, w: int, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer pixel coordinates ``(xs, ys)``, each of shape (H, W)."""
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=dtype),
        torch.arange(w, device=device, dtype=dtype),
        indexing="ij",
    )
    return xs, ys


def sample_pixels(src: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinearly sample ``src`` (B,C,H,W) at pixel coordinates ``x``, ``y`` (B,H',W').

    Returns the sampled image (B,C,H',W') and a bool mask (B,1,H',W') of the
    samples that fall outside ``[0, W-1] x [0, H-1]`` (border-padded there).
    """
    _, _, h, w = src.shape
    gx = 2.0 * x / max(w - 1, 1) - 1.0
    gy = 2.0 * y / max(h - 1, 1) - 1.0
    grid = torch.stack([gx, gy], dim=-1).to(src.dtype)
    out = F.grid_sample(src, grid, mode="bilinear", padding_mode=PADDING_MODE, align_corners=ALIGN_CORNERS)
    eps = 1e-4
    outside = (x < -eps) | (x > w - 1 + eps) | (y < -eps) | (y > h - 1 + eps)
    return out, outside.unsqueeze(1)


def warp_stereo(src: torch.Tensor, disparity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruct the left view from the right image ``src`` and the left disparity.

    ``warped[..., y, x] = src[..., y, x - d(y, x)]`` with bilinear interpolation
    along the scanline (Godard et al., CVPR 2017). ``outside`` marks pixels
    whose source position ``x - d`` lies outside the image.
    """
    b, _, h, w = src.shape
    if disparity.shape[1] != 1:
        raise ValueError(f"disparity must be (B,1,H,W), got {tuple(disparity.shape)}")
    xs, ys = pixel_grid(h, w, src.device, src.dtype)
    x = xs.unsqueeze(0) - disparity[:, 0]
    y = ys.unsqueeze(0).expand(b, h, w)
    return sample_pixels(src, x, y)


def backproject(depth: torch.Tensor, K_inv: torch.Tensor) -> torch.Tensor:
    """Lift every pixel to a 3-D point in the camera frame: ``X = D * K^-1 [u, v, 1]^T``.

    depth (B,1,H,W), K_inv (B,3,3) -> points (B,3,H*W).
    """
    b, _, h, w = depth.shape
    xs, ys = pixel_grid(h, w, depth.device, depth.dtype)
    pix = torch.stack([xs.reshape(-1), ys.reshape(-1), torch.ones(h * w, device=depth.device, dtype=depth.dtype)])
    rays = K_inv.to(depth.dtype) @ pix.unsqueeze(0)  # (B,3,N)
    return rays * depth.reshape(b, 1, h * w)


def project(points: torch.Tensor, K: torch.Tensor, T: torch.Tensor, eps: float = 1e-7) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Project camera-frame points (B,3,N) through pose ``T`` (B,4,4) and intrinsics ``K`` (B,3,3).

    Returns pixel coordinates ``u``, ``v`` (B,N) and the depth ``z`` (B,N) in the
    new frame: ``[u, v, 1]^T ~ K (R X + t)``.
    """
    cam = T[:, :3, :3].to(points.dtype) @ points + T[:, :3, 3:].to(points.dtype)
    pix = K.to(points.dtype) @ cam
    z = pix[:, 2]
    zs = torch.where(z.abs() < eps, torch.full_like(z, eps), z)
    return pix[:, 0] / zs, pix[:, 1] / zs, z


def warp_frame(src: torch.Tensor, depth: torch.Tensor, K: torch.Tensor, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse-warp a source frame into the target view (Zhou et al., CVPR 2017).

    ``p_s ~ K T_{t->s} D_t(p_t) K^-1 p_t``; the source is sampled bilinearly at
    ``p_s``. ``depth`` is the target's depth, ``T`` the target-to-source pose.
    ``outside`` marks samples outside the source image or behind its camera.
    """
    b, _, h, w = src.shape
    pts = backproject(depth, torch.linalg.inv(K.to(depth.dtype)))
    u, v, z = project(pts, K, T)
    warped, outside = sample_pixels(src, u.reshape(b, h, w), v.reshape(b, h, w))
    outside = outside | (z.reshape(b, 1, h, w) <= 0)
    return warped, outside
