"""`sins site`: build or preview the website."""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="Build or preview the website (MkDocs + Material).", no_args_is_help=True)


@app.command()
def build(out: Path = typer.Option(Path("build/site"), "--out", "-o", help="Output folder."),
          catalog: Path = typer.Option(Path("catalog"), "--catalog", "-c", help="Catalog folder."),
          results: Path = typer.Option(Path("experiments/results"), "--results", help="Experiment results folder."),
          reruns: Path = typer.Option(None, "--reruns", help="The seeds benchmark's file of from-scratch calls to show "
                                      "beside the results (default: benchmarks/results/seeds.json for the reference "
                                      "results, none for another results folder).")) -> None:
    """Build the static site into OUT."""
    import time

    from .generate import build_site

    t = time.perf_counter()
    build_site(out, catalog, results, reruns=reruns)
    typer.echo(f"built {out} in {time.perf_counter() - t:.1f} s")


@app.command()
def serve(catalog: Path = typer.Option(Path("catalog"), "--catalog", "-c", help="Catalog folder."),
          results: Path = typer.Option(Path("experiments/results"), "--results", help="Experiment results folder."),
          addr: str = typer.Option("127.0.0.1:8000", "--addr", help="Address to serve on.")) -> None:
    """Live preview (mkdocs serve): rebuilds when the catalog or the site changes."""
    from mkdocs.commands.serve import serve as mk_serve

    from .generate import SITE_DIR

    os.environ["SINS_CATALOG"] = str(catalog.resolve())
    os.environ["SINS_RESULTS"] = str(results.resolve())
    mk_serve(str(SITE_DIR / "mkdocs.yml"), dev_addr=addr, watch=[str(catalog.resolve())])
