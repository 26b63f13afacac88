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


def _status_badge(status: str) -> str:
    return f'<span class="sins-claim sins-claim-{attr(STATUS_CLASS.get(status, "inconclusive"))}">{esc(status)}</span>'


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and all(isinstance(x, (int, float)) or x is None for x in v):
        return ", ".join("—" if x is None else _fmt(x) for x in v)
    if isinstance(v, (list, dict)):
        return esc(json.dumps(v, separators=(", ", ": "), default=str))
    return esc("—" if v is None else v)


def _numbers_html(nums) -> str:
    """A table of claim numbers: a list of records, or a mapping of name -> value/record."""
    if isinstance(nums, list) and nums and all(isinstance(x, dict) for x in nums):
        cols = list(dict.fromkeys(k for x in nums for k in x))
        head = "".join(f"<th>{esc(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{_fmt(x.get(c))}</td>" for c in cols) + "</tr>" for x in nums)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(nums, dict) and nums:
        rows = []
        for k, v in nums.items():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                rows.append(f"<tr><td>{esc(k)}</td><td>{_numbers_html(v)}</td></tr>")
            else:
                rows.append(f"<tr><td>{esc(k)}</td><td>{_fmt(v)}</td></tr>")
        return "<table><tbody>" + "".join(rows) + "</tbody></table>"
    return f"<p>{_fmt(nums)}</p>"


def _figure(files: dict, root: Path, rel: str, caption: str) -> str:
    """Copy a results figure into the site (under experiments/) and return its <figure>, or '' if missing."""
    src = (root / rel).resolve()
    if root.resolve() not in src.parents or not src.is_file():
        return ""
    site_rel = src.relative_to(root.resolve()).as_posix()
    files[f"experiments/{site_rel}"] = src.read_bytes()
    return f'<figure><img src="{attr(site_rel)}" alt="{attr(caption)}"><figcaption>{esc(caption)}</figcaption></figure>'


def experiments_page(results: dict[str, dict], analysis: dict | None = None, root: Path | None = None) -> tuple[str, dict[str, bytes]]:
    lines = ["# Experiments", ""]
    files: dict[str, bytes] = {}
    if not results:
        lines.append("<p><strong>No results yet.</strong> Experiments are being written; each taxonomy page says "
                     "&quot;not yet tested&quot; until a result for it is published here.</p>")
        return "\n".join(lines) + "\n", files
    root = root or next(iter(results.values()))["_dir"].parent
    profiles = sorted({str(r.get("profile", "?")) for r in results.values()})
    lines.append(f"<p>{len(results)} experiments, each over at least three seeds, profile {esc(', '.join(profiles))}. "
                 "Every verdict below is computed from the measured numbers by one rule (see "
                 '<a href="../method/">Method</a>); nothing is written by hand. Re-run everything with '
                 "<code>sins experiments run --profile quick</code> (minutes on a laptop CPU), or one experiment with the "
                 "command shown under it.</p>")
    if analysis and isinstance(analysis.get("claims"), dict):
        lines += ['<h2 id="claims">The five claims of Li et al., measured here</h2>', ""]
        lines.append('<table id="claims-table"><thead><tr><th>#</th><th>Claim</th><th>Here</th><th>Why</th></tr></thead><tbody>')
        for k, c in sorted(analysis["claims"].items()):
            lines.append(f'<tr><td><a href="#claim-{attr(k)}">{esc(k)}</a></td><td>{esc(c.get("claim", ""))}</td>'
                         f'<td>{_status_badge(str(c.get("status")))}</td><td>{esc(c.get("summary", ""))}</td></tr>')
        lines += ["</tbody></table>", ""]
        for k, c in sorted(analysis["claims"].items()):
            lines += [f'<h3 id="claim-{attr(k)}">Claim {esc(k)}: {_status_badge(str(c.get("status")))}</h3>', ""]
            lines.append(f"<p><em>{esc(c.get('claim', ''))}</em></p><p>{esc(c.get('summary', ''))}</p>")
            for fig in c.get("figures") or []:
                lines.append(_figure(files, root, f"{ANALYSIS}/{fig}", f"claim {k}: {Path(fig).parent.name or 'analysis'} {Path(fig).name}"))
            lines.append('<details><summary>Numbers behind this verdict</summary>' + _numbers_html(c.get("numbers")) + "</details>")
            lines.append("")
        if analysis.get("rules"):
            lines.append(f'<details><summary>How the claims are decided</summary><pre><code>{esc(analysis["rules"], pre=True)}</code></pre></details>')
            lines.append("")
    lines += ['<h2 id="matrix">Verdict matrix</h2>', ""]
    lines += ['<table id="matrix-table"><thead><tr><th>Experiment</th><th>Tests</th><th>Architecture</th><th>Domain</th><th>Verdict</th></tr></thead><tbody>']
    for r in results.values():
        tests = ", ".join(f'<a href="../taxonomy/losses/{attr(t)}/">{esc(t)}</a>' for t in r["tests"])
        arch = ", ".join(f'<a href="../taxonomy/architectures/{attr(a)}/">{esc(a)}</a>' for a in r.get("architecture") or [])
        dom = esc(r.get("domain", ""))
        lines.append(f'<tr><td><a href="#{attr(r["name"])}">{esc(r.get("title") or r["name"])}</a></td><td>{tests}</td>'
                     f'<td>{arch}</td><td>{dom}</td><td>{_verdict_badge(r["verdict"])}</td></tr>')
    lines += ["</tbody></table>", ""]
    if analysis:
        if analysis.get("ranking"):
            lines += ['<h2 id="ranking">Loss weights: ranked by synthesis loss or by error?</h2>', ""]
            for item in analysis["ranking"]:
                same = "the same order" if item.get("same_order") else "a different order"
                lines.append(f"<p><strong>{esc(item['experiment'])}</strong>: ranking its configurations by final held-out "
                             f"synthesis loss gives {same} than ranking them by final {esc(item.get('error_metric', 'error'))} "
                             f"(Spearman {_fmt(item.get('spearman'))}). By loss: {esc(' < '.join(item['order_by_lsyn']))}; "
                             f"by error: {esc(' < '.join(item['order_by_error']))}.</p>")
                lines.append(_numbers_html(item.get("configs")))
            lines.append(_figure(files, root, f"{ANALYSIS}/ranking.png", "final synthesis loss against final error per configuration"))
            lines.append("")
        if analysis.get("sweep"):
            lines += ['<h2 id="sweep">Aleatoric sweep</h2>', ""]
            lines.append("<p>Procedural stereo scenes with one dial turned at a time (the others at their defaults), in the street, "
                         "indoor and medical domains: the oracle gap (how much lower the SSIM + L1 cost gets than at the truth), the "
                         "share of pixels whose loss minimum is more than 1 px off the truth, and the error of the per-pixel loss "
                         "minimiser, against the dial.</p>")
            lines.append(_figure(files, root, f"{ANALYSIS}/sweep.png", "aleatoric sweep: one dial at a time, three domains"))
            lines.append(_figure(files, root, f"{ANALYSIS}/causes.png", "share of pixels misled, by cause"))
            if analysis.get("sweep_trends"):
                lines.append("<p>Spearman correlation of each measure with the dial value:</p>")
                lines.append(_numbers_html(analysis["sweep_trends"]))
            lines.append("")
    lines += ['<h2 id="details">Each experiment</h2>', ""]
    for r in results.values():
        lines += [f'<h3 id="{attr(r["name"])}">{esc(r.get("title") or r["name"])}</h3>', ""]
        if r.get("question"):
            lines.append(f"<p><em>{esc(r['question'])}</em></p>")
        lines.append(f"<p>Verdict: {_verdict_badge(r['verdict'])}" + (f" — {esc(r['reason'])}" if r.get("reason") else "") + "</p>")
        if r.get("command"):
            lines.append(f"<p>Reproduce with:</p><pre><code>{esc(r['command'], pre=True)}</code></pre>")
        if r["numbers"]:
            lines.append(_numbers_html(r["numbers"]))
        if r.get("oracle_gap"):
            lines.append(f"<p>Oracle gap per seed (held-out L_syn at the truth minus at the prediction; positive: the loss prefers "
                         f"the prediction): {_fmt(r['oracle_gap'])}</p>")
        if isinstance(r.get("variants"), dict) and r["variants"]:
            vs = [{"variant": k, "verdict": v.get("verdict"), "overrides": v.get("overrides"),
                   "final error": (v.get("numbers") or {}).get("mean_final_error"),
                   "final L_syn": (v.get("numbers") or {}).get("mean_final_lsyn"),
                   "oracle gap": v.get("oracle_gap")} for k, v in r["variants"].items()]
            lines.append("<p>Variants (same config, other loss weights):</p>" + _numbers_html(vs))
        for fig in r["figures"]:
            lines.append(_figure(files, root, f"{r['name']}/{fig}", f"{r['name']}: {fig}"))
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
