"""Analyses across experiments, and the five claims of Li et al., each decided from its own evidence.

Inputs are the results folders written by :mod:`sins.experiments.runner` (``summary.json``), a set of
**cause scenes** (procedural stereo scenes with the training dials at the size where the causes exist,
96 x 192 by default, in the street, indoor and medical domains) and an **aleatoric sweep** (one dial
turned at a time) that shows trends.

A *configuration* is an experiment's base config or one of its variants; each has a global verdict
and a verdict per cause (see :mod:`sins.experiments.verdict`).

Claim rules (each returns ``confirmed``, ``not confirmed`` or ``inconclusive`` with its numbers):

1. **Divergence**, from trained networks only (per-pixel fields excluded: started at the truth they
   restate claim 2): confirmed when at least one configuration diverges, globally or in a cause that
   exists at its scale, and that divergence survives a Holm-Bonferroni correction over every judged
   verdict of the trained networks; not confirmed when every judged verdict is consistent; else
   inconclusive.
2. **Oracle gap**, from every configuration (pixel fields included): the held-out common L_syn at the
   truth minus at the prediction, averaged over the held-out scenes, per seed; confirmed when the 95 %
   interval of the mean over seeds lies above 0 for at least one configuration; not confirmed when it
   lies below 0 for all; else inconclusive.
3. **Aleatoric causes**, stratified scene by scene: in each cause scene, the share of a cause's pixels
   whose per-pixel loss minimum is more than 1 px off the truth (while the truth costs more) minus
   the same share for the scene's clean pixels (no cause), where both have at least
   ``MIN_PIXELS`` pixels; a 95 % interval of the mean difference over scenes per cause. Confirmed
   when the interval lies above 0 for every named cause (specular, occluded, textureless,
   repetitive) measured in at least ``MIN_SCENES`` scenes; not confirmed when it lies at or below 0
   for all of them; else inconclusive (the causes that pass are named).
4. **Regularisers**, each regularised configuration against its unregularised twin (same data,
   seeds and steps; a spec's base against its twin spec's base, and a variant against the twin spec's
   variant of the same name, or a spec's configurations against its own ``twin_variant``, a variant ``V`` against ``V_<twin_variant>`` where the spec has one): wherever the twin diverges (globally or in a cause), does the regularised one
   still diverge there? Confirmed when it does in every such place; not confirmed when a regulariser
   makes one of them consistent; inconclusive when the twin diverges nowhere (nothing to remove) or
   the results are mixed.
5. **Domains and architectures**, de-confounded: only configurations trained with the common
   0.85 SSIM + 0.15 L1 synthesis term and no other term (but Monodepth2's 0.001 smoothness) count,
   trained networks only as for claim 1, grouped by domain (the U-Net trained on stereo pairs in
   the street, indoor and medical domains) and by architecture; confirmed when every group shows a
   divergence (claim 1's sense, surviving the same correction over these configurations); not confirmed when some group is consistent in every judged verdict;
   else inconclusive. The oracle gap per group is reported beside it, not mixed in.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .runner import BASE, EXTRA_TERMS, SEED_COLOURS, _finite, _plt, _save, _write, is_common_objective
from .verdict import holm, t_interval

CLAIM_CAUSES = ("specular", "occluded", "textureless", "repetitive")
ALL_CAUSES = ("occluded", "border", "textureless", "specular", "repetitive", "depth_edge", "shadow")
#: the verdict matrix also shows the causes only some scenes have (moving objects in clips with ``moving`` boxes)
MATRIX_CAUSES = (*ALL_CAUSES, "moving")
SWEEP_LEVELS: dict[str, list[float]] = {
    "specular": [0.0, 0.5, 1.5, 3.0],
    "texture": [0.1, 0.4, 1.0, 2.0],
    "repetitive": [0.0, 0.33, 0.67, 1.0],
    "occluders": [0, 2, 4, 8],
    "shadows": [0.0, 0.3, 0.6, 0.9],
    "noise": [0.0, 0.02, 0.05, 0.1],
    "exposure": [0.0, 0.2, 0.5, 1.0],
}
DOMAINS = ("street", "indoor", "medical")
#: the dials of the training scenes (the cause scenes use the same)
SCENE_DIALS = {"specular": 1.5, "repetitive": 0.6, "occluders": 4, "curved": 3}
MIN_PIXELS = 20
MIN_SCENES = 5
CONFIDENCE = 0.95


def load_results(folder: str | Path = "experiments/results") -> dict[str, dict[str, Any]]:
    """Every ``<folder>/<name>/summary.json`` of an experiment (the analysis folder excluded)."""
    out = {}
    for p in sorted(Path(folder).glob("*/summary.json")):
        if p.parent.name == "analysis":
            continue
        out[p.parent.name] = json.loads(p.read_text())
    return out


def reference_results(results: dict[str, dict]) -> tuple[dict[str, dict], dict[str, str]]:
    """The results the claims are decided from: the standard profile's once any experiment has them (a smoke-test
    result must not be mixed into the reference evidence), else all; and the experiments left out, with their
    profile. A single real pair's case study never decides a claim (it has one held-out region)."""
    results = {k: r for k, r in results.items() if not r.get("case_study")}
    if not any(r.get("profile") == "standard" for r in results.values()):
        return results, {}
    keep = {k: r for k, r in results.items() if r.get("profile") == "standard"}
    return keep, {k: str(r.get("profile")) for k, r in results.items() if k not in keep}


# --------------------------------------------------------------------------- configurations


def configurations(results: dict[str, dict]) -> list[dict[str, Any]]:
    """One record per (experiment, configuration) with its verdicts and oracle gap."""
    rows = []
    for name, r in results.items():
        views = [(BASE, r)] + list((r.get("variants") or {}).items())
        for cfg, v in views:
            nums = v.get("numbers") or {}
            per_cause = v.get("per_cause") or {}
            terms = r.get("synthesis_terms") or {}
            extra = dict(r.get("extra_terms") or {})
            overrides = (v.get("overrides") or {}).get("loss", {}) if cfg != BASE else {}
            extra = {k: w for k, w in {**extra, **{k: w for k, w in overrides.items() if k in EXTRA_TERMS}}.items() if w}
            if overrides:
                terms = {**terms, **{k: w for k, w in overrides.items() if k in ("photometric", "l1", "census", "ncc", "gradient", "feature_metric", "alpha")}}
                terms = {k: w for k, w in terms.items() if w}
                if "photometric" not in terms:
                    terms.pop("alpha", None)
                else:
                    terms.setdefault("alpha", 0.85)  # the trainer's default SSIM share
            rows.append({
                "experiment": name, "config": cfg, "label": name if cfg == BASE else f"{name} [{cfg}]",
                "architecture": r.get("architecture", []), "domain": r.get("domain"), "tests": r.get("tests", []),
                "claims": r.get("claims", []), "task": r.get("task"), "profile": r.get("profile"),
                "verdict": v.get("verdict"), "numbers": nums, "oracle_gap": v.get("oracle_gap") or [],
                "per_cause": {c: {"verdict": x.get("verdict"), "exists": x.get("exists"), "why": x.get("why"),
                                  "numbers": x.get("numbers") or {}} for c, x in per_cause.items()},
                "common_objective": is_common_objective(terms) and all(k == "smoothness" and w <= 0.001 for k, w in extra.items()),
                "synthesis_terms": terms, "extra_terms": extra,
                "failed_runs": [f for f in r.get("failed_runs", []) if f.get("variant") == cfg],
                "network": "pixel-field" not in r.get("architecture", []),
            })
    return rows


def _tests(c: dict) -> list[tuple[str, str, dict]]:
    """(place, verdict, numbers) of every judged verdict of a configuration: global and per cause."""
    out = []
    if c["verdict"] in ("diverges", "consistent", "inconclusive"):
        out.append(("global", c["verdict"], c["numbers"]))
    for k, v in c["per_cause"].items():
        if v["verdict"] in ("diverges", "consistent", "inconclusive"):
            out.append((k, v["verdict"], v.get("numbers") or {}))
    return out


def surviving(confs: list[dict], alpha: float = 0.05) -> set[tuple[str, str]]:
    """(configuration label, place) of the divergences that survive a Holm-Bonferroni correction over every
    judged verdict of ``confs`` (one-sided paired t-test of a positive excess cost)."""
    fam = [(c["label"], place, v, n.get("p_value", 1.0) if n.get("p_value") is not None else 1.0)
           for c in confs for place, v, n in _tests(c)]
    keep = holm([f[3] for f in fam], alpha)
    return {(f[0], f[1]) for f, k in zip(fam, keep) if k and f[2] == "diverges"}


def _diverging_places(c: dict, survivors: set | None = None) -> list[str]:
    out = ["global"] if c["verdict"] == "diverges" else []
    out += [k for k, v in c["per_cause"].items() if v["verdict"] == "diverges"]
    if survivors is not None:
        out = [p for p in out if (c["label"], p) in survivors]
    return out


def _claim(status: str, summary: str, numbers: Any, answer: str = "") -> dict[str, Any]:
    return {"status": status, "summary": summary, "answer": answer or summary, "numbers": numbers}


def _interval_text(mean, lo, hi, fmt="{:.3g}") -> str:
    f = lambda x: "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)  # noqa: E731
    return f"{f(mean)} (95% interval {f(lo)} to {f(hi)})"


# --------------------------------------------------------------------------- claim 1


def claim_divergence(results: dict[str, dict]) -> dict[str, Any]:
    confs = [c for c in configurations(results) if c["network"]]
    fam = surviving(confs)
    m = sum(len(_tests(c)) for c in confs)
    nums = [{"configuration": c["label"], "verdict": c["verdict"],
             "mean excess cost": c["numbers"].get("mean_excess"), "interval low": c["numbers"].get("excess_low"),
             "interval high": c["numbers"].get("excess_high"), "tolerance": c["numbers"].get("tolerance"),
             "seeds used": c["numbers"].get("successful_seeds"), "error metric": c["numbers"].get("error_metric"),
             "diverges in causes": ", ".join(k for k, v in c["per_cause"].items() if v["verdict"] == "diverges") or "-",
             "survives correction": ", ".join(_diverging_places(c, fam)) or "-",
             "failed runs": len(c["failed_runs"])} for c in confs]
    if not confs:
        return _claim("inconclusive", "No trained network has results.", nums)
    div = [(c["label"], _diverging_places(c)) for c in confs if _diverging_places(c)]
    kept = [(c["label"], _diverging_places(c, fam)) for c in confs if _diverging_places(c, fam)]
    judged = [v for c in confs for _p, v, _n in _tests(c)]
    where = lambda xs: "; ".join(f"{label} ({', '.join(p)})" for label, p in xs)  # noqa: E731
    if kept:
        return _claim("confirmed", f"{len(kept)} trained-network configurations diverge in a way that survives a Holm-Bonferroni "
                      f"correction over all {m} verdicts: at the checkpoint with the lowest held-out synthesis loss the depth "
                      f"error is higher than at the error's best, beyond the evaluation noise: {where(kept)}. "
                      f"Divergent at 95% before the correction: {where(div)}.", nums,
                      "Yes: in these configurations a lower synthesis loss came with a higher depth error.")
    if judged and all(v == "consistent" for v in judged):
        return _claim("not confirmed", "Every judged verdict of every trained network is consistent: picking the "
                      "checkpoint by the synthesis loss cost no more than the tolerance.", nums,
                      "No: here a lower synthesis loss went with a lower depth error.")
    if div:
        return _claim("inconclusive", f"Some verdicts diverge at 95% ({where(div)}), but none survives a Holm-Bonferroni "
                      f"correction over the {m} verdicts of the trained networks: with this many tests, that many divergences "
                      "could be chance.", nums, "Not decided: the divergences seen could be chance among many tests.")
    return _claim("inconclusive", "No trained network diverges beyond the evaluation noise, and not every verdict is "
                  "consistent.", nums, "Not decided: the measured effects are within the noise.")


# --------------------------------------------------------------------------- claim 2


def claim_oracle_gap(results: dict[str, dict]) -> dict[str, Any]:
    confs = configurations(results)
    nums = []
    for c in confs:
        gaps = [g for g in c["oracle_gap"] if g is not None]
        m, lo, hi = t_interval(gaps, CONFIDENCE)
        nums.append({"configuration": c["label"], "seeds": len(gaps), "mean oracle gap": m, "interval low": lo,
                     "interval high": hi, "positive seeds": sum(1 for g in gaps if g > 0)})
    valid = [n for n in nums if n["seeds"] >= 2]
    if not valid:
        return _claim("inconclusive", "No configuration has oracle gaps from two or more seeds.", nums)
    above = [n for n in valid if n["interval low"] > 0]
    if above:
        best = ", ".join(f"{n['configuration']} {_interval_text(n['mean oracle gap'], n['interval low'], n['interval high'], '{:.4f}')}"
                         for n in above)
        return _claim("confirmed", f"In {len(above)} of {len(valid)} configurations the prediction reaches a lower held-out "
                      f"synthesis loss than the ground truth, with the 95% interval of the gap above 0: {best}.", nums,
                      "Yes: the truth does not minimise the synthesis loss; the prediction of "
                      + ", ".join(n["configuration"] for n in above) + " beats it.")
    if all(n["interval high"] < 0 for n in valid):
        return _claim("not confirmed", "In every configuration the ground truth has the lower held-out synthesis loss "
                      "(95% intervals below 0).", nums, "No: the truth had the lower loss everywhere.")
    return _claim("inconclusive", "No configuration's interval lies above 0, and not all lie below.", nums,
                  "Not decided: the gap is within the spread between seeds.")


# --------------------------------------------------------------------------- claim 3


def cause_scenes(per_domain: int = 6, size: tuple[int, int] = (96, 192), domains=DOMAINS, step: float = 0.5,
                 first_seed: int = 7000) -> list[dict[str, Any]]:
    """Per-scene landscape shares on scenes with the training dials: one row per scene."""
    import torch

    from .data.procedural import Dials, render_stereo
    from .manifold import analyse

    rows = []
    for domain in domains:
        for k in range(per_domain):
            s = render_stereo(domain=domain, size=size, dials=Dials(**SCENE_DIALS), seed=first_seed + k)
            top = float(s.disparity[s.valid].max())
            res = analyse(s, hypotheses=torch.arange(0.0, math.ceil(top) + 2.0, step), compile=False)
            row = {"domain": domain, "seed": first_seed + k, "size": list(size), "max_disparity": top,
                   "misleading": res["misleading"]}
            for c, v in res["per_cause"].items():
                row[f"{c}_pixels"] = int(round(v["share"] * res["n_valid"]))
                row[f"{c}_misleading"] = v["misleading"]
            rows.append(row)
    return rows


def cause_differences(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """Per cause: the scene-by-scene difference of misled shares (cause minus clean) with a 95 % interval."""
    out = {}
    for c in ALL_CAUSES:
        d = []
        for r in rows:
            nc, nn = r.get(f"{c}_pixels", 0), r.get("none_pixels", 0)
            mc, mn = r.get(f"{c}_misleading"), r.get("none_misleading")
            if nc >= MIN_PIXELS and nn >= MIN_PIXELS and mc is not None and mn is not None and math.isfinite(mc) and math.isfinite(mn):
                d.append(mc - mn)
        m, lo, hi = t_interval(d, CONFIDENCE)
        out[c] = {"scenes": len(d), "mean_difference": m, "low": lo, "high": hi,
                  "mean_cause_misleading": _mean([r.get(f"{c}_misleading") for r in rows if r.get(f"{c}_pixels", 0) >= MIN_PIXELS]),
                  "mean_clean_misleading": _mean([r.get("none_misleading") for r in rows if r.get(f"{c}_pixels", 0) >= MIN_PIXELS])}
    return out


def _mean(xs) -> float:
    a = [x for x in xs if x is not None and isinstance(x, (int, float)) and math.isfinite(x)]
    return float(np.mean(a)) if a else float("nan")


def claim_causes(diffs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    named = {c: diffs[c] for c in CLAIM_CAUSES if c in diffs and diffs[c]["scenes"] >= MIN_SCENES}
    nums = [{"cause": c, "scenes": v["scenes"], "misled (cause)": v["mean_cause_misleading"],
             "misled (clean, same scenes)": v["mean_clean_misleading"], "mean difference": v["mean_difference"],
             "interval low": v["low"], "interval high": v["high"], "named by Li et al.": c in CLAIM_CAUSES}
            for c, v in diffs.items()]
    if not named:
        return _claim("inconclusive", f"No named cause was measured in {MIN_SCENES} or more scenes.", nums)
    above = [c for c, v in named.items() if v["low"] > 0]
    text = "; ".join(f"{c} {v['mean_cause_misleading']:.1%} vs clean {v['mean_clean_misleading']:.1%}, difference "
                     f"{_interval_text(v['mean_difference'], v['low'], v['high'], '{:.3f}')} over {v['scenes']} scenes"
                     for c, v in named.items())
    if len(above) == len(named):
        return _claim("confirmed", f"At every named cause the per-pixel loss minimum is off the truth more often than at the "
                      f"clean pixels of the same scenes: {text}.", nums,
                      "Yes: at these causes the loss often prefers a wrong disparity.")
    if all(v["high"] <= 0 for v in named.values()):
        return _claim("not confirmed", f"No named cause misleads the loss more often than clean pixels: {text}.", nums,
                      "No: the causes did not mislead the loss more than clean pixels.")
    return _claim("inconclusive", f"Only {', '.join(above) or 'none'} of {', '.join(named)} clearly exceed the clean pixels: "
                  f"{text}.", nums, f"Partly: {', '.join(above) or 'no cause'} clearly misleads the loss more than clean pixels.")


# --------------------------------------------------------------------------- claim 4


def claim_regularisers(results: dict[str, dict]) -> dict[str, Any]:
    confs = {(c["experiment"], c["config"]): c for c in configurations(results)}
    pairs = []
    for name, r in results.items():
        twin_variant = r.get("twin_variant") or ""
        twin = r.get("twin") or ""
        if twin_variant and (name, twin_variant) in confs:
            # a variant V pairs with the variant ``V_<twin_variant>`` (the same change without the term) where the
            # spec has one, else with the twin variant itself; the twins are not regularised configurations
            suffix = f"_{twin_variant}"
            mine = [cfg for e, cfg in confs if e == name]
            twins = {twin_variant} | {f"{v}{suffix}" for v in mine if v != BASE}
            for cfg in mine:
                if cfg not in twins:
                    own = confs.get((name, f"{cfg}{suffix}")) if cfg != BASE else None
                    pairs.append((confs[(name, cfg)], own or confs[(name, twin_variant)]))
        elif twin:  # the base against the twin's base (or its ``twin_config``), a variant against the twin's variant
            # of the same name
            theirs = {BASE: r.get("twin_config") or BASE}
            pairs += [(c, confs[(twin, theirs.get(cfg, cfg))]) for (e, cfg), c in confs.items()
                      if e == name and (twin, theirs.get(cfg, cfg)) in confs]
    nums, kept, removed, nothing = [], [], [], []
    fam = surviving(list({t["label"]: t for _r, t in pairs}.values()))
    for reg, twin in pairs:
        places = _diverging_places(twin, fam)
        for p in places:
            v = reg["verdict"] if p == "global" else reg["per_cause"].get(p, {}).get("verdict")
            nums.append({"regularised": reg["label"], "twin": twin["label"], "where": p, "twin verdict": "diverges",
                         "regularised verdict": v})
            (kept if v == "diverges" else removed if v == "consistent" else []).append(f"{reg['label']} ({p})")
        if not places:
            nothing.append(reg["label"])
            nums.append({"regularised": reg["label"], "twin": twin["label"], "where": "-", "twin verdict": twin["verdict"],
                         "regularised verdict": reg["verdict"]})
    if not pairs:
        return _claim("inconclusive", "No regularised configuration with an unregularised twin has results.", nums)
    tested = len(kept) + len(removed) + sum(1 for n in nums if n["where"] != "-" and n["regularised verdict"] not in ("diverges", "consistent"))
    if tested == 0:
        return _claim("inconclusive", "The unregularised twins show no divergence that survives the family-wise correction, "
                      "so there was nothing for a regulariser to remove.", nums,
                      "Not decided: without a regulariser no divergence showed here.")
    if removed:
        return _claim("not confirmed", f"A regulariser made a divergence consistent: {', '.join(removed)}.", nums,
                      "No: a regulariser removed the divergence here.")
    if kept and len(kept) == tested:
        return _claim("confirmed", f"Wherever the twin diverges, the regularised configuration still diverges: {', '.join(kept)}.",
                      nums, "Yes: the regularisers did not remove the divergence.")
    return _claim("inconclusive", f"{len(kept)} of {tested} diverging places still diverge with a regulariser; the others are "
                  "within the noise.", nums, "Not decided: the regularised runs are within the noise.")


# --------------------------------------------------------------------------- claim 5


def claim_generality(results: dict[str, dict]) -> dict[str, Any]:
    confs = [c for c in configurations(results) if c["common_objective"] and c["network"]]
    groups: dict[str, list[dict]] = {}
    for c in confs:
        if c["architecture"] == ["unet-cnn"] and c["task"] == "stereo":
            groups.setdefault(f"domain {c['domain']}", []).append(c)
        groups.setdefault(f"architecture {' + '.join(c['architecture'])}" + (" (video)" if c["task"] == "video" else ""), []).append(c)
    nums = []
    status_of = {}
    fam = surviving(confs)
    for g, cs in sorted(groups.items()):
        div = [c["label"] for c in cs if _diverging_places(c, fam)]
        judged = [v for c in cs for _p, v, _n in _tests(c)]
        gaps = [x for c in cs for x in c["oracle_gap"] if x is not None]
        m, lo, hi = t_interval(gaps, CONFIDENCE)
        st = "divergence" if div else ("consistent" if judged and all(v == "consistent" for v in judged) else "unclear")
        status_of[g] = st
        nums.append({"group": g, "configurations": ", ".join(c["label"] for c in cs), "divergence": st,
                     "diverging": ", ".join(div) or "-", "oracle gap": m, "oracle gap low": lo, "oracle gap high": hi})
    if not groups:
        return _claim("inconclusive", "No configuration trained with the common SSIM + L1 objective has results.", nums)
    shown = [g for g, s in status_of.items() if s == "divergence"]
    hard = [g for g, s in status_of.items() if s == "consistent"]
    rest = [g for g, s in status_of.items() if s == "unclear"]
    if len(shown) == len(status_of):
        return _claim("confirmed", f"With the same SSIM + L1 objective, every group shows a divergence: {', '.join(shown)}.",
                      nums, "Yes: the divergence appears in every domain and architecture tested.")
    if hard:
        return _claim("not confirmed", f"With the same SSIM + L1 objective, {', '.join(hard)} are consistent in every judged "
                      f"verdict; divergence shows in {', '.join(shown) or 'no group'}.", nums,
                      f"No: {', '.join(hard)} showed no divergence.")
    return _claim("inconclusive", f"With the same SSIM + L1 objective, divergence shows in {', '.join(shown) or 'no group'}; "
                  f"{', '.join(rest)} are within the noise.", nums,
                  f"Not decided: divergence in {', '.join(shown) or 'no group'}, the rest within the noise.")


# --------------------------------------------------------------------------- cross-experiment tables


def verdict_matrix(results: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per configuration: global verdict and the verdict of each cause."""
    rows = []
    for c in configurations(results):
        row = {"configuration": c["label"], "experiment": c["experiment"], "tests": c["tests"],
               "architecture": c["architecture"], "domain": c["domain"], "global": c["verdict"]}
        for cause in MATRIX_CAUSES:
            row[cause] = c["per_cause"].get(cause, {}).get("verdict", "not judged")
        rows.append(row)
    return rows


def weight_ranking(results: dict[str, dict]) -> list[dict[str, Any]]:
    """For each experiment with loss-weight variants: does ranking by final L_syn match ranking by error?"""
    from scipy.stats import spearmanr

    out = []
    for name, r in results.items():
        if not r.get("variants"):
            continue
        configs = [{"config": c["config"], "final_lsyn": c["numbers"].get("mean_final_loss"),
                    "final_error": c["numbers"].get("mean_final_error"), "verdict": c["verdict"]}
                   for c in configurations({name: r})]
        configs = [c for c in configs if c["final_lsyn"] is not None and c["final_error"] is not None]
        if len(configs) < 3:
            continue
        by_loss = [c["config"] for c in sorted(configs, key=lambda c: c["final_lsyn"])]
        by_err = [c["config"] for c in sorted(configs, key=lambda c: c["final_error"])]
        rho = float(spearmanr([c["final_lsyn"] for c in configs], [c["final_error"] for c in configs]).statistic)
        out.append({"experiment": name, "error_metric": r["numbers"].get("error_metric"), "configs": configs,
                    "order_by_lsyn": by_loss, "order_by_error": by_err, "same_order": by_loss == by_err,
                    "same_best": by_loss[0] == by_err[0], "spearman": rho})
    return out


# --------------------------------------------------------------------------- aleatoric sweep


def aleatoric_sweep(scenes: int = 2, size: tuple[int, int] = (48, 96), domains=DOMAINS,
                    levels: dict[str, list[float]] | None = None, step: float = 0.5) -> list[dict[str, Any]]:
    """Turn one dial at a time (the others at the training dials); one row per (domain, dial, value), with the
    misled share per cause and for clean pixels, pooled over ``scenes`` scenes."""
    import torch

    from .data.procedural import Dials, render_stereo
    from .manifold import analyse, sweep_min
    from .losses import photometric
    from .synthesis import warp_stereo

    levels = levels or SWEEP_LEVELS
    rows = []
    for domain in domains:
        for dial, values in levels.items():
            for value in values:
                acc: dict[str, list[float]] = {}
                px: dict[str, int] = {}
                mis: dict[str, int] = {}
                for seed in range(scenes):
                    dials = Dials(**{**SCENE_DIALS, dial: value})
                    s = render_stereo(domain=domain, size=size, dials=dials, seed=5000 + seed)
                    top = float(s.disparity[s.valid].max())
                    hyps = torch.arange(0.0, math.ceil(top) + 2.0, step)
                    res = analyse(s, hypotheses=hyps, compile=False)
                    left, right = s.left[None], s.right[None]
                    min_cost, d_best = sweep_min(left, right, hyps, compile=False)
                    v = s.valid[None]
                    cost_gt = photometric(warp_stereo(right, s.disparity[None])[0], left, compile=False)
                    acc.setdefault("oracle_gap", []).append(float((cost_gt - min_cost)[v].mean()))
                    acc.setdefault("misleading", []).append(res["misleading"])
                    acc.setdefault("epe", []).append(float((d_best - s.disparity[None]).abs()[v].mean()))
                    for c, cv in res["per_cause"].items():
                        n = int(round(cv["share"] * res["n_valid"]))
                        px[c] = px.get(c, 0) + n
                        if n and not math.isnan(cv["misleading"]):
                            mis[c] = mis.get(c, 0) + int(round(cv["misleading"] * n))
                rows.append({"domain": domain, "dial": dial, "value": value, "scenes": scenes, "size": list(size),
                             **{k: float(np.mean(x)) for k, x in acc.items()},
                             "pixels": px, "misleading_px": mis})
    return rows


def sweep_trends(rows: list[dict]) -> list[dict[str, Any]]:
    """Per domain and dial: Spearman correlation of each sweep measure with the dial value."""
    from scipy.stats import spearmanr

    out = []
    for domain, dial in sorted({(r["domain"], r["dial"]) for r in rows}):
        rs = [r for r in rows if r["domain"] == domain and r["dial"] == dial]
        item = {"domain": domain, "dial": dial}
        for m in ("oracle_gap", "misleading", "epe"):
            ys = [r[m] for r in rs]
            xs = [r["value"] for r in rs]
            item[m] = float(spearmanr(xs, ys).statistic) if len(set(ys)) > 1 else 0.0
        out.append(item)
    return out


# --------------------------------------------------------------------------- driver


def analyse_all(results_dir: str | Path = "experiments/results", sweep: bool = True, sweep_scenes: int = 2,
                sweep_size: tuple[int, int] = (48, 96), scenes_per_domain: int = 6,
                scene_size: tuple[int, int] = (96, 192)) -> dict[str, Any]:
    """Compute every analysis, write ``<results_dir>/analysis/`` (summary.json and figures) and return it.

    With ``sweep=False`` the sweep and the cause scenes of the last analysis are reused."""
    from .specs import CLAIMS

    results, left_out = reference_results(load_results(results_dir))
    out = Path(results_dir) / "analysis"
    prev = out / "summary.json"
    old = json.loads(prev.read_text()) if prev.is_file() else {}
    if sweep:
        rows = aleatoric_sweep(scenes=sweep_scenes, size=sweep_size)
        scene_rows = cause_scenes(per_domain=scenes_per_domain, size=scene_size)
    else:
        rows, scene_rows = old.get("sweep") or [], old.get("cause_scenes") or []
    diffs = cause_differences(scene_rows) if scene_rows else {}
    claims = {
        1: claim_divergence(results),
        2: claim_oracle_gap(results),
        3: claim_causes(diffs) if diffs else _claim("inconclusive", "The cause scenes have not been measured.", {}),
        4: claim_regularisers(results),
        5: claim_generality(results),
    }
    figs = {1: ["claim1.png"], 2: ["claim2.png"], 3: ["causes.png", "sweep.png"], 4: ["ranking.png"], 5: ["claim5.png"]}
    summary = {
        "claims": {str(k): {"claim": CLAIMS[k], **v, "figures": figs[k]} for k, v in claims.items()},
        "matrix": verdict_matrix(results),
        "ranking": weight_ranking(results),
        "sweep": rows, "sweep_trends": sweep_trends(rows) if rows else [],
        "cause_scenes": scene_rows, "cause_differences": diffs,
        "experiments": sorted(results),
        "profiles": sorted({str(r.get("profile")) for r in results.values()}),
        "left_out": left_out,
        "command": "sins experiments analyse",
        "rules": __doc__.split("Claim rules")[1].strip() if "Claim rules" in (__doc__ or "") else "",
    }
    out.mkdir(parents=True, exist_ok=True)
    plot_claim1(claims[1]["numbers"], out / "claim1.png")
    plot_claim2(claims[2]["numbers"], out / "claim2.png")
    plot_causes(diffs, out / "causes.png")
    if rows:
        plot_sweep(rows, out / "sweep.png")
    plot_ranking(summary["ranking"], out / "ranking.png")
    plot_claim5(claims[5]["numbers"], out / "claim5.png")
    if sweep or not (out / "scenes.png").is_file():
        plot_scenes(out / "scenes.png", scene_size)
    _write(out / "summary.json", json.dumps(_finite(summary), indent=1) + "\n")
    return summary


# --------------------------------------------------------------------------- figures

#: verdict colours, the same on every page and figure
VERDICT_COLOURS = {"diverges": "#D55E00", "consistent": "#0072B2", "inconclusive": "#999999", "failed": "#000000",
                   "not judged": "#DDDDDD"}


def _interval_plot(rows: list[dict], key: str, lo: str, hi: str, label: str, title: str, path: Path,
                   colour_of=lambda r: "#0072B2", ref: float = 0.0) -> None:
    plt = _plt()
    rows = [r for r in rows if r.get(key) is not None and isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    fig, ax = plt.subplots(figsize=(7.5, max(2.2, 0.32 * len(rows) + 1)))
    for i, r in enumerate(rows):
        a, b = r.get(lo), r.get(hi)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b):
            ax.plot([a, b], [i, i], color=colour_of(r), lw=2)
        ax.plot(r[key], i, "o", color=colour_of(r))
    ax.axvline(ref, color="k", lw=0.8)
    ax.set_yticks(range(len(rows)), [r.get("configuration") or r.get("cause") or r.get("group") for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(label, fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def plot_claim1(nums: list[dict], path: Path) -> None:
    _interval_plot(nums, "mean excess cost", "interval low", "interval high",
                   "excess cost of trusting the loss (error units; > 0: the loss picks a worse checkpoint)",
                   "Claim 1: error at the lowest held-out L_syn minus at the error's best trend, 95% interval",
                   path, colour_of=lambda r: VERDICT_COLOURS.get(r.get("verdict"), "#999999"))


def plot_claim2(nums: list[dict], path: Path) -> None:
    _interval_plot(nums, "mean oracle gap", "interval low", "interval high",
                   "L_syn(truth) - L_syn(prediction), held-out (> 0: the loss prefers the prediction)",
                   "Claim 2: oracle gap per configuration, 95% interval over seeds", path)


def plot_causes(diffs: dict[str, dict], path: Path) -> None:
    rows = [{"cause": c, **v} for c, v in diffs.items() if v["scenes"]]
    _interval_plot(rows, "mean_difference", "low", "high",
                   "share of the cause's pixels misled minus share of clean pixels misled (same scene)",
                   "Claim 3: per-scene difference, cause vs clean pixels, 95% interval over scenes", path)


def plot_claim5(nums: list[dict], path: Path) -> None:
    colour = {"divergence": VERDICT_COLOURS["diverges"], "consistent": VERDICT_COLOURS["consistent"], "unclear": "#999999"}
    _interval_plot(nums, "oracle gap", "oracle gap low", "oracle gap high",
                   "oracle gap of the group (colour: divergence shown / consistent / within noise)",
                   "Claim 5: groups trained with the same SSIM + L1 objective", path,
                   colour_of=lambda r: colour.get(r.get("divergence"), "#999999"))


def plot_scenes(path: Path, size: tuple[int, int] = (96, 192), seed: int = 7000) -> None:
    """One cause scene per domain: the left image, and its cause masks as two colour images."""
    from .data.procedural import Dials, render_stereo

    plt = _plt()
    fig, axes = plt.subplots(len(DOMAINS), 3, figsize=(11, 2.0 * len(DOMAINS)), squeeze=False)
    for i, domain in enumerate(DOMAINS):
        s = render_stereo(domain=domain, size=size, dials=Dials(**SCENE_DIALS), seed=seed)
        c = {k: v[0].numpy().astype(float) for k, v in s.causes.items()}
        panels = [(s.left.permute(1, 2, 0).numpy(), f"{domain}: left image"),
                  (np.stack([c["occluded"], c["specular"], c["border"]], -1), "occluded / specular / border"),
                  (np.stack([c["repetitive"], c["depth_edge"], c["shadow"]], -1), "repetitive / depth edge / shadow")]
        for j, (img, title) in enumerate(panels):
            axes[i][j].imshow(img, interpolation="nearest")
            axes[i][j].set_title(title, fontsize=9)
            axes[i][j].axis("off")
    fig.tight_layout()
    _save(fig, path)


def plot_sweep(rows: list[dict], path: Path) -> None:
    """Misled share against each dial, one panel per dial, one line per domain (clean pixels dashed)."""
    plt = _plt()
    dials = list(dict.fromkeys(r["dial"] for r in rows))
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(dials) / cols), cols, figsize=(12, 3.2 * math.ceil(len(dials) / cols)), squeeze=False)
    for j, dial in enumerate(dials):
        ax = axes[j // cols][j % cols]
        for k, domain in enumerate(dict.fromkeys(r["domain"] for r in rows)):
            rs = [r for r in rows if r["dial"] == dial and r["domain"] == domain]
            ax.plot([r["value"] for r in rs], [r["misleading"] for r in rs], marker="o", ms=4, color=SEED_COLOURS[k],
                    label=f"{domain}: all pixels")
            clean = [r["misleading_px"].get("none", 0) / max(1, r["pixels"].get("none", 0)) for r in rs]
            ax.plot([r["value"] for r in rs], clean, ls="--", color=SEED_COLOURS[k], label=f"{domain}: clean pixels")
        ax.set_title(f"dial: {dial}", fontsize=10)
        ax.set_ylabel("share of pixels misled", fontsize=9)
        ax.tick_params(labelsize=9)
    for j in range(len(dials), axes.shape[0] * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def plot_ranking(ranking: list[dict], path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, item in enumerate(ranking):
        xs = [c["final_lsyn"] for c in item["configs"]]
        ys = [c["final_error"] for c in item["configs"]]
        ax.scatter(xs, ys, color=SEED_COLOURS[k % len(SEED_COLOURS)], label=item["experiment"])
        for c in item["configs"]:
            ax.annotate(c["config"], (c["final_lsyn"], c["final_error"]), fontsize=8)
    ax.set_xlabel("final held-out L_syn (mean over seeds)", fontsize=9)
    ax.set_ylabel("final error (mean over seeds)", fontsize=9)
    ax.set_title("Loss-weight variants: ranked by loss vs by error", fontsize=10)
    if ranking:
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
