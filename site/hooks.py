"""MkDocs hooks: pages and data generated from the catalog at build time (see sins.site.generate).

Works for `mkdocs build`, `mkdocs serve` and `sins site build` alike. The catalog and results
folders come from SINS_CATALOG / SINS_RESULTS, by default catalog/ and experiments/results/
next to this site/ folder; SINS_RERUNS names the seeds benchmark's file of from-scratch calls shown beside
the results (by default the committed one, for the reference results only).
"""

import json
import os
from pathlib import Path

from mkdocs.structure.files import File

from sins.site.generate import default_reruns, generate_files

_ROOT = Path(__file__).resolve().parent.parent
_state = {}


def on_config(config):
    _state["catalog"] = Path(os.environ.get("SINS_CATALOG") or _ROOT / "catalog")
    _state["results"] = Path(os.environ.get("SINS_RESULTS") or _ROOT / "experiments" / "results")
    _state["reruns"] = os.environ.get("SINS_RERUNS") or default_reruns(_state["results"])
    readme = _state["catalog"] / "README.md"
    _state["readme"] = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    return config


def on_files(files, config):
    generated = generate_files(_state["catalog"], _state["results"], reruns=_state["reruns"])
    _state["counts"] = json.loads(generated.pop("_counts.json"))
    for uri, content in generated.items():
        if files.get_file_from_path(uri) is not None:
            files.remove(files.get_file_from_path(uri))
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    if "<!-- sins:" not in markdown:
        return markdown
    c = _state.get("counts", {})
    years = c.get("years") or ["?", "?"]
    counts = (
        f'<ul class="sins-counts"><li><strong>{c.get("papers", 0)}</strong> papers ({years[0]}–{years[-1]})</li>'
        f'<li><strong>{c.get("losses", 0)}</strong> loss terms in use, <strong>{c.get("tested", 0)}</strong> of them tested by an experiment</li>'
        f'<li><strong>{c.get("experiments", 0)}</strong> experiments published, <strong>{c.get("diverges", 0)}</strong> of them show a divergence</li></ul>'
    )
    readme = _state.get("readme") or "*The catalog's README (inclusion rule, annotation guide) is not written yet.*"
    markdown = markdown.replace("<!-- sins:counts -->", counts).replace("<!-- sins:catalog-readme -->", readme)
    if "<!-- sins:pose-learning -->" in markdown:
        from sins.site.generate import pose_learning_table

        markdown = markdown.replace("<!-- sins:pose-learning -->", pose_learning_table(_state["results"]))
    if "<!-- sins:convergence -->" in markdown:
        from sins.site.generate import convergence_table

        markdown = markdown.replace("<!-- sins:convergence -->", convergence_table(_state["results"]))
    if "<!-- sins:verdict-rules -->" in markdown:
        markdown = markdown.replace("<!-- sins:verdict-rules -->", _verdict_rules())
    if "<!-- sins:cause-existence -->" in markdown:
        markdown = markdown.replace("<!-- sins:cause-existence -->", _cause_existence(_state["results"]))
    return markdown


def _cause_existence(results: Path) -> str:
    """Where each cause exists at the scale of the standard profile, from the committed analysis (measured)."""
    from sins.site.generate import cause_existence_table

    return cause_existence_table(results)


def _verdict_rules():
    """The verdict and claim rules, taken from the code that applies them (so the page cannot drift)."""
    from sins.experiments import analysis, verdict

    per_run = verdict.__doc__.split("\n\n", 1)[1]
    claims = analysis.__doc__.split("\n\n", 1)[1]
    return ("## How a verdict is decided\n\n" + per_run + "\n\n## How the five claims are decided\n\n" + claims + "\n")
