"""Command line of the experiments engine (mounted by the main CLI as ``sins experiments``)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Run the executable experiments: list specs, train a config, analyse the loss manifold.",
                  no_args_is_help=True)


def _fail(msg: str, code: int = 1) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


@app.command("list")
def list_(folder: Path = typer.Option(Path("experiments"), help="folder of experiment specs (*.yaml)")) -> None:
    """List the experiment specs and the taxonomy ids they test."""
    from .specs import load_specs

    if not folder.is_dir() or not any(folder.glob("*.yaml")):
        typer.echo(f"no experiment specs found in {folder}/ (expected {folder}/*.yaml)")
        return
    specs, problems = load_specs(folder)
    for name in sorted(specs):
        s = specs[name]
        typer.echo(f"{name}\ttests: {', '.join(s.tests)}\tarchitecture: {', '.join(s.architecture)}")
    for p in problems:
        typer.echo(f"warning: {p}", err=True)
    if problems and not specs:
        raise typer.Exit(1)


@app.command()
def train(config: Path = typer.Argument(..., help="trainer config (YAML)"),
          resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint.pt"),
          out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: runs/<config name>)"),
          progress: bool = typer.Option(True, help="show a progress bar")) -> None:
    """Train one config; writes metrics.csv, metrics.json and checkpoint.pt to the output folder."""
    from .train import ConfigError, NonFiniteLoss, load_config
    from .train import train as train_fn

    try:
        cfg = load_config(config)
    except ConfigError as e:
        _fail(str(e))
    out_dir = out or Path("runs") / cfg.name
    try:
        r = train_fn(cfg, out_dir, resume=resume, progress=progress)
    except (ConfigError, NonFiniteLoss) as e:
        _fail(str(e))
    if r["interrupted"]:
        typer.echo(f"interrupted at step {r['step']}; saved {r['checkpoint']} (continue with --resume)", err=True)
        raise typer.Exit(130)
    typer.echo(json.dumps({"step": r["step"], **r["final"]}, indent=1))


def _load_checked_specs(folder: Path, catalog: Path):
    from sins.catalog.store import load_taxonomy

    from .specs import check_links, load_specs

    if not folder.is_dir() or not any(folder.glob("*.yaml")):
        _fail(f"no experiment specs found in {folder}/ (expected {folder}/*.yaml)")
    specs, problems = load_specs(folder)
    tax, tprobs = load_taxonomy(catalog / "taxonomy.yaml")
    problems += tprobs
    if tax is not None:
        problems += check_links(specs, tax, str(folder))
    if problems:
        for p in problems:
            typer.echo(str(p), err=True)
        _fail(f"{len(problems)} problem(s) in the experiment specs; fix them first")
    return specs


@app.command()
def run(names: Optional[list[str]] = typer.Argument(None, help="experiments to run (default: all)"),
        profile: str = typer.Option("quick", help="quick (CI smoke test, minutes) | standard (reference results, hours on a "
                                              "CPU, resumable) | full (GPU or torchrun, real datasets with --data-root)"),
        data_root: Optional[Path] = typer.Option(None, "--data-root", help="folder holding real datasets (full profile): "
                                                 "kitti2015/, kitti_raw/, scared/ as named by each spec's real_data"),
        seeds: Optional[str] = typer.Option(None, help="comma-separated seeds (default: each spec's, at least three)"),
        folder: Path = typer.Option(Path("experiments"), help="folder of experiment specs"),
        results: Optional[Path] = typer.Option(None, help="where results folders are written (default: experiments/results "
                                               "for the standard profile, the reference results; build/results/<profile> "
                                               "for the others)"),
        scratch: Path = typer.Option(Path("build/runs"), help="where checkpoints go (not results), per profile"),
        catalog: Path = typer.Option(Path("catalog"), help="catalog folder (for the taxonomy links)"),
        jobs: int = typer.Option(min(2, os.cpu_count() or 1), "--jobs", "-j", min=1,
                                 help="runs trained side by side in worker processes (the CPU threads are shared)"),
        scene_cache: Optional[Path] = typer.Option(Path("build/scenes"), help="folder keeping rendered procedural scenes "
                                                   "between runs; --no-scene-cache renders every time"),
        no_scene_cache: bool = typer.Option(False, "--no-scene-cache", help="render the procedural scenes in every run"),
        reference: Path = typer.Option(Path("experiments/results"), help="committed reference results printed beside "
                                       "a non-standard profile's verdicts"),
        analyse: bool = typer.Option(True, "--analyse/--no-analyse", help="run the cross-experiment analysis afterwards")) -> None:
    """Run experiment specs (every seed and variant), write their results folders and analyse them.

    The standard profile writes the committed reference results (experiments/results); quick and full write
    under build/results/ and print their verdicts beside the reference ones.
    """
    import time

    from .runner import RunFailed, SpecError, run_specs

    specs = _load_checked_specs(folder, catalog)
    chosen = list(names or sorted(specs))
    unknown = [n for n in chosen if n not in specs]
    if unknown:
        from sins.catalog.errors import unknown_id_message

        _fail("; ".join(unknown_id_message("experiment", n, specs) for n in unknown), 2)
    missing = [n for n in chosen if profile not in specs[n].profiles]
    if missing:
        _fail(f"profile {profile!r} is not defined by: {', '.join(missing)}", 2)
    if data_root is not None and not data_root.is_dir():
        _fail(f"--data-root {data_root} is not a folder", 2)
    seed_list = _parse_seeds(seeds)
    if results is None:
        results = Path("experiments/results") if profile == "standard" else Path("build/results") / profile
    t0 = t = time.perf_counter()
    # one pool of workers trains the runs of every chosen experiment; each is written (and printed) when its
    # last run is done
    finished = run_specs([specs[n] for n in chosen], profile, results=results, scratch=scratch, data_root=data_root,
                         seeds=seed_list, log=lambda m: typer.echo(m, err=True), folder=folder, jobs=jobs,
                         scene_cache=None if no_scene_cache else scene_cache)
    try:
        for n, s in finished:
            ref = _reference_verdict(reference, n) if profile != "standard" else ""
            typer.echo(f"{n}: {s['verdict']} ({time.perf_counter() - t:.1f} s){ref}")
            t = time.perf_counter()
    except SpecError as e:
        _fail(str(e), 2)
    except RunFailed as e:
        _fail(str(e))
    if analyse:
        from .analysis import analyse_all

        a = analyse_all(results)
        for k, c in a["claims"].items():
            typer.echo(f"claim {k}: {c['status']}")
    typer.echo(f"profile {profile}: {len(chosen)} experiment(s) in {time.perf_counter() - t0:.1f} s")


def _parse_seeds(seeds: str | None) -> list[int] | None:
    """``--seeds 0,1,2`` as a list (None when not given); anything else exits naming the option."""
    if not seeds:
        return None
    try:
        return [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        _fail(f"--seeds must be comma-separated integers, not {seeds!r}", 2)


def _reference_verdict(reference: Path, name: str) -> str:
    """``" | committed standard: <verdict>"`` for a printed quick or full verdict, or what is missing."""
    f = reference / name / "summary.json"
    if not f.is_file():
        return f" | no committed result in {reference}"
    ref = json.loads(f.read_text())
    return f" | committed {ref.get('profile', '?')}: {ref.get('verdict', '?')}"


@app.command()
def probe(loss: list[str] = typer.Option([], "--loss", "-l", help="taxonomy loss id (repeat), e.g. --loss ssim --loss l1"),
          architecture: list[str] = typer.Option([], "--architecture", "-a", help="taxonomy architecture id "
                                                 "(unet-cnn, correlation-2d, cost-volume-3d, pixel-field, pose-cnn)"),
          domain: str = typer.Option("driving", "--domain", help="driving | indoor | medical"),
          profile: str = typer.Option("quick", help="quick (minutes) | standard (the reference scale, longer)"),
          seeds: Optional[str] = typer.Option(None, help="comma-separated seeds (default: the template's, at least three)"),
          steps: Optional[int] = typer.Option(None, min=1, help="training steps instead of the profile's (a quicker look; "
                                              "the verdict then speaks for that schedule only)"),
          out: Path = typer.Option(Path("build/probe"), help="where the probe's results folder and spec are written"),
          folder: Path = typer.Option(Path("experiments"), help="folder of the committed specs the probe takes its "
                                      "data and schedule from"),
          catalog: Path = typer.Option(Path("catalog"), help="catalog folder (to tell unknown ids from unimplemented ones)"),
          fmt: str = typer.Option("table", "--format", help="table | json"),
          list_ids: bool = typer.Option(False, "--list", help="print the runnable ids and exit")) -> None:
    """Build an experiment from taxonomy ids, run it, and print its verdict with the numbers behind it."""
    from .probe import ARCHITECTURES, DOMAINS, TERMS, ProbeError, build_spec, spec_yaml

    if list_ids:
        for t in sorted(TERMS):
            typer.echo(f"{t}\t{TERMS[t].task or 'stereo or video'}\t{TERMS[t].note}".rstrip())
        typer.echo(f"architectures: {', '.join(ARCHITECTURES)}; domains: {', '.join(DOMAINS)}")
        return
    if fmt not in ("table", "json"):
        _fail(f"--format must be 'table' or 'json', not {fmt!r}", 2)
    seed_list = _parse_seeds(seeds)
    from sins.catalog.store import load_taxonomy

    tax, _probs = load_taxonomy(catalog / "taxonomy.yaml")
    try:
        spec = build_spec(loss, architecture, domain, folder=folder, seeds=seed_list, taxonomy=tax)
    except (ProbeError, ValueError) as e:
        _fail(str(e), 2)
    if profile not in spec.profiles:
        _fail(f"profile {profile!r} is not defined for this architecture (it has: {', '.join(spec.profiles)})", 2)
    if steps is not None:
        prof = spec.profiles[profile]
        prof["steps"] = steps
        prof["eval_every"] = max(1, min(int(prof.get("eval_every", 10)), steps // 10 or 1))
        prof["checkpoint_every"] = steps
    from .runner import RunFailed, SpecError, run_spec

    out.mkdir(parents=True, exist_ok=True)
    (out / f"{spec.name}.yaml").write_text(spec_yaml(spec))
    try:
        s = run_spec(spec, profile, results=out, scratch=out / "runs", log=lambda m: typer.echo(m, err=True),
                     folder=out)
    except SpecError as e:
        _fail(str(e), 2)
    except RunFailed as e:  # names the experiment, configuration and seed
        _fail(str(e))
    from .runner import _finite

    if fmt == "json":
        typer.echo(json.dumps(_finite({k: s[k] for k in ("name", "tests", "architecture", "domain", "profile", "seeds",
                                                         "verdict", "reason", "numbers", "per_cause", "oracle_gap",
                                                         "failed_runs")}), indent=1))
        return
    n = s["numbers"]
    typer.echo(f"{spec.title} ({profile} profile, seeds {', '.join(map(str, s['seeds']))})")
    typer.echo(f"verdict: {s['verdict']}" + (f" ({s['reason']})" if s.get("reason") else ""))
    for key, label in (("mean_excess", "excess cost of trusting the loss (mean)"), ("excess_low", "95% interval, low"),
                       ("excess_high", "95% interval, high"), ("tolerance", "tolerance"), ("p_value", "p (one-sided)"),
                       ("mean_best_error", "best error (mean)"), ("mean_baseline_error", "constant prediction's error")):
        if isinstance(n.get(key), (int, float)):
            typer.echo(f"  {label}: {n[key]:.4g}")
    if isinstance(n.get("oracle_gap_mean"), (int, float)):
        typer.echo(f"  oracle gap (held-out L_syn at the truth minus at the prediction, mean): {n['oracle_gap_mean']:.4g} "
                   f"(95% {n['oracle_gap_low']:.4g} to {n['oracle_gap_high']:.4g})")
    for cause, v in sorted((s.get("per_cause") or {}).items()):
        typer.echo(f"  {cause}: {v.get('verdict', v) if isinstance(v, dict) else v}")
    if s["failed_runs"]:
        typer.echo(f"  failed runs: {len(s['failed_runs'])} ({'; '.join(f['reason'] for f in s['failed_runs'])})")
    typer.echo(f"results: {out / spec.name}/ (spec: {out / spec.name}.yaml)")


@app.command()
def analyse(results: Path = typer.Option(Path("experiments/results"), help="results folder"),
            sweep: bool = typer.Option(True, "--sweep/--no-sweep", help="recompute the aleatoric sweep (else reuse the last)"),
            fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """Verdict matrix, loss-weight ranking, aleatoric sweep and the five claims, from the results on disk."""
    if fmt not in ("table", "json"):
        _fail(f"--format must be 'table' or 'json', not {fmt!r}", 2)
    if not results.is_dir():
        _fail(f"no results folder {results}/ (run `sins experiments run` first)")
    from .analysis import analyse_all
    from .runner import _finite

    a = analyse_all(results, sweep=sweep)
    if fmt == "json":
        typer.echo(json.dumps(_finite(a), indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    con = Console()
    from .analysis import MATRIX_CAUSES as ALL_CAUSES

    t = Table(title="Verdict matrix (global and per cause)")
    for c in ("configuration", "global", *ALL_CAUSES):
        t.add_column(c)
    for r in a["matrix"]:
        t.add_row(r["configuration"], r["global"], *[r.get(c, "") for c in ALL_CAUSES])
    con.print(t)
    for item in a["ranking"]:
        con.print(f"{item['experiment']}: order by final L_syn {item['order_by_lsyn']} vs by error {item['order_by_error']} "
                  f"(same order: {item['same_order']}, Spearman {item['spearman']:.2f})")
    t = Table(title="Claims of Li et al.")
    t.add_column("#")
    t.add_column("claim")
    t.add_column("here")
    t.add_column("why")
    for k, c in a["claims"].items():
        t.add_row(k, c["claim"], c["status"], c["summary"])
    # statuses also go to standard output in plain text, for scripts
    con.print(t)


@app.command()
def manifold(pair: str = typer.Option("motorcycle", help="stereo pair to analyse"),
             scale: float = typer.Option(0.25, help="image scale"),
             hypotheses: int = typer.Option(64, help="number of integer disparity hypotheses (0..N-1 at the given scale)"),
             fmt: str = typer.Option("table", "--format", help="table | json"),
             compile: bool = typer.Option(True, "--compile/--no-compile", help="torch.compile the cost kernels")) -> None:
    """Where the photometric loss minimum lies off the truth, overall and per cause."""
    if fmt not in ("table", "json"):
        _fail(f"--format must be 'table' or 'json', not {fmt!r}", 2)
    if pair != "motorcycle":
        _fail(f"unknown pair {pair!r} (known: motorcycle)", 2)
    import torch

    from .data.motorcycle import motorcycle
    from .manifold import analyse

    try:
        sample = motorcycle(scale=scale)
    except Exception as e:  # data missing or unreadable
        _fail(f"could not load the {pair} pair: {e}")
    from .train import proxy_disparity

    # the oracle gap is measured against the winner-take-all disparity of the same photometric cost
    wta = proxy_disparity(sample.left[None], sample.right[None], hypotheses - 1, compile)
    res = analyse(sample, pred_disparity=wta, hypotheses=torch.arange(hypotheses, dtype=torch.float32), compile=compile)
    if fmt == "json":
        typer.echo(json.dumps(res, indent=1, default=float))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{pair} (scale {scale}, {hypotheses} hypotheses)")
    t.add_column("region")
    t.add_column("share of valid px", justify="right")
    t.add_column("misleading", justify="right")
    t.add_row("all", "1.000", f"{res['misleading']:.3f}")
    for name, v in sorted(res.get("per_cause", {}).items()):
        t.add_row(name, f"{v['share']:.3f}", f"{v['misleading']:.3f}")
    Console().print(t)
    for k in ("loss_at_gt", "loss_at_pred", "oracle_gap"):
        if k in res:
            typer.echo(f"{k}: {res[k]:.4f}")
