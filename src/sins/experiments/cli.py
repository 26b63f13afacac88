"""Command line of the experiments engine (mounted by the main CLI as ``sins experiments``)."""
from __future__ import annotations

import json
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
def run(config: Path = typer.Argument(..., help="trainer config (YAML)"),
        resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint.pt"),
        out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: runs/<config name>)"),
        progress: bool = typer.Option(True, help="show a progress bar")) -> None:
    """Train one config; writes metrics.csv, metrics.json and checkpoint.pt to the output folder."""
    from .train import ConfigError, NonFiniteLoss, load_config, train

    try:
        cfg = load_config(config)
    except ConfigError as e:
        _fail(str(e))
    out_dir = out or Path("runs") / cfg.name
    try:
        r = train(cfg, out_dir, resume=resume, progress=progress)
    except (ConfigError, NonFiniteLoss) as e:
        _fail(str(e))
    if r["interrupted"]:
        typer.echo(f"interrupted at step {r['step']}; saved {r['checkpoint']} (continue with --resume)", err=True)
        raise typer.Exit(130)
    typer.echo(json.dumps({"step": r["step"], **r["final"]}, indent=1))


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
