"""Generate the site's pages and data from the catalog and the experiment results.

Everything here returns ``{path inside docs/: str | bytes}``; the MkDocs hooks
(``site/hooks.py``) turn that into generated ``File`` objects, so ``mkdocs
serve``, ``mkdocs build`` and ``sins site build`` all go through MkDocs itself.
"""

from __future__ import annotations

import html
import io
import json
import os
from pathlib import Path
from typing import Any

from sins.catalog import load_catalog

#: site/ (the MkDocs project) inside the repository
SITE_DIR = Path(__file__).resolve().parents[3] / "site"

GROUP_TITLES = {
    "losses": "Loss terms", "supervision": "Training signal", "inputs": "Test-time input",
    "architectures": "Architectures", "domains": "Domains", "datasets": "Datasets",
}
#: paper field -> taxonomy group
FIELD_GROUP = {"losses": "losses", "supervision": "supervision", "input": "inputs", "architecture": "architectures",
               "domains": "domains", "datasets": "datasets"}
#: how each evidence level is shown
EVIDENCE_LABEL = {"code": "official code", "paper": "paper text", "abstract": "abstract only"}

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~:=^$@%")


def esc(text: Any, pre: bool = False) -> str:
    """HTML-escape and Markdown-neutralise a catalog string (every special character becomes an entity).

    Line breaks become spaces, except with ``pre=True`` (for <pre> blocks; blank lines are dropped so
    the raw HTML block never ends early)."""
    if pre:
        return "\n".join(esc(line) for line in str(text).splitlines() if line.strip())
    out = []
    for ch in str(text):
        if ch in "&<>\"'":
            out.append(html.escape(ch, quote=True).replace("&#x27;", "&#39;"))
        elif ch in _MD_SPECIAL:
            out.append(f"&#{ord(ch)};")
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def attr(text: str) -> str:
    """An escaped attribute value (for URLs we already validated in the schema)."""
    return html.escape(str(text), quote=True)


def formula_html(latex: str) -> str:
    """LaTeX -> MathML at build time (no JavaScript, no network); escaped text if it does not convert."""
    if not latex:
        return ""
    try:
        from latex2mathml.converter import convert

        return convert(latex, display="block")
    except Exception:  # noqa: BLE001 - a formula the converter cannot read still shows as text
        return f"<code>{esc(latex)}</code>"


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


def _verdicts_for(term_id: str, term, results: dict[str, dict]) -> list[dict]:
    names = list(term.experiments) if term is not None else []
    found = [results[n] for n in names if n in results]
    found += [r for r in results.values() if term_id in r["tests"] and r not in found]
    return found


def _evidence_badge(level: str) -> str:
    return f'<span class="sins-ev sins-ev-{attr(level)}" title="tag read from the {attr(EVIDENCE_LABEL.get(level, level))}">{esc(EVIDENCE_LABEL.get(level, level))}</span>'


def _verdict_badge(v: str) -> str:
    return f'<span class="sins-verdict sins-verdict-{attr(v)}">{esc(v)}</span>'


# --------------------------------------------------------------------------- pages


def _head(title: str) -> str:
    """Front matter with an HTML-escaped page title (the theme puts page.title in <title> and the nav
    unescaped) and a raw <h1>, so that the heading never passes through Markdown or the toc."""
    return f"---\ntitle: {json.dumps(html.escape(title, quote=True))}\n---\n\n<h1>{esc(title)}</h1>\n"


def _term_link(group: str, tid: str, tax, prefix: str) -> str:
    term = tax.group(group).get(tid)
    name = term.name if term else tid
    return f'<a href="{prefix}taxonomy/{attr(group)}/{attr(tid)}/">{esc(name)}</a> (<code>{esc(tid)}</code>)'


def paper_page(p, tax, results: dict[str, dict], bib: str) -> str:
    pre = "../../"
    lines = [_head(p.title)]
    lines.append(f"<p class=\"sins-authors\">{esc(', '.join(p.authors))}</p>")
    lines.append(f"<p><strong>{esc(p.venue)}</strong>, {p.year}</p>")
    lines.append("")
    lines.append(f"<p class=\"sins-summary\">{esc(p.summary)}</p>")
    lines.append("")
    links = []
    if p.arxiv:
        links.append(f'<a href="https://arxiv.org/abs/{attr(p.arxiv)}">arXiv {esc(p.arxiv)}</a>')
    if p.doi:
        links.append(f'<a href="https://doi.org/{attr(p.doi)}">DOI {esc(p.doi)}</a>')
    if p.url:
        links.append(f'<a href="{attr(p.url)}">Web page</a>')
    if p.code:
        links.append(f'<a href="{attr(p.code)}">Code</a>')
    lines.append("<p class=\"sins-links\">" + " · ".join(links) + "</p>")
    lines += ["", "## Categories", "", "<table><thead><tr><th>Facet</th><th>Category</th><th>Evidence</th>"
              "<th>Experiment verdict</th></tr></thead><tbody>"]
    for field, group in FIELD_GROUP.items():
        values = getattr(p, field)
        values = [values] if isinstance(values, str) else list(values)
        for tid in values:
            term = tax.group(group).get(tid)
            found = _verdicts_for(tid, term, results)
            if found:
                v = ", ".join(f'<a href="{pre}experiments/#{attr(r["name"])}">{esc(r["name"])}</a>: {_verdict_badge(r["verdict"])}' for r in found)
            elif group == "losses":
                v = "not yet tested"
            else:
                v = "—"
            ev = _evidence_badge(p.losses[tid]) if group == "losses" else ""
            lines.append(f"<tr><td>{esc(GROUP_TITLES[group] if group != 'losses' else 'Loss term')}</td>"
                         f"<td>{_term_link(group, tid, tax, pre)}</td><td>{ev}</td><td>{v}</td></tr>")
    lines += ["</tbody></table>", "", "## Evidence for the loss tags", ""]
    e = p.evidence
    if not p.losses:
        lines.append(f'<p class="sins-note"><strong>Loss terms not read yet.</strong> {esc(e.unread)}</p>')
    lines.append("<ul>")
    for u in e.code:
        lines.append(f'<li>Official code read: <a href="{attr(u)}">{esc(u)}</a></li>')
    for place in e.paper:
        lines.append(f"<li>Paper text read: {esc(place)}</li>")
    if e.abstract:
        lines.append(f'<li>Abstract read: <a href="{attr(e.abstract)}">{esc(e.abstract)}</a></li>')
    if e.notes:
        lines.append(f"<li>Notes: {esc(e.notes)}</li>")
    lines += ["</ul>", "", "## Provenance", ""]
    prov = p.provenance
    lines.append("<ul>")
    if prov.checked:
        lines.append(f"<li>Checked: {esc(prov.checked.isoformat())}</li>")
    for s in prov.sources:
        lines.append(f'<li>Source: <a href="{attr(s)}">{esc(s)}</a></li>')
    if prov.notes:
        lines.append(f"<li>Notes: {esc(prov.notes)}</li>")
    lines += ["</ul>", "", "## BibTeX", ""]
    lines.append(f'<div class="sins-bib"><button type="button" class="md-button sins-copy" data-copy="bib-{attr(p.key)}">Copy BibTeX</button>'
                 f'<pre><code id="bib-{attr(p.key)}">{esc(bib, pre=True)}</code></pre></div>')
    return "\n".join(lines) + "\n"


def term_page(group: str, tid: str, term, papers: list, results: dict[str, dict]) -> str:
    pre = "../../../"
    lines = [_head(term.name), f"<p><code>{esc(tid)}</code> · {esc(GROUP_TITLES[group].lower())} · family: {esc(term.family)}</p>", ""]
    lines += [f"<p>{esc(term.description)}</p>", ""]
    if term.formula:
        lines += [f'<div class="sins-formula">{formula_html(term.formula)}</div>', ""]
    lines += ["## Experiment", ""]
    found = _verdicts_for(tid, term, results)
    if found:
        lines.append("<ul>")
        for r in found:
            lines.append(f'<li><a href="{pre}experiments/#{attr(r["name"])}">{esc(r.get("title") or r["name"])}</a>: {_verdict_badge(r["verdict"])}</li>')
        lines.append("</ul>")
        for r in found:
            if "curves.png" in r["figures"]:
                lines.append(f'<figure><img src="{pre}experiments/{attr(r["name"])}/curves.png" alt="held-out synthesis loss and '
                             f'depth error over training steps, {attr(r["name"])}"><figcaption>{esc(r.get("title") or r["name"])}: '
                             f'held-out synthesis loss and depth error over steps, one line per seed.</figcaption></figure>')
    elif term.experiments:
        lines.append("<p>Linked experiment(s): " + ", ".join(f"<code>{esc(e)}</code>" for e in term.experiments) + ". <strong>Not yet tested</strong>: no result has been published yet.</p>")
    else:
        why = f" {esc(term.untested_because)}" if term.untested_because else ""
        lines.append(f"<p><strong>Not yet tested</strong>: no experiment tests this category yet.{why}</p>")
    lines += ["", f"## Papers ({len(papers)})", ""]
    if papers:
        if group == "losses":
            from collections import Counter

            n = Counter(p.losses[tid] for p in papers)
            lines.append("<p>Evidence behind the tag: " + ", ".join(f"{n[lv]} {esc(EVIDENCE_LABEL[lv])}" for lv in EVIDENCE_LABEL)
                         + f'. <a href="{pre}survey/?loss={attr(tid)}">These papers in the survey table</a>.</p>')
        lines.append("<ul>")
        for p in papers:
            ev = f" · {_evidence_badge(p.losses[tid])}" if group == "losses" else ""
            lines.append(f'<li><a href="{pre}papers/{attr(p.key)}/">{esc(p.title)}</a> — {esc(p.venue)}, {p.year}{ev}</li>')
        lines.append("</ul>")
    else:
        lines.append("<p>No paper in the catalog uses it.</p>")
    return "\n".join(lines) + "\n"


def taxonomy_index(tax, counts: dict[tuple[str, str], int]) -> str:
    lines = ["# Taxonomy", "", "Every category the catalog uses, defined once, with the papers that use it and the experiment that tests it.", ""]
    for group, title in GROUP_TITLES.items():
        lines += [f"## {title}", "", "<ul>"]
        for tid, term in tax.group(group).items():
            lines.append(f'<li><a href="{attr(group)}/{attr(tid)}/">{esc(term.name)}</a> (<code>{esc(tid)}</code>): {counts.get((group, tid), 0)} papers</li>')
        lines += ["</ul>", ""]
    return "\n".join(lines)


STATUS_CLASS = {"confirmed": "confirmed", "not confirmed": "not-confirmed", "inconclusive": "inconclusive"}

#: human labels for the numbers of a verdict
LABELS = {
    "seeds": "seeds run", "successful_seeds": "seeds that trained", "mean_excess": "excess cost of trusting the loss (mean)",
    "excess_low": "95% interval, low", "excess_high": "95% interval, high", "tolerance": "tolerance (5% of the gain over a constant)",
    "mean_cost": "cost of trusting the loss (mean)", "mean_share_lost": "share of the gain given back",
    "mean_noise_sd": "evaluation noise (sd)", "mean_best_error": "best error (mean)", "mean_final_error": "final error (mean)",
    "mean_error_at_min_loss": "error at the lowest L_syn (mean)", "mean_baseline_error": "constant prediction's error",
    "mean_final_loss": "final held-out L_syn (mean)", "overfitting_seeds": "seeds that overfit",
    "oracle_gap_mean": "oracle gap (mean)", "oracle_gap_low": "oracle gap, 95% low", "oracle_gap_high": "oracle gap, 95% high",
    "oracle_gap_positive_seeds": "seeds where the prediction beats the truth", "error_metric": "error metric",
    "confidence": "confidence",
}
VERDICT_HELP = {"diverges": "a lower synthesis loss came with a higher depth error, beyond the noise",
                "consistent": "picking the checkpoint by the synthesis loss cost less than the tolerance",
                "inconclusive": "the effect is within the noise", "failed": "too few runs trained to judge",
                "not judged": "the cause does not exist at this scale"}


def _status_badge(status: str) -> str:
    return f'<span class="sins-claim sins-claim-{attr(STATUS_CLASS.get(status, "inconclusive"))}">{esc(status)}</span>'


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and all(isinstance(x, (int, float)) or x is None for x in v):
        return ", ".join("—" if x is None else _fmt(x) for x in v)
    if isinstance(v, (list, dict)):
        return esc(json.dumps(v, separators=(", ", ": "), default=str))
    return esc("—" if v is None else v)


def _table(rows: list[dict], cols: list[str] | None = None, labels: dict | None = None, table_id: str = "") -> str:
    if not rows:
        return "<p>—</p>"
    cols = cols or list(dict.fromkeys(k for r in rows for k in r))
    labels = labels or {}
    head = "".join(f'<th scope="col">{esc(labels.get(c, c))}</th>' for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    tid = f' id="{attr(table_id)}"' if table_id else ""
    return f'<div class="sins-table-wrap"><table{tid}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(v) -> str:
    if isinstance(v, str) and v in VERDICT_HELP:
        return _verdict_badge(v)
    return _fmt(v)


def _numbers_html(nums) -> str:
    """A table of numbers: a list of records, or a mapping of name -> value."""
    if isinstance(nums, list) and nums and all(isinstance(x, dict) for x in nums):
        return _table(nums)
    if isinstance(nums, dict) and nums:
        rows = "".join(f"<tr><th scope=\"row\">{esc(LABELS.get(k, k))}</th><td>{_cell(v)}</td></tr>"
                       for k, v in nums.items() if not isinstance(v, (list, dict)))
        return f"<table><tbody>{rows}</tbody></table>"
    return f"<p>{_fmt(nums)}</p>"


def _figure(files: dict, root: Path, rel: str, caption: str, alt: str | None = None) -> str:
    """Copy a results figure into the site (under experiments/) and return its <figure>, or '' if missing."""
    src = (root / rel).resolve()
    if root.resolve() not in src.parents or not src.is_file():
        return ""
    site_rel = src.relative_to(root.resolve()).as_posix()
    files[f"experiments/{site_rel}"] = src.read_bytes()
    return (f'<figure><img src="{attr(site_rel)}" alt="{attr(alt or caption)}" loading="lazy">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


CLAIM_FIGURES = {
    "claim1.png": "Excess cost of trusting the loss per trained-network configuration: the depth error at the checkpoint "
                  "with the lowest held-out synthesis loss minus the error at the error's best trend, mean over seeds "
                  "with its 95% interval; right of 0 means the loss picked a worse checkpoint. Colour: the verdict.",
    "claim2.png": "Oracle gap per configuration: held-out synthesis loss at the ground truth minus at the prediction, mean "
                  "over seeds with its 95% interval; right of 0 means the loss prefers the prediction to the truth.",
    "causes.png": "Per scene, the share of a cause's pixels whose per-pixel loss minimum is more than 1 px off the truth, "
                  "minus the same share for the clean pixels of that scene; mean over scenes with its 95% interval.",
    "sweep.png": "One dial of the renderer turned at a time: share of pixels misled (solid: all pixels, dashed: clean "
                 "pixels), per domain.",
    "ranking.png": "Loss-weight variants: final held-out synthesis loss against final error; the same order on both axes "
                   "would mean the loss ranks the weights as the error does.",
    "claim5.png": "Groups trained with the same SSIM + L1 objective: oracle gap with its 95% interval; colour: whether the "
                  "group shows a divergence (vermilion), is consistent (blue) or is within the noise (grey).",
    "scenes.png": "Cause scenes at the size the verdicts use: left image and the cause masks (red: occluded, green: "
                  "specular, blue: border; second row: repetitive, depth edge, shadow).",
}
CLAIM_COLUMNS = {
    "1": ["configuration", "verdict", "mean excess cost", "interval low", "interval high", "tolerance", "seeds used",
          "diverges in causes", "failed runs"],
    "2": ["configuration", "seeds", "mean oracle gap", "interval low", "interval high", "positive seeds"],
    "3": ["cause", "named by Li et al.", "scenes", "misled (cause)", "misled (clean, same scenes)", "mean difference",
          "interval low", "interval high"],
    "4": ["regularised", "twin", "where", "twin verdict", "regularised verdict"],
    "5": ["group", "configurations", "divergence", "diverging", "oracle gap", "oracle gap low", "oracle gap high"],
}


def _verdict_legend() -> str:
    items = "".join(f"<li>{_verdict_badge(v)}: {esc(h)}</li>" for v, h in VERDICT_HELP.items())
    return f'<ul class="sins-legend">{items}</ul>'


def experiments_page(results: dict[str, dict], analysis: dict | None = None, root: Path | None = None) -> tuple[str, dict[str, bytes]]:
    lines = ["# Experiments", ""]
    files: dict[str, bytes] = {}
    if not results:
        lines.append("<p><strong>No results yet.</strong> Experiments are being written; each taxonomy page says "
                     "&quot;not yet tested&quot; until a result for it is published here.</p>")
        return "\n".join(lines) + "\n", files
    root = root or next(iter(results.values()))["_dir"].parent
    profiles = sorted({str(r.get("profile", "?")) for r in results.values()})
    seeds = sorted({len(r.get("seeds") or []) for r in results.values()})
    held = sorted({int(r.get("heldout_scenes") or 0) for r in results.values()})
    lines.append(f"<p>{len(results)} experiments, profile {esc(', '.join(profiles))}, {esc('/'.join(map(str, seeds)))} seeds "
                 f"each, {esc('/'.join(map(str, held)))} held-out scenes per evaluation. Every verdict is computed from the "
                 'measured numbers by one rule (see <a href="../method/">Method</a>); nothing is written by hand. '
                 "Re-run with <code>sins experiments run --profile " + esc(profiles[0]) + "</code>.</p>")
    if "quick" in profiles:
        lines.append('<p class="sins-note">These are the <strong>quick</strong> profile\'s results: a smoke test at 32 x 64 '
                     "pixels with few training steps, on the CPU of a continuous-integration machine. Its scenes are small, "
                     "so a cause is judged only where it covers at least 0.5% of the held-out pixels and misleads the "
                     "per-pixel loss more often than clean pixels do (the per-cause tables say which). The reference scale is "
                     "the standard profile (96 x 192, five seeds, <code>sins experiments run --profile standard</code>, "
                     "hours on a CPU); cite its results once they are published here.</p>")
    lines.append(_verdict_legend())
    failed = [(r["name"], f) for r in results.values() for f in (r.get("failed_runs") or [])]
    if analysis and isinstance(analysis.get("claims"), dict):
        lines += ['<h2 id="claims">The five claims of Li et al., measured here</h2>', ""]
        lines.append('<table id="claims-table"><thead><tr><th scope="col">#</th><th scope="col">Claim</th>'
                     '<th scope="col">Here</th><th scope="col">In short</th></tr></thead><tbody>')
        for k, c in sorted(analysis["claims"].items()):
            lines.append(f'<tr><td><a href="#claim-{attr(k)}">{esc(k)}</a></td><td>{esc(c.get("claim", ""))}</td>'
                         f'<td>{_status_badge(str(c.get("status")))}</td><td>{esc(c.get("answer") or c.get("summary", ""))}</td></tr>')
        lines += ["</tbody></table>", ""]
        for k, c in sorted(analysis["claims"].items()):
            lines += [f'## Claim {k}: {esc(c.get("claim", ""))} {{#claim-{k}}}', ""]
            lines.append(f"<p>{_status_badge(str(c.get('status')))} <strong>{esc(c.get('answer') or '')}</strong></p>")
            lines.append(f"<p>{esc(c.get('summary', ''))}</p>")
            nums = c.get("numbers")
            if isinstance(nums, list) and nums:
                lines.append(_table(nums, [col for col in CLAIM_COLUMNS.get(k, []) if any(col in n for n in nums)] or None))
            for fig in c.get("figures") or []:
                lines.append(_figure(files, root, f"{ANALYSIS}/{fig}", CLAIM_FIGURES.get(fig, fig)))
            if k == "3":
                lines.append(_figure(files, root, f"{ANALYSIS}/scenes.png", CLAIM_FIGURES["scenes.png"]))
            lines.append("")
        if analysis.get("rules"):
            lines.append(f'<details><summary>How the claims are decided</summary><pre><code>{esc(analysis["rules"], pre=True)}</code></pre></details>')
            lines.append("")
    lines += ["## Failed runs {#failed}", ""]
    if failed:
        lines.append("<p>Runs that did not train (held-out synthesis loss never below its start, or an error never below a "
                     "constant prediction's). They are shown here and left out of every verdict.</p>")
        lines.append(_table([{"experiment": n, "configuration": f["variant"], "seed": f["seed"], "why": f["reason"]} for n, f in failed],
                            table_id="failed-table"))
    else:
        lines.append("<p>None: every run trained.</p>")
    lines.append("")
    if analysis and analysis.get("matrix"):
        lines += ["## Verdict matrix {#matrix}", "",
                  "<p>Each configuration's verdict, globally and inside each cause mask (the checkpoint is always picked by "
                  "the global held-out synthesis loss, as a user would).</p>"]
        causes = ["occluded", "border", "textureless", "specular", "repetitive", "depth_edge", "shadow"]
        rows = [{"configuration": m.get("configuration") or m.get("experiment"), "global": m.get("global") or m.get("verdict"), **{c: m.get(c, "not judged") for c in causes}}
                for m in analysis["matrix"]]
        lines.append(_table(rows, ["configuration", "global", *causes], table_id="matrix-table"))
        lines.append("")
    lines += ["## Each experiment {#details}", ""]
    for r in results.values():
        lines += [f'### {esc(r.get("title") or r["name"])} {{#{r["name"]}}}', ""]
        if r.get("question"):
            lines.append(f"<p><em>{esc(r['question'])}</em></p>")
        lines.append(f"<p>Verdict: {_verdict_badge(r['verdict'])}" + (f" — {esc(r['reason'])}" if r.get("reason") else "") + "</p>")
        if r.get("cites"):
            lines.append("<p>Terms as defined by: " + ", ".join(f'<a href="../papers/{attr(k)}/">{esc(k)}</a>' for k in r["cites"]) + "</p>")
        if r.get("command"):
            lines.append(f"<p>Reproduce with <code>{esc(r['command'])}</code></p>")
        if r["numbers"]:
            lines.append('<details><summary>Numbers behind the verdict</summary>' + _numbers_html(r["numbers"]) + "</details>")
        pc = r.get("per_cause") or {}
        if pc:
            lines.append("<p>Per cause:</p>")
            lines.append(_table([{"cause": c, "verdict": v.get("verdict"), "share of pixels": v.get("share"),
                                  "misled (cause)": v.get("misleading"), "misled (clean)": v.get("clean_misleading"),
                                  "why judged or not": v.get("why")} for c, v in pc.items()]))
        if isinstance(r.get("variants"), dict) and r["variants"]:
            vs = [{"variant": k, "verdict": v.get("verdict"), "overrides": v.get("overrides"),
                   "final error": (v.get("numbers") or {}).get("mean_final_error"),
                   "final L_syn": (v.get("numbers") or {}).get("mean_final_loss"),
                   "diverging causes": ", ".join(c for c, x in (v.get("per_cause") or {}).items() if x.get("verdict") == "diverges") or "—"}
                  for k, v in r["variants"].items()]
            lines.append("<p>Variants (same data and seeds, other loss weights):</p>" + _table(vs))
        caps = {"curves.png": f"{r.get('title') or r['name']}: held-out synthesis loss (as trained) and depth error over "
                              "training steps, one colour per seed, one row per configuration; the dot marks the checkpoint "
                              "with the lowest synthesis loss; dashed: failed runs.",
                "landscape.png": "Share of held-out pixels whose per-pixel loss minimum is off the truth, by cause "
                                 "(grey: clean pixels), or the oracle gap per seed for video."}
        for fig in r["figures"]:
            lines.append(_figure(files, root, f"{r['name']}/{fig}", caps.get(fig, fig)))
        lines.append("")
    return "\n".join(lines) + "\n", files


def stats_page(cat) -> tuple[str, dict[str, bytes]]:
    from sins.catalog.stats import compute_stats
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = compute_stats(cat)
    files: dict[str, bytes] = {}

    def save(fig, name):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        files[f"stats/{name}"] = buf.getvalue()

    by_year = s.get("by_year", {})
    years = sorted(by_year, key=int)
    settings = list(dict.fromkeys(k for v in by_year.values() for k in v))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = [0] * len(years)
    for st in settings:
        vals = [by_year[y].get(st, 0) for y in years]
        if any(vals):
            ax.bar([str(y) for y in years], vals, bottom=bottom, label=st)
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("papers"); ax.legend(fontsize=7); ax.set_title("Papers per year by training signal")
    save(fig, "by_year.png")

    losses = s.get("losses", {})
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.25 * len(losses))))
    names = list(losses)[::-1]
    ax.barh(names, [losses[n] for n in names]); ax.set_xlabel("papers"); ax.set_title("Loss-term frequency")
    save(fig, "losses.png")

    co = s.get("cooccurrence", {})
    ids = list(co)
    if ids:
        import numpy as np

        m = np.array([[co[a].get(b, 0) for b in ids] for a in ids])
        fig, ax = plt.subplots(figsize=(0.35 * len(ids) + 2, 0.35 * len(ids) + 1.5))
        im = ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(len(ids)), ids, rotation=90, fontsize=7); ax.set_yticks(range(len(ids)), ids, fontsize=7)
        fig.colorbar(im, ax=ax, shrink=0.7); ax.set_title("Loss co-occurrence (papers using both)")
        save(fig, "cooccurrence.png")

    lines = ["# Statistics", "", f"<p>{s.get('total', len(cat.papers))} papers. The same counts come from <code>sins catalog stats</code>.</p>", ""]
    ev = s.get("evidence", {})
    lines += ["## Evidence behind the loss tags", "",
              f"<p>{sum(ev.values())} loss tags: {ev.get('code', 0)} read from the official code, {ev.get('paper', 0)} from the "
              f"paper's text, {ev.get('abstract', 0)} from the abstract only.</p>", ""]
    lines += ["## Papers per year by training signal", "", '<img src="by_year.png" alt="Stacked bar chart of papers per year, split by training signal">', ""]
    lines.append("<table><thead><tr><th>Year</th>" + "".join(f"<th>{esc(x)}</th>" for x in settings) + "</tr></thead><tbody>")
    for y in years:
        lines.append(f"<tr><td>{esc(y)}</td>" + "".join(f"<td>{by_year[y].get(x, 0)}</td>" for x in settings) + "</tr>")
    lines += ["</tbody></table>", "", "## Loss-term frequency", "", '<img src="losses.png" alt="Bar chart of how many papers use each loss term">', "", "<ul>"]
    for k, n in losses.items():
        lines.append(f'<li><a href="../taxonomy/losses/{attr(k)}/">{esc(k)}</a>: {n}</li>')
    lines += ["</ul>", "", "## Loss co-occurrence", ""]
    if ids:
        lines += ['<img src="cooccurrence.png" alt="Matrix of how many papers use each pair of loss terms">', ""]
    combos = s.get("combinations", [])
    if combos:
        lines += ["### Most frequent loss combinations", "", "<ul>"]
        for c in combos:
            try:
                terms, n = c
            except (TypeError, ValueError):
                continue
            lines.append(f"<li>{esc(' + '.join(terms))}: {n}</li>")
        lines.append("</ul>")
    return "\n".join(lines) + "\n", files


def survey_data(cat, bibs: dict[str, str]) -> dict:
    tax = cat.taxonomy
    papers = []
    for p in sorted(cat.papers.values(), key=lambda p: (p.year, p.key)):
        papers.append({
            "key": p.key, "title": p.title, "authors": list(p.authors), "year": p.year, "venue": p.venue,
            "code": p.code, "supervision": p.supervision, "input": p.input, "domains": list(p.domains),
            "architecture": list(p.architecture), "losses": list(p.losses), "evidence": dict(p.losses),
            "datasets": list(p.datasets), "summary": p.summary, "bib": bibs[p.key],
        })
    return {
        "taxonomy": {g: {tid: t.name for tid, t in tax.group(g).items()} for g in GROUP_TITLES},
        "papers": papers,
    }


def generate_files(catalog: str | Path, results: str | Path | None = None, charts: bool = True) -> dict[str, str | bytes]:
    """All generated files, keyed by their path under docs/."""
    from sins.catalog.bibtex import paper_to_bibtex

    cat = load_catalog(catalog)
    res = load_results(results) if results else {}
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
    page, figs = experiments_page(res, load_analysis(results) if results else None, Path(results) if results else None)
    files["experiments.md"] = page
    files.update(figs)
    if charts:
        page, figs = stats_page(cat)
        files["stats.md"] = page
        files.update(figs)
    files["assets/catalog.json"] = json.dumps(survey_data(cat, bibs), ensure_ascii=False, separators=(",", ":"))
    tested = {t for r in res.values() for t in r["tests"]}
    used_losses = {l for p in papers for l in p.losses}
    files["_counts.json"] = json.dumps({
        "papers": len(papers), "losses": len(used_losses), "tested": len(used_losses & tested),
        "experiments": len(res), "diverges": sum(r["verdict"] == "diverges" for r in res.values()),
        "years": [papers[0].year, papers[-1].year] if papers else [],
    })
    return files


def build_site(out: str | Path = "build/site", catalog: str | Path = "catalog", results: str | Path = "experiments/results",
               config_file: str | Path | None = None) -> Path:
    """Build the static site with MkDocs into ``out``."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ["SINS_CATALOG"] = str(Path(catalog).resolve())
    os.environ["SINS_RESULTS"] = str(Path(results).resolve())
    cfg = load_config(str(config_file or SITE_DIR / "mkdocs.yml"), site_dir=str(Path(out).resolve()))
    build(cfg)
    return Path(out)
