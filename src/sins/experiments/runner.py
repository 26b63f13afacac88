"""Run an experiment spec over its seeds (and loss-weight variants) and write its results folder.

``experiments/results/<name>/`` receives small files only:

- ``metrics.csv``: every held-out evaluation of every run (columns ``variant``, ``seed``, ``step``,
  ``heldout_lsyn``, the error metrics overall and per cause);
- ``summary.json``: the verdict (computed by :mod:`sins.experiments.verdict`, never by hand), the
  numbers it was computed from, the oracle gap and the per-pixel landscape by cause, per variant;
- ``curves.png`` and ``landscape.png``.

Checkpoints go to a scratch folder (``build/runs`` by default), never to the results.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .specs import ExperimentSpec
from .verdict import VerdictRule, verdict_of_curves

RULE = VerdictRule()
BASE = "base"


def error_metric(task: str) -> str:
    """The depth error a verdict is computed from: EPE (px) for stereo, AbsRel for video."""
    return "epe" if task == "stereo" else "abs_rel"


def _finite(x: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return _finite(x.item())
    return x


@torch.no_grad()
def landscape(result: dict[str, Any]) -> dict[str, Any]:
    """Oracle gap and (stereo) the per-pixel landscape by cause of a finished run, on its first held-out sample."""
    from .manifold import analyse
    from .train import _batch, video_lsyn

    model, cfg, sample = result["model"], result["config"], result["heldout"][0]
    model.eval()
    device = next(model.parameters()).device
    b = _batch(sample, device)
    if cfg.task == "stereo":
        pred = model(b["left"], b["right"]).cpu()
        top = float(torch.nan_to_num(sample.disparity[sample.valid], nan=0.0).max()) if bool(sample.valid.any()) else 1.0
        hyps = torch.arange(0, int(math.ceil(max(top, float(pred.max())))) + 3, dtype=torch.float32)
        res = analyse(sample, pred_disparity=pred, hypotheses=hyps, compile=cfg.loss.compile)
        return {"oracle_gap": res["oracle_gap"], "loss_at_gt": res["loss_at_gt"], "loss_at_pred": res["loss_at_pred"],
                "misleading": res["misleading"],
                "per_cause": {k: v for k, v in res["per_cause"].items() if v["share"] > 0}}
    gt_poses = [b["poses"][:, i] for i in range(b["frames"].shape[1]) if i != b["frames"].shape[1] // 2]
    at_gt = float(video_lsyn(model, b, cfg, depth=b["depth"], poses=gt_poses))
    at_pred = float(video_lsyn(model, b, cfg))
    return {"oracle_gap": at_gt - at_pred, "loss_at_gt": at_gt, "loss_at_pred": at_pred}


def _mean_sd(xs: list[float]) -> tuple[float, float]:
    a = np.array([x for x in xs if x is not None and math.isfinite(x)], dtype=float)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan")


def summarise_variant(curves: list[pd.DataFrame], lands: list[dict], task: str) -> dict[str, Any]:
    """Verdict and numbers of one variant over its seeds."""
    err = error_metric(task)
    verdict, nums, per_seed = verdict_of_curves([c.rename(columns={"heldout_lsyn": "l_syn", err: "error"}) for c in curves], rule=RULE)
    gaps = [x["oracle_gap"] for x in lands]
    g_mean, g_sd = _mean_sd(gaps)
    nums = {**nums, "error_metric": err,
            "mean_best_step": float(np.mean([s["best_step"] for s in per_seed])),
            "mean_final_lsyn": float(np.mean([s["final_loss"] for s in per_seed])),
            "oracle_gap_mean": g_mean, "oracle_gap_sd": g_sd,
            "oracle_gap_positive_seeds": int(sum(1 for g in gaps if g > 0))}
    out: dict[str, Any] = {"verdict": verdict, "numbers": nums, "per_seed": per_seed, "oracle_gap": gaps}
    if lands and "per_cause" in lands[0]:
        nums["misleading_mean"] = _mean_sd([x["misleading"] for x in lands])[0]
        causes = sorted({c for x in lands for c in x["per_cause"]})
        out["landscape"] = {c: {"share": _mean_sd([x["per_cause"].get(c, {}).get("share", float("nan")) for x in lands])[0],
                                "misleading": _mean_sd([x["per_cause"].get(c, {}).get("misleading", float("nan")) for x in lands])[0]}
                            for c in causes}
    return out


def command_for(spec: ExperimentSpec, profile: str) -> str:
    return f"sins experiments run {spec.name} --profile {profile}"


def run_spec(spec: ExperimentSpec, profile: str = "quick", results: str | Path = "experiments/results",
             scratch: str | Path = "build/runs", data_root: str | Path | None = None,
             seeds: list[int] | None = None, log=print) -> dict[str, Any]:
    """Train every (variant, seed) of a spec, then write its results folder; returns the summary."""
    from .train import train

    t0 = time.perf_counter()
    seeds = list(spec.seeds if seeds is None else seeds)
    out = Path(results) / spec.name
    rows: list[pd.DataFrame] = []
    variants: dict[str, dict[str, Any]] = {}
    task = "stereo"
    for variant in [None, *spec.variants]:
        vname = variant or BASE
        curves, lands = [], []
        for seed in seeds:
            cfg = spec.config_for(profile, seed, variant, data_root=data_root)
            r = train(cfg, Path(scratch) / spec.name / f"{vname}-s{seed}", progress=False)
            task = r["config"].task
            hist = pd.DataFrame(r["history"])
            curves.append(hist)
            lands.append(landscape(r))
            rows.append(hist.assign(variant=vname, seed=seed))
            log(f"  {spec.name} [{vname}] seed {seed}: final {error_metric(task)} "
                f"{hist[error_metric(task)].iloc[-1]:.4f}, held-out L_syn {hist['heldout_lsyn'].iloc[-1]:.4f}")
        variants[vname] = summarise_variant(curves, lands, task)
    base = variants[BASE]
    summary = {
        "name": spec.name, "title": spec.title, "question": spec.question, "tests": spec.tests,
        "architecture": spec.architecture, "supervision": spec.supervision, "input": spec.input, "domain": spec.domain, "claims": spec.claims,
        "profile": profile, "seeds": seeds, "task": task, "data_root_used": data_root is not None and bool(spec.real_data),
        "verdict": base["verdict"], "reason": base["numbers"].get("reason", ""), "rule": RULE.describe(),
        "numbers": {k: v for k, v in base["numbers"].items() if k != "reason"},
        "oracle_gap": base["oracle_gap"], "landscape": base.get("landscape", {}), "per_seed": base["per_seed"],
        "variants": {k: {"verdict": v["verdict"], "overrides": spec.variants.get(k, {}), "numbers": v["numbers"],
                         "oracle_gap": v["oracle_gap"]} for k, v in variants.items() if k != BASE},
        "command": command_for(spec, profile), "figures": ["curves.png", "landscape.png"],
        "torch": torch.__version__,
    }
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun every rank trains; only rank 0 writes
        return summary
    out.mkdir(parents=True, exist_ok=True)
    frame = pd.concat(rows, ignore_index=True)
    lead = ["variant", "seed", "step", "train_loss", "heldout_lsyn"]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]
    _write(out / "metrics.csv", frame.to_csv(index=False, float_format="%.6g"))
    plot_curves(frame, task, spec.title, out / "curves.png")
    plot_landscape(summary, out / "landscape.png")
    _write(out / "summary.json", json.dumps(_finite(summary), indent=1, sort_keys=False) + "\n")
    # wall-clock time varies from run to run, so it stays out of the committed results folder
    timing = Path(scratch) / spec.name / "timing.json"
    timing.parent.mkdir(parents=True, exist_ok=True)
    _write(timing, json.dumps({"profile": profile, "wall_s": round(time.perf_counter() - t0, 1)}) + "\n")
    return summary


def _write(path: Path, text: str | bytes) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    if isinstance(text, bytes):
        tmp.write_bytes(text)
    else:
        tmp.write_text(text)
    os.replace(tmp, path)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(frame: pd.DataFrame, task: str, title: str, path: Path) -> None:
    """Held-out L_syn and depth error over steps, one line per seed, one colour per variant."""
    plt = _plt()
    err = error_metric(task)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (variant, vf) in enumerate(frame.groupby("variant", sort=False)):
        for j, (_, sf) in enumerate(vf.groupby("seed")):
            kw = {"color": colours[i % len(colours)], "alpha": 0.8, "label": variant if j == 0 else None}
            axes[0].plot(sf["step"], sf["heldout_lsyn"], **kw)
            axes[1].plot(sf["step"], sf[err], **kw)
    axes[0].set(xlabel="step", ylabel="held-out L_syn", title="synthesis loss")
    axes[1].set(xlabel="step", ylabel=err, title="depth error")
    if frame["variant"].nunique() > 1:
        axes[1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_landscape(summary: dict[str, Any], path: Path) -> None:
    """Stereo: share of pixels whose loss minimum is off the truth, by cause; video: the oracle gap per seed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3))
    land = summary.get("landscape") or {}
    if land:
        names = list(land)
        ax.bar(names, [land[n]["misleading"] if land[n]["misleading"] is not None else 0 for n in names], color="#5c6bc0")
        ax.set(ylabel="loss minimum off the truth", title="per-pixel landscape by cause (held-out)")
        ax.tick_params(axis="x", rotation=30, labelsize=7)
    else:
        gaps = summary.get("oracle_gap") or []
        ax.bar([f"seed {s}" for s in summary["seeds"]], gaps, color="#5c6bc0")
        ax.axhline(0, color="k", lw=0.8)
        ax.set(ylabel="L_syn(truth) - L_syn(prediction)", title="oracle gap (held-out)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72, metadata={"Software": None})
    _plt().close(fig)
    _write(path, buf.getvalue())
