"""Does bfloat16 mixed precision change what a standard run finds?

    python benchmarks/precision.py            # train what is missing, print the comparison
    python benchmarks/precision.py --write    # also rewrite site/docs/performance-precision.md

``optim.precision: bfloat16`` makes a training step faster on a CPU with bfloat16 instructions
(``benchmarks/experiments.py --only seeds`` measures by how much), but it changes the numbers of a run. This
trains one experiment (``--spec``, default ``monodepth_stereo``) at its standard profile with the same seeds
(default 0-9) in float32 and in bfloat16, all else equal, and compares, seed by seed, the lowest held-out
synthesis loss, the final depth error and the global verdict of each precision's seeds. The float32 arm reuses
the committed reference records of its seeds (same config, same run key) and both arms reuse finished runs under
``build/runs-precision/``, so that only what is missing is trained. Results go to ``build/precision/<precision>/``,
never to the reference results.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "site" / "docs" / "performance-precision.md"
PRECISIONS = ("float32", "bfloat16")


def spec_at(name: str, precision: str):
    """The spec ``name`` with its standard profile trained at ``precision`` (float32: the spec as committed)."""
    from sins.experiments.specs import load_specs

    spec = load_specs(ROOT / "experiments")[0][name]
    if precision == "float32":
        return spec
    profiles = copy.deepcopy(spec.profiles)
    profiles["standard"].setdefault("optim", {})["precision"] = precision
    return spec.model_copy(update={"profiles": profiles})


def run(name: str, seeds: list[int], jobs: int) -> dict:
    from sins.experiments.runner import RUNS, run_name, run_specs

    out = {}
    for precision in PRECISIONS:
        spec = spec_at(name, precision)
        results = ROOT / "build" / "precision" / precision
        if precision == "float32":  # the committed records of these seeds are this arm's runs: reuse them
            for s in seeds:
                kept = ROOT / "experiments" / "results" / name / RUNS / f"{run_name(None, s)}.json.gz"
                dest = results / name / RUNS / kept.name
                if kept.is_file() and not dest.is_file():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(kept, dest)
        done = dict(run_specs([spec], "standard", results=results, scratch=ROOT / "build" / "runs-precision" / precision,
                              seeds=seeds, log=lambda m: print(m, file=sys.stderr), folder=ROOT / "experiments",
                              jobs=jobs, scene_cache=ROOT / "build" / "scenes"))
        out[precision] = done[name]
    return out


def compare(summaries: dict, seeds: list[int]) -> dict:
    from sins.experiments.verdict import t_interval

    arms = {}
    for precision, s in summaries.items():
        per = s["per_seed"]
        arms[precision] = {
            "verdict": s["verdict"], "numbers": {k: s["numbers"].get(k) for k in
                                                 ("mean_excess", "excess_low", "excess_high", "tolerance", "mean_final_error",
                                                  "mean_best_error", "mean_final_loss", "error_metric")},
            "per_cause": {k: v.get("verdict") for k, v in s["per_cause"].items()},
            "min_loss": [p["min_loss"] for p in per], "final_error": [p["final_error"] for p in per],
            "failed": [p["failed"] for p in per if p["failed"]],
        }
    f, b = arms["float32"], arms["bfloat16"]
    paired = {}
    for key in ("min_loss", "final_error"):
        d = [y - x for x, y in zip(f[key], b[key])]
        mean, low, high = t_interval(d)
        paired[key] = {"differences": d, "mean": mean, "low": low, "high": high,
                       "float32_sd": statistics.stdev(f[key]), "bfloat16_sd": statistics.stdev(b[key])}
    return {"seeds": seeds, "arms": arms, "paired": paired}


def write_doc(name: str, c: dict, mach: str) -> None:
    f, b, p = c["arms"]["float32"], c["arms"]["bfloat16"], c["paired"]
    metric = f["numbers"]["error_metric"]

    def interval(a: dict) -> str:
        n = a["numbers"]
        return f"{n['mean_excess']:+.3f} [{n['excess_low']:+.3f}, {n['excess_high']:+.3f}] (tolerance {n['tolerance']:.3f})"

    def shift(key: str, mean: float) -> str:
        q = p[key]
        word = ("bfloat16 ends higher" if q["low"] > 0 else "bfloat16 ends lower" if q["high"] < 0 else
                "the interval includes 0")
        return f"{q['mean']:+.4f} [{q['low']:+.4f}, {q['high']:+.4f}] ({q['mean'] / mean:+.1%} of the float32 mean): {word}"

    causes = sorted(set(f["per_cause"]) | set(b["per_cause"]))
    same = [k for k in causes if f["per_cause"].get(k) == b["per_cause"].get(k)]
    from sins.experiments.specs import load_specs

    specs = load_specs(ROOT / "experiments")[0]
    mixed = sorted(n for n, sp in specs.items()
                   if ((sp.profiles.get("standard") or {}).get("optim") or {}).get("precision") == "bfloat16")
    lines = [
        "# Mixed precision: does bfloat16 change what a run finds?",
        "",
        f"Experiment `{name}` at its standard profile, seeds {', '.join(map(str, c['seeds']))}, trained once in float32 "
        "(the reference) and once with `optim: {precision: bfloat16}`, all else equal (same initial weights, scenes "
        "and batch order per seed). Every held-out evaluation is float32 in both.",
        f"Regenerate with `python benchmarks/precision.py --write` (machine: {mach}).",
        "",
        "| | float32 | bfloat16 |",
        "|---|---|---|",
        f"| Global verdict | {f['verdict']} | {b['verdict']} |",
        f"| Excess of the error at the loss minimum over the best error, mean [95% interval] | {interval(f)} | {interval(b)} |",
        f"| Lowest held-out synthesis loss, mean (sd over seeds) | {statistics.mean(f['min_loss']):.4f} "
        f"({p['min_loss']['float32_sd']:.4f}) | {statistics.mean(b['min_loss']):.4f} ({p['min_loss']['bfloat16_sd']:.4f}) |",
        f"| Final {metric}, mean (sd over seeds) | {statistics.mean(f['final_error']):.3f} ({p['final_error']['float32_sd']:.3f}) | "
        f"{statistics.mean(b['final_error']):.3f} ({p['final_error']['bfloat16_sd']:.3f}) |",
        f"| Failed runs | {len(f['failed'])} | {len(b['failed'])} |",
        *[f"| Verdict at {k} | {f['per_cause'].get(k, '—')} | {b['per_cause'].get(k, '—')} |" for k in causes],
        "",
        "Seed by seed (bfloat16 minus float32, mean and 95% t-interval over the seeds):",
        "",
        f"- lowest held-out synthesis loss: {shift('min_loss', statistics.mean(f['min_loss']))};",
        f"- final {metric}: {shift('final_error', statistics.mean(f['final_error']))}.",
        "",
        f"The global verdicts {'agree' if f['verdict'] == b['verdict'] else 'differ'}; the per-cause verdicts agree at "
        f"{len(same)} of {len(causes)} causes"
        + (f" (they differ at {', '.join(k for k in causes if k not in same)})." if len(same) < len(causes) else "."),
        "",
        "| Seed | Lowest held-out L_syn, float32 | bfloat16 | Final " + metric + ", float32 | bfloat16 |",
        "|---|---|---|---|---|",
        *[f"| {s} | {f['min_loss'][i]:.4f} | {b['min_loss'][i]:.4f} | {f['final_error'][i]:.3f} | {b['final_error'][i]:.3f} |"
          for i, s in enumerate(c["seeds"])],
        "",
        (f"Specs whose standard profile trains in bfloat16: {', '.join(mixed)}; the others, and so most committed "
         "reference results, train in float32." if mixed else
         "Every spec's standard profile, and so every committed reference result, trains in float32."),
        "",
    ]
    DOC.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="monodepth_stereo")
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from experiments import machine

    seeds = [int(x) for x in a.seeds.split(",")]
    c = compare(run(a.spec, seeds, a.jobs), seeds)
    print(json.dumps(c, indent=1))
    if a.write:
        write_doc(a.spec, c, machine())
        print("wrote", DOC.relative_to(ROOT))


if __name__ == "__main__":
    main()
