"""Per-pixel loss landscape of the synthesis loss over disparity hypotheses.

For a stereo pair with ground truth, :func:`cost_volume` evaluates the
photometric error (0.85 SSIM + 0.15 L1, Monodepth) of every pixel at each
disparity hypothesis. :func:`analyse` reports the share of valid pixels where
the loss is *misleading*: its minimum lies more than 1 px from the truth AND
the cost at the truth exceeds that minimum, overall and per cause mask, and the
oracle gap ``L_syn(gt) - L_syn(pred)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from sins.experiments.losses import C1, C2, _box3, photometric, photometric_reference

ALPHA = 0.85
from sins.experiments.synthesis import warp_stereo

# Thresholds of cause_masks (documented, see its docstring).
TEXTURELESS_GRAD = 0.01
SPECULAR_LEVEL = 0.95
DEPTH_EDGE_GRAD = 1.0
DEPTH_EDGE_DILATE = 2
OCCLUSION_TOL = 1.0


def _shift_right(right: torch.Tensor, d: int) -> torch.Tensor:
    """Exact ``warp_stereo`` for an integer disparity: ``out[x] = right[max(x - d, 0)]`` (border padding)."""
    if d == 0:
        return right
    w = right.shape[-1]
    if d >= w:
        return right[..., :1].expand_as(right)
    pad = right[..., :1].expand(*right.shape[:-1], d)
    return torch.cat([pad, right[..., : w - d]], dim=-1)


def _sweep(left, right, ds, compile: bool = True):
    """Yield the photometric cost (B,1,H,W) of each hypothesis, one at a time.

    Integer hypotheses 0 <= d <= W-3 take the shift-invariant fast path
    (:func:`_shift_cost`); others go through the warp and :func:`photometric`.
    """
    b, _, h, w = left.shape
    stats = None
    for d in ds:
        if d == int(d) and 0 <= d <= w - 3:
            if stats is None:
                stats = _image_stats(left, right)
            yield _shift_cost(left, right, int(d), stats, compile)
        else:
            warped, _ = warp_stereo(right, torch.full((b, 1, h, w), d, dtype=left.dtype))
            yield photometric(warped, left, compile=compile)


def _image_stats(left, right):
    """Box-filtered means and variances of each image, computed once per sweep."""
    m = _box3(torch.cat([left, right, left * left, right * right], 1))
    mx, my, exx, eyy = m.split(left.shape[1], 1)
    return mx, my, exx - mx * mx, eyy - my * my


def _core(lft, rgt, mxs, mys, sxx, syy):
    """SSIM/L1 blend on interior columns; ``lft``/``rgt`` are aligned, one column wider on each side."""
    prod = lft * rgt
    hs = prod[..., :-2] + prod[..., 1:-1] + prod[..., 2:]
    hs = F.pad(hs, (0, 0, 1, 1), mode="reflect")
    exy = (hs[..., :-2, :] + hs[..., 1:-1, :] + hs[..., 2:, :]) * (1.0 / 9.0)
    sxy = exy - mxs * mys
    num = (2 * mxs * mys + C1) * (2 * sxy + C2)
    den = (mxs * mxs + mys * mys + C1) * (sxx + syy + C2)
    ss = ((1 - num / den) * 0.5).clamp(0, 1).mean(1, keepdim=True)
    l1 = (lft[..., 1:-1] - rgt[..., 1:-1]).abs().mean(1, keepdim=True)
    return ALPHA * ss + (1 - ALPHA) * l1


def _shift_cost(left, right, d: int, stats, compile: bool) -> torch.Tensor:
    """Exact photometric cost of the integer shift ``d`` (same values as warping then :func:`photometric`).

    For interior columns d+1 <= x <= W-2, the 3x3 window of the shifted right
    image is the window of the right image at x - d, so its mean and variance
    are slices of statistics computed once; only E[left * shifted right] is
    filtered per hypothesis. The border columns (x <= d, where the warp
    repeats the first column, and x = W-1, where reflection padding differs)
    are computed explicitly on narrow strips.
    """
    b, c, h, w = left.shape
    mx, my, sxx, syy = stats
    out = torch.empty(b, 1, h, w, dtype=left.dtype)
    warped_l = _shift_right(right[..., : d + 2], d)[..., : d + 2] if d > 0 else right[..., :2]
    out[..., : d + 1] = photometric(warped_l, left[..., : d + 2], compile=False)[..., : d + 1]
    warped_r = right[..., w - 3 - d : w - d]
    out[..., w - 1 :] = photometric(warped_r, left[..., w - 3 :], compile=False)[..., 2:]
    xs, rs = slice(d + 1, w - 1), slice(1, w - 1 - d)
    out[..., xs] = _core(left[..., d:], right[..., : w - d], mx[..., xs], my[..., rs], sxx[..., xs], syy[..., rs])
    return out


def _as_list(disparities) -> list[float]:
    return [float(d) for d in torch.as_tensor(disparities).flatten()]


@torch.no_grad()
def cost_volume(left: torch.Tensor, right: torch.Tensor, disparities: Sequence[float] | torch.Tensor, compile: bool = True) -> torch.Tensor:
    """Photometric cost (B, D, H, W) of each disparity hypothesis for every left pixel.

    Integer hypotheses use an exact slice shift (the same values as the bilinear
    warp with border padding); fractional ones go through :func:`warp_stereo`.
    Memory grows with D; use :func:`sweep_min` for large images.
    """
    return torch.cat(list(_sweep(left, right, _as_list(disparities), compile)), 1)


@torch.no_grad()
def sweep_min(left: torch.Tensor, right: torch.Tensor, disparities, compile: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Streaming minimum of the cost volume: (min cost, argmin disparity), each (B,1,H,W), in O(HW) memory."""
    ds = _as_list(disparities)
    return _running_min(ds, _sweep(left, right, ds, compile))


def _running_min(ds: list[float], costs) -> tuple[torch.Tensor, torch.Tensor]:
    """(min cost, argmin hypothesis) over a stream of per-hypothesis costs, in O(HW) memory."""
    best = best_d = None
    for d, cost in zip(ds, costs):
        if best is None:
            best, best_d = cost.clone(), torch.full_like(cost, d)
        else:
            better = cost < best
            best = torch.where(better, cost, best)
            best_d = torch.where(better, torch.full_like(cost, d), best_d)
    return best, best_d


@torch.no_grad()
def cost_volume_reference(left: torch.Tensor, right: torch.Tensor, disparities) -> torch.Tensor:
    """Baseline cost volume: bilinear warp and the reference formulation, one hypothesis at a time."""
    b, _, h, w = left.shape
    out = []
    for d in _as_list(disparities):
        warped, _ = warp_stereo(right, torch.full((b, 1, h, w), d, dtype=left.dtype))
        out.append(photometric_reference(warped, left))
    return torch.cat(out, 1)


@torch.no_grad()
def sweep_min_reference(left, right, disparities) -> tuple[torch.Tensor, torch.Tensor]:
    """Baseline: warp (grid_sample) and score one hypothesis at a time with the reference formulation."""
    b, _, h, w = left.shape
    ds = _as_list(disparities)
    costs = (photometric_reference(warp_stereo(right, torch.full((b, 1, h, w), d, dtype=left.dtype))[0], left) for d in ds)
    return _running_min(ds, costs)


def _dilate(m: torch.Tensor, r: int) -> torch.Tensor:
    return F.max_pool2d(m.float(), 2 * r + 1, 1, r) > 0


def cause_masks(left: torch.Tensor, disparity: torch.Tensor, valid: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Derive cause masks (B,1,H,W bool) from a left image and its ground-truth disparity.

    - ``occluded``: left pixel x whose match x - d is out of the image, or is
      seen by another left pixel x' with a larger disparity landing within
      ``OCCLUSION_TOL`` px (z-buffer visibility along each scanline).
    - ``textureless``: 3x3 mean of the squared grey gradient below
      ``TEXTURELESS_GRAD**2`` (grey levels in [0, 1]).
    - ``specular``: any channel above ``SPECULAR_LEVEL`` (near saturation).
    - ``depth_edge``: disparity gradient magnitude above ``DEPTH_EDGE_GRAD`` px,
      dilated by ``DEPTH_EDGE_DILATE`` px.
    """
    b, _, h, w = disparity.shape
    d = disparity.clone()
    if valid is not None:
        d = torch.where(valid.bool(), d, torch.zeros_like(d))
    xs = torch.arange(w, dtype=d.dtype).view(1, 1, 1, w)
    target = xs - d  # match in the right view
    # z-buffer: for each right column, the largest disparity landing there.
    idx = target.round().long().clamp(0, w - 1)
    zbuf = torch.full_like(d, -1.0).scatter_reduce(3, idx, d, reduce="amax", include_self=True)
    seen = torch.gather(zbuf, 3, idx)
    occluded = (target < 0) | (seen > d + OCCLUSION_TOL)
    g = left.mean(1, keepdim=True)
    gx = F.pad(g[..., :, 1:] - g[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(g[..., 1:, :] - g[..., :-1, :], (0, 0, 0, 1))
    energy = F.avg_pool2d(F.pad(gx * gx + gy * gy, (1, 1, 1, 1), mode="replicate"), 3, 1)
    textureless = energy < TEXTURELESS_GRAD**2
    specular = (left > SPECULAR_LEVEL).any(1, keepdim=True)
    dx = F.pad((d[..., :, 1:] - d[..., :, :-1]).abs(), (0, 1, 0, 0))
    dy = F.pad((d[..., 1:, :] - d[..., :-1, :]).abs(), (0, 0, 0, 1))
    edge = _dilate(torch.maximum(dx, dy) > DEPTH_EDGE_GRAD, DEPTH_EDGE_DILATE)
    return {"occluded": occluded, "textureless": textureless, "specular": specular, "depth_edge": edge}


def _get(sample: Any, name: str):
    return sample.get(name) if isinstance(sample, dict) else getattr(sample, name, None)


def _batch(t):
    if t is None:
        return None
    return t.unsqueeze(0) if t.dim() == 3 else t


@torch.no_grad()
def analyse(sample: Any, pred_disparity: torch.Tensor | None = None, hypotheses: Sequence[float] | torch.Tensor | None = None, tol: float = 1.0, compile: bool = True) -> dict[str, Any]:
    """Landscape analysis of a stereo sample (a StereoSample or a dict with left, right, disparity, valid, causes).

    Returns ``misleading`` (share of valid pixels whose cost minimum over the
    hypotheses lies > ``tol`` px from the truth and whose cost at the truth is
    above that minimum), ``per_cause`` {name: {share, misleading}}, ``n_valid``,
    ``loss_at_gt`` (mean photometric error of the warp by the ground truth over
    valid pixels), and with a prediction ``loss_at_pred`` and ``oracle_gap``
    (loss_at_gt - loss_at_pred; positive means the loss prefers the wrong answer).
    """
    left, right = _batch(_get(sample, "left")), _batch(_get(sample, "right"))
    gt = _batch(_get(sample, "disparity"))
    valid = _get(sample, "valid")
    valid = torch.isfinite(gt) & (gt > 0) if valid is None else _batch(valid).bool()
    gt = torch.nan_to_num(gt, nan=0.0, posinf=0.0)
    if hypotheses is None:
        hypotheses = torch.arange(0, int(gt[valid].max().ceil()) + 2)
    hyp = torch.as_tensor(hypotheses, dtype=left.dtype).flatten()
    min_cost, d_best = sweep_min(left, right, hyp, compile=compile)
    warped_gt, _ = warp_stereo(right, gt)
    cost_gt = photometric(warped_gt, left, compile=compile)
    mis = ((d_best - gt).abs() > tol) & (cost_gt > min_cost) & valid
    causes = _get(sample, "causes") or cause_masks(left, gt, valid)
    n_valid = int(valid.sum())
    res: dict[str, Any] = {
        "n_valid": n_valid,
        "misleading": float(mis.sum()) / max(n_valid, 1),
        "loss_at_gt": float(cost_gt[valid].mean()),
        "per_cause": {},
    }
    for name, m in causes.items():
        m = _batch(m).bool() & valid
        n = int(m.sum())
        res["per_cause"][name] = {"share": n / max(n_valid, 1), "misleading": float((mis & m).sum()) / n if n else float("nan")}
    clean = valid.clone()
    for m in causes.values():
        clean &= ~_batch(m).bool()
    n = int(clean.sum())
    res["per_cause"]["none"] = {"share": n / max(n_valid, 1), "misleading": float((mis & clean).sum()) / n if n else float("nan")}
    if pred_disparity is not None:
        wp, _ = warp_stereo(right, _batch(pred_disparity))
        res["loss_at_pred"] = float(photometric(wp, left, compile=compile)[valid].mean())
        res["oracle_gap"] = res["loss_at_gt"] - res["loss_at_pred"]
    return res
