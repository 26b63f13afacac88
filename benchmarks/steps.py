"""What would fewer training steps change in the committed verdicts?

    python benchmarks/steps.py            # print the comparison
    python benchmarks/steps.py --write    # also rewrite site/docs/performance-steps.md

Training time grows with the steps, so cutting them is the plain way to shorten the standard profile. The
standard runs train at a constant learning rate on a fixed cyclic batch order (``loop._indices``), so a run of N
steps is exactly the first N steps of a longer run. For each committed standard experiment and each share of its
steps (default 1/2, 3/4 and 1, the last a check that the full length gives the committed verdicts; rounded down
to a multiple of its ``eval_every``), this cuts the held-out history of every committed run record
(``runs/*.json.gz``) at that step, summarises each configuration again with the engine's own rule (``runner.summarise_variant``) and compares the verdicts, global and per cause, of the base
and of every variant, with the committed ones. No run is trained.

What is not exact: the per-cause existence test reads each record's landscape, which was measured once, on the
final network (its hypothesis range follows that network's largest prediction); it is kept as it was.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results"
DOC = ROOT / "site" / "docs" / "performance-steps.md"


def cut(rec: dict, step: int) -> dict:
    """A run record as if training had stopped at ``step``."""
    return {**rec, "history": [h for h in rec["history"] if h["step"] <= step]}


def compare(shares: list[Fraction]) -> dict:
    """Per committed standard experiment (case studies left out): its steps and, per share, the step it is cut at
    and each configuration's committed and cut verdicts, ``[committed, cut]``, global and per cause."""
    from sins.experiments.runner import BASE, RUNS, read_record, run_name, summarise_variant
    from sins.experiments.specs import load_specs

    specs = load_specs(ROOT / "experiments")[0]
    out = {}
    for name, spec in sorted(specs.items()):
        f = RESULTS / name / "summary.json"
        if not f.is_file():
            continue
        s = json.loads(f.read_text())
        if s.get("profile") != "standard" or s.get("case_study"):
            continue
        cfg = spec.config_for("standard", s["seeds"][0])
        steps, every = int(cfg["steps"]), int(cfg["eval_every"])
        start = max(int(cfg.get("pretrain_steps") or 0), int(cfg.get("distill_from") or 0))
        committed = {BASE: s, **(s.get("variants") or {})}
        records = {}
        for variant in [BASE, *spec.variants]:
            recs = [read_record(RESULTS / name / RUNS / f"{run_name(None if variant == BASE else variant, seed)}.json.gz")
                    for seed in s["seeds"]]
            if any(r is None for r in recs):
                raise SystemExit(f"{name}: a committed run record of {variant} is missing")
            records[variant] = recs
        row = {"steps": steps, "judged_from": start, "committed": s["verdict"], "shares": {}}
        for share in shares:
            at = int(share * steps) // every * every
            if at <= start + every:  # nothing left to judge
                continue
            verdicts = {}
            for variant, recs in records.items():
                v = summarise_variant([cut(r, at) for r in recs], recs[0]["task"])
                want = committed[variant]
                verdicts[variant] = {
                    "global": [want["verdict"], v["verdict"]],
                    "per_cause": {c: [w["verdict"], (v["per_cause"].get(c) or {}).get("verdict")]
                                  for c, w in (want.get("per_cause") or {}).items()},
                }
            row["shares"][str(share)] = {"step": at, "verdicts": verdicts}
        out[name] = row
    return out


def tally(res: dict, share: Fraction) -> dict:
    """How many verdicts stay as committed when every experiment is cut at ``share`` of its steps."""
    g = g_same = pc = pc_same = 0
    changed = []
    for name, row in res.items():
        cut_at = row["shares"].get(str(share))
        if cut_at is None:
            continue
        for variant, v in cut_at["verdicts"].items():
            label = name if variant == "base" else f"{name} [{variant}]"
            g += 1
            if v["global"][0] == v["global"][1]:
                g_same += 1
            else:
                changed.append(f"{label}: {v['global'][0]} → {v['global'][1]}")
            for a, b in v["per_cause"].values():
                pc += 1
                pc_same += a == b
    return {"global": g, "global_same": g_same, "per_cause": pc, "per_cause_same": pc_same, "changed": changed}


def write_doc(res: dict, shares: list[Fraction]) -> None:
    t = {sh: tally(res, sh) for sh in shares}
    lines = [
        "# Fewer steps: what would they change?",
        "",
        "The standard runs train at a constant learning rate on a fixed cyclic batch order, so a run of N steps is "
        "exactly the first N steps of a longer one. `python benchmarks/steps.py --write` cuts every committed run "
        "record at a share of its experiment's steps (rounded down to a multiple of its evaluation interval), "
        "summarises each configuration again with the engine's own rule and compares the verdicts with the "
        "committed ones. No run is trained. Not exact: the per-cause existence test reads each record's landscape, "
        "measured once on the final network, and keeps it. The Motorcycle case studies (no verdict) are left out.",
        "",
        "| Share of the steps | Global verdicts as committed | Per-cause verdicts as committed | Global verdicts that change |",
        "|---|---|---|---|",
        *[f"| {sh} | {x['global_same']} of {x['global']} | {x['per_cause_same']} of {x['per_cause']} | "
          f"{'; '.join(x['changed']) or '—'} |" for sh, x in t.items()],
        "",
        "Training and evaluation time grow with the steps, so a share of the steps is about that share of the "
        "standard profile's projected time ([Seeds side by side](performance-seeds.md)). Whether the runs have "
        "converged at the full length is on the [Method](method.md#convergence) page.",
        "",
        "| Experiment | Steps | Judged from step | " + " | ".join(f"Global verdict at {sh}" for sh in shares)
        + " | Committed |",
        "|---|---|---|" + "---|" * len(shares) + "---|",
    ]
    for name, row in res.items():
        cells = []
        for sh in shares:
            c = row["shares"].get(str(sh))
            cells.append("—" if c is None else f"{c['verdicts']['base']['global'][1]} (step {c['step']})")
        lines.append(f"| {name} | {row['steps']} | {row['judged_from']} | " + " | ".join(cells) + f" | {row['committed']} |")
    lines.append("")
    DOC.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shares", default="1/2,3/4,1", help="comma-separated shares of each experiment's steps (1: the check that the full length gives the committed verdicts)")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    shares = [Fraction(x) for x in a.shares.split(",")]
    res = compare(shares)
    for sh in shares:
        print(sh, json.dumps(tally(res, sh)))
    if a.write:
        write_doc(res, shares)
        print("wrote", DOC.relative_to(ROOT))


if __name__ == "__main__":
    main()
