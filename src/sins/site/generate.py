"""Generate the site's pages and data from the catalog and the experiment results.

Everything here returns ``{path inside docs/: str | bytes}``; the MkDocs hooks (``site/hooks.py``)
turn that into generated ``File`` objects, so ``mkdocs serve``, ``mkdocs build`` and
``sins site build`` all go through MkDocs itself. The markup lives in the Jinja2 templates of
``templates/`` (autoescaped); this module prepares their data.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import json
import math
import os
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from sins.catalog import load_catalog

from sins.experiments.verdict import VerdictRule

from .render import front_matter, md_text, page

#: site/ (the MkDocs project) inside the repository
SITE_DIR = Path(__file__).resolve().parents[3] / "site"

GROUP_TITLES = {
    "losses": "Loss terms", "supervision": "Training signal", "inputs": "Test-time input",
    "architectures": "Architectures", "domains": "Domains", "datasets": "Datasets",
}
#: paper field -> taxonomy group
FIELD_GROUP = {"losses": "losses", "supervision": "supervision", "input": "inputs", "architecture": "architectures",
               "domains": "domains", "datasets": "datasets"}
#: taxonomy group -> the survey page's URL parameter
SURVEY_PARAM = {"losses": "loss", "supervision": "supervision", "inputs": "input", "architectures": "architecture",
                "domains": "domain", "datasets": "dataset"}
#: how each evidence level is shown
EVIDENCE_LABEL = {"code": "official code", "paper": "paper text", "abstract": "abstract only"}
#: human labels for the numbers of a verdict
LABELS = {
    "seeds": "seeds run", "successful_seeds": "seeds that trained", "failed_runs": "failed runs",
    "mean_excess": "excess cost of trusting the loss (mean)", "excess_low": "95% interval, low",
    "excess_high": "95% interval, high", "tolerance": "tolerance (5% of the gain over a constant)", "p_value": "p (one-sided)",
    "mean_cost": "cost of trusting the loss (mean)", "mean_share_lost": "share of the gain given back",
    "mean_noise_sd": "evaluation noise (sd)", "mean_best_error": "best error (mean)", "mean_final_error": "final error (mean)",
    "mean_error_at_min_loss": "error at the lowest L_syn (mean)", "mean_baseline_error": "constant prediction's error",
    "mean_final_loss": "final held-out L_syn (mean)", "overfitting_seeds": "seeds that overfit",
    "oracle_gap_mean": "oracle gap (mean)", "oracle_gap_low": "oracle gap, 95% low", "oracle_gap_high": "oracle gap, 95% high",
    "oracle_gap_positive_seeds": "seeds where the prediction beats the truth", "error_metric": "error metric",
    "confidence": "confidence", "best_error": "best error", "final_error": "final error",
    "error_at_min_loss": "error at the lowest L_syn", "baseline_error": "constant prediction's error", "cost": "cost",
    "excess": "excess cost", "noise_sd": "noise (sd)", "overfits": "overfits",
    "late_fall": "L_syn fall in the last quarter (share)", "failed": "failed because",
    "step_at_min_loss": "step of the lowest L_syn", "best_step": "step of the best error", "min_loss": "lowest L_syn",
    "final_loss": "final L_syn", "start_loss": "L_syn at step 0",
    "final_pose_t_cos": "pose: translation cosine to the truth (end)",
    "final_pose_t_ratio": "pose: translation length / true, in the depth's scale (end)",
    "final_pose_rot_err_deg": "pose: rotation error, degrees (end)",
}
VERDICT_HELP = {"diverges": "a lower synthesis loss came with a higher depth error, beyond the noise",
                "consistent": "picking the checkpoint by the synthesis loss cost less than the tolerance",
                "inconclusive": "the effect is within the noise", "failed": "too few runs trained to judge",
                "not judged": "the cause does not exist at this scale, or (one real pair) there are too few held-out "
                              "scenes for a verdict"}
CAUSE_ORDER = ["occluded", "border", "textureless", "specular", "repetitive", "depth_edge", "shadow", "moving"]
CLAIM_FIGURES = {
    "claim1.png": "Excess cost of trusting the loss per trained-network configuration: the depth error at the checkpoint "
                  "with the lowest held-out synthesis loss minus the error at the error's best trend, mean over seeds "
                  "with its 95% interval; right of 0 means the loss picked a worse checkpoint. Colour: the verdict.",
    "claim2.png": "Oracle gap per configuration: held-out synthesis loss at the ground truth minus at the prediction, mean "
                  "over seeds with its 95% interval; right of 0 means the loss prefers the prediction to the truth.",
    "causes.png": "Per scene, the share of a cause's pixels whose per-pixel loss minimum is more than 1 px off the truth, "
                  "minus the same share for the clean pixels of that scene; mean over scenes with its 95% interval.",
    "scenes.png": "Cause scenes at the size the verdicts use: left image and the cause masks (red: occluded, green: "
                  "specular, blue: border; last column: repetitive, depth edge, shadow).",
    "sweep.png": "One dial of the renderer turned at a time: share of pixels misled (solid: all pixels, dashed: clean "
                 "pixels), per domain.",
    "ranking.png": "Loss-weight variants: final held-out synthesis loss against final error; the same order on both axes "
                   "would mean the loss ranks the weights as the error does.",
    "claim5.png": "Groups trained with the same SSIM + L1 objective: oracle gap with its 95% interval; colour: whether the "
                  "group shows a divergence (vermilion), is consistent (blue) or is within the noise (grey).",
}
CLAIM_COLUMNS = {
    "1": ["configuration", "verdict", "mean excess cost", "interval low", "interval high", "tolerance", "seeds used",
          "diverges in causes", "survives correction", "failed runs"],
    "2": ["configuration", "seeds", "mean oracle gap", "interval low", "interval high", "positive seeds"],
    "3": ["cause", "named by Li et al.", "scenes", "misled (cause)", "misled (clean, same scenes)", "mean difference",
          "interval low", "interval high"],
    "4": ["regularised", "twin", "where", "twin verdict", "regularised verdict"],
    "5": ["group", "configurations", "divergence", "diverging", "oracle gap", "oracle gap low", "oracle gap high"],
}
RESULT_COLS = ["benchmark", "split", "ground_truth", "resolution", "cap", "median_scaling", "supervision", "model",
               "abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3", "epe", "d1_all", "d1_noc", "where", "leaderboard"]
RESULT_LABELS = {"leaderboard": "leaderboard", "ground_truth": "ground truth", "median_scaling": "median scaling", "abs_rel": "AbsRel", "sq_rel": "SqRel",
                 "rmse": "RMSE", "rmse_log": "RMSE log", "a1": "δ<1.25", "a2": "δ<1.25²", "a3": "δ<1.25³", "d1_noc": "D1-noc", "epe": "EPE", "d1_all": "D1-all", "where": "read from"}


def esc(text: Any, pre: bool = False) -> str:
    """HTML-escape and Markdown-neutralise a catalog string (for strings placed outside the templates)."""
    from .render import pre_text

    return str(pre_text(text) if pre else md_text(text))


def attr(text: str) -> str:
    """An escaped attribute value (for URLs we already validated in the schema)."""
    return html.escape(str(text), quote=True)


def _ctx(**kw) -> dict:
    return {"verdict_help": VERDICT_HELP, "evidence_label": EVIDENCE_LABEL, **kw}


# --------------------------------------------------------------------------- results


ANALYSIS = "analysis"


def load_analysis(folder: str | Path) -> dict | None:
    """``<folder>/analysis/summary.json`` (written by ``sins experiments analyse``), or None."""
    f = Path(folder) / ANALYSIS / "summary.json"
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_results(folder: str | Path) -> dict[str, dict]:
    """Every ``<folder>/<name>/summary.json`` that parses; unknown or missing fields are tolerated."""
    folder = Path(folder)
    out: dict[str, dict] = {}
    if not folder.is_dir():
        return out
    for sub in sorted(folder.iterdir()):
        f = sub / "summary.json"
        if sub.name == ANALYSIS or not f.is_file():
            continue
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        data.setdefault("name", sub.name)
        data["name"] = str(data["name"])
        data["_dir"] = sub
        tests = data.get("tests") or []
        data["tests"] = [str(t) for t in tests] if isinstance(tests, list) else [str(tests)]
        figs = data.get("figures") or []
        data["figures"] = [str(x) for x in figs] if isinstance(figs, list) else []
        nums = data.get("numbers")
        data["numbers"] = nums if isinstance(nums, dict) else {}
        data["verdict"] = str(data.get("verdict") or "inconclusive")
        out[data["name"]] = data
    return out


#: where ``benchmarks/experiments.py --only seeds --reproject --from-scratch NAMES --write`` keeps its calls
RERUNS = SITE_DIR.parent / "benchmarks" / "results" / "seeds.json"


def load_reruns(path: str | Path | None) -> dict[str, list[dict]]:
    """Per experiment, every time its standard runs were trained again from nothing (the seeds benchmark's
    ``--from-scratch`` calls), newest first: date, commit, machine and, per configuration, the fresh verdict beside
    the committed verdict of that day. Empty when there is no such file (the site then says nothing); a file that is
    not JSON is an error that names it."""
    if not path or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); it is written by `python benchmarks/experiments.py "
                         "--only seeds --write`, restore it from git or pass another file") from None
    calls = data.get("from_scratch") if isinstance(data, dict) else None
    out: dict[str, list[dict]] = {}
    for names, call in (calls.items() if isinstance(calls, dict) else []):
        if not isinstance(call, dict) or not isinstance(call.get("experiments"), dict):
            continue
        for name, e in call["experiments"].items():
            verdicts = e.get("verdicts") if isinstance(e, dict) else None
            if not isinstance(verdicts, dict):
                continue
            out.setdefault(str(name), []).append({
                "date": str(call.get("date") or "?"), "commit": str(call.get("commit") or "?"),
                "machine": str(call.get("machine") or "?"), "call": str(names), "runs": e.get("runs"),
                "records_compared": e.get("records_compared"), "max_final_rel_diff": e.get("max_final_rel_diff"),
                "verdicts": _pairs(verdicts),
                "per_cause": {str(conf): _pairs(causes) for conf, causes in (e.get("per_cause") or {}).items()
                              if isinstance(causes, dict)}})
    for v in out.values():
        v.sort(key=lambda x: x["date"], reverse=True)
    return out


def _pairs(d: dict) -> dict[str, tuple[str, str]]:
    """``{key: [fresh, committed]}`` as the file stores it, keeping only well-formed pairs."""
    return {str(k): (str(v[0]), str(v[1])) for k, v in d.items() if isinstance(v, (list, tuple)) and len(v) == 2}


def attach_reruns(results: dict[str, dict], reruns: dict[str, list[dict]]) -> None:
    """``r["reruns"]``: one row per configuration and rerun (fresh verdict, committed verdict that day, now), and
    ``r["rerun_base"]``: the newest rerun's fresh verdict of the base where it differs from the committed one."""
    from sins.experiments.analysis import configurations

    for name, r in results.items():
        tolerable = name in reruns and isinstance(r.get("variants") or {}, dict)  # load_results tolerates odd fields
        current = {c["config"]: c["verdict"] for c in configurations({name: r})} if tolerable else {}
        rows = []
        for call in reruns.get(name, []):
            for conf, (fresh, then) in call["verdicts"].items():
                now = current.get(conf)
                rows.append({"configuration": conf, "trained again": fresh, "committed that day": then,
                             "committed now": now if now is not None else "—", "kept": "yes" if fresh == then else "no",
                             "date": call["date"], "commit": call["commit"], "machine": call["machine"],
                             "largest change of a final error": call["max_final_rel_diff"]})
        r["reruns"] = rows
        newest_call = (reruns.get(name) or [None])[0]
        r["rerun_causes"] = [{"configuration": conf, "cause": c, "trained again": fresh, "committed that day": then,
                              "kept": "yes" if fresh == then else "no", "date": newest_call["date"]}
                             for conf, causes in (newest_call or {}).get("per_cause", {}).items()
                             for c, (fresh, then) in causes.items()]
        newest = next((x for x in rows if x["configuration"] == "base"), None)
        r["rerun_base"] = (newest["trained again"] if newest and newest["committed that day"] == r.get("verdict")
                           and newest["trained again"] != r.get("verdict") else None)


def rerun_summary(results: dict[str, dict]) -> dict:
    """How many configurations kept their verdict when trained again (the newest rerun of each), and which did not."""
    kept, changed, names = 0, [], set()
    for name, r in sorted(results.items()):
        seen = set()
        for x in r.get("reruns") or []:
            if x["configuration"] in seen:
                continue  # an older rerun of the same configuration
            seen.add(x["configuration"])
            names.add(name)
            if x["kept"] == "yes":
                kept += 1
            else:
                changed.append({"experiment": name, "configuration": x["configuration"], "committed": x["committed that day"],
                                "trained again": x["trained again"], "date": x["date"]})
    causes = [x for r in results.values() for x in r.get("rerun_causes") or []]
    return {"experiments": len(names), "configurations": kept + len(changed), "kept": kept, "changed": changed,
            "causes": len(causes), "causes_kept": sum(x["kept"] == "yes" for x in causes),
            "causes_experiments": sum(bool(r.get("rerun_causes")) for r in results.values())}


def _verdicts_for(term_id: str, term, results: dict[str, dict]) -> list[dict]:
    names = list(term.experiments) if term is not None else []
    found = [results[n] for n in names if n in results]
    found += [r for r in results.values() if term_id in r["tests"] and r not in found]
    return found


def _copy(files: dict, root: Path, rel: str, dest: str) -> str | None:
    """Copy a results file into the site under ``dest``; None when it is missing or outside the results."""
    src = (root / rel).resolve()
    if root.resolve() not in src.parents or not src.is_file():
        return None
    files[dest] = src.read_bytes()
    return dest


# --------------------------------------------------------------------------- pages


def paper_page(p, tax, results: dict[str, dict], bib: str) -> str:
    pre = "../../"
    links = []
    if p.arxiv:
        links += [(f"arXiv {p.arxiv}", f"https://arxiv.org/abs/{p.arxiv}"), ("PDF", f"https://arxiv.org/pdf/{p.arxiv}")]
    if p.doi:
        links.append((f"DOI {p.doi}", f"https://doi.org/{p.doi}"))
    if p.url:
        links.append(("Web page", p.url))
    if p.code:
        links.append(("Code", p.code))
    categories = []
    for field, group in FIELD_GROUP.items():
        values = getattr(p, field)
        for tid in ([values] if isinstance(values, str) else list(values)):
            term = tax.group(group).get(tid)
            categories.append({"facet": "Loss term" if group == "losses" else GROUP_TITLES[group], "group": group, "tid": tid,
                               "level": p.losses[tid] if group == "losses" else None,
                               "found": _verdicts_for(tid, term, results) if group == "losses" else []})
    rows = [result_row(r) for r in p.results]
    return page("paper.html", **_ctx(front=front_matter(p.title), p=p, tax=tax, pre=pre, links=links, categories=categories,
                                     bib=bib, results=rows, result_cols=[c for c in RESULT_COLS if any(r.get(c) is not None for r in rows)],
                                     result_labels=RESULT_LABELS))


def result_row(r, pre: str = "../../") -> dict:
    """A paper page's row: the protocol, the numbers, the source one click away and the row's leaderboard."""
    from markupsafe import Markup

    from sins.catalog.results import protocol_id

    row = {k: getattr(r, k) for k in ("benchmark", "split", "ground_truth", "resolution", "cap", "median_scaling",
                                       "supervision", "model")}
    row.update(r.metrics)
    row["where"] = Markup('<a href="{}" rel="noopener">{}</a>').format(r.source, r.where)
    row["leaderboard"] = Markup('<a href="{}leaderboards/{}/{}/">protocol</a>').format(pre, r.benchmark, protocol_id(r))
    return row


def term_page(group: str, tid: str, term, papers: list, results: dict[str, dict]) -> str:
    pre = "../../../"
    counts = []
    if group == "losses" and papers:
        n = Counter(p.losses[tid] for p in papers)
        counts = [(lv, n[lv]) for lv in EVIDENCE_LABEL]
    per_year = sorted(Counter(p.year for p in papers).items())
    return page("term.html", **_ctx(front=front_matter(term.name), term=term, tid=tid, group=group,
                                    group_title=GROUP_TITLES[group], pre=pre, papers=papers,
                                    found=_verdicts_for(tid, term, results) if group == "losses" else [],
                                    evidence_counts=counts, per_year=per_year,
                                    per_year_max=max((n for _y, n in per_year), default=1),
                                    survey_param=SURVEY_PARAM[group]))


def taxonomy_index(tax, counts: dict[tuple[str, str], int]) -> str:
    return page("taxonomy.html", tax=tax, counts=counts, groups=list(GROUP_TITLES.items()))


def _claim_rows(k: str, c: dict) -> tuple[list[dict], list[str]]:
    nums = c.get("numbers")
    if isinstance(nums, list) and nums and all(isinstance(x, dict) for x in nums):
        cols = [col for col in CLAIM_COLUMNS.get(k, []) if any(col in n for n in nums)] or list(nums[0])
        return nums, cols
    return [], []


def experiments_page(results: dict[str, dict], analysis: dict | None = None, root: Path | None = None) -> tuple[str, dict[str, bytes]]:
    """The overview page (claims, failed runs, verdict matrix, list) and one page per experiment."""
    files: dict[str, bytes] = {}
    if not results:
        return page("experiments.html", **_ctx(results={})), files
    root = root or next(iter(results.values()))["_dir"].parent
    claims = []
    if analysis and isinstance(analysis.get("claims"), dict):
        for k, c in sorted(analysis["claims"].items()):
            rows, cols = _claim_rows(k, c)
            figs = [f for f in (c.get("figures") or [])] + (["scenes.png"] if k == "3" else [])
            figures = []
            for f in figs:
                dest = _copy(files, root, f"{ANALYSIS}/{f}", f"experiments/{ANALYSIS}/{f}")
                if dest:
                    figures.append({"src": f"{ANALYSIS}/{f}", "caption": CLAIM_FIGURES.get(f, f)})
            claims.append((k, {**c, "rows": rows, "cols": cols, "figures": figures, "answer": c.get("answer") or ""}))
    failed = [{"experiment": r["name"], "configuration": f.get("variant"), "seed": f.get("seed"), "why": f.get("reason")}
              for r in results.values() for f in (r.get("failed_runs") or [])]
    matrix = []
    if analysis and analysis.get("matrix"):
        for mrow in analysis["matrix"]:
            matrix.append({"configuration": mrow.get("configuration") or mrow.get("experiment"),
                           "global": mrow.get("global") or mrow.get("verdict"),
                           **{c: mrow.get(c, "not judged") for c in CAUSE_ORDER}})
    text = page("experiments.html", **_ctx(
        results=results, profiles=sorted({str(r.get("profile", "?")) for r in results.values()}),
        seed_counts=sorted({len(r.get("seeds") or []) for r in results.values()}),
        heldout_counts=sorted({int(r.get("heldout_scenes") or 0) for r in results.values()}),
        standard_count=sum(r.get("profile") == "standard" for r in results.values()),
        quick_names=sorted(k for k, r in results.items() if r.get("profile") != "standard"),
        case_studies=[r for _, r in sorted(results.items()) if r.get("case_study")],
        left_out=sorted((analysis or {}).get("left_out") or {}),
        claims=claims, failed=failed, matrix=matrix, matrix_cols=["configuration", "global", *CAUSE_ORDER],
        rules=(analysis or {}).get("rules", ""), min_gain=VerdictRule().min_gain, reruns=rerun_summary(results)))
    for r in results.values():
        files[f"experiments/{r['name']}.md"] = experiment_page(r, root, files)
    return text, files


def cause_existence_table(results: str | Path) -> str:
    """Markdown: per cause, in the cause scenes the analysis rendered (the stereo experiments' standard 96 x 192), how many
    scenes hold it, its mean share of the pixels, how often the per-pixel loss minimum is off the truth there and at
    clean pixels, and the paired difference with its 95% interval. Empty when no analysis is committed."""
    f = Path(results) / ANALYSIS / "summary.json"
    if not f.is_file():
        return "*No analysis is committed yet: run `sins experiments analyse`.*"
    a = json.loads(f.read_text(encoding="utf-8"))
    rows, diffs = a.get("cause_scenes") or [], a.get("cause_differences") or {}
    if not rows or not diffs:
        return "*The cause scenes have not been measured.*"
    size = rows[0].get("size") or ["?", "?"]
    npx = float(size[0]) * float(size[1]) if all(isinstance(x, (int, float)) for x in size) else float("nan")
    lines = ["## Where the causes exist at the standard scale { #causes }", "",
             f"Measured on {len(rows)} procedural scenes at {size[0]} x {size[1]} pixels (the stereo experiments' standard "
             "size; the video family's is on this page below) in "
             f"{len({r.get('domain') for r in rows})} domains, by sweeping every integer disparity per pixel: a cause is "
             "judged by an experiment only where it covers a non-trivial share of the held-out pixels and the loss "
             "minimum is off the truth there more often than at clean pixels. From `experiments/results/analysis/`.", "",
             "| Cause | Scenes with it | Mean share of pixels | Loss minimum off the truth (cause) | (clean pixels) | "
             "Difference, 95% interval |", "|---|---|---|---|---|---|"]
    for c in CAUSE_ORDER:
        d = diffs.get(c)
        if not d:
            continue
        shares = [r.get(f"{c}_pixels", 0) / npx for r in rows if r.get(f"{c}_pixels")]
        share = sum(shares) / len(shares) if shares else 0.0
        lines.append(f"| {c} | {d.get('scenes')} | {share:.1%} | {d.get('mean_cause_misleading', float('nan')):.1%} | "
                     f"{d.get('mean_clean_misleading', float('nan')):.1%} | {d.get('mean_difference', float('nan')):+.3f} "
                     f"[{d.get('low', float('nan')):+.3f}, {d.get('high', float('nan')):+.3f}] |")
    return "\n".join(lines) + "\n"


def _runs_of(r: dict) -> list[tuple[str, Any, dict]]:
    """Every run of a summary as ``(configuration, seed, its per-seed row)``: the base's seeds, then each variant's
    (the same seeds), in the order the summary lists them."""
    vs = r.get("variants") if isinstance(r.get("variants"), dict) else {}
    confs = [("base", r.get("per_seed"))] + [(k, v.get("per_seed")) for k, v in vs.items() if isinstance(v, dict)]
    seeds = r.get("seeds") if isinstance(r.get("seeds"), list) else []
    return [(conf, seeds[i] if i < len(seeds) else i, row) for conf, rows in confs
            for i, row in enumerate(rows if isinstance(rows, list) else []) if isinstance(row, dict)]


def _run_history(r: dict, conf: str, seed) -> list[dict]:
    """A run's held-out evaluations, from its committed record (``runs/<configuration>-s<seed>.json.gz``); empty
    without one."""
    from sins.experiments.runner import RUNS, read_record, run_name

    if "_dir" not in r:
        return []
    rec = read_record(Path(r["_dir"]) / RUNS / f"{run_name(conf, seed)}.json.gz") or {}
    return [h for h in rec.get("history") or [] if isinstance(h, dict)]


def _seed_list(seeds: list[int]) -> str:
    """``[0, 1, 2, 4]`` as ``0–2, 4``; an em dash when empty."""
    if not seeds:
        return "—"
    parts, start = [], seeds[0]
    for a, b in zip(seeds, seeds[1:] + [None]):
        if b != a + 1:
            parts.append(str(start) if start == a else f"{start}–{a}")
            start = b
    return ", ".join(parts)


def _span(xs: list[float], fmt: str = "{:.2f}") -> str:
    xs = [x for x in xs if isinstance(x, (int, float))]
    if not xs:
        return "—"
    lo, hi = min(xs), max(xs)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)} to {fmt.format(hi)}"


#: the starting translation cosine at which the pose-learning table splits the committed video runs (descriptive)
START_COS = 0.5


def pose_learning_table(results: str | Path) -> str:
    """Markdown: for every committed configuration whose runs measure the pose network (the video family), which
    seeds' pose networks learnt the camera's motion under :func:`sins.experiments.evaluation.pose_learnt`, the
    range of their final translation cosine and length ratio, the final depth error of each group, and the
    translation cosine each group's pose networks started from (step 0, from the committed run records). Computed
    from the committed summaries and records, so it cannot drift from them."""
    from sins.experiments.evaluation import POSE_COS_MIN, POSE_RATIO_MIN, pose_learnt

    rows = []
    tally = {True: [0, 0], False: [0, 0]}  # started at >= START_COS: [learnt, runs]
    for name, r in load_results(results).items():
        groups: dict[str, list[tuple[Any, dict]]] = {}
        for conf, seed, p in _runs_of(r):
            groups.setdefault(conf, []).append((seed, p))
        for conf, runs in groups.items():
            if not any(p.get("final_pose_t_cos") is not None for _, p in runs):
                continue
            ok, bad, cos, ratio, err_ok, err_bad, const, failed = [], [], [], [], [], [], [], []
            start_ok, start_bad = [], []
            for seed, p in runs:
                learnt = pose_learnt(p.get("final_pose_t_cos"), p.get("final_pose_t_ratio"))
                if learnt is None:
                    continue
                (ok if learnt else bad).append(seed)
                first = (_run_history(r, conf, seed) or [{}])[0]
                start = first.get("pose_t_cos") if first.get("step") == 0 else None
                if isinstance(start, (int, float)) and math.isfinite(start):
                    (start_ok if learnt else start_bad).append(start)
                    t = tally[start >= START_COS]
                    t[0] += int(learnt)
                    t[1] += 1
                (err_ok if learnt else err_bad).append(p.get("final_error"))
                cos.append(p.get("final_pose_t_cos"))
                ratio.append(p.get("final_pose_t_ratio"))
                const.append(p.get("baseline_error"))
                if p.get("failed"):
                    failed.append(seed)
            rows.append(f"| [{name}](experiments/{name}.md) | {conf} | {r.get('profile', '?')} | {_seed_list(ok)} | "
                        f"{_seed_list(bad)} | {_span(cos)} | {_span(ratio)} | {_span(err_ok)} | {_span(err_bad)} | "
                        f"{_span(const)} | {_seed_list(failed)} | {_span(start_ok)} | {_span(start_bad)} |")
    if not rows:
        return "*No committed result measures a pose network yet.*"
    hi, lo = tally[True], tally[False]
    started = (f"Over the {hi[1] + lo[1]} runs with a committed record, the pose networks whose translation started "
               f"(at step 0, before any training) with a cosine of at least {START_COS:g} to the true one learnt the "
               f"motion in {hi[0]} of {hi[1]} runs; those that started below it, in {lo[0]} of {lo[1]}. The starting "
               "direction is the pose network's random initial weights at work (the seeds share their scenes and batch "
               "order), and the split at that cosine describes these runs; it is not a rule the verdict uses."
               if hi[1] + lo[1] else "")
    return "\n".join([
        "### Which seeds' pose networks learn the motion { #pose-learning }", "",
        f"Computed from the committed summaries. A seed's pose network counts as having learnt the camera's motion "
        f"when its final held-out translation has a cosine of at least {POSE_COS_MIN} to the true one and at least "
        f"{POSE_RATIO_MIN:g} of its length (in the depth's median scale). The depth error is the final held-out "
        "abs_rel, beside a constant depth's on the same held-out clips. *Failed runs* are those the verdict leaves out (not 10% below "
        "a constant's error at their best).", "",
        "| Experiment | Configuration | Profile | Pose learnt (seeds) | Pose not learnt (seeds) | Translation cosine | "
        "Length / truth | abs_rel, learnt | abs_rel, not learnt | abs_rel, constant depth | Failed runs | "
        "Starting cosine, learnt | Starting cosine, not learnt |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|", *rows, "", started]) + "\n"


#: a run counts as settled when the last quarter of its evaluations brings less than this share of its whole fall
#: in held-out synthesis loss
SETTLED_SHARE = 0.10


def late_fall(series: list[float]) -> float | None:
    """The share of a curve's whole fall (first value to its minimum) that came in its last quarter (from the
    evaluation at three quarters of the run to the last one); None when the curve never fell below its start.
    Near 0: the curve had flattened; near 1: it was still falling at the end."""
    xs = [float(x) for x in series if isinstance(x, (int, float))]
    if len(xs) < 4:
        return None
    fall = xs[0] - min(xs)
    if not fall > 0:
        return None
    return (xs[round(0.75 * (len(xs) - 1))] - xs[-1]) / fall


def convergence_table(results: str | Path) -> str:
    """Markdown: per experiment, from the committed records of its summary's runs (``runs/*.json.gz``), how much of each run's fall in
    held-out synthesis loss (as trained) and in depth error came in the last quarter of training; the runs that
    were still falling (:data:`SETTLED_SHARE` or more) are counted."""
    from sins.experiments.runner import run_name

    rows = []
    for name, r in load_results(results).items():
        metric = (r.get("numbers") or {}).get("error_metric") or "epe"
        lsyn, err, open_runs = [], [], []
        recorded = 0
        for conf, seed, _ in _runs_of(r):
            hist = _run_history(r, conf, seed)
            recorded += bool(hist)
            lf = late_fall([h.get("heldout_lsyn_trained") for h in hist])
            if lf is None:
                continue
            lsyn.append(lf)
            ef = late_fall([h.get(metric) for h in hist])
            if ef is not None:
                err.append(ef)
            if lf >= SETTLED_SHARE:
                open_runs.append(run_name(conf, seed))
        prof = r.get("profile", "?") + (f", {r['precision']}" if r.get("precision") else "")
        if not lsyn:  # said, not left out: every recorded run is a failed run
            if recorded:
                rows.append(f"| [{name}](experiments/{name}.md) | {prof} | 0 of {recorded} (no run's synthesis loss fell "
                            "below its start) | — | — | — | — |")
            continue
        emed = f"{statistics.median(err):+.1%}" if err else "—"
        rows.append(f"| [{name}](experiments/{name}.md) | {prof} | {len(lsyn)} | "
                    f"{statistics.median(lsyn):.1%} | {max(lsyn):.1%} | {emed} | "
                    f"{len(open_runs)}{': ' + ', '.join(open_runs) if open_runs else ''} |")
    if not rows:
        return "*No run records are committed yet.*"
    return "\n".join([
        "## Have the runs converged? { #convergence }", "",
        "From the committed run records. For each run, the share of its whole fall in held-out synthesis loss (as "
        "trained; from its first evaluation to its lowest) that came in the last quarter of training: near 0 the "
        "curve had flattened, near 100% it was still falling. Depth error the same way (a negative share: the error "
        "rose again in the last quarter). Runs whose synthesis loss never fell below its start are left out (they "
        f"are failed runs). A run counts as still falling from {SETTLED_SHARE:.0%}.", "",
        "| Experiment | Profile | Runs | Synthesis-loss fall in the last quarter (median) | (largest) | "
        "Depth-error fall in the last quarter (median) | Runs still falling |",
        "|---|---|---|---|---|---|---|", *rows]) + "\n"


def experiment_page(r: dict, root: Path, files: dict) -> str:
    caps = {"curves.png": f"{r.get('title') or r['name']}: held-out synthesis loss (as trained) and depth error over training "
                          "steps, one colour per seed and the mean in black, one row per configuration; the dot marks the "
                          "checkpoint with the lowest synthesis loss; dashed: failed runs.",
            "landscape.png": "Share of held-out pixels whose per-pixel loss minimum is off the truth, by cause (grey: clean "
                             "pixels), or the oracle gap per seed for video."}
    figures = []
    for fig in r["figures"]:
        if _copy(files, root, f"{r['name']}/{fig}", f"experiments/{r['name']}/{fig}"):
            figures.append({"src": fig, "caption": caps.get(fig, fig)})
    pc = r.get("per_cause") or {}
    per_cause = [{"cause": c, "verdict": v.get("verdict"), "share of pixels": v.get("share"), "misled (cause)": v.get("misleading"),
                  "misled (clean)": v.get("clean_misleading"), "why judged or not": v.get("why")}
                 for c, v in sorted(pc.items(), key=lambda kv: CAUSE_ORDER.index(kv[0]) if kv[0] in CAUSE_ORDER else 99)]
    variants = [{"variant": k, "verdict": v.get("verdict"), "overrides": v.get("overrides"),
                 "final error": (v.get("numbers") or {}).get("mean_final_error"),
                 "final L_syn": (v.get("numbers") or {}).get("mean_final_loss"),
                 "diverging causes": ", ".join(c for c, x in (v.get("per_cause") or {}).items() if x.get("verdict") == "diverges") or "—"}
                for k, v in (r.get("variants") or {}).items()] if isinstance(r.get("variants"), dict) else []
    failed = [{"configuration": f.get("variant"), "seed": f.get("seed"), "why": f.get("reason")} for f in r.get("failed_runs") or []]
    # one row per run: the base's seeds, then each variant's (same seeds), so that a variant's pose columns show too
    seeds = []
    several = isinstance(r.get("variants"), dict) and any(isinstance(v, dict) for v in r["variants"].values())
    for conf, seed, s in _runs_of(r):
        row = {**({"configuration": conf} if several else {}), "seed": seed, **s}
        lf = late_fall([h.get("heldout_lsyn_trained") for h in _run_history(r, conf, seed)])
        if lf is not None:
            row["late_fall"] = lf
        seeds.append(row)
    seed_cols = ["configuration", "seed", "best_error", "error_at_min_loss", "final_error", "baseline_error", "cost", "excess", "noise_sd",
                 "overfits", "late_fall", "final_pose_t_cos", "final_pose_t_ratio", "final_pose_rot_err_deg", "failed"]
    finetune = []
    ft = r.get("finetune") or {}
    for where, p in [("global", ft.get("global"))] + sorted((ft.get("per_cause") or {}).items()):
        if not p or not p.get("start"):
            continue
        finetune.append({"where": where, "error at the start": sum(p["start"]) / len(p["start"]),
                         "at the loss-selected checkpoint": sum(p["selected"]) / len(p["selected"]),
                         "at the end": sum(p["final"]) / len(p["final"]),
                         "change (end - start)": p.get("pull_mean"), "95% low": p.get("pull_low"), "95% high": p.get("pull_high"),
                         "pulled away": "not judged" if p.get("pulled_away") is None else ("yes" if p["pulled_away"] else "no")})
    return page("experiment.html", **_ctx(front=front_matter(r.get("title") or r["name"]), r=r, figures=figures,
                                          finetune=finetune, finetune_steps=ft.get("pretrain_steps"),
                                          per_cause=per_cause, variants=variants, failed=failed, labels=LABELS,
                                          seeds=seeds, seed_cols=[c for c in seed_cols if any(c in s for s in seeds)]))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: colour-blind-safe palette (Okabe-Ito), the same as the experiment figures
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
EVIDENCE_COLOURS = {"code": "#0072B2", "paper": "#56B4E9", "abstract": "#BBBBBB"}


def stats_page(cat) -> tuple[str, dict[str, bytes]]:
    from matplotlib.colors import LogNorm

    from sins.catalog.stats import compute_stats

    plt = _plt()
    s = compute_stats(cat)
    files: dict[str, bytes] = {}

    def save(fig, name):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        files[f"stats/{name}"] = buf.getvalue()

    by_year = s.get("by_year", {})
    years = sorted(by_year, key=int)
    sup = list(cat.taxonomy.supervision)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bottom = [0] * len(years)
    for i, st in enumerate(sup):
        vals = [by_year[y].get(st, 0) for y in years]
        if any(vals):
            ax.bar([str(y) for y in years], vals, bottom=bottom, label=st, color=PALETTE[i % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("papers", fontsize=10)
    ax.legend(fontsize=9, title="trained on", title_fontsize=9)
    ax.set_title("Papers per year by training signal", fontsize=11)
    save(fig, "by_year.png")

    losses = s.get("losses", {})
    names = list(losses)[::-1]
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.3 * len(names) + 1)))
    left = [0] * len(names)
    for lv, colour in EVIDENCE_COLOURS.items():
        vals = [s["evidence_by_loss"][n][lv] for n in names]
        ax.barh(names, vals, left=left, color=colour, label=EVIDENCE_LABEL[lv])
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel("papers", fontsize=10)
    ax.tick_params(axis="y", labelsize=9)
    ax.legend(fontsize=9, title="tag read from", title_fontsize=9, loc="lower right")
    ax.set_title("Loss-term frequency", fontsize=11)
    save(fig, "losses.png")

    co = s.get("cooccurrence", {})
    ids = list(co)
    if ids:
        import numpy as np

        m = np.array([[co[a].get(b, 0) for b in ids] for a in ids], dtype=float)
        size = 0.42 * len(ids) + 2.5
        fig, ax = plt.subplots(figsize=(size, size * 0.9))
        im = ax.imshow(np.where(m > 0, m, np.nan), cmap="viridis", norm=LogNorm(vmin=1, vmax=max(1.0, float(m.max()))))
        ax.set_xticks(range(len(ids)), ids, rotation=90, fontsize=9)
        ax.set_yticks(range(len(ids)), ids, fontsize=9)
        cb = fig.colorbar(im, ax=ax, shrink=0.7)
        cb.set_label("papers using both (log scale; blank: none)", fontsize=9)
        ax.set_title("Loss co-occurrence", fontsize=11)
        save(fig, "cooccurrence.png")
    year_rows = [{"year": y, **{st: by_year[y].get(st, 0) for st in sup}, "total": sum(by_year[y].values())} for y in years]
    text = page("stats.html", s=s, ev_total=sum(s.get("evidence", {}).values()), year_rows=year_rows, supervision_ids=sup,
                cooccurrence=bool(ids), verdict_help=VERDICT_HELP)
    return text, files


def changes_page(cat) -> tuple[str, str]:
    """The 'new since' page and its Atom feed, from each paper's ``provenance.added`` date."""
    dated: dict[_dt.date, list] = {}
    undated = []
    for p in cat.papers.values():
        if p.provenance.added:
            dated.setdefault(p.provenance.added, []).append(p)
        else:
            undated.append(p)
    days = [(d.isoformat(), sorted(ps, key=lambda p: p.key)) for d, ps in sorted(dated.items(), reverse=True)]
    text = page("changes.html", days=days, undated=undated)
    return text, atom_feed(days)


def atom_feed(days: list[tuple[str, list]], limit: int = 200) -> str:
    """An Atom 1.0 feed of the additions, newest first (links are relative to the site root)."""
    from xml.sax.saxutils import escape

    updated = f"{days[0][0]}T00:00:00Z" if days else "1970-01-01T00:00:00Z"
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           "<title>sins: papers added to the survey</title>", "<id>urn:sins:survey:additions</id>",
           f"<updated>{updated}</updated>", '<link rel="alternate" href="changes/"/>']
    n = 0
    for day, papers in days:
        for p in papers:
            if n >= limit:
                break
            n += 1
            out += ["<entry>", f"<title>{escape(p.title)}</title>", f"<id>urn:sins:paper:{escape(p.key)}</id>",
                    f"<updated>{day}T00:00:00Z</updated>", f'<link rel="alternate" href="papers/{escape(p.key)}/"/>',
                    f"<author><name>{escape(p.authors[0])}</name></author>",
                    f"<summary>{escape(p.summary)}</summary>", "</entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- leaderboards


def _metric_cols(df) -> list[str]:
    from sins.catalog.results import DEPTH_METRICS, STEREO_METRICS

    return [m for m in (*DEPTH_METRICS, *STEREO_METRICS) if df[m].notna().any()]


def leaderboard_files(cat) -> dict[str, str]:
    """``leaderboards.md`` (benchmarks, their protocols and what the loss terms buy), one page per benchmark and
    protocol, and ``assets/results.json`` (every row, read by the pages' table)."""
    from markupsafe import Markup

    from sins.catalog.results import (BENCHMARKS, HIGHER_IS_BETTER, filter_results, loss_term_comparison, protocol_id,
                                      protocols)

    df = filter_results(cat)
    files: dict[str, str] = {}
    rows = []
    for r in df.itertuples(index=False):
        d = r._asdict()
        rows.append({"key": d["key"], "protocol_id": d["protocol_id"], "model": d["model"], "source": d["source"],
                     "where": d["where"], "metrics": {m: d[m] for m in _metric_cols(df) if d[m] == d[m]}})
    files["assets/results.json"] = json.dumps({"rows": rows}, ensure_ascii=False, separators=(",", ":"))
    by_bench: dict[str, list] = {}
    for pr in protocols(df):
        bench, pid = pr["benchmark"], pr["protocol_id"]
        g = df[(df["benchmark"] == bench) & (df["protocol_id"] == pid)]
        cols = _metric_cols(g)
        sort = next((m for m in ("abs_rel", "d1_all", "epe", "rmse") if m in cols), cols[0] if cols else "year")
        g = g.sort_values([sort, "year", "key"], ascending=[sort not in HIGHER_IS_BETTER, True, True], na_position="last",
                          kind="stable") if sort != "year" else g
        static = []
        for r in g.to_dict("records"):
            item = {"paper": Markup('<a href="../../../papers/{}/">{}</a>').format(r["key"], r["title"]), "year": r["year"],
                    "model": r["model"], "source": Markup('<a href="{}" rel="noopener">{}</a>').format(r["source"], r["where"])}
            item.update({m: (None if r[m] != r[m] else r[m]) for m in cols})
            static.append(item)
        name = BENCHMARKS[bench]["name"]
        first = g.iloc[0]
        definition = next(row for row in cat.papers[first["key"]].results
                          if protocol_id(row) == pid).protocol_table()
        label = pr["protocol"].split(", ", 1)[1] if ", " in pr["protocol"] else pr["protocol"]
        files[f"leaderboards/{bench}/{pid}.md"] = page(
            "leaderboard.html", **_ctx(front=front_matter(f"{name}: {label}", hide=("navigation", "toc")), title=f"{name}: {label}", bench_name=name,
                                       n_rows=pr["rows"], n_papers=pr["papers"], label=label, protocol_id=pid, sort=sort,
                                       static_rows=static, static_cols=["paper", "year", "model", *cols, "source"],
                                       labels=RESULT_LABELS, results_mode=True,
                                       definition=definition))
        by_bench.setdefault(bench, []).append(
            {"protocol": Markup('<a href="{}/{}/">{}</a>').format(bench, pid, label), "papers": pr["papers"],
             "rows": pr["rows"]})
    comparison = loss_term_comparison(cat)
    names = {t: term.name for t, term in cat.taxonomy.group("losses").items()}
    for item in comparison["protocols"]:
        item["link"] = Markup('<a href="{}/{}/">{}</a>').format(comparison["benchmark"], item["protocol_id"],
                                                               item["protocol"].split(", ", 1)[1])
        item["term_rows"] = [{
            "loss term": Markup('<a href="../taxonomy/losses/{}/">{}</a>').format(t["term"], names.get(t["term"], t["term"])),
            "difference": t["difference"], "papers with": t["papers_with"], "papers without": t["papers_without"],
            "periods": t["years"]} for t in item["terms"]]
    benchmarks = [(b, by_bench[b]) for b in BENCHMARKS if b in by_bench]
    files["leaderboards.md"] = page(
        "leaderboards.html", **_ctx(benchmarks=benchmarks, bench_names={b: v["name"] for b, v in BENCHMARKS.items()},
                                    n_rows=len(df), n_papers=int(df["key"].nunique()), comparison=comparison))
    return files


def survey_data(cat, bibs: dict[str, str]) -> dict:
    tax = cat.taxonomy
    papers = []
    for p in sorted(cat.papers.values(), key=lambda p: (p.year, p.key)):
        papers.append({
            "key": p.key, "title": p.title, "authors": list(p.authors), "year": p.year, "venue": p.venue,
            "arxiv": p.arxiv, "doi": p.doi, "url": p.url, "code": p.code,
            "supervision": p.supervision, "input": p.input, "domains": list(p.domains),
            "architecture": list(p.architecture), "losses": list(p.losses), "evidence": dict(p.losses),
            "datasets": list(p.datasets), "summary": p.summary, "bib": bibs[p.key],
        })
    return {
        "taxonomy": {g: {tid: t.name for tid, t in tax.group(g).items()} for g in GROUP_TITLES},
        "papers": papers,
    }


def generate_files(catalog: str | Path, results: str | Path | None = None, charts: bool = True,
                   reruns: str | Path | None = None) -> dict[str, str | bytes]:
    """All generated files, keyed by their path under docs/. ``reruns``: the seeds benchmark's file of
    from-scratch calls (see :func:`load_reruns`); None shows no rerun."""
    from sins.catalog.bibtex import paper_to_bibtex

    cat = load_catalog(catalog)
    res = load_results(results) if results else {}
    attach_reruns(res, load_reruns(reruns))
    tax = cat.taxonomy
    files: dict[str, str | bytes] = {}
    bibs = {k: paper_to_bibtex(p) for k, p in cat.papers.items()}
    papers = sorted(cat.papers.values(), key=lambda p: (p.year, p.key))
    users: dict[tuple[str, str], list] = {}
    for p in papers:
        files[f"papers/{p.key}.md"] = paper_page(p, tax, res, bibs[p.key])
        for field, group in FIELD_GROUP.items():
            values = getattr(p, field)
            for tid in ([values] if isinstance(values, str) else values):
                users.setdefault((group, tid), []).append(p)
    for group in GROUP_TITLES:
        for tid, term in tax.group(group).items():
            files[f"taxonomy/{group}/{tid}.md"] = term_page(group, tid, term, users.get((group, tid), []), res)
    files["taxonomy/index.md"] = taxonomy_index(tax, {k: len(v) for k, v in users.items()})
    text, figs = experiments_page(res, load_analysis(results) if results else None, Path(results) if results else None)
    files["experiments.md"] = text
    files.update(figs)
    if charts:
        text, figs = stats_page(cat)
        files["stats.md"] = text
        files.update(figs)
    files["changes.md"], files["feed.xml"] = changes_page(cat)
    files["assets/catalog.json"] = json.dumps(survey_data(cat, bibs), ensure_ascii=False, separators=(",", ":"))
    files["survey.md"] = page("survey.html", results_mode=False)
    files.update(leaderboard_files(cat))
    tested = {t for r in res.values() for t in r["tests"]}
    used_losses = {l for p in papers for l in p.losses}
    files["_counts.json"] = json.dumps({
        "papers": len(papers), "losses": len(used_losses), "tested": len(used_losses & tested),
        "experiments": len(res), "diverges": sum(r["verdict"] == "diverges" for r in res.values()),
        "years": [papers[0].year, papers[-1].year] if papers else [],
    })
    return files


def default_reruns(results: str | Path) -> Path | None:
    """The reruns shown beside ``results``: the committed ones for the project's reference results, none for
    another results folder (its runs are not the ones the benchmark trained again)."""
    return RERUNS if Path(results).resolve() == (SITE_DIR.parent / "experiments" / "results").resolve() else None


def build_site(out: str | Path = "build/site", catalog: str | Path = "catalog", results: str | Path = "experiments/results",
               config_file: str | Path | None = None, reruns: str | Path | None = None) -> Path:
    """Build the static site with MkDocs into ``out``. ``reruns``: the from-scratch calls to show (default:
    :func:`default_reruns`)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ["SINS_CATALOG"] = str(Path(catalog).resolve())
    os.environ["SINS_RESULTS"] = str(Path(results).resolve())
    os.environ["SINS_RERUNS"] = str(Path(reruns).resolve()) if reruns else ""
    cfg = load_config(str(config_file or SITE_DIR / "mkdocs.yml"), site_dir=str(Path(out).resolve()))
    build(cfg)
    return Path(out)
