"""Speed and memory benchmarks of the experiments engine (side by side, in one run).

    python benchmarks/experiments.py            # print the figures
    python benchmarks/experiments.py --write    # also rewrite site/docs/performance.md

1. ``losses.photometric`` forward + backward on a 4x3x192x640 batch against
   ``losses.photometric_reference`` (the Monodepth2-style five-pool formulation,
   eager), same inputs, interleaved repeats, median times; ``losses.census`` against
   ``losses.census_reference`` the same way on a 4x3x96x192 batch, one thread.
2. The loss landscape of the full-resolution Motorcycle pair over 256 integer
   disparity hypotheses: ``manifold.sweep_min`` against
   ``manifold.sweep_min_reference`` (warp + reference loss, one hypothesis at a
   time); each variant runs in its own subprocess so that its peak RSS is its own.
3. The procedural renderer at 96x192 (the scale of the standard profile): area-integrated pixels
   (3 x 3 sub-samples, the default) against point sampling (1 ray per pixel), interleaved repeats,
   median seconds per stereo scene; the goal is under 1 s per scene.
4. Seeds side by side (``--only seeds`` runs this part alone). For each model family, at the standard
   profile's size and batch: the training step and the held-out evaluation of one run alone in the
   process with every CPU thread (how the seeds were trained, one after another) against two runs at
   once in two worker processes with one thread each and channels-last weights (how
   ``sins experiments run --jobs 2`` trains them), interleaved repeats, median; plus a scene rendered
   against a scene read from the scene cache. From these figures and each spec's runs, steps and
   evaluations, the standard profile's total time both ways; the goal is a ratio of at least 2 and a
   total of at most 4 hours. A fourth arm trains the two side by side with bfloat16 mixed precision
   (``optim.precision: bfloat16``, which changes the numbers): the ratio compares float32 with float32,
   and the profile's total uses the bfloat16 figures for the specs whose standard config asks for it.
   Every spec's own step is measured too (one at a time, one thread), and the projection scales its
   family's figures by it (``--only seeds --reproject --spec-steps`` measures only these).
   Measured totals of finished standard runs (``build/runs/standard``) are
   printed beside the projection; ``--only seeds --reproject --from-scratch NAMES`` trains the named
   experiments' standard runs from nothing in a temporary folder (its own scene cache, nothing reused) and
   compares their wall time with the projection and their records with the committed ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "site" / "docs" / "performance.md"
SEEDS_DOC = ROOT / "site" / "docs" / "performance-seeds.md"
# the last seeds measurement (per-family step and evaluation times, rendering, every spec's own step) and the
# kept ``--from-scratch`` calls, so that the projection can be recomputed after the specs change (``--only seeds
# --reproject``) without measuring again on a quiet machine. Committed beside the page it makes, so that the
# from-scratch measurements of earlier sessions add up on a fresh checkout.
SEEDS_FIGURES = ROOT / "benchmarks" / "results" / "seeds.json"


def machine() -> str:
    """The CPU as the figures depend on it: its name, its vector instructions as torch's kernels use them, and
    whether it does bfloat16 arithmetic natively (without, the bfloat16 columns are emulated and several
    times slower than float32)."""
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():  # the first processor's lines
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and not model:
                model = value
            elif key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    cpu = model or platform.processor() or platform.machine()
    bf16 = "unknown" if not flags else ("yes" if flags & {"avx512_bf16", "amx_bf16"} else "no")
    return (
        f"{cpu}, {os.cpu_count()} logical cores, vector instructions {torch.backends.cpu.get_cpu_capability()}, "
        f"native bfloat16 {bf16}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )


def _median_fwd_bwd(fns: dict, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median seconds of ``fn().mean().backward()`` for each zero-argument ``fn``, interleaved over ``repeats``
    rounds so that a slow spell of the machine hits every variant."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            x.grad = None
            t = time.perf_counter()
            fn().mean().backward()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_photometric(repeats: int = 7) -> dict:
    from sins.experiments import losses as L

    torch.manual_seed(0)
    x = torch.rand(4, 3, 192, 640, requires_grad=True)
    y = torch.rand(4, 3, 192, 640)
    fns = {
        "reference": lambda: L.photometric_reference(x, y),
        "fast_eager": lambda: L.photometric(x, y, compile=False),
        "fast": lambda: L.photometric(x, y),
    }
    t0 = time.perf_counter()
    fns["fast"]().mean().backward()  # compile (or fall back) outside the timing
    compile_s = time.perf_counter() - t0
    ref = L.photometric_reference(x, y)
    (gref,) = torch.autograd.grad(ref.sum(), x)
    agree = {}
    for name in ("fast_eager", "fast"):
        out = fns[name]()
        (g,) = torch.autograd.grad(out.sum(), x)
        agree[name] = max(float((out - ref).detach().abs().max()), float((g - gref).abs().max()))
    med = _median_fwd_bwd(fns, x, repeats)
    return {
        "median_s": med,
        "speedup": {k: med["reference"] / med[k] for k in ("fast_eager", "fast")},
        "max_abs_diff": agree,
        "compile_s": compile_s,
        "compile_fallback": L._COMPILED.failed,
    }


def bench_census(repeats: int = 7) -> dict:
    """``losses.census`` (hand-written backward, one window offset at a time) against ``losses.census_reference``
    (the (B, 49, H, W) census transforms and autograd), forward + backward on a 4x3x96x192 batch (the standard
    stereo size), one thread, interleaved repeats, median; plus their largest disagreement."""
    from sins.experiments import losses as L

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        x = torch.rand(4, 3, 96, 192, requires_grad=True)
        y = torch.rand(4, 3, 96, 192)
        fns = {"reference": lambda: L.census_reference(x, y), "fast": lambda: L.census(x, y)}
        outs = {k: f() for k, f in fns.items()}
        grads = {k: torch.autograd.grad(o.sum(), x)[0] for k, o in outs.items()}
        agree = max(float((outs["fast"] - outs["reference"]).detach().abs().max()),
                    float((grads["fast"] - grads["reference"]).abs().max()))
        med = _median_fwd_bwd(fns, x, repeats)
    finally:
        torch.set_num_threads(threads)
    return {"median_s": med, "speedup": med["reference"] / med["fast"], "max_abs_diff": agree}


def load_motorcycle():
    try:
        from sins.experiments.data import motorcycle

        s = motorcycle()
        return s.left[None], s.right[None], s.disparity[None], s.valid[None], "sins.experiments.data.motorcycle()"
    except Exception:
        import numpy as np
        from skimage import data

        left, right, disp = data.stereo_motorcycle()
        lt = torch.from_numpy(left).permute(2, 0, 1)[None].float() / 255
        rt = torch.from_numpy(right).permute(2, 0, 1)[None].float() / 255
        d = torch.from_numpy(np.ascontiguousarray(disp))[None, None].float()
        valid = torch.isfinite(d) & (d > 0)
        return lt, rt, torch.nan_to_num(d, nan=0.0, posinf=0.0), valid, "skimage.data.stereo_motorcycle()"


def _child(variant: str, n: int) -> None:
    from sins.experiments import manifold as Mf

    left, right, _, _, _ = load_motorcycle()
    hyp = list(range(n))
    t = time.perf_counter()
    if variant == "reference":
        Mf.sweep_min_reference(left, right, hyp)
    else:
        Mf.sweep_min(left, right, hyp, compile=False)
    dt = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "peak_rss_mb": rss_mb}))


def bench_landscape(n: int = 256) -> dict:
    out = {}
    for variant in ("reference", "fast"):
        res = subprocess.run([sys.executable, __file__, "--child", variant, "--hypotheses", str(n)], capture_output=True, text=True, check=True)
        out[variant] = json.loads(res.stdout.strip().splitlines()[-1])
    out["speedup"] = out["reference"]["seconds"] / out["fast"]["seconds"]
    left, right, disp, valid, source = load_motorcycle()
    out["size"] = f"{left.shape[-1]}x{left.shape[-2]}"
    out["source"] = source
    return out


def landscape_numbers(n: int = 256) -> dict:
    from sins.experiments import manifold as Mf

    left, right, disp, valid, _ = load_motorcycle()
    try:
        from sins.experiments.data import motorcycle

        causes = {k: v[None] for k, v in motorcycle().causes.items()} or None
    except Exception:
        causes = None
    sample = {"left": left, "right": right, "disparity": disp, "valid": valid, "causes": causes}
    return Mf.analyse(sample, hypotheses=range(n), compile=False)


def bench_renderer(repeats: int = 5, size: tuple[int, int] = (96, 192)) -> dict:
    from sins.experiments.data import Dials, render_stereo

    dials = Dials(specular=1.5, repetitive=0.6, occluders=4, curved=3)
    times: dict[str, list[float]] = {"point": [], "area3x3": []}
    for k in range(repeats):
        for name, ss in (("point", 1), ("area3x3", 3)):
            t = time.perf_counter()
            render_stereo("street", size, dials, seed=k, supersample=ss)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"median_s": med, "cost_ratio": med["area3x3"] / med["point"], "size": f"{size[1]}x{size[0]}"}


# --------------------------------------------------------------------------- 4. seeds side by side

FAMILIES = {  # model family -> the spec whose standard config represents it
    "monounet (U-Net)": "monodepth_stereo",
    "corrstereo (2-D correlation)": "census_stereo",
    "costvolume (3-D cost volume)": "costvolume_stereo",
    "depthpose (depth + pose, video)": "monodepth2_video",
    "field (per-pixel)": "field_from_truth",
}
SCENES = ROOT / "build" / "scenes"


def _family_config(name: str):
    from sins.experiments.config import validate_config
    from sins.experiments.specs import load_specs

    spec = load_specs(ROOT / "experiments")[0][name]
    d = spec.config_for("standard", 0)
    batch = int(d.get("optim", {}).get("batch", 1))
    d["data"]["count"] = batch  # one batch of training scenes; the held-out set as in the profile
    return validate_config(d)


def _step_child(name: str, mode: str, steps: int) -> None:
    """Time ``steps`` training steps and one held-out evaluation of a family's standard config."""
    from sins.experiments.config import resolve_max_disp
    from sins.experiments.data.build import batch as make_batch
    from sins.experiments.data.build import make_datasets
    from sins.experiments.evaluation import evaluate
    from sins.experiments.loop import (build_model, channels_last, keep_freed_memory, mixed_precision, seed_everything,
                                       skip_uninitialised_fill)
    from sins.experiments.models import _blocks
    from sins.experiments.objectives import objective_for

    # alone: how the seeds were first trained (all threads, default layout, glibc's default allocator, plain
    # upsampling gradients, deterministic mode's fill of fresh tensors); side-plain: one thread and channels-last
    # weights; side: also the dense upsampling gradients, the allocator kept and no fill (how `sins experiments run
    # --jobs 2` trains now); side-bf16: also bfloat16 mixed precision
    if mode != "alone":
        torch.set_num_threads(1)
    levers = mode in ("side", "side-bf16")
    _blocks.DENSE_UPSAMPLE_GRADS = levers
    if levers:
        keep_freed_memory()
    cfg = _family_config(name)
    seed_everything(0)
    if levers:
        skip_uninitialised_fill()
    train_set, held = make_datasets(cfg, scene_cache=SCENES)
    cfg, _ = resolve_max_disp(cfg, train_set + held)
    model = build_model(cfg, train_set, held if cfg.model.name == "field" else None)
    if mode != "alone":
        model = channels_last(model)
    switched = mixed_precision(model, torch.device("cpu")) if mode == "side-bf16" else 0
    optim = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    objective = objective_for(cfg.task)
    b = make_batch(train_set[: cfg.optim.batch], torch.device("cpu"))

    def step() -> None:
        model.train()
        loss = objective(model, b, cfg).loss
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    step_s = (time.perf_counter() - t) / steps
    model.eval()
    t = time.perf_counter()
    evaluate(model, held, cfg, torch.device("cpu"))
    print(json.dumps({"step_s": step_s, "eval_s": time.perf_counter() - t, "threads": torch.get_num_threads(),
                      "bf16_parts": switched}))


def _spawn(name: str, mode: str, steps: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--step-child", name, "--mode", mode, "--steps", str(steps)],
                            stdout=subprocess.PIPE, text=True)


def _read(p: subprocess.Popen) -> dict:
    out, _ = p.communicate()
    if p.returncode:
        raise RuntimeError(f"benchmark child failed ({p.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def bench_seeds(repeats: int = 3, steps: int = 20) -> dict:
    from sins.experiments.data.build import render_into_cache, scene_seeds

    out: dict = {"families": {}}
    for fam, name in FAMILIES.items():
        cfg = _family_config(name)
        render_into_cache(cfg, scene_seeds(cfg), SCENES)  # the children read the scenes; rendering is timed below
        alone, side, plain, bf16 = [], [], [], []
        for _ in range(repeats):  # interleaved, so that a slow spell of the machine hits every arm
            alone.append(_read(_spawn(name, "alone", steps)))
            for arm, mode in ((plain, "side-plain"), (side, "side"), (bf16, "side-bf16")):
                pair = [_spawn(name, mode, steps) for _ in range(2)]
                arm.append([_read(p) for p in pair])
        a_step = statistics.median(r["step_s"] for r in alone)
        a_eval = statistics.median(r["eval_s"] for r in alone)
        s_step = statistics.median(statistics.mean(r["step_s"] for r in pair) for pair in side)
        s_eval = statistics.median(statistics.mean(r["eval_s"] for r in pair) for pair in side)
        p_step = statistics.median(statistics.mean(r["step_s"] for r in pair) for pair in plain)
        b_step = statistics.median(statistics.mean(r["step_s"] for r in pair) for pair in bf16)
        b_eval = statistics.median(statistics.mean(r["eval_s"] for r in pair) for pair in bf16)
        out["families"][fam] = {
            "spec": name, "alone_step_s": a_step, "alone_eval_s": a_eval, "threads_alone": alone[0]["threads"],
            "side_step_s": s_step, "side_eval_s": s_eval, "side_plain_step_s": p_step,
            "side_bf16_step_s": b_step, "side_bf16_eval_s": b_eval, "bf16_parts": bf16[0][0]["bf16_parts"],
            "bf16_speedup": s_step / b_step,
            # two runs advance together: throughput per step is half the time each takes
            "ratio": a_step / (s_step / 2), "ratio_plain": a_step / (p_step / 2), "levers": p_step / s_step,
        }
    out["render"] = _render_vs_cache()
    out["spec_steps"] = bench_spec_steps(steps)
    out["projection"] = project_standard(out)
    out["measured"] = measured_standard()
    return out


def bench_spec_steps(steps: int = 20) -> dict[str, float]:
    """Every spec's standard training step, one run at a time with one thread and the levers (as a worker of
    ``--jobs 2`` trains it), median of two children: the projection scales its family's side-by-side figure by
    the spec's step against its family's spec's (a spec's own terms, e.g. geometry or flow consistency, a
    second network or a left-right pass, can cost more than its family's plain objective)."""
    from sins.experiments.data.build import render_into_cache, scene_seeds
    from sins.experiments.specs import load_specs

    out = {}
    for name in sorted(load_specs(ROOT / "experiments")[0]):
        cfg = _family_config(name)
        render_into_cache(cfg, scene_seeds(cfg), SCENES)
        out[name] = statistics.median(_read(_spawn(name, "side", steps))["step_s"] for _ in range(2))
        print(f"  {name:30s} {out[name] * 1e3:6.1f} ms/step (one thread, alone)", file=sys.stderr)
    return out


def _render_vs_cache(repeats: int = 3) -> dict:
    import tempfile

    from sins.experiments.data import Dials, render_stereo
    from sins.experiments.data.build import cached_render

    dials = Dials(specular=1.5, repetitive=0.6, occluders=4, curved=3)
    rend, read = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeats):
            key = {"bench": k}
            t = time.perf_counter()
            cached_render(lambda: render_stereo("street", (96, 192), dials, seed=k), key, tmp)
            rend.append(time.perf_counter() - t)
            t = time.perf_counter()
            cached_render(lambda: None, key, tmp)
            read.append(time.perf_counter() - t)
    return {"render_s": statistics.median(rend), "read_s": statistics.median(read)}


def _family_of(model: str, fams: dict) -> dict:
    for fam, f in fams.items():
        if fam.startswith(model + " "):
            return f
    raise KeyError(model)


def project_standard(b: dict) -> dict:
    """The standard profile's total time, one run after another with rendering in each run (before) against two
    runs side by side reading cached scenes rendered once, in parallel (now), from the measured figures."""
    from sins.experiments.specs import load_specs

    from sins.experiments.runner import training_key

    specs = load_specs(ROOT / "experiments")[0]
    r = b["render"]
    before = now = now_f32 = now_bf16 = 0.0
    runs = shared = 0
    per_spec = {}
    scales: dict[str, float] = {}  # a spec's step against its family's spec's (1 where not measured)
    trained: set[str] = set()
    for name, spec in sorted(specs.items()):
        cfg = spec.config_for("standard", 0)
        f = _family_of(cfg["model"]["name"], b["families"])
        # a run whose twin (the same training key) another spec trains takes its record: it is not trained again
        keys = [training_key(spec.config_for("standard", s, v)) for v in [None, *spec.variants]
                for s in spec.seeds_for("standard")]
        n = len(set(keys) - trained)
        shared += len(keys) - n
        trained |= set(keys)
        # a single real pair (a case study) renders nothing; the procedural defaults are 1 training and 16 held-out scenes
        procedural = (cfg.get("data") or {}).get("source", "procedural") == "procedural"
        scenes = (cfg["data"].get("count", 1) + cfg.get("heldout", {}).get("count", 16)) if procedural else 0
        if procedural and spec.seed_sets_scene:  # it trains on its held-out scenes: one set of scenes per seed
            scenes = cfg.get("heldout", {}).get("count", 16)
        # the cache renders each distinct scene once; a spec whose seed picks its scenes has each seed's own
        rendered = scenes * (len(spec.seeds_for("standard")) if spec.seed_sets_scene else 1)
        evals = cfg["steps"] // cfg["eval_every"] + 1
        own = b.get("spec_steps") or {}
        scale = own[name] / own[f["spec"]] if name in own and own.get(f["spec"]) else 1.0
        scales[name] = scale
        one = cfg["steps"] * f["alone_step_s"] * scale + evals * f["alone_eval_s"]
        b_s = n * (scenes * r["render_s"] + one)

        def side(kind: str) -> float:
            run = cfg["steps"] * f[f"side{kind}_step_s"] * scale + evals * f[f"side{kind}_eval_s"]
            return rendered * r["render_s"] / 2 + n * (scenes * r["read_s"] + run) / 2

        precision = (cfg.get("optim") or {}).get("precision", "float32")
        f32, bf = side(""), side("_bf16")
        n_s = bf if precision == "bfloat16" else f32
        per_spec[name] = {"runs": n, "before_s": b_s, "now_s": n_s, "float32_s": f32, "precision": precision,
                          "step_scale": scales[name]}
        before += b_s
        now += n_s
        now_f32 += f32
        now_bf16 += bf
        runs += n
    return {"runs": runs, "shared_runs": shared, "before_s": before, "now_s": now, "float32_s": now_f32, "bfloat16_s": now_bf16,
            "ratio": before / now_f32, "bfloat16_specs": sorted(k for k, v in per_spec.items() if v["precision"] == "bfloat16"),
            "per_spec": per_spec, "spec_steps_measured": bool(b.get("spec_steps")),
            "note": "video specs are timed with the stereo scene's rendering figure; the final landscape of each run "
                    "(about 1 s) is left out of both"}


def measured_standard() -> dict:
    """Wall times of finished standard runs, from ``build/runs/standard/<name>/timing.json``."""
    out = {}
    for f in sorted((ROOT / "build" / "runs" / "standard").glob("*/timing.json")):
        t = json.loads(f.read_text())
        out[f.parent.name] = t
    return out


def runs_key(spec) -> str:
    """What an experiment's standard runs train: the keys of all its (variant, seed) runs' configs (with their
    models' code versions). A from-scratch call whose experiment has another key now measured other runs and no
    longer counts for the profile's total."""
    import hashlib

    from sins.experiments.runner import _hash

    keys = [_hash(spec.config_for("standard", seed, variant)) for variant in [None, *spec.variants]
            for seed in spec.seeds_for("standard")]
    return hashlib.sha256(",".join(keys).encode()).hexdigest()[:16]


def _commit() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def from_scratch(names: list[str], jobs: int = 2) -> dict:
    """Train the standard runs of ``names`` from nothing, in one call with ``jobs`` workers, in ``build/from-scratch/``
    (emptied first; its own scene cache and results: nothing finished is reused, the reference results are not
    touched, and the fresh records stay there to be read), and compare the wall time with the projection and each
    fresh record with the committed one."""
    import shutil

    from sins.experiments.runner import RUNS, error_metric, read_record, run_specs
    from sins.experiments.specs import load_specs

    specs = load_specs(ROOT / "experiments")[0]
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise SystemExit(f"unknown experiment {unknown[0]!r}: choose from {', '.join(sorted(specs))}")
    out: dict = {"experiments": {}, "jobs": jobs, "commit": _commit(), "date": time.strftime("%Y-%m-%d")}
    keys = {n: runs_key(specs[n]) for n in names}
    (ROOT / "build").mkdir(exist_ok=True)
    work = ROOT / "build" / "from-scratch"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    done = dict(run_specs([specs[n] for n in names], "standard", results=work / "results",
                          scratch=work / "runs", folder=ROOT / "experiments", jobs=jobs,
                          scene_cache=work / "scenes", log=lambda m: print(m, file=sys.stderr)))
    out["wall_s"] = time.perf_counter() - t0
    for n, summary in done.items():
        committed = ROOT / "experiments" / "results" / n
        ref = json.loads((committed / "summary.json").read_text()) if (committed / "summary.json").is_file() else {}
        diffs, finals, compared = [], [], 0
        for f in sorted((work / "results" / n / RUNS).glob("*.json.gz")):
            mine, theirs = read_record(f), read_record(committed / RUNS / f.name)
            if not mine or not theirs:
                continue
            compared += 1
            err = error_metric(mine["task"])
            for a, b in zip(mine["history"], theirs["history"]):
                for k in ("heldout_lsyn", err):
                    if a.get(k) is not None and b.get(k) is not None:
                        diffs.append(abs(a[k] - b[k]))
            a, b = mine["history"][-1].get(err), theirs["history"][-1].get(err)
            if a is not None and b:
                finals.append(abs(a - b) / abs(b))
        out["experiments"][n] = {"runs": len(summary["seeds"]) * (1 + len(summary.get("variants") or {})),
                                 "records_compared": compared, "max_abs_diff": max(diffs) if diffs else None,
                                 "max_final_rel_diff": max(finals) if finals else None,
                                 **verdict_pairs(summary, ref), "runs_key": keys[n]}
    return out


def verdict_pairs(fresh: dict, committed: dict) -> dict:
    """Each configuration's global verdict, fresh beside committed (``verdicts``), and per cause where either of
    the two judged the cause (``per_cause``: configuration -> cause -> pair), from two summaries of one experiment."""
    from sins.experiments.analysis import configurations

    mine, theirs = ({c["config"]: c for c in configurations({"x": s})} for s in (fresh, committed))
    verdicts, per_cause = {}, {}
    for conf, a in mine.items():
        b = theirs.get(conf, {})
        verdicts[conf] = (a["verdict"], b.get("verdict"))
        pa, pb = a["per_cause"], b.get("per_cause") or {}
        pairs = {c: ((pa.get(c) or {}).get("verdict") or "not judged", (pb.get(c) or {}).get("verdict") or "not judged")
                 for c in sorted(set(pa) | set(pb))}
        pairs = {c: v for c, v in pairs.items() if v != ("not judged", "not judged")}
        if pairs:
            per_cause[conf] = pairs
    return {"verdicts": verdicts, "per_cause": per_cause}


def print_seeds(sb: dict) -> None:
    print("seeds side by side (per training step; two runs at once count as half a step each):")
    for fam, f in sb["families"].items():
        print(f"  {fam:34s} alone {f['alone_step_s'] * 1e3:6.1f} ms/step ({f['threads_alone']} threads) | two side by "
              f"side {f['side_plain_step_s'] * 1e3:6.1f} ms/step each ({f['ratio_plain']:.2f}x), with the gradient "
              f"layout, allocator and fill levers {f['side_step_s'] * 1e3:6.1f} ms/step each | ratio {f['ratio']:.2f}x | "
              f"bfloat16 {f['side_bf16_step_s'] * 1e3:6.1f} ms/step each ({f['bf16_speedup']:.2f}x, {f['bf16_parts']} parts)")
    r = sb["render"]
    print(f"  scene 96x192: rendered {r['render_s']:.2f} s, read from the cache {r['read_s'] * 1e3:.1f} ms")
    p = sb["projection"]
    print(f"standard profile, {p['runs']} runs: one after another {p['before_s'] / 3600:.2f} h, side by side with cached "
          f"scenes {p['float32_s'] / 3600:.2f} h: batched-seeds ratio {p['ratio']:.2f}x (goal 2x); as configured "
          f"({len(p['bfloat16_specs'])} specs in bfloat16) {p['now_s'] / 3600:.2f} h, every spec in bfloat16 "
          f"{p['bfloat16_s'] / 3600:.2f} h (budget 4 h)")
    if sb["measured"]:
        tot = sum(t["wall_s"] for t in sb["measured"].values())
        each = ", ".join(f"{k} {v['wall_s'] / 60:.0f} min" for k, v in sb["measured"].items())
        print(f"measured standard runs: {len(sb['measured'])} experiments, {tot / 3600:.2f} h ({each})")
    if sb.get("from_scratch"):
        print("from scratch:", _total_sentence(from_scratch_total(sb, sb.get("machine") or machine())).replace("**", ""))


def _per_cause_lines(fs: dict) -> list[str]:
    """The call's per-cause verdicts (fresh beside committed) in a sentence: how many were kept, and which changed."""
    pairs = [(n, conf, cause, a, b) for n, e in fs["experiments"].items()
             for conf, causes in (e.get("per_cause") or {}).items() for cause, (a, b) in causes.items()]
    changed = [p for p in pairs if p[3] != p[4]]
    text = (f"Per cause (each configuration's verdict inside a cause mask, where the fresh or the committed runs "
            f"judged it): **{len(pairs) - len(changed)} of {len(pairs)} kept**"
            + ("." if not changed else "; changed (fresh / committed): "
               + "; ".join(f"{n}" + ("" if conf == "base" else f" [{conf}]") + f" at {cause}: {a} / {b}"
                           for n, conf, cause, a, b in changed) + ".")
            + (f" ({fs['per_cause_source']})" if fs.get("per_cause_source") else ""))
    return [text, ""]


def write_doc(ph: dict, ls: dict, mach: str, rd: dict | None = None, cs: dict | None = None) -> None:
    m = ph["median_s"]
    lines = [
        "# Performance",
        "",
        "Speed and memory of the experiments engine, measured side by side in one run.",
        "",
        f"Machine: {mach}.",
        "",
        "| Benchmark | Baseline | Ours | Speed-up | Agreement / peak memory |",
        "|---|---|---|---|---|",
        f"| `photometric` forward + backward, 4x3x192x640 (compiled) | {m['reference'] * 1e3:.1f} ms | {m['fast'] * 1e3:.1f} ms | {ph['speedup']['fast']:.2f}x | max abs diff {ph['max_abs_diff']['fast']:.1e} |",
        f"| `photometric` forward + backward, 4x3x192x640 (no compiler) | {m['reference'] * 1e3:.1f} ms | {m['fast_eager'] * 1e3:.1f} ms | {ph['speedup']['fast_eager']:.2f}x | max abs diff {ph['max_abs_diff']['fast_eager']:.1e} |",
        *([f"| `census` forward + backward, 4x3x96x192, one thread | {cs['median_s']['reference'] * 1e3:.1f} ms | {cs['median_s']['fast'] * 1e3:.1f} ms | {cs['speedup']:.2f}x | max abs diff {cs['max_abs_diff']:.1e} |"] if cs else []),
        f"| Motorcycle landscape, {ls['size']}, 256 hypotheses | {ls['reference']['seconds']:.2f} s | {ls['fast']['seconds']:.2f} s | {ls['speedup']:.2f}x | peak RSS {ls['reference']['peak_rss_mb']:.0f} MB vs {ls['fast']['peak_rss_mb']:.0f} MB |",
        *([f"| Procedural stereo scene, {rd['size']}: 3 x 3 sub-samples against 1 ray per pixel | {rd['median_s']['point']:.2f} s | {rd['median_s']['area3x3']:.2f} s | {1 / rd['cost_ratio']:.2f}x (the price of area-integrated pixels) | goal: under 1 s per scene |"] if rd else []),
        "",
        "Baselines: the Monodepth2-style formulation (five 3x3 average pools after reflection padding, eager) and, for",
        "the landscape, a loop that warps (bilinear `grid_sample`) and scores one hypothesis at a time with it;",
        "for `census`, autograd through the (B, 49, H, W) soft census transforms of both images.",
        f"One-off compilation of the photometric kernels took {ph['compile_s']:.1f} s (not in the timing).",
        "Each landscape variant runs in its own subprocess; peak RSS includes the Python interpreter and torch.",
        "",
        "Regenerate with:",
        "",
        "```",
        "python benchmarks/experiments.py --write",
        "```",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines))


def _from_scratch_calls(saved) -> list[dict]:
    """The kept ``--from-scratch`` calls, one per set of experiments (an older single call reads as one)."""
    if not saved:
        return []
    if "experiments" in saved:
        return [saved]
    return list(saved.values())


def from_scratch_total(sb: dict, mach: str) -> dict:
    """The standard profile's total from the kept ``--from-scratch`` calls: every call made on ``mach`` whose
    experiments all still train the runs it measured counts with its wall time; the experiments no such call
    covers count with their projection. Calls made on another machine, or of which an experiment has changed
    since, are listed and left out."""
    from sins.experiments.specs import load_specs

    specs = load_specs(ROOT / "experiments")[0]
    per_spec = sb["projection"]["per_spec"]
    counted, left_out = [], []
    for fs in _from_scratch_calls(sb.get("from_scratch")):
        changed = [n for n, e in fs["experiments"].items() if n not in specs or e.get("runs_key") != runs_key(specs[n])]
        other = fs.get("machine") and fs["machine"] != mach
        if changed or other:
            left_out.append({"experiments": list(fs["experiments"]), "changed": changed, "machine": fs.get("machine"),
                             "why": (f"{', '.join(changed)} changed since (or the call kept no key of its runs)"
                                     if changed else f"measured on {fs['machine']}")})
        else:
            counted.append(fs)
    covered = [n for fs in counted for n in fs["experiments"]]
    rest = [n for n in per_spec if n not in covered]
    measured = sum(fs["wall_s"] for fs in counted)
    # each call against the projection it was made beside (the host's speed varies from day to day)
    projected_covered = sum(fs.get("projected_s") or sum(per_spec.get(n, {}).get("now_s", 0.0)
                                                          for n in fs["experiments"]) for fs in counted)
    projected_rest = sum(per_spec[n]["now_s"] for n in rest)
    return {"calls": len(counted), "covered": covered, "rest": rest, "measured_s": measured,
            "projected_covered_s": projected_covered, "projected_rest_s": projected_rest,
            "total_s": measured + projected_rest, "left_out": left_out,
            "dates": sorted({fs.get("date") for fs in counted if fs.get("date")})}


def _total_sentence(t: dict) -> str:
    if not t["calls"]:
        return "No from-scratch call counts yet: the total above is a projection."
    n = len(t["covered"]) + len(t["rest"])
    ratio = t["measured_s"] / t["projected_covered_s"] if t["projected_covered_s"] else float("nan")
    head = (f"{len(t['covered'])} of {n} experiments trained from nothing in {t['calls']} calls: "
            f"{t['measured_s'] / 3600:.2f} h measured against {t['projected_covered_s'] / 3600:.2f} h projected "
            f"for them beside each call ({ratio:.2f}x)")
    if not t["rest"]:
        return (head + f". **Every experiment of the standard profile was measured from scratch: "
                f"{t['total_s'] / 3600:.2f} h in all** (budget 4 h).")
    return (head + f"; the other {len(t['rest'])} ({', '.join(t['rest'])}) are projected at "
            f"{t['projected_rest_s'] / 3600:.2f} h; measured plus projected: **{t['total_s'] / 3600:.2f} h** "
            "(budget 4 h).")


def write_seeds_doc(sb: dict, mach: str) -> None:
    p = sb["projection"]
    lines = [
        "# Training the seeds side by side",
        "",
        "How the standard profile fits its budget on a small CPU, measured side by side in one run",
        "(`python benchmarks/experiments.py --only seeds --write`).",
        "",
        f"Machine: {mach}" + (f", measured on {sb['date']}" if sb.get("date") else "") + ". Every figure below is "
        "this machine's on that day (the host is shared: on another day the same machine type can be 10-20% slower "
        "or faster, so each from-scratch call below is set against the projection made beside it). After a spec "
        "changes,",
        "`--only seeds --reproject --write` recomputes the projection from the figures last measured (kept in",
        "`benchmarks/results/seeds.json`, with every `--from-scratch` call) without measuring again.",
        "",
        "The runs of an experiment (its seeds and variants) are independent. `sins experiments run --jobs 2` trains two",
        "at once in worker processes with one CPU thread each (small convolutions use one core far better than two),",
        "in one pool for all the chosen experiments, so that no worker waits for the last seed of an experiment,",
        "with channels-last weights, and renders each procedural scene once, in parallel, into a cache that every",
        "later run reads. Three more levers work inside each run: the decoder hands its bilinear upsampling a dense",
        "gradient (the one it gets from `torch.cat` is a strided slice, on which the CPU backward is several times",
        "slower); glibc's allocator keeps freed blocks instead of returning them to the kernel, which would",
        "zero-fill them again on the next step; and deterministic mode no longer fills every new tensor with NaN",
        "(a debugging aid; no kernel here reads memory it did not write, and a test checks that a run's history is",
        "the same bit for bit without it). None of these changes what a run computes beyond floating-point",
        "rounding (one thread against two, or another oneDNN kernel for a differently laid-out gradient).",
        "",
        "The last column is another kind of lever: bfloat16 mixed precision (`optim: {precision: bfloat16}` in a",
        "config), with the encoders, decoders and the pose net's convolutions in bfloat16 and the output layers,",
        "the geometry, the losses and every held-out evaluation in float32. It changes the numbers of a run, so",
        "the ratio compares float32 with float32, and the profile's total below uses the bfloat16 figures only",
        "for the specs whose standard profile asks for it. Whether it changes what a standard run finds is measured",
        "on its own page ([Mixed precision](performance-precision.md), `python benchmarks/precision.py`).",
        "",
        "| Model family | One run alone (all threads) | Two side by side, each (channels-last) | Ratio | "
        "Two side by side, each, with the gradient, allocator and fill levers | Levers alone | Throughput ratio | "
        "Two side by side, each, in bfloat16 | bfloat16 speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {fam} | {f['alone_step_s'] * 1e3:.1f} ms/step | {f['side_plain_step_s'] * 1e3:.1f} ms/step | "
          f"{f['ratio_plain']:.2f}x | {f['side_step_s'] * 1e3:.1f} ms/step | {f['levers']:.2f}x | **{f['ratio']:.2f}x** | "
          + (f"{f['side_bf16_step_s'] * 1e3:.1f} ms/step | {f['bf16_speedup']:.2f}x |" if f["bf16_parts"] else
             "— (no convolution) | — |")
          for fam, f in sb["families"].items()],
        "",
        f"A 96x192 scene takes {sb['render']['render_s']:.2f} s to render and {sb['render']['read_s'] * 1e3:.1f} ms to "
        "read back from the cache.",
        "",
        "Runs that train the same network (the same training key: their validated configs agree but for the run's",
        "name) are trained once; the other takes the record (monodepth_stereo's runs and smoothness_weights' `none`",
        "variant, whose separately trained records agree in every number). The projection counts each once, in both",
        "columns, so that the ratio compares like with like.",
        "",
        f"**The standard profile** ({p['runs']} runs to train, {p['shared_runs']} more that take a twin's record): "
        f"{p['before_s'] / 3600:.2f} h one run after another, "
        f"{p['float32_s'] / 3600:.2f} h side by side with cached scenes, a ratio of **{p['ratio']:.2f}x** "
        f"(projected from the figures above and each spec's steps and evaluations; "
        + ("each spec's step is its family's figure scaled by the spec's own step against its family's spec's, "
           "both measured one at a time with one thread (the column \"Step against its family's\" below); " if p.get("spec_steps_measured")
           else "every spec of a family is timed with its family's step; ")
        + f"{p['note']}). "
        f"As the specs are configured now ({len(p['bfloat16_specs'])} of {len(p['per_spec'])} in bfloat16): "
        f"**{p['now_s'] / 3600:.2f} h**; with every spec in bfloat16: {p['bfloat16_s'] / 3600:.2f} h. Budget: 4 h.",
        "",
        "| Experiment | Runs to train | Step against its family's | One after another | Side by side, float32 | "
        "Precision of its standard profile | Side by side, as configured |",
        "|---|---|---|---|---|---|---|",
        *[f"| {k} | {v['runs']} | {v.get('step_scale', 1.0):.2f}x | {v['before_s'] / 60:.0f} min | "
          f"{v['float32_s'] / 60:.0f} min | {v['precision']} | {v['now_s'] / 60:.0f} min |" for k, v in p["per_spec"].items()],
        "",
    ]
    if sb["measured"]:
        def projected(k: str, v: dict) -> float:
            # the projection gives each experiment two workers; one run with --jobs 1 had one of them (two
            # experiments were trained at once, one worker each), so it is projected to take twice as long.
            # Runs reused from finished records cost next to nothing: only the trained ones are projected.
            runs = int(v.get("runs") or 0)
            trained = (runs - int(v.get("reused_runs") or 0)) / runs if runs else 1.0
            return p["per_spec"].get(k, {}).get("now_s", 0.0) * trained * 2 / max(1, int(v.get("jobs", 1)))

        def comparable(v: dict) -> bool:  # no run resumed from a checkpoint: a wall time to compare
            return not int(v.get("resumed_runs") or 0)

        def against(k: str, v: dict) -> str:
            proj = projected(k, v)
            if not comparable(v):
                return "— (runs resumed from a checkpoint)"
            return f"{v['wall_s'] / proj:.2f}x" if proj else "—"

        meas = sb["measured"]
        full = {k: v for k, v in meas.items() if comparable(v)}
        tot = sum(v["wall_s"] for v in full.values())
        proj = sum(projected(k, v) for k, v in full.items())
        lines += ["Measured wall time of the standard runs finished on this machine (the whole `sins experiments run`, with",
                  "its evaluations, final landscapes and whatever else ran on the machine at the time), against the",
                  "projection above for the runs that call trained (which gives an experiment both workers; an",
                  "experiment run with `--jobs 1` shared the machine with another one, one worker each, and is projected",
                  "at twice its time; runs finished before are reused at next to no cost, and a run resumed from a",
                  "checkpoint makes an experiment's wall time shorter than its projection; experiments run in one call",
                  "share its pool of workers, so each one's wall time overlaps the others' and their sum compares best):", "",
                  "| Experiment | Runs | Reused / resumed | Jobs | Wall time | Measured / projected |",
                  "|---|---|---|---|---|---|",
                  *[f"| {k} | {v.get('runs', '?')} | {v.get('reused_runs', '?')} / {v.get('resumed_runs', '?')} | "
                    f"{v.get('jobs', 1)} | {v['wall_s'] / 60:.0f} min | {against(k, v)} |" for k, v in meas.items()], "",
                  f"Summed over the {len(full)} experiments with no run resumed from a checkpoint: "
                  f"{tot / 3600:.2f} h measured against {proj / 3600:.2f} h projected"
                  + (f" ({tot / proj:.2f}x)" + (": the projection above is a lower bound." if tot > 1.1 * proj else
                                               ": the projection above is an upper bound." if tot < 0.9 * proj else
                                               ", within 10%.") if proj else "."), ""]
    if sb.get("from_scratch"):
        t = from_scratch_total(sb, mach)
        lines += ["## The whole profile, trained from nothing", "",
                  "The budget is settled by wall time, not by the projection: "
                  "`python benchmarks/experiments.py --only seeds --reproject --from-scratch NAMES` trains every "
                  "standard run of the named experiments from nothing, and each call is kept (in "
                  "`benchmarks/results/seeds.json`, with the commit it ran on and a key of the runs it trained), so "
                  "that calls made at different times add up. Every call counts with its whole wall time (its pool's "
                  "last runs leave a worker idle, and it renders its own scenes: a sum of calls is longer than one "
                  "call over the same experiments would be); a call stops counting once one of its experiments trains "
                  "other runs, and a new call that measures an experiment again replaces every older call that has "
                  "it.", "", _total_sentence(t), ""]
        if t["left_out"]:
            lines += ["Calls left out: " + "; ".join(f"{', '.join(c['experiments'])} ({c['why']})"
                                                     for c in t["left_out"]) + ".", ""]
    for fs in _from_scratch_calls(sb.get("from_scratch")):
        names = list(fs["experiments"])
        proj = fs.get("projected_s") or sum(p["per_spec"].get(n, {}).get("now_s", 0.0) for n in names)
        same = all(a == b for e in fs["experiments"].values() for a, b in e["verdicts"].values())
        rel = any(e.get("max_final_rel_diff") is not None for e in fs["experiments"].values())
        lines += ["**From scratch.** `python benchmarks/experiments.py --only seeds --reproject --from-scratch "
                  f"{','.join(names)}` trained every standard run of these experiments from nothing in one call "
                  f"with {fs['jobs']} workers, in `build/from-scratch/` with its own scene cache (nothing reused, the "
                  f"reference results untouched)" + (f" on {fs['date']}" if fs.get("date") else "")
                  + (f" at commit {fs['commit']}" if fs.get("commit") else "")
                  + f": **{fs['wall_s'] / 60:.0f} min measured against "
                  f"{proj / 60:.0f} min projected beside it ({fs['wall_s'] / proj:.2f}x)**"
                  + (f" on {fs['machine']}" if fs.get("machine") and fs["machine"] != mach else "") + ". "
                  + (f"(This call's figures are {fs['source']}.) " if fs.get("source") else "")
                  + "Each fresh run's held-out synthesis loss and depth error at every evaluation, against the committed "
                  "record of the same run:", "",
                  "| Experiment | Runs | Records compared | Largest difference, any evaluation (synthesis loss or "
                  "error) |" + (" Largest difference of the final error (relative) |" if rel else "")
                  + " Verdicts (fresh / committed) |",
                  "|---|---|---|---|" + ("---|" if rel else "") + "---|",
                  *[f"| {n} | {e['runs']} | {e['records_compared']} | "
                    + ("—" if e["max_abs_diff"] is None else f"{e['max_abs_diff']:.1e}") + " | "
                    + (("—" if e.get("max_final_rel_diff") is None else f"{e['max_final_rel_diff']:.1%}") + " | "
                       if rel else "")
                    + "; ".join(f"{v}: {a}" + ("" if a == b else f" / {b}") for v, (a, b) in e["verdicts"].items())
                    + " |" for n, e in fs["experiments"].items()], "",
                  *(_per_cause_lines(fs) if any("per_cause" in e for e in fs["experiments"].values()) else []),
                  ("Every verdict is the committed one." if same else "Some verdicts differ from the committed ones "
                   "(named above).")
                  + (" The records are not the same number for number: the committed runs were trained at earlier "
                     "stops, some on machines with other vector instructions (so other oneDNN kernels) and with other "
                     "thread counts and levers, and last-bit rounding differences grow over a training run. "
                     + ("What reproduces across machines here is the verdict, not every number of a record." if same else
                        "A verdict that changed when trained again is a weaker finding than one that reproduced: the "
                        "Experiments page lists them, and each experiment's page shows its rerun.")
                     if any(e["max_abs_diff"] for e in fs["experiments"].values()) else ""), ""]
    SEEDS_DOC.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--hypotheses", type=int, default=256)
    ap.add_argument("--only", choices=["seeds"], help="run one part of the benchmark")
    ap.add_argument("--step-child")
    ap.add_argument("--mode", choices=["alone", "side-plain", "side", "side-bf16"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--spec-steps", action="store_true",
                    help="with --only seeds --reproject: measure every spec's own training step first (a full "
                         "--only seeds measures them anyway)")
    ap.add_argument("--from-scratch", metavar="NAMES",
                    help="with --only seeds --reproject: also train these experiments' standard runs from nothing "
                         "(comma-separated) in a temporary folder and compare time and records with the committed ones")
    ap.add_argument("--reproject", action="store_true",
                    help="with --only seeds: recompute the projection from the last measured figures")
    a = ap.parse_args()
    if a.child:
        _child(a.child, a.hypotheses)
        return
    if a.step_child:
        _step_child(a.step_child, a.mode, a.steps)
        return
    mach = machine()
    print("machine:", mach)
    if a.reproject and a.only != "seeds":
        ap.error("--reproject goes with --only seeds")
    if a.spec_steps and not a.reproject:
        ap.error("--spec-steps goes with --only seeds --reproject (a full --only seeds measures them anyway)")
    if a.from_scratch and not a.reproject:
        ap.error("--from-scratch goes with --only seeds --reproject (it is compared with the projection)")
    if a.only == "seeds":
        if a.reproject:
            if not SEEDS_FIGURES.is_file():
                ap.error(f"--reproject needs {SEEDS_FIGURES.relative_to(ROOT)}, which `--only seeds` writes")
            saved = json.loads(SEEDS_FIGURES.read_text())
            if a.spec_steps:  # measure every spec's own step on this machine and keep it with the figures
                saved["spec_steps"] = bench_spec_steps(a.steps)
                SEEDS_FIGURES.write_text(json.dumps(saved, indent=1))
            mach, sb = saved["machine"], {"families": saved["families"], "render": saved["render"],
                                          "date": saved.get("date"),
                                          "spec_steps": saved.get("spec_steps") or {}, "machine": saved["machine"]}
            sb["projection"], sb["measured"] = project_standard(sb), measured_standard()
            print("reprojected from the figures measured on", mach)
            if a.from_scratch:
                names = [n for n in a.from_scratch.split(",") if n]
                proj_now = sum(sb["projection"]["per_spec"].get(n, {}).get("now_s", 0.0) for n in names)
                fresh = {**from_scratch(names), "machine": machine(), "projected_s": proj_now}
                calls = {}
                for c in _from_scratch_calls(saved.get("from_scratch")):  # a call measured again replaces its elders
                    again = sorted(set(c["experiments"]) & set(names))
                    if again:
                        print(f"replacing the call of {','.join(c['experiments'])} (measured again: "
                              f"{', '.join(again)})", file=sys.stderr)
                    else:
                        calls[",".join(c["experiments"])] = c
                calls[",".join(names)] = fresh
                saved["from_scratch"] = calls
                SEEDS_FIGURES.write_text(json.dumps(saved, indent=1))
            if saved.get("from_scratch"):
                sb["from_scratch"] = saved["from_scratch"]
        else:
            sb = bench_seeds(steps=a.steps)
            # measuring the figures again keeps the from-scratch calls: they are wall times of their own
            kept = json.loads(SEEDS_FIGURES.read_text()).get("from_scratch") if SEEDS_FIGURES.is_file() else None
            SEEDS_FIGURES.parent.mkdir(parents=True, exist_ok=True)
            SEEDS_FIGURES.write_text(json.dumps({"machine": mach, "date": time.strftime("%Y-%m-%d"),
                                                 "families": sb["families"], "render": sb["render"],
                                                 "spec_steps": sb["spec_steps"],
                                                 **({"from_scratch": kept} if kept else {})}, indent=1))
            sb["machine"] = mach
            if kept:
                sb["from_scratch"] = kept
        print_seeds(sb)
        if a.write:
            write_seeds_doc(sb, mach)
            print("wrote", SEEDS_DOC.relative_to(ROOT))
        return
    ph = bench_photometric()
    print("photometric:", json.dumps(ph, indent=1))
    cs = bench_census()
    print("census:", json.dumps(cs, indent=1))
    ls = bench_landscape(a.hypotheses)
    print("landscape:", json.dumps(ls, indent=1))
    an = landscape_numbers(a.hypotheses)
    print("motorcycle analysis:", json.dumps(an, indent=1))
    rd = bench_renderer()
    print("renderer:", json.dumps(rd, indent=1))
    sb = bench_seeds(steps=a.steps)
    print_seeds(sb)
    if a.write:
        write_doc(ph, ls, mach, rd, cs)
        write_seeds_doc(sb, mach)
        print("wrote", DOC.relative_to(ROOT), "and", SEEDS_DOC.relative_to(ROOT))


if __name__ == "__main__":
    main()
