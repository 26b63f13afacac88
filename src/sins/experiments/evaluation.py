"""Held-out evaluation: the synthesis loss and the depth error, globally and per cause.

Every evaluation reports

- ``heldout_lsyn``: the common yardstick, 0.85 SSIM + 0.15 L1 (``loss.alpha``) of the synthesised
  view, on valid pixels that land inside the other view (stereo) or are seen by a source frame
  (video, per-pixel minimum over sources), averaged over held-out scenes;
- ``heldout_lsyn_trained``: the synthesis term exactly as trained (its photometric terms and masks),
  on the same scenes;
- the depth error: stereo EPE, bad-1 and D1; video AbsRel and delta < 1.25 after per-scene median
  scaling. Errors are pooled over the pixels of all held-out scenes (pixel-weighted), globally and
  for each cause mask (``<cause>_epe``, ...); for video the median scale of a scene is computed on
  all its valid pixels, then applied to the cause's pixels;
- for video, the pose network against the renderer's true camera motion (mean over source frames and clips):
  ``pose_t_cos``, the cosine between the predicted and the true translation; ``pose_t_ratio``, the predicted
  translation's length in the scene's median scale over the true length (1: the translation fits the depth);
  ``pose_rot_err_deg``, the angle of the rotation between the predicted and the true rotation, in degrees.
  A pose network that has not learnt the motion shows here, whatever the depth error; :func:`pose_learnt` is the
  rule the site uses to count such runs.

:func:`baseline_errors` gives the same errors for a constant prediction (the training set's mean
disparity; for video a constant depth, i.e. the median after scaling): a run whose error does not
beat it has not learnt anything and is reported as failed. :func:`oracle_and_landscape` measures the
oracle gap and the per-pixel landscape on every held-out scene.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from . import metrics as M
from .config import Config
from .data.build import batch as make_batch
from .objectives import common_photometric, objective_for, predict_stereo
from .synthesis import warp_frame, warp_stereo


class _Pool:
    """Pixel-weighted sums of error statistics per region (global '' and each cause)."""

    def __init__(self):
        self.sums: dict[str, dict[str, float]] = {}
        self.counts: dict[str, int] = {}

    def add(self, region: str, stats: dict[str, torch.Tensor]) -> None:
        n = int(next(iter(stats.values())).numel()) if stats else 0
        if n == 0:
            return
        acc = self.sums.setdefault(region, {})
        for k, v in stats.items():
            acc[k] = acc.get(k, 0.0) + float(v.double().sum())
        self.counts[region] = self.counts.get(region, 0) + n

    def means(self) -> dict[str, float]:
        out = {}
        for region, acc in self.sums.items():
            n = self.counts[region]
            for k, v in acc.items():
                out[f"{region}{k}"] = v / n
        return out


def _regions(valid: torch.Tensor, causes: dict[str, torch.Tensor]):
    yield "", valid
    for c, m in causes.items():
        yield f"{c}_", valid & m.bool()


def _stereo_stats(disp, gt, m) -> dict[str, torch.Tensor]:
    err = (disp[m] - gt[m]).abs()
    g = gt[m].abs()
    return {"epe": err, "bad1": (err > 1.0).double(), "d1": ((err > 3.0) & (err > 0.05 * g)).double()}


def _video_stats(depth, gt, m, scale) -> dict[str, torch.Tensor]:
    p = (depth[m] * scale).clamp(1e-3, float(gt[m].max()) + 1.0 if m.any() else 80.0)
    g = gt[m]
    ratio = torch.maximum(p / g, g / p)
    return {"abs_rel": (p - g).abs() / g, "a1": (ratio < 1.25).double()}


def video_lsyn(batch: dict, cfg: Config, depth: torch.Tensor, poses) -> torch.Tensor:
    """Common held-out synthesis loss of a clip: per-pixel minimum over source frames of the
    photometric error, averaged over valid target pixels seen by at least one source."""
    frames, K = batch["frames"], batch["K"]
    t = frames.shape[1] // 2
    target = frames[:, t]
    errs = []
    for i, T in zip([i for i in range(frames.shape[1]) if i != t], poses):
        warped, outside = warp_frame(frames[:, i], depth, K, T)
        e = common_photometric(warped, target, cfg)
        errs.append(torch.where(outside, torch.full_like(e, float("inf")), e))
    err = torch.stack(errs, 0).min(0).values
    m = torch.isfinite(err) & batch["valid"].bool()
    return err[m].mean() if bool(m.any()) else err.new_tensor(float("nan"))


@torch.no_grad()
def evaluate(model, samples: list, cfg: Config, device) -> dict[str, float]:
    """One held-out evaluation (see the module docstring)."""
    objective = objective_for(cfg.task)
    pool = _Pool()
    lsyn, trained = [], []
    pose: dict[str, list[float]] = {}
    for s in samples:
        b = make_batch([s], device)
        terms = objective(model, b, cfg)
        trained.append(float(terms.parts["synthesis"]))
        valid = b["valid"].bool()
        if cfg.task == "stereo":
            disp = terms.prediction
            warped, outside = warp_stereo(b["right"], disp)
            m = ~outside & valid
            if bool(m.any()):
                lsyn.append(float(common_photometric(warped, b["left"], cfg)[m].mean()))
            gt = b["disparity"]
            for region, rm in _regions(valid, b["causes"]):
                pool.add(region, _stereo_stats(disp, gt, rm))
        else:
            depth = terms.prediction
            lsyn.append(float(video_lsyn(b, cfg, depth, terms.extra["poses"])))
            gt = b["depth"]
            if not bool(valid.any()):
                continue
            scale = gt[valid].median() / depth[valid].median()
            for region, rm in _regions(valid, b["causes"]):
                pool.add(region, _video_stats(depth, gt, rm, scale))
            if b.get("poses") is not None:
                for k, v in pose_errors(terms.extra["poses"], b["poses"], float(scale)).items():
                    pose.setdefault(k, []).append(v)
    out = {"heldout_lsyn": _mean(lsyn), "heldout_lsyn_trained": _mean(trained)}
    out.update(pool.means())
    out.update({k: _mean(v) for k, v in pose.items()})
    return out


def pose_errors(predicted: list[torch.Tensor], true: torch.Tensor, scale: float = 1.0) -> dict[str, float]:
    """The predicted target -> source transforms (one (B, 4, 4) per source, in frame order without the middle
    target) against the true ones (``true``: (B, T, 4, 4), target -> frame t), averaged over sources and clips:
    translation cosine, translation length ratio after multiplying the prediction by ``scale`` (the depth's
    median scale) and rotation error in degrees."""
    t = true.shape[1] // 2
    src = [i for i in range(true.shape[1]) if i != t]
    cos, ratio, rot = [], [], []
    for P, i in zip(predicted, src):
        G = true[:, i].to(P.dtype)
        tp, tg = P[:, :3, 3], G[:, :3, 3]
        cos.append(torch.nn.functional.cosine_similarity(tp, tg, dim=1, eps=1e-12))
        ratio.append(tp.norm(dim=1) * scale / tg.norm(dim=1).clamp_min(1e-12))
        R = P[:, :3, :3].transpose(1, 2) @ G[:, :3, :3]
        c = (R.diagonal(dim1=1, dim2=2).sum(1) - 1) / 2
        sin = torch.stack([R[:, 2, 1] - R[:, 1, 2], R[:, 0, 2] - R[:, 2, 0], R[:, 1, 0] - R[:, 0, 1]], 1).norm(dim=1) / 2
        rot.append(torch.rad2deg(torch.atan2(sin, c)))  # exact at small angles, where arccos of the trace is not
    return {"pose_t_cos": float(torch.cat(cos).mean()), "pose_t_ratio": float(torch.cat(ratio).mean()),
            "pose_rot_err_deg": float(torch.cat(rot).mean())}


POSE_COS_MIN = 0.95  # a learnt translation points within about 18 degrees of the true one
POSE_RATIO_MIN = 0.5  # and is at least half as long as the true one, in the depth's scale


def pose_learnt(cos: float | None, ratio: float | None) -> bool | None:
    """Whether a run's pose network has learnt the camera's motion, from its final held-out ``pose_t_cos`` and
    ``pose_t_ratio``: cosine at least ``POSE_COS_MIN`` and length ratio at least ``POSE_RATIO_MIN``. None when the
    run has no pose metrics (stereo, or a run older than them). The rule describes the runs; the verdict does not
    use it."""
    if cos is None or ratio is None or not (math.isfinite(cos) and math.isfinite(ratio)):
        return None
    return cos >= POSE_COS_MIN and ratio >= POSE_RATIO_MIN


def _mean(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return sum(xs) / len(xs) if xs else float("nan")


def cause_shares(samples: list) -> dict[str, float]:
    """Share of the valid held-out pixels that each cause covers (pooled over scenes)."""
    total, counts = 0, {}
    for s in samples:
        v = s.valid.bool()
        total += int(v.sum())
        for c, m in (s.causes or {}).items():
            counts[c] = counts.get(c, 0) + int((v & m.bool()).sum())
    return {c: n / total if total else 0.0 for c, n in sorted(counts.items())}


@torch.no_grad()
def baseline_errors(train: list, held: list, task: str) -> dict[str, float]:
    """The errors of a constant prediction on the held-out scenes: the mean true disparity of the training
    set (stereo), or a constant depth, which median scaling turns into each scene's median (video)."""
    pool = _Pool()
    if task == "stereo":
        vals = [s.disparity[s.valid.bool()] for s in train if bool(s.valid.any())]
        const = float(torch.cat(vals).mean()) if vals else 0.0
        for s in held:
            valid = s.valid.bool()[None]
            gt = s.disparity[None]
            disp = torch.full_like(gt, const)
            for region, rm in _regions(valid, {k: v[None] for k, v in (s.causes or {}).items()}):
                pool.add(region, _stereo_stats(disp, gt, rm))
    else:
        for s in held:
            valid = s.valid.bool()[None]
            if not bool(valid.any()):
                continue
            gt = s.depth[None]
            depth = torch.ones_like(gt)
            scale = gt[valid].median()
            for region, rm in _regions(valid, {k: v[None] for k, v in (s.causes or {}).items()}):
                pool.add(region, _video_stats(depth, gt, rm, scale))
    return pool.means()


@torch.no_grad()
def oracle_and_landscape(model, samples: list, cfg: Config, device) -> dict[str, Any]:
    """On every held-out scene: the oracle gap (common L_syn at the truth minus at the prediction; positive:
    the loss prefers the prediction) and, for stereo, the per-pixel landscape by cause (pooled over scenes,
    plus the share of misled pixels of each cause and of clean pixels scene by scene)."""
    from .manifold import analyse

    model.eval()
    gaps, at_gt, at_pred = [], [], []
    per_scene: list[dict[str, float]] = []
    pooled: dict[str, list[int]] = {}
    n_valid = 0
    for s in samples:
        b = make_batch([s], device)
        if cfg.task == "stereo":
            pred = predict_stereo(model, b["left"], b["right"], b["names"]).cpu()
            valid = s.valid.bool()
            top = float(torch.nan_to_num(s.disparity[valid], nan=0.0).max()) if bool(valid.any()) else 1.0
            hyps = torch.arange(0, int(math.ceil(max(top, float(pred.max())))) + 3, dtype=torch.float32)
            res = analyse(s, pred_disparity=pred, hypotheses=hyps, compile=cfg.loss.compile)
            gaps.append(res["oracle_gap"])
            at_gt.append(res["loss_at_gt"])
            at_pred.append(res["loss_at_pred"])
            n_valid += res["n_valid"]
            scene = {}
            for c, v in res["per_cause"].items():
                n = round(v["share"] * res["n_valid"])
                acc = pooled.setdefault(c, [0, 0])
                acc[0] += n
                if n and not math.isnan(v["misleading"]):
                    acc[1] += round(v["misleading"] * n)
                    scene[c] = v["misleading"]
                scene[f"{c}_pixels"] = n
            per_scene.append(scene)
        elif b.get("poses") is not None:
            gt_poses = [b["poses"][:, i] for i in range(b["frames"].shape[1]) if i != b["frames"].shape[1] // 2]
            depth, poses = model(b["frames"])
            g = float(video_lsyn(b, cfg, b["depth"].clamp_min(1e-3), gt_poses))
            p = float(video_lsyn(b, cfg, depth, poses))
            gaps.append(g - p)
            at_gt.append(g)
            at_pred.append(p)
    out: dict[str, Any] = {"oracle_gap": _mean(gaps), "loss_at_gt": _mean(at_gt), "loss_at_pred": _mean(at_pred),
                           "oracle_gap_per_scene": gaps}
    if pooled:
        out["per_cause"] = {c: {"share": v[0] / n_valid if n_valid else 0.0, "misleading": v[1] / v[0] if v[0] else float("nan"),
                                "pixels": v[0]} for c, v in sorted(pooled.items())}
        out["per_scene"] = per_scene
    return out
