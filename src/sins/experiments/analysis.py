"""Analyses across experiments, and the five claims of Li et al. decided from measured numbers.

Inputs are the results folders written by :mod:`sins.experiments.runner` (``summary.json``) and an
**aleatoric sweep** computed here: procedural stereo scenes where one dial at a time is turned
(specularity, texture strength, repetitive texture, occluders, shadows, noise, exposure change),
in the street, indoor and medical domains. For each scene the sweep evaluates the SSIM + L1 cost
of every disparity hypothesis (0.25 px apart) and reports

- ``oracle_gap``: mean over valid pixels of ``cost(truth) - min cost`` (how much lower the loss can
  get than at the truth),
- ``misleading``: the share of valid pixels whose loss minimum is more than 1 px off the truth
  while the truth costs more (:func:`sins.experiments.manifold.analyse`), overall and per cause,
- ``epe``: the disparity error of the per-pixel loss minimiser (what the loss alone prefers).

Evidence of the phenomenon in one configuration (``evidence``): its verdict is ``diverges``, or
its prediction reaches a lower held-out synthesis loss than the ground truth in every seed
(oracle gap > 0). ``absent``: verdict ``consistent`` and the oracle gap <= 0 in every seed.

Claim rules (each returns ``confirmed``, ``not confirmed`` or ``inconclusive`` and its numbers):

1. divergence: confirmed if at least one experiment testing claim 1 diverges (the claim is that a
   lower loss does *not necessarily* mean lower error); not confirmed if all are consistent.
2. oracle gap: confirmed if in at least one experiment testing claim 2 the prediction beats the
   truth's synthesis loss in every seed; not confirmed if it does in no seed of any; else inconclusive.
3. aleatoric causes: over all sweep scenes, each of the causes named by the paper (specular,
   occluded, textureless, repetitive) that covers at least 0.5% of the pixels has a higher
   misleading share than the pixels with no cause: confirmed if all do, not confirmed if none does.
4. regularisers: among the experiments testing claim 4 (and the loss-weight variants of
   ``smoothness_weights``), if the unregularised configuration shows evidence, confirmed when every
   regularised configuration still does, not confirmed when one is ``absent``; inconclusive when the
   unregularised one shows no evidence (nothing to remove) or the results are mixed.
5. domains and architectures, pooled over every experiment: confirmed when every domain and
   every architecture tested shows evidence in at least one experiment; not confirmed when one
   shows evidence nowhere and is ``absent`` somewhere; inconclusive otherwise.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .runner import BASE, _finite, _plt, _save, _write

CLAIM_CAUSES = ("specular", "occluded", "textureless", "repetitive")
SWEEP_LEVELS: dict[str, list[float]] = {
    "specular": [0.0, 0.5, 1.0, 2.0],
    "texture": [0.1, 0.4, 1.0, 2.0],
    "repetitive": [0.0, 0.33, 0.67, 1.0],
    "occluders": [0, 2, 5, 8],
    "shadows": [0.0, 0.3, 0.6, 0.9],
    "noise": [0.0, 0.02, 0.05, 0.1],
    "exposure": [0.0, 0.2, 0.5, 1.0],
}
DOMAINS = ("street", "indoor", "medical")
MIN_CAUSE_SHARE = 0.005


def load_results(folder: str | Path = "experiments/results") -> dict[str, dict[str, Any]]:
    """Every ``<folder>/<name>/summary.json`` of an experiment (the analysis folder excluded)."""
    out = {}
    for p in sorted(Path(folder).glob("*/summary.json")):
        if p.parent.name == "analysis":
            continue
        out[p.parent.name] = json.loads(p.read_text())
    return out


# --------------------------------------------------------------------------- evidence per configuration


def _config_views(r: dict[str, Any]) -> list[tuple[str, str, dict, list]]:
    """(variant name, verdict, numbers, oracle gaps) of the base and every variant of a result."""
    rows = [(BASE, r["verdict"], r["numbers"], r.get("oracle_gap") or [])]
    for k, v in (r.get("variants") or {}).items():
        rows.append((k, v["verdict"], v["numbers"], v.get("oracle_gap") or []))
    return rows


def evidence(verdict: str, gaps: list) -> str:
    """``evidence`` | ``absent`` | ``unclear`` for one configuration (see the module docstring)."""
    g = [x for x in gaps if x is not None]
    beats = bool(g) and all(x > 0 for x in g)
    if verdict == "diverges" or beats:
        return "evidence"
    if verdict == "consistent" and g and all(x <= 0 for x in g):
        return "absent"
    return "unclear"


# --------------------------------------------------------------------------- cross-experiment tables


def verdict_matrix(results: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per (category, architecture, domain, experiment) with its verdict and evidence."""
    rows = []
    for name, r in results.items():
        ev = evidence(r["verdict"], r.get("oracle_gap") or [])
        for cat in r["tests"]:
            for arch in r["architecture"]:
                rows.append({"category": cat, "architecture": arch, "domain": r["domain"], "experiment": name,
                             "verdict": r["verdict"], "evidence": ev})
    return sorted(rows, key=lambda x: (x["category"], x["architecture"], x["domain"], x["experiment"]))


def weight_ranking(results: dict[str, dict]) -> list[dict[str, Any]]:
    """For each experiment with loss-weight variants: does ranking by final L_syn match ranking by error?"""
    from scipy.stats import spearmanr

    out = []
    for name, r in results.items():
        if not r.get("variants"):
            continue
        configs = [{"config": k, "final_lsyn": n["mean_final_lsyn"], "final_error": n["mean_final_error"],
                    "best_error": n["mean_best_error"], "verdict": v}
                   for k, v, n, _ in _config_views(r)]
        by_loss = [c["config"] for c in sorted(configs, key=lambda c: c["final_lsyn"])]
        by_err = [c["config"] for c in sorted(configs, key=lambda c: c["final_error"])]
        rho = float(spearmanr([c["final_lsyn"] for c in configs], [c["final_error"] for c in configs]).statistic)
        out.append({"experiment": name, "error_metric": r["numbers"]["error_metric"], "configs": configs,
                    "order_by_lsyn": by_loss, "order_by_error": by_err, "same_order": by_loss == by_err,
                    "same_best": by_loss[0] == by_err[0], "spearman": rho})
    return out


# --------------------------------------------------------------------------- aleatoric sweep


def aleatoric_sweep(scenes: int = 3, size: tuple[int, int] = (48, 96), domains=DOMAINS,
                    levels: dict[str, list[float]] | None = None, step: float = 0.25) -> list[dict[str, Any]]:
    """Turn one dial at a time (the others at their defaults); one row per (domain, dial, value)."""
    import torch

    from .data.procedural import Dials, render_stereo
    from .manifold import analyse, sweep_min

    levels = levels or SWEEP_LEVELS
    rows = []
    for domain in domains:
        for dial, values in levels.items():
            for value in values:
                acc: dict[str, list[float]] = {}
                causes: dict[str, list[float]] = {}
                n_valid = 0
                for seed in range(scenes):
                    s = render_stereo(domain=domain, size=size, dials=Dials(**{dial: value}), seed=5000 + seed)
                    top = float(s.disparity[s.valid].max())
                    hyps = torch.arange(0.0, math.ceil(top) + 2.0, step)
                    res = analyse(s, hypotheses=hyps, compile=False)
                    left, right = s.left[None], s.right[None]
                    min_cost, d_best = sweep_min(left, right, hyps, compile=False)
                    v = s.valid[None]
                    from .losses import photometric
                    from .synthesis import warp_stereo

                    cost_gt = photometric(warp_stereo(right, s.disparity[None])[0], left, compile=False)
                    n_valid += res["n_valid"]
                    acc.setdefault("oracle_gap", []).append(float((cost_gt - min_cost)[v].mean()))
                    acc.setdefault("misleading", []).append(res["misleading"])
                    acc.setdefault("epe", []).append(float((d_best - s.disparity[None]).abs()[v].mean()))
                    for c, cv in res["per_cause"].items():
                        n = cv["share"] * res["n_valid"]
                        causes.setdefault(c, [0.0, 0.0])
                        if n > 0 and not math.isnan(cv["misleading"]):
                            causes[c][0] += n
                            causes[c][1] += cv["misleading"] * n
                row = {"domain": domain, "dial": dial, "value": value, "scenes": scenes, "n_valid": n_valid,
                       **{k: float(np.mean(x)) for k, x in acc.items()},
                       "pixels": {c: int(round(v[0])) for c, v in causes.items()},
                       "misleading_px": {c: int(round(v[1])) for c, v in causes.items()}}
                rows.append(row)
    return rows


def sweep_trends(rows: list[dict]) -> list[dict[str, Any]]:
    """Per domain and dial: Spearman correlation of each sweep metric with the dial value."""
    from scipy.stats import spearmanr

    out = []
    keys = sorted({(r["domain"], r["dial"]) for r in rows})
    for domain, dial in keys:
        rs = [r for r in rows if r["domain"] == domain and r["dial"] == dial]
        item = {"domain": domain, "dial": dial}
        for m in ("oracle_gap", "misleading", "epe"):
            ys = [r[m] for r in rs]
            xs = [r["value"] for r in rs]
            item[m] = float(spearmanr(xs, ys).statistic) if len(set(ys)) > 1 else 0.0
        out.append(item)
    return out


def cause_table(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Pooled over every sweep scene: share of pixels and misleading share per cause (and 'none')."""
    px: dict[str, int] = {}
    mis: dict[str, int] = {}
    for r in rows:
        for c, n in r["pixels"].items():
            px[c] = px.get(c, 0) + n
            mis[c] = mis.get(c, 0) + r["misleading_px"].get(c, 0)
    total = sum(r["n_valid"] for r in rows)  # causes overlap: shares are of all valid pixels
    return {c: {"pixels": px[c], "share": px[c] / total if total else float("nan"),
                "misleading": mis[c] / px[c] if px[c] else float("nan")} for c in sorted(px)}


# --------------------------------------------------------------------------- claims


def _claim(status: str, summary: str, numbers: Any) -> dict[str, Any]:
    return {"status": status, "summary": summary, "numbers": numbers}


def claim_divergence(results: dict[str, dict]) -> dict[str, Any]:
    rel = {n: r for n, r in results.items() if 1 in r.get("claims", [])}
    nums = [{"experiment": n, "verdict": r["verdict"], "mean_gap": r["numbers"].get("mean_gap"),
             "mean_relative_gap": r["numbers"].get("mean_relative_gap"), "final_error_sd": r["numbers"].get("final_error_sd"),
             "mean_spearman": r["numbers"].get("mean_spearman"), "error_metric": r["numbers"].get("error_metric")}
            for n, r in rel.items()]
    div = [x["experiment"] for x in nums if x["verdict"] == "diverges"]
    if not nums:
        return _claim("inconclusive", "No experiment testing this claim has results.", nums)
    if div:
        return _claim("confirmed", f"{len(div)} of {len(nums)} experiments diverge: the held-out error rose after its best "
                      f"step while the held-out synthesis loss kept falling, beyond the spread between seeds ({', '.join(div)}).", nums)
    if all(x["verdict"] == "consistent" for x in nums):
        return _claim("not confirmed", "Every experiment testing it is consistent: loss and error fell together.", nums)
    return _claim("inconclusive", "No experiment diverges beyond the spread between seeds, and not all are consistent.", nums)


def claim_oracle_gap(results: dict[str, dict]) -> dict[str, Any]:
    rel = {n: r for n, r in results.items() if 2 in r.get("claims", [])}
    nums = [{"experiment": n, "oracle_gap": r.get("oracle_gap"), "loss": "held-out SSIM + L1"} for n, r in rel.items()]
    beats = [x["experiment"] for x in nums if x["oracle_gap"] and all(g is not None and g > 0 for g in x["oracle_gap"])]
    never = all(x["oracle_gap"] and all(g is not None and g <= 0 for g in x["oracle_gap"]) for x in nums)
    if not nums:
        return _claim("inconclusive", "No experiment testing this claim has results.", nums)
    if beats:
        return _claim("confirmed", f"In {', '.join(beats)} the prediction reaches a lower synthesis loss than the ground "
                      "truth in every seed: the truth does not minimise the loss.", nums)
    if never:
        return _claim("not confirmed", "No prediction reached a lower synthesis loss than the ground truth in any seed.", nums)
    return _claim("inconclusive", "The prediction beat the truth's loss in some seeds only.", nums)


def claim_causes(causes: dict[str, dict[str, float]]) -> dict[str, Any]:
    base = causes.get("none", {}).get("misleading", float("nan"))
    present = {c: causes[c] for c in CLAIM_CAUSES if c in causes and causes[c]["share"] >= MIN_CAUSE_SHARE}
    nums = {"none": causes.get("none"), **present}
    if not present or math.isnan(base):
        return _claim("inconclusive", "Too few pixels of the named causes in the sweep.", nums)
    above = [c for c, v in present.items() if v["misleading"] > base]
    ratio = ", ".join(f"{c} {present[c]['misleading']:.1%}" for c in present)
    if len(above) == len(present):
        return _claim("confirmed", f"At every named cause the loss minimum is off the truth more often than at pixels with "
                      f"no cause ({base:.1%}): {ratio}.", nums)
    if not above:
        return _claim("not confirmed", f"No named cause is misleading more often than the clean pixels ({base:.1%}): {ratio}.", nums)
    return _claim("inconclusive", f"Only {', '.join(above)} exceed the clean pixels ({base:.1%}): {ratio}.", nums)


def claim_regularisers(results: dict[str, dict]) -> dict[str, Any]:
    configs = []
    baseline = None
    sw = results.get("smoothness_weights")
    if sw:
        for k, v, n, g in _config_views(sw):
            w = (sw.get("variants", {}).get(k, {}).get("overrides") or {}).get("loss", {})
            regularised = k != "none"
            item = {"experiment": "smoothness_weights", "config": k, "verdict": v, "oracle_gap": g,
                    "evidence": evidence(v, g), "overrides": w}
            if regularised:
                configs.append(item)
            else:
                baseline = item
    for n, r in results.items():
        if 4 in r.get("claims", []) and n != "smoothness_weights":
            configs.append({"experiment": n, "config": BASE, "verdict": r["verdict"], "oracle_gap": r.get("oracle_gap"),
                            "evidence": evidence(r["verdict"], r.get("oracle_gap") or [])})
    if baseline is None and "monodepth_stereo" in results:
        r = results["monodepth_stereo"]
        baseline = {"experiment": "monodepth_stereo", "config": BASE, "verdict": r["verdict"], "oracle_gap": r.get("oracle_gap"),
                    "evidence": evidence(r["verdict"], r.get("oracle_gap") or [])}
    nums = {"unregularised": baseline, "regularised": configs}
    if baseline is None or not configs:
        return _claim("inconclusive", "The regulariser experiments have no results.", nums)
    if baseline["evidence"] != "evidence":
        return _claim("inconclusive", "Without a regulariser the phenomenon did not show here, so there was nothing for a "
                      "regulariser to remove.", nums)
    removed = [f"{c['experiment']}[{c['config']}]" for c in configs if c["evidence"] == "absent"]
    kept = [c for c in configs if c["evidence"] == "evidence"]
    if len(kept) == len(configs):
        return _claim("confirmed", f"All {len(configs)} regularised configurations still show it (divergence or a prediction "
                      "beating the truth's loss).", nums)
    if removed:
        return _claim("not confirmed", f"These regularised configurations removed it: {', '.join(removed)}.", nums)
    return _claim("inconclusive", f"{len(kept)} of {len(configs)} regularised configurations still show it; the others are "
                  "within seed noise.", nums)


def claim_generality(results: dict[str, dict]) -> dict[str, Any]:
    """Pooled over every experiment (not only those tagged with claim 5): evidence per domain and architecture."""
    by: dict[str, dict[str, list[str]]] = {"domain": {}, "architecture": {}}
    for n, r in results.items():
        ev = evidence(r["verdict"], r.get("oracle_gap") or [])
        by["domain"].setdefault(r["domain"], []).append(ev)
        for a in r["architecture"]:
            by["architecture"].setdefault(a, []).append(ev)
    nums = {k: {g: {"evidence": v.count("evidence"), "absent": v.count("absent"), "unclear": v.count("unclear")}
                for g, v in d.items()} for k, d in by.items()}
    nums["experiments"] = {n: {"domain": r["domain"], "architecture": r["architecture"], "verdict": r["verdict"],
                               "evidence": evidence(r["verdict"], r.get("oracle_gap") or [])} for n, r in results.items()}
    if not results:
        return _claim("inconclusive", "No experiment has results.", nums)
    groups = [(k, g, v) for k, d in by.items() for g, v in d.items()]
    shown = [f"{k} {g}" for k, g, v in groups if "evidence" in v]
    missing = [f"{k} {g}" for k, g, v in groups if "evidence" not in v]
    hard = [f"{k} {g}" for k, g, v in groups if "evidence" not in v and "absent" in v]
    where = f"It shows in {', '.join(shown) or 'no group'}"
    if not missing:
        return _claim("confirmed", f"Every domain ({', '.join(sorted(by['domain']))}) and architecture "
                      f"({', '.join(sorted(by['architecture']))}) tested shows it in at least one experiment.", nums)
    if hard:
        return _claim("not confirmed", f"{where}; not in {', '.join(missing)}, and in {', '.join(hard)} loss and error "
                      "were consistent with no oracle gap.", nums)
    return _claim("inconclusive", f"{where}; in {', '.join(missing)} the numbers are within seed noise.", nums)


# --------------------------------------------------------------------------- driver


def analyse_all(results_dir: str | Path = "experiments/results", sweep: bool = True, scenes: int = 3,
                size: tuple[int, int] = (48, 96)) -> dict[str, Any]:
    """Compute every analysis, write ``<results_dir>/analysis/`` (summary.json and figures) and return it."""
    from .specs import CLAIMS

    results = load_results(results_dir)
    out = Path(results_dir) / "analysis"
    prev = out / "summary.json"
    rows = None
    if sweep:
        rows = aleatoric_sweep(scenes=scenes, size=size)
    elif prev.is_file():
        rows = json.loads(prev.read_text()).get("sweep")
    causes = cause_table(rows) if rows else {}
    claims = {
        1: claim_divergence(results),
        2: claim_oracle_gap(results),
        3: claim_causes(causes) if causes else _claim("inconclusive", "The aleatoric sweep has not run.", {}),
        4: claim_regularisers(results),
        5: claim_generality(results),
    }
    figs = {1: [f"../{n}/curves.png" for n, r in results.items() if r["verdict"] == "diverges"][:2],
            2: ["../field_from_truth/curves.png"] if "field_from_truth" in results else [],
            3: ["sweep.png", "causes.png"], 4: ["ranking.png", "../smoothness_weights/curves.png"],
            5: ["sweep.png"]}
    summary = {
        "claims": {str(k): {"claim": CLAIMS[k], **v, "figures": figs[k]} for k, v in claims.items()},
        "matrix": verdict_matrix(results),
        "ranking": weight_ranking(results),
        "sweep": rows or [],
        "sweep_trends": sweep_trends(rows) if rows else [],
        "causes": causes,
        "experiments": sorted(results),
        "figures": ["sweep.png", "causes.png", "ranking.png"],
        "command": "sins experiments analyse",
        "rules": __doc__.split("Claim rules")[1].strip() if "Claim rules" in (__doc__ or "") else "",
    }
    out.mkdir(parents=True, exist_ok=True)
    if rows:
        plot_sweep(rows, out / "sweep.png")
        plot_causes(causes, out / "causes.png")
    plot_ranking(summary["ranking"], out / "ranking.png")
    _write(out / "summary.json", json.dumps(_finite(summary), indent=1) + "\n")
    return summary


def plot_sweep(rows: list[dict], path: Path) -> None:
    plt = _plt()
    dials = list(dict.fromkeys(r["dial"] for r in rows))
    metrics = [("oracle_gap", "L_syn(truth) - min L_syn"), ("misleading", "share misled"), ("epe", "EPE of loss minimiser (px)")]
    fig, axes = plt.subplots(len(metrics), len(dials), figsize=(2.1 * len(dials), 5.6), squeeze=False)
    for j, dial in enumerate(dials):
        for i, (m, label) in enumerate(metrics):
            ax = axes[i][j]
            for domain in dict.fromkeys(r["domain"] for r in rows):
                rs = [r for r in rows if r["dial"] == dial and r["domain"] == domain]
                ax.plot([r["value"] for r in rs], [r[m] for r in rs], marker="o", ms=3, label=domain)
            if i == 0:
                ax.set_title(dial, fontsize=9)
            if j == 0:
                ax.set_ylabel(label, fontsize=7)
            ax.tick_params(labelsize=6)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    _save(fig, path)


def plot_causes(causes: dict[str, dict], path: Path) -> None:
    plt = _plt()
    names = [c for c in causes if causes[c]["pixels"] > 0]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(names, [causes[c]["misleading"] for c in names], color=["#9e9e9e" if c == "none" else "#5c6bc0" for c in names])
    ax.set(ylabel="share of pixels misled", title="loss minimum off the truth, by cause (all sweep scenes)")
    ax.tick_params(axis="x", rotation=30, labelsize=7)
    fig.tight_layout()
    _save(fig, path)


def plot_ranking(ranking: list[dict], path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for item in ranking:
        xs = [c["final_lsyn"] for c in item["configs"]]
        ys = [c["final_error"] for c in item["configs"]]
        ax.scatter(xs, ys, label=item["experiment"])
        for c in item["configs"]:
            ax.annotate(c["config"], (c["final_lsyn"], c["final_error"]), fontsize=6)
    ax.set(xlabel="final held-out L_syn (mean of seeds)", ylabel="final error (mean of seeds)",
           title="loss-weight variants: ranked by loss vs by error")
    if ranking:
        ax.legend(fontsize=6)
    fig.tight_layout()
    _save(fig, path)
