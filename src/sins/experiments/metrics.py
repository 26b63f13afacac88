"""Evaluation metrics for stereo disparity and monocular depth, all with a validity mask.

Stereo: end-point error (EPE), bad-k (share of pixels with error > k px), KITTI
2015 D1 (error > 3 px AND > 5 % of the true disparity; Menze & Geiger, CVPR 2015).
Depth: the Eigen et al. (NeurIPS 2014) set as used by Monodepth2: abs_rel,
sq_rel, rmse, rmse_log, and delta < 1.25, 1.25^2, 1.25^3, with optional median
scaling for scale-ambiguous monocular predictions.
"""

from __future__ import annotations

import torch


def _masked(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None):
    if valid is None:
        valid = torch.isfinite(gt)
    valid = valid.bool() & torch.isfinite(gt) & torch.isfinite(pred)
    if not valid.any():
        raise ValueError("no valid pixels to evaluate")
    return pred[valid], gt[valid]


def epe(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None) -> float:
    """Mean absolute disparity error ``mean |d - d*|`` over valid pixels, in pixels."""
    p, g = _masked(pred, gt, valid)
    return float((p - g).abs().mean())


def bad_k(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None, k: float = 1.0) -> float:
    """Share (0..1) of valid pixels with ``|d - d*| > k`` pixels."""
    p, g = _masked(pred, gt, valid)
    return float(((p - g).abs() > k).float().mean())


def d1(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None) -> float:
    """KITTI 2015 D1 outlier rate (0..1): error > 3 px AND error > 5 % of the true disparity."""
    p, g = _masked(pred, gt, valid)
    err = (p - g).abs()
    return float(((err > 3.0) & (err > 0.05 * g.abs())).float().mean())


def depth_metrics(
    pred: torch.Tensor,
    gt: torch.Tensor,
    valid: torch.Tensor | None = None,
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    median_scaling: bool = False,
) -> dict[str, float]:
    r"""Eigen depth metrics over valid pixels with ``min_depth < gt < max_depth``.

    abs_rel = mean |p-g|/g; sq_rel = mean (p-g)^2/g; rmse = sqrt(mean (p-g)^2);
    rmse_log = sqrt(mean (log p - log g)^2); a_k = share of max(p/g, g/p) < 1.25^k.
    With ``median_scaling`` the prediction is multiplied by median(g)/median(p)
    (Zhou et al., CVPR 2017). Predictions are clamped to [min_depth, max_depth]
    as in Monodepth2 (the default 80 m cap is KITTI's).
    """
    m = (gt > min_depth) & (gt < max_depth)
    if valid is not None:
        m = m & valid.bool()
    p, g = _masked(pred, gt, m)
    if median_scaling:
        p = p * (g.median() / p.median())
    p = p.clamp(min_depth, max_depth)
    thresh = torch.maximum(p / g, g / p)
    return {
        "abs_rel": float(((p - g).abs() / g).mean()),
        "sq_rel": float(((p - g) ** 2 / g).mean()),
        "rmse": float(torch.sqrt(((p - g) ** 2).mean())),
        "rmse_log": float(torch.sqrt(((p.log() - g.log()) ** 2).mean())),
        "a1": float((thresh < 1.25).float().mean()),
        "a2": float((thresh < 1.25**2).float().mean()),
        "a3": float((thresh < 1.25**3).float().mean()),
    }
