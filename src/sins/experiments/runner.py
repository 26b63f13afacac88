"""Run an experiment spec over its seeds (and loss-weight variants) and write its results folder.

``experiments/results/<name>/`` receives small files only:

- ``metrics.csv``: every held-out evaluation of every run (columns ``variant``, ``seed``, ``step``,
  ``heldout_lsyn``, ``heldout_lsyn_trained``, the error metrics overall and per cause);
- ``summary.json``: the verdicts (global and per cause, computed by :mod:`sins.experiments.verdict`,
  never by hand), the numbers they were computed from, the failed runs, the constant-prediction
  baselines, the oracle gap and the per-pixel landscape by cause, per variant;
- ``curves.png`` and ``landscape.png``;
- ``runs/``: the record of every finished run (see below).

Each run is resumable on its own: a finished run leaves ``done.json`` in the scratch folder
(``build/runs/<profile>/`` by default) and is not trained again while its config is unchanged; an
interrupted one continues from its checkpoint. A finished run's record is also kept, gzipped, in the results
folder (``runs/<variant>-s<seed>.json.gz``, about 12 kB), so that committed runs are not trained again on another
machine (a fresh clone, a later session) and a spec's summary can be recomputed from them anywhere.

Throughput: the runs of a spec (its seeds and variants) are independent, so ``jobs`` worker processes
train them side by side, each with its share of the CPU threads (small convolutions use one core far
better than two); the procedural scenes are rendered once and read back by every later run from
``scene_cache``; and 2-D convolutional models train channels-last (:func:`sins.experiments.loop.channels_last`).
None of this changes what a run computes: a run gives the same numbers whatever ``jobs`` is.

Shared runs: two runs with one :func:`training_key` (their validated configs agree but for the name, which only
labels a run) train the same network on the same numbers. One of them is trained; the other takes its record,
re-keyed to its own config and marked ``shared_from``. This holds within one call and across calls: a run whose
twin in another spec of the spec folder has finished is not trained. (monodepth_stereo's runs and
smoothness_weights' ``none`` variant are such twins: trained separately at different stops, their records agree
in every number.)
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .config import ConfigError
from .specs import ExperimentSpec
from .verdict import VerdictRule, cause_exists, t_interval, verdict_of_curves

RULE = VerdictRule()
BASE = "base"
DONE = "done.json"
#: the held-out pose metrics of a video run (:func:`sins.experiments.evaluation.pose_errors`)
POSE_METRICS = ("pose_t_cos", "pose_t_ratio", "pose_rot_err_deg")
#: a spec's results folder keeps its finished runs' records here (``<variant>-s<seed>.json.gz``)
RUNS = "runs"


class SpecError(ValueError):
    """A spec that cannot run as written; the message names the spec file, the field and what would be valid."""


class RunFailed(RuntimeError):
    """A run that stopped (a non-finite loss, a missing data file); the message names the experiment, the
    configuration and the seed."""


def _stops() -> tuple[type[BaseException], ...]:
    """What a run raises that stops the whole ``run`` with a message rather than a traceback."""
    from .loop import NonFiniteLoss

    return ConfigError, KeyboardInterrupt, NonFiniteLoss, FileNotFoundError


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
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _where(spec: ExperimentSpec, profile: str, variant: str | None, field: str) -> str:
    """The place in the spec file that sets ``field`` (dotted), for messages."""
    def has(d: dict, path: list[str]) -> bool:
        for p in path:
            if not isinstance(d, dict) or p not in d:
                return False
            d = d[p]
        return True

    path = field.split(".")
    if variant and has(spec.variants.get(variant, {}), path):
        return f"variants.{variant}.{field}"
    if has(spec.profiles.get(profile, {}), path):
        return f"profiles.{profile}.{field}"
    if has(spec.config, path):
        return f"config.{field}"
    return f"profiles.{profile}.{field} (not set: the default applies)"


def check_spec(spec: ExperimentSpec, profile: str, folder: str | Path = "experiments", rule: VerdictRule = RULE) -> None:
    """Refuse, before any training, a spec whose runs could not give a verdict."""
    from .config import validate_config

    shown = f"{Path(folder) / spec.name}.yaml"
    for variant in [None, *spec.variants]:
        raw = spec.config_for(profile, spec.seeds_for(profile)[0], variant)
        try:
            cfg = validate_config(raw, f"{shown} ({profile}{', ' + variant if variant else ''})")
        except ConfigError as e:
            raise SpecError(str(e)) from None
        if cfg.data.source == "procedural":
            n = len(cfg.heldout.procedural_seeds())
            if n < rule.min_heldout:
                raise SpecError(f"{shown}: {_where(spec, profile, variant, 'heldout.count')}: {n} held-out scenes are too few "
                                f"for a verdict; use at least {rule.min_heldout} (the held-out error must not be the noise of "
                                "one or two scenes)")


#: data sources that are one real stereo pair: their runs are a case study, not a verdict
SINGLE_PAIRS = ("motorcycle",)


def single_pair(cfg: dict) -> bool:
    """True when a run config reads one real pair (its held-out part is one region, not >= 16 scenes)."""
    return str((cfg.get("data") or {}).get("source", "procedural")) in SINGLE_PAIRS


def case_study_reason(heldout: int) -> str:
    return (f"one real pair: {heldout} held-out region{'s' if heldout != 1 else ''}, and a verdict needs at least "
            f"{RULE.min_heldout} held-out scenes; the numbers below vary over seeds on this one pair, not over scenes, "
            "so they describe this pair and decide nothing")


def mark_case_study(summary: dict[str, Any]) -> dict[str, Any]:
    """A single pair's summary keeps every measured number, but no verdict: globally, per cause and per variant the
    verdict becomes 'not judged' (the rule's verdict would rest on one held-out region)."""
    reason = case_study_reason(int(summary.get("heldout_scenes") or 0))
    summary["case_study"] = summary["reason"] = reason
    for v in [summary, *(summary.get("variants") or {}).values()]:
        v["verdict"] = "not judged"
        if "verdict_common_lsyn" in v:
            v["verdict_common_lsyn"] = "not judged"
        for c in (v.get("per_cause") or {}).values():
            if c.get("verdict") != "not judged":
                c["verdict"] = "not judged"
                c["why"] = f"{c.get('why') or 'exists'}; not judged: one real pair"
    if summary.get("finetune"):
        for p in [summary["finetune"].get("global") or {}, *(summary["finetune"].get("per_cause") or {}).values()]:
            p["pulled_away"] = None  # an interval over seeds on one pair is not evidence about scenes
    return summary


def _hash(cfg: dict) -> str:
    """The key of a finished or resumable run: its config, and the ``VERSION`` of its model's code where the
    model has one (bumped when a model's behaviour changes without a change of config; a run trained by the old
    code is then trained again, not reused)."""
    from .models import REGISTRY

    model = REGISTRY.get(str((cfg.get("model") or {}).get("name", "")))
    version = getattr(model, "VERSION", None)
    keyed = cfg if version is None else {**cfg, "_model_version": version}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:16]


def training_key(cfg: dict) -> str:
    """What a run trains: its validated config (every default filled in) without its ``name``, and its model's
    code version. Runs with one training key give the same numbers, whichever spec they belong to."""
    from .config import validate_config

    try:
        d = json.loads(validate_config(cfg).model_dump_json())
    except Exception:  # the run itself reports a bad config, naming its field
        d = dict(cfg)
    d.pop("name", None)
    return _hash(d)


def finished_record(cfg: dict, folder: Path, record: Path | None) -> dict[str, Any] | None:
    """The record of ``cfg``'s finished run, from ``folder/done.json`` or the kept ``record``, or None."""
    key = _hash(cfg)
    done = folder / DONE
    if done.is_file():
        try:
            rec = json.loads(done.read_text())
        except (OSError, ValueError):
            rec = {}
        if rec.get("config_hash") == key:
            return rec
    kept = read_record(record) if record is not None and record.is_file() else None
    if kept is not None and kept.get("config_hash") == key:
        return kept
    return None


def shared_record(rec: dict[str, Any], cfg: dict) -> dict[str, Any]:
    """A twin's record (see :func:`training_key`) as the record of ``cfg``'s run: its own key and name, and
    ``shared_from`` naming the run that was trained."""
    out = {k: v for k, v in rec.items() if k != "reused"}
    source = rec.get("shared_from") or (rec.get("resolved") or {}).get("name")
    out.update(config_hash=_hash(cfg), shared_from=source, resolved={**(rec.get("resolved") or {}), "name": cfg.get("name")})
    return out


def read_record(path: Path) -> dict[str, Any] | None:
    """A kept run record (gzipped JSON), or None where there is none or it cannot be read."""
    import gzip

    try:
        return json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError):
        return None


def keep_record(path: Path, rec: dict[str, Any]) -> None:
    """Write a finished run's record as ``path`` (gzip without a time stamp: the same run gives the same bytes)."""
    import gzip

    if int(os.environ.get("RANK", "0")) != 0:
        return
    body = {k: v for k, v in rec.items() if k != "reused"}
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, gzip.compress(json.dumps(_finite(body)).encode(), 9, mtime=0))


def run_one(cfg: dict, folder: Path, min_heldout: int = RULE.min_heldout, log=print,
            scene_cache: str | Path | None = None, record: Path | None = None) -> dict[str, Any]:
    """Train one (variant, seed) unless ``folder/done.json`` or the kept ``record`` holds the same config's
    finished run; returns the run's record (history, landscape, baseline errors, cause shares) and keeps it as
    ``record`` (when given)."""
    from .evaluation import oracle_and_landscape
    from .loop import CHECKPOINT, train

    done = folder / DONE
    key = _hash(cfg)
    rec = finished_record(cfg, folder, record)
    if rec is not None:  # finished before, here or on another machine (a committed record): not trained again
        kept = read_record(record) if record is not None and record.is_file() else None
        if record is not None and (kept or {}).get("config_hash") != key:
            keep_record(record, rec)  # finished in the scratch folder: keep its record in the results too
        return {**rec, "reused": True}
    resume = (folder / CHECKPOINT).is_file() and (folder / "config_hash").is_file() and \
        (folder / "config_hash").read_text() == key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config_hash").write_text(key)
    r = train(cfg, folder, resume=resume, progress=False, min_heldout=min_heldout, scene_cache=scene_cache)
    if r["interrupted"]:
        raise KeyboardInterrupt
    land = oracle_and_landscape(r["model"], r["heldout"], r["config"], next(r["model"].parameters()).device)
    rec = {"config_hash": key, "task": r["config"].task, "history": r["history"], "landscape": land,
           "baseline": r["baseline"], "cause_shares": r["cause_shares"], "max_true_disparity": r["max_true_disparity"],
           "heldout_scenes": len(r["heldout"]), "resolved": json.loads(r["config"].model_dump_json()),
           "resumed": bool(resume)}
    _write(done, json.dumps(_finite(rec)))
    if record is not None:
        keep_record(record, rec)
    return rec


def _per_cause_verdicts(curves: list[pd.DataFrame], records: list[dict], task: str, failed: list[str]) -> dict[str, Any]:
    err = error_metric(task)
    causes = sorted({c for r in records for c in r["cause_shares"]})
    out = {}
    for c in causes:
        col = f"{c}_{err}"
        share = float(np.mean([r["cause_shares"].get(c, 0.0) for r in records]))
        pc = [(r["landscape"].get("per_cause") or {}) for r in records]
        mis = [p.get(c, {}).get("misleading") for p in pc]
        clean = [p.get("none", {}).get("misleading") for p in pc]
        mis_m, clean_m = _nanmean(mis), _nanmean(clean)
        exists, why = cause_exists(share, mis_m, clean_m, RULE)
        item: dict[str, Any] = {"share": share, "misleading": mis_m, "clean_misleading": clean_m, "exists": exists, "why": why}
        if exists and all(col in cv.columns and cv[col].notna().sum() >= 2 for cv in curves):
            base = [r["baseline"].get(col, float("nan")) for r in records]
            v, nums, per_seed = verdict_of_curves([cv.rename(columns={"heldout_lsyn_trained": "l_syn", col: "error"}) for cv in curves],
                                                  base, rule=RULE, failed=failed)
            item.update(verdict=v, numbers=nums, per_seed=per_seed)
        else:
            item["verdict"] = "not judged"
        out[c] = item
    return out


def _from_step(frame: pd.DataFrame, step: int) -> pd.DataFrame:
    return frame[frame["step"] >= step].reset_index(drop=True) if step else frame


def summarise_variant(records: list[dict], task: str) -> dict[str, Any]:
    """Verdicts and numbers of one configuration over its seeds."""
    err = error_metric(task)
    resolved = (records[0].get("resolved") or {}) if records else {}
    pre = int(resolved.get("pretrain_steps") or 0)
    # a distilled student is judged from the step it starts at (its teacher is the network at that step)
    start = max(pre, int(resolved.get("distill_from") or 0))
    # after supervised pre-training only the fine-tuning part is judged: it starts at the pre-trained network
    curves = [_from_step(pd.DataFrame(r["history"]), start) for r in records]
    base = [r["baseline"].get(err, float("nan")) for r in records]
    verdict, nums, per_seed = verdict_of_curves(
        [c.rename(columns={"heldout_lsyn_trained": "l_syn", err: "error"}) for c in curves], base, rule=RULE)
    failed = [p["failed"] or "" for p in per_seed]
    for p, r in zip(per_seed, records):  # video: where the pose network ended, against the true motion
        last = r["history"][-1] if r["history"] else {}
        p.update({f"final_{k}": last[k] for k in POSE_METRICS if last.get(k) is not None})
    # the same rule with the common SSIM + L1 yardstick as the selector (it differs only where another loss is trained)
    v_common, nums_common, _ = verdict_of_curves(
        [c.rename(columns={"heldout_lsyn": "l_syn", err: "error"}) for c in curves], base, rule=RULE, failed=failed)
    gaps = [r["landscape"].get("oracle_gap") for r in records]
    g_mean, g_lo, g_hi = t_interval([g for g in gaps if g is not None], RULE.confidence)
    nums = {**nums, "error_metric": err, "oracle_gap_mean": g_mean, "oracle_gap_low": g_lo, "oracle_gap_high": g_hi,
            "oracle_gap_positive_seeds": int(sum(1 for g in gaps if g is not None and g > 0))}
    out: dict[str, Any] = {
        "verdict": verdict, "numbers": nums, "per_seed": per_seed, "oracle_gap": gaps,
        "verdict_common_lsyn": v_common, "numbers_common_lsyn": nums_common,
        "per_cause": _per_cause_verdicts(curves, records, task, failed),
        "baseline": [r["baseline"] for r in records],
        "heldout_scenes": records[0]["heldout_scenes"] if records else 0,
        "max_true_disparity": max((r["max_true_disparity"] for r in records), default=0.0),
    }
    if pre:
        out["finetune"] = finetune_pull(curves, err, pre)
    lands = [r["landscape"].get("per_cause") for r in records if r["landscape"].get("per_cause")]
    if lands:
        causes = sorted({c for x in lands for c in x})
        out["landscape"] = {c: {"share": float(np.mean([x.get(c, {}).get("share", 0.0) for x in lands])),
                                "misleading": _nanmean([x.get(c, {}).get("misleading") for x in lands])} for c in causes}
    return out


def finetune_pull(curves: list[pd.DataFrame], err: str, pretrain_steps: int) -> dict[str, Any]:
    """How far fine-tuning by the synthesis loss moves a network pre-trained on the truth: per seed the error at
    the start of fine-tuning, at the checkpoint the held-out synthesis loss selects and at the end, and the
    mean change with its 95% interval (positive: the loss pulled the network away from the truth), globally
    and inside each cause mask."""
    def pull(col: str) -> dict[str, Any]:
        start, chosen, final = [], [], []
        for c in curves:
            c = c.dropna(subset=[col, "heldout_lsyn_trained"])
            if len(c) < 2:
                continue
            start.append(float(c[col].iloc[0]))
            chosen.append(float(c[col].iloc[int(np.argmin(c["heldout_lsyn_trained"].to_numpy(float)))]))
            final.append(float(c[col].iloc[-1]))
        d_final = [f - s for f, s in zip(final, start)]
        d_chosen = [f - s for f, s in zip(chosen, start)]
        m, lo, hi = t_interval(d_final, RULE.confidence)
        mc, loc, hic = t_interval(d_chosen, RULE.confidence)
        rel = [d / s for d, s in zip(d_final, start) if s > 0]
        return {"start": start, "selected": chosen, "final": final, "pull_mean": m, "pull_low": lo, "pull_high": hi,
                "selected_pull_mean": mc, "selected_pull_low": loc, "selected_pull_high": hic,
                "relative_pull_mean": float(np.mean(rel)) if rel else float("nan"),
                "pulled_away": bool(len(d_final) >= 2 and lo > 0), "seeds": len(d_final)}

    causes = sorted({col[: -len(err) - 1] for c in curves for col in c.columns
                     if col.endswith(f"_{err}") and col != f"heldout_{err}"})
    return {"pretrain_steps": pretrain_steps, "error_metric": err, "global": pull(err),
            "per_cause": {c: pull(f"{c}_{err}") for c in causes if all(f"{c}_{err}" in cv.columns for cv in curves)}}


def _nanmean(xs) -> float:
    a = [x for x in xs if x is not None and math.isfinite(x)]
    return float(np.mean(a)) if a else float("nan")


SYNTHESIS_TERMS = ("photometric", "l1", "census", "ncc", "gradient", "feature_metric")


def synthesis_terms(cfg: dict) -> dict[str, float]:
    """The photometric terms a config trains, with their weights (and the SSIM share ``alpha``)."""
    from .config import LossConfig

    lc = LossConfig(**(cfg.get("loss") or {}))
    out = {k: getattr(lc, k) for k in SYNTHESIS_TERMS if getattr(lc, k)}
    if "photometric" in out:
        out["alpha"] = lc.alpha
    # what changes the per-pixel comparison itself (so that it is no longer the common SSIM + L1)
    if lc.robust != "none":
        out["charbonnier_power"] = lc.robust_power
    if lc.residual_clip is not None:
        out["residual_clip"] = lc.residual_clip
    for k in ("out_of_view_mask", "brightness_align", "uncertainty"):
        if getattr(lc, k):
            out[k] = 1.0
    if lc.geometry_consistency and lc.geometry_mask:
        out["geometry_mask"] = 1.0
    return out


EXTRA_TERMS = ("smoothness", "second_order", "lr_consistency", "explainability", "proxy", "supervised", "sparse_depth",
               "pose_velocity", "geometry_consistency", "pose_cycle", "epipolar", "distillation", "semantic", "flow_consistency", "adversarial")


def extra_terms(cfg: dict) -> dict[str, float]:
    """The regularisers and supervision terms a config trains besides its synthesis term, with their weights."""
    from .config import LossConfig

    lc = LossConfig(**(cfg.get("loss") or {}))
    return {k: getattr(lc, k) for k in EXTRA_TERMS if getattr(lc, k)}


def is_common_objective(terms: dict[str, float]) -> bool:
    """True when the synthesis term is exactly the common 0.85 SSIM + 0.15 L1 (Monodepth)."""
    return set(terms) == {"photometric", "alpha"} and abs(terms["alpha"] - 0.85) < 1e-9


def command_for(spec: ExperimentSpec, profile: str) -> str:
    return f"sins experiments run {spec.name} --profile {profile}"


def _guard_reference(out: Path, profile: str) -> None:
    """Refuse to replace the standard profile's reference results with another profile's."""
    f = out / "summary.json"
    if profile == "standard" or not f.is_file():
        return
    try:
        held = json.loads(f.read_text()).get("profile")
    except (OSError, ValueError):
        return
    if held == "standard":
        raise SpecError(f"{out} holds the standard profile's reference results; a {profile} run does not replace "
                        f"them: write it elsewhere (sins experiments run --profile {profile} writes build/results/"
                        f"{profile} by default)")


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _run_task(args: tuple) -> dict[str, Any]:
    cfg, folder, min_heldout, scene_cache, record = args
    return run_one(cfg, Path(folder), min_heldout=min_heldout, log=lambda m: None, scene_cache=scene_cache,
                   record=None if record is None else Path(record))


def _warm_task(args: tuple) -> int:
    from .config import validate_config
    from .data.build import render_into_cache

    cfg, seeds, cache = args
    return render_into_cache(validate_config(cfg), seeds, cache)


def _warm_plan(tasks: list[tuple], jobs: int) -> list[tuple]:
    """Split the distinct procedural scenes of the tasks into ``jobs`` shares, one per worker, so that the
    scenes are rendered once, in parallel, before the runs read them from the cache."""
    from .config import validate_config
    from .data.build import scene_seeds

    seen: dict[str, tuple[dict, list[int]]] = {}
    for cfg, _folder, _mh, cache, _record in tasks:
        if cache is None:
            continue
        try:
            c = validate_config(cfg)
        except Exception:  # the run itself reports a bad config, naming its field
            continue
        data_key = json.dumps([c.task, c.data.model_dump()], sort_keys=True, default=str)
        entry = seen.setdefault(data_key, (cfg, []))
        entry[1].extend(x for x in scene_seeds(c) if x not in entry[1])
    out = []
    for cfg, seeds in seen.values():
        for k in range(jobs):
            if seeds[k::jobs]:
                out.append((cfg, seeds[k::jobs], tasks[0][3]))
    return out


def _records(tasks: list[tuple], jobs: int):
    """Yield ``(index, record or exception)`` of each task: in this process when ``jobs`` is 1, else in ``jobs``
    worker processes that share the CPU threads (each keeps at least one)."""
    if jobs <= 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks):
            try:
                yield i, _run_task(t)
            except _stops() as e:
                yield i, e
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    jobs = min(jobs, len(tasks))
    threads = max(1, torch.get_num_threads() // jobs)
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                             initargs=(threads,)) as pool:
        for f in [pool.submit(_warm_task, w) for w in _warm_plan(tasks, jobs)]:
            f.result()
        futures = {pool.submit(_run_task, t): i for i, t in enumerate(tasks)}
        for f in as_completed(futures):
            try:
                yield futures[f], f.result()
            except _stops() as e:
                for other in futures:
                    other.cancel()
                yield futures[f], e


def _share(tasks: list[tuple], specs: list[ExperimentSpec], profile: str, scratch, data_root, folder, results):
    """Which tasks train (``train_idx``), which take the record of a task of this call with their training key
    (``twins``: trained task -> its twins) and which take a finished twin's record from another spec of
    ``folder`` (``ready``: task -> record). A task with its own finished record always uses that."""
    from .specs import load_specs

    def own(t: tuple) -> dict[str, Any] | None:
        return finished_record(t[0], Path(t[1]), None if t[4] is None else Path(t[4]))

    first: dict[str, int] = {}
    train_idx: list[int] = []
    twins: dict[int, list[int]] = {}
    missing: list[int] = []
    keys = [training_key(t[0]) for t in tasks]
    for i, (t, k) in enumerate(zip(tasks, keys)):
        if own(t) is not None:
            train_idx.append(i)  # reused in its worker, at once
            first.setdefault(k, i)
        elif k in first:
            twins.setdefault(first[k], []).append(i)
        else:
            first[k] = i
            train_idx.append(i)
            missing.append(i)
    ready: dict[int, dict[str, Any]] = {}
    if not missing or not Path(folder).is_dir():
        return train_idx, twins, ready
    here = {spec.name for spec in specs}
    elsewhere: dict[str, list[tuple]] = {}
    for name, spec in load_specs(folder)[0].items():
        if name in here or profile not in spec.profiles:
            continue
        other_seeds = spec.seeds_for(profile)
        try:
            _, other = _plan(spec, profile, scratch, data_root, other_seeds, None, results)
        except Exception:  # a spec that cannot plan this profile has no twin to offer
            continue
        for t in other:
            elsewhere.setdefault(training_key(t[0]), []).append(t)
    for i in missing:
        for t in elsewhere.get(keys[i], []):
            rec = own(t)
            if rec is not None:
                ready[i] = shared_record(rec, tasks[i][0])
                train_idx.remove(i)
                break
    return train_idx, twins, ready


def _shared_results(tasks: list[tuple], train_idx: list[int], twins: dict[int, list[int]],
                    ready: dict[int, dict[str, Any]], jobs: int):
    """Yield ``(index, record or exception)`` of every task: the twins' records first, then each trained task's
    and, with it, its twins' (kept in their own results folders)."""
    def with_twins(i: int, rec):
        yield i, rec
        for j in twins.get(i, []):
            if isinstance(rec, BaseException):
                yield j, rec
                continue
            shared = shared_record(rec, tasks[j][0])
            if tasks[j][4] is not None:
                keep_record(Path(tasks[j][4]), shared)
            yield j, {**shared, "reused": True}

    for i, rec in ready.items():
        if tasks[i][4] is not None:
            keep_record(Path(tasks[i][4]), rec)
        yield from with_twins(i, {**rec, "reused": True})
    for n, rec in _records([tasks[i] for i in train_idx], jobs):
        yield from with_twins(train_idx[n], rec)


def run_name(variant: str | None, seed: int) -> str:
    return f"{variant or BASE}-s{seed}"


def _plan(spec: ExperimentSpec, profile: str, scratch: str | Path, data_root, seeds: list[int],
          scene_cache, results: str | Path | None = None) -> tuple[list[tuple], list[tuple]]:
    """The (variant, seed) runs of a spec and their worker tasks (with ``results``: each keeps its record in
    ``results/<name>/runs/``)."""
    plan = [(variant, seed) for variant in [None, *spec.variants] for seed in seeds]
    tasks = []
    for variant, seed in plan:
        cfg = spec.config_for(profile, seed, variant, data_root=data_root)
        record = None if results is None else str(Path(results) / spec.name / RUNS / f"{run_name(variant, seed)}.json.gz")
        tasks.append((cfg, str(Path(scratch) / profile / spec.name / run_name(variant, seed)),
                      1 if single_pair(cfg) else RULE.min_heldout, None if scene_cache is None else str(scene_cache),
                      record))
    return plan, tasks


def run_specs(specs: list[ExperimentSpec], profile: str = "quick", results: str | Path = "experiments/results",
              scratch: str | Path = "build/runs", data_root: str | Path | None = None,
              seeds: list[int] | None = None, log=print, folder: str | Path = "experiments", jobs: int = 1,
              scene_cache: str | Path | None = None):
    """Train every (variant, seed) of several specs in one pool of ``jobs`` worker processes and yield
    ``(name, summary)`` for each spec as soon as its last run is done (its results folder is written then, so a
    stop keeps every finished experiment).

    One pool for all the runs keeps every worker busy to the end: run spec by spec, the last runs of each spec
    would leave workers idle (5 seeds on 2 workers take 3 rounds). Every spec is checked before any training.
    Runs go to ``scratch/<profile>/<name>/<variant>-s<seed>/``, so that a quick run never touches a longer
    profile's checkpoints; ``scene_cache`` keeps the rendered procedural scenes between runs (``None``: render
    every time).
    """
    t_prev = time.perf_counter()
    plans, owner, tasks = [], [], []
    for k, spec in enumerate(specs):
        if data_root is None:
            check_spec(spec, profile, folder)
        _guard_reference(Path(results) / spec.name, profile)
        spec_seeds = list(spec.seeds_for(profile) if seeds is None else seeds)
        plan, spec_tasks = _plan(spec, profile, scratch, data_root, spec_seeds, scene_cache, results)
        plans.append((plan, spec_seeds))
        owner += [(k, j) for j in range(len(plan))]
        tasks += spec_tasks
    done: list[dict[int, dict[str, Any]]] = [{} for _ in specs]
    train_idx, twins, ready = _share(tasks, specs, profile, scratch, data_root, folder, results)
    for i, rec in _shared_results(tasks, train_idx, twins, ready, jobs):
        k, j = owner[i]
        spec, (plan, spec_seeds) = specs[k], plans[k]
        variant, seed = plan[j]
        if isinstance(rec, KeyboardInterrupt):
            raise rec
        if isinstance(rec, ConfigError):
            where = _where(spec, profile, variant, rec.field) if rec.field else f"profiles.{profile}"
            raise SpecError(f"{Path(folder) / spec.name}.yaml: {where}: {rec}") from None
        if isinstance(rec, BaseException):
            raise RunFailed(f"{spec.name} [{variant or BASE}] seed {seed}: {rec}") from rec
        done[k][j] = rec
        hist = pd.DataFrame(rec["history"])
        log(f"  {spec.name} [{variant or BASE}] seed {seed}: final {error_metric(rec['task'])} "
            f"{hist[error_metric(rec['task'])].iloc[-1]:.4f}, held-out L_syn {hist['heldout_lsyn'].iloc[-1]:.4f}")
        if len(done[k]) == len(plan):
            now = time.perf_counter()
            summary = _finish(spec, profile, plan, done[k], spec_seeds, results, scratch, data_root,
                              wall_s=now - t_prev, jobs=jobs)
            t_prev = now
            yield spec.name, summary


def run_spec(spec: ExperimentSpec, profile: str = "quick", results: str | Path = "experiments/results",
             scratch: str | Path = "build/runs", data_root: str | Path | None = None,
             seeds: list[int] | None = None, log=print, folder: str | Path = "experiments", jobs: int = 1,
             scene_cache: str | Path | None = None) -> dict[str, Any]:
    """Train every (variant, seed) of one spec, then write its results folder; returns the summary
    (:func:`run_specs` with one spec)."""
    for _name, summary in run_specs([spec], profile, results, scratch, data_root, seeds, log, folder, jobs, scene_cache):
        return summary
    raise RuntimeError(f"{spec.name}: no run finished")  # unreachable: a spec has at least three runs


def _finish(spec: ExperimentSpec, profile: str, plan: list[tuple], done: dict[int, dict[str, Any]], seeds: list[int],
            results: str | Path, scratch: str | Path, data_root, wall_s: float, jobs: int) -> dict[str, Any]:
    """Summarise a spec's finished runs and write its results folder (and its timing in the scratch folder)."""
    out = Path(results) / spec.name
    rows: list[pd.DataFrame] = []
    variants: dict[str, dict[str, Any]] = {}
    task = "stereo"
    for variant in [None, *spec.variants]:
        vname = variant or BASE
        records = []
        for seed in seeds:
            rec = done[plan.index((variant, seed))]
            task = rec["task"]
            records.append(rec)
            rows.append(pd.DataFrame(rec["history"]).assign(variant=vname, seed=seed))
        variants[vname] = summarise_variant(records, task)
    records_cfg = spec.config_for(profile, seeds[0], None, data_root=data_root)
    base = variants[BASE]
    failed_runs = [{"variant": k, "seed": seeds[i], "reason": p["failed"]}
                   for k, v in variants.items() for i, p in enumerate(v["per_seed"]) if p["failed"]]
    summary = {
        "name": spec.name, "title": spec.title, "question": spec.question, "tests": spec.tests,
        "architecture": spec.architecture, "supervision": spec.supervision, "input": spec.input, "domain": spec.domain,
        "claims": spec.claims, "cites": spec.cites, "twin": spec.twin, **({"twin_config": spec.twin_config} if spec.twin_config else {}), "twin_variant": spec.twin_variant, "synthesis_terms": synthesis_terms(records_cfg), "extra_terms": extra_terms(records_cfg),
        "profile": profile, "seeds": seeds, "task": task, "data_root_used": data_root is not None and bool(spec.real_data),
        "verdict": base["verdict"], "reason": base["numbers"].get("reason", ""), "rule": RULE.describe(),
        "numbers": {k: v for k, v in base["numbers"].items() if k != "reason"},
        "verdict_common_lsyn": base["verdict_common_lsyn"],
        "per_cause": base["per_cause"], "oracle_gap": base["oracle_gap"], "landscape": base.get("landscape", {}),
        "per_seed": base["per_seed"], "baseline": base["baseline"], "heldout_scenes": base["heldout_scenes"],
        "max_true_disparity": base["max_true_disparity"], "failed_runs": failed_runs,
        "finetune": base.get("finetune"),
        "variants": {k: {"verdict": v["verdict"], "overrides": spec.variants.get(k, {}), "numbers": v["numbers"],
                         "oracle_gap": v["oracle_gap"], "per_cause": v["per_cause"], "per_seed": v["per_seed"],
                         "baseline": v["baseline"], "verdict_common_lsyn": v["verdict_common_lsyn"]}
                     for k, v in variants.items() if k != BASE},
        "command": command_for(spec, profile), "figures": ["curves.png", "landscape.png"],
        "torch": torch.__version__,
    }
    precision = (records_cfg.get("optim") or {}).get("precision", "float32")
    if precision != "float32":  # named only where it is not the default (float32 summaries keep their bytes)
        summary["precision"] = precision
    if single_pair(records_cfg):
        mark_case_study(summary)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun every rank trains; only rank 0 writes
        return summary
    out.mkdir(parents=True, exist_ok=True)
    frame = pd.concat(rows, ignore_index=True)
    lead = ["variant", "seed", "step", "train_loss", "heldout_lsyn", "heldout_lsyn_trained"]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]
    # full precision (shortest round-trip repr): the verdict takes argmins over these curves, and 6 digits
    # made near-ties of the error's running median into ties, so that the CSV no longer gave the stored verdict
    _write(out / "metrics.csv", frame.to_csv(index=False))
    plot_curves(frame, task, spec.title, out / "curves.png", failed_runs)
    plot_landscape(summary, out / "landscape.png")
    _write(out / "summary.json", json.dumps(_finite(summary), indent=1, sort_keys=False) + "\n")
    names = {f"{run_name(v, s)}.json.gz" for v, s in plan}
    for stale in (out / RUNS).glob("*.json.gz"):  # runs of a variant or seed the spec no longer has
        if stale.name not in names:
            stale.unlink()
    # wall-clock time varies from run to run, so it stays out of the committed results folder
    timing = Path(scratch) / profile / spec.name / "timing.json"
    timing.parent.mkdir(parents=True, exist_ok=True)
    # one pool trains several specs: a spec's wall time runs from the previous spec's completion (or the start),
    # so that the times of one `sins experiments run` add up to its total
    _write(timing, json.dumps({"profile": profile, "wall_s": round(wall_s, 1), "jobs": jobs, "runs": len(plan),
                               "reused_runs": sum(bool(r.get("reused")) for r in done.values()),
                               "resumed_runs": sum(bool(r.get("resumed")) for r in done.values())}) + "\n")
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


#: one colour per seed, the same on every figure of the site (colour-blind safe, Okabe-Ito)
SEED_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def plot_curves(frame: pd.DataFrame, task: str, title: str, path: Path, failed: list[dict] | None = None) -> None:
    """Held-out L_syn and depth error over steps: one panel pair per configuration, one colour per seed;
    the checkpoint with the lowest L_syn is marked; failed runs are dashed."""
    plt = _plt()
    err = error_metric(task)
    groups = list(frame.groupby("variant", sort=False))
    fig, axes = plt.subplots(len(groups), 2, figsize=(8, 2.4 * len(groups)), squeeze=False)
    bad = {(f["variant"], f["seed"]) for f in failed or []}
    for row, (variant, vf) in enumerate(groups):
        for j, (seed, sf) in enumerate(vf.groupby("seed")):
            kw = {"color": SEED_COLOURS[j % len(SEED_COLOURS)], "lw": 1.2, "ls": "--" if (variant, seed) in bad else "-",
                  "label": f"seed {seed}" + (" (failed)" if (variant, seed) in bad else "")}
            axes[row][0].plot(sf["step"], sf["heldout_lsyn_trained"], **kw)
            axes[row][1].plot(sf["step"], sf[err], **kw)
            i = int(np.nanargmin(sf["heldout_lsyn_trained"].to_numpy()))
            axes[row][1].plot(sf["step"].iloc[i], sf[err].iloc[i], "o", color=kw["color"], ms=5)
        mean = vf.groupby("step")[["heldout_lsyn_trained", err]].mean().reset_index()
        axes[row][0].plot(mean["step"], mean["heldout_lsyn_trained"], color="black", lw=2.2, label="mean of seeds")
        axes[row][1].plot(mean["step"], mean[err], color="black", lw=2.2, label="mean of seeds")
        axes[row][0].set(ylabel=f"{variant}\nheld-out L_syn (as trained)")
        axes[row][1].set(ylabel=f"held-out {err}")
    axes[-1][0].set_xlabel("training step")
    axes[-1][1].set_xlabel("training step (dot: lowest L_syn)")
    axes[0][1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_landscape(summary: dict[str, Any], path: Path) -> None:
    """Stereo: share of pixels whose loss minimum is off the truth, by cause; video: the oracle gap per seed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    land = summary.get("landscape") or {}
    if land:
        names = list(land)
        ax.bar(names, [land[n]["misleading"] if land[n]["misleading"] is not None else 0 for n in names],
               color=["#999999" if n == "none" else "#0072B2" for n in names])
        ax.set(ylabel="share of pixels misled", title="per-pixel loss minimum off the truth, by cause (held-out)")
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    else:
        gaps = summary.get("oracle_gap") or []
        ax.bar([f"seed {s}" for s in summary["seeds"]], [g if g is not None else 0 for g in gaps],
               color=SEED_COLOURS[: len(gaps)])
        ax.axhline(0, color="k", lw=0.8)
        ax.set(ylabel="L_syn(truth) - L_syn(prediction)", title="oracle gap (held-out)")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    _plt().close(fig)
    _write(path, buf.getvalue())
