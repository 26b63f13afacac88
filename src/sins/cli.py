"""The `sins` command: a thin layer over the library.

Exit codes: 0 success, 1 the data has problems, 2 a usage error.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(help="sins: the survey of image-synthesis losses for self-supervised depth, and its experiments.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
catalog_app = typer.Typer(help="Validate, inspect, import and export the paper catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

CatalogOpt = typer.Option(Path("catalog"), "--catalog", "-c", help="Catalog folder (taxonomy.yaml + papers/).")


class Fmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    bib = "bib"


class StatsFmt(str, Enum):
    table = "table"
    json = "json"


def _fail(message: str, code: int) -> None:
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(code)


def _load(path: Path):
    from sins.catalog import check_catalog

    try:
        cat, problems = check_catalog(path)
    except FileNotFoundError as e:
        _fail(f"error: {e}", 2)
    if problems:
        for p in problems:
            err.print(str(p), markup=False, highlight=False)
        _fail(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}: fix them and run `sins catalog validate` again", 1)
    return cat


# --------------------------------------------------------------------------- catalog


@catalog_app.command("validate")
def validate(path: Path = typer.Argument(Path("catalog"), help="Catalog folder to check.")) -> None:
    """Check every paper file and the taxonomy; report every problem as file:line: field: message."""
    cat = _load(path)
    from sins.catalog.schema import EVIDENCE_LEVELS
    from sins.catalog.taxonomy import GROUPS

    tags = {lv: sum(p.levels()[lv] for p in cat) for lv in EVIDENCE_LEVELS}
    out.print(f"{path}: {len(cat.papers)} papers, {sum(len(cat.taxonomy.group(g)) for g in GROUPS)} taxonomy ids: valid; "
              f"{sum(tags.values())} loss tags, every one with evidence ({', '.join(f'{n} {lv}' for lv, n in tags.items())})")


@catalog_app.command("stats")
def stats(catalog: Path = CatalogOpt, format: StatsFmt = typer.Option(StatsFmt.table, "--format", "-f")) -> None:
    """Counts by year and training signal, evidence behind the loss tags, most used loss terms, combinations."""
    from sins.catalog.stats import compute_stats

    cat = _load(catalog)
    s = compute_stats(cat)
    if format is StatsFmt.json:
        sys.stdout.write(json.dumps(s, indent=2, ensure_ascii=False) + "\n")
        return
    out.print(f"[bold]{s['total']} papers[/bold], {s['years'][0] if s['years'] else '-'} to {s['years'][1] if s['years'] else '-'}, {s['with_code']} with code")
    ev = s["evidence"]
    out.print(f"{sum(ev.values())} loss tags: {ev['code']} read from official code, {ev['paper']} from the paper's text, "
              f"{ev['abstract']} from the abstract only; {s['losses_unread']} papers whose loss terms are not read yet",
              markup=False)
    settings = [k for k, v in s["by_supervision"].items()]
    t = Table(title="Papers per year and training signal (supervision)")
    t.add_column("year")
    for st in settings:
        t.add_column(st, justify="right")
    t.add_column("total", justify="right")
    for year, row in s["by_year"].items():
        t.add_row(year, *[str(row[st]) for st in settings], str(sum(row.values())))
    t.add_row("all", *[str(s["by_supervision"][st]) for st in settings], str(s["total"]), style="bold")
    out.print(t)
    t = Table(title="Loss terms and the evidence behind each tag")
    for col in ("id", "papers", "code", "paper", "abstract"):
        t.add_column(col, justify="left" if col == "id" else "right")
    for k, n in s["losses"].items():
        e = s["evidence_by_loss"][k]
        t.add_row(k, str(n), str(e["code"]), str(e["paper"]), str(e["abstract"]))
    out.print(t)
    for title, data in (("Test-time input", s["by_input"]), ("Domains", s["by_domain"])):
        t = Table(title=title)
        t.add_column("id")
        t.add_column("papers", justify="right")
        for k, v in data.items():
            t.add_row(k, str(v))
        out.print(t)
    t = Table(title="Most frequent loss combinations (exact sets)")
    t.add_column("loss terms")
    t.add_column("papers", justify="right")
    for combo, n in s["combinations"]:
        t.add_row(" + ".join(combo), str(n))
    out.print(t)
    t = Table(title="Most frequent co-occurring pairs")
    t.add_column("pair")
    t.add_column("papers", justify="right")
    for pair, n in s["pairs"]:
        t.add_row(" & ".join(pair), str(n))
    out.print(t)


@catalog_app.command("schema")
def schema(output: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of standard output.")) -> None:
    """JSON Schema of a paper file, for completion and checks in YAML editors."""
    from sins.catalog.schema import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@catalog_app.command("add")
def add(
    key: Optional[str] = typer.Option(None, help="Key; derived from first author, year and title when omitted."),
    title: Optional[str] = typer.Option(None),
    author: List[str] = typer.Option([], "--author", help="Repeat for each author, in order ('First Last')."),
    year: Optional[int] = typer.Option(None),
    venue: Optional[str] = typer.Option(None, help="Short venue, e.g. 'CVPR 2017' or 'arXiv'."),
    arxiv: Optional[str] = typer.Option(None),
    doi: Optional[str] = typer.Option(None),
    url: Optional[str] = typer.Option(None),
    code: Optional[str] = typer.Option(None),
    supervision: str = typer.Option("", help="What trains the network: a supervision id of the taxonomy."),
    input: str = typer.Option("", "--input", help="What the network takes at test time: an inputs id of the taxonomy."),
    domain: List[str] = typer.Option([], "--domain"),
    architecture: List[str] = typer.Option([], "--architecture"),
    loss: List[str] = typer.Option([], "--loss", help="ID=LEVEL (repeat), LEVEL being code, paper or abstract, e.g. ssim=code."),
    dataset: List[str] = typer.Option([], "--dataset"),
    summary: str = typer.Option("", help="One or two sentences in your own words."),
    source: List[str] = typer.Option([], "--source", help="URL where the facts were checked (repeat)."),
    evidence_code: List[str] = typer.Option([], "--evidence-code", help="URL of the official loss code read (repeat)."),
    evidence_paper: List[str] = typer.Option([], "--evidence-paper", help="Section or equation of the paper read (repeat)."),
    evidence_abstract: Optional[str] = typer.Option(None, "--evidence-abstract", help="URL of the abstract read."),
    fetch: Optional[bool] = typer.Option(None, "--fetch/--no-fetch", help="Fill title, authors, year and DOI from arXiv / Crossref (default: when --arxiv or --doi is given without --title)."),
    catalog: Path = CatalogOpt,
    arxiv_api: str = typer.Option("https://export.arxiv.org/api/query", "--arxiv-api", hidden=True),
    crossref_api: str = typer.Option("https://api.crossref.org/works", "--crossref-api", hidden=True),
    cache: Optional[Path] = typer.Option(None, "--cache", help="HTTP cache file (default: ~/.cache/sins/http)."),
    min_interval: float = typer.Option(3.0, "--min-interval", help="Seconds between two calls to the same service."),
) -> None:
    """Scaffold catalog/papers/<key>.yaml from flags; missing facts are left empty for you to fill.

    With --arxiv ID (or --doi) and no --title, the title, authors, year and DOI are looked up."""
    from sins.catalog import store
    from sins.catalog.bibtex import _key_for
    from sins.catalog.errors import shorten, unknown_id_message
    from sins.catalog.schema import EVIDENCE_HELP, EVIDENCE_LEVELS
    from sins.catalog.yamlio import dump_ordered

    if key is not None:
        try:
            store.paper_path(catalog, key)
        except ValueError as e:
            _fail(f"error: --key: {e}", 2)
    taxonomy, probs = store.load_taxonomy(catalog / "taxonomy.yaml")
    if taxonomy is None:
        _fail("\n".join(map(str, probs)), 1)
    levels: dict[str, str] = {}
    for item in loss:
        tid, sep, level = item.partition("=")
        if not sep or level not in EVIDENCE_LEVELS:
            _fail(f"error: --loss {shorten(repr(item), 60)}: write ID=LEVEL, e.g. ssim=code; the level is {EVIDENCE_HELP}", 2)
        levels[tid] = level
    for values, group, flag, kind in ((list(levels), "losses", "loss", "loss term"), (domain, "domains", "domain", "domain"),
                                      (architecture, "architectures", "architecture", "architecture"),
                                      (dataset, "datasets", "dataset", "dataset"),
                                      ([supervision] if supervision else [], "supervision", "supervision", "training signal"),
                                      ([input] if input else [], "inputs", "input", "test-time input")):
        for v in values:
            if v not in taxonomy.ids(group):
                _fail(f"error: --{flag}: {unknown_id_message(kind, v, taxonomy.ids(group))}", 2)
    if fetch is None:
        fetch = bool((arxiv or doi) and not title)
    if fetch:
        if not (arxiv or doi):
            _fail("error: --fetch needs --arxiv or --doi", 2)
        from sins.catalog import enrich

        try:
            client = enrich.Client(arxiv_api=arxiv_api, crossref_api=crossref_api, cache=cache or enrich.default_cache(),
                                   min_interval=min_interval)
            meta = enrich.lookup(arxiv=arxiv, doi=doi, client=client)
        except enrich.LookupFailed as e:
            _fail(f"error: {e}", 1)
        title = title or meta.title
        author = author or meta.authors
        year = year or meta.year
        doi = doi or meta.doi
        venue = venue or meta.venue or ("arXiv" if not meta.doi else None)
        source = source or meta.sources
    if not (title and author and year):
        _fail("error: give --title, --author (repeat) and --year, or --arxiv ID --fetch", 2)
    key = key or _key_for("", title, author, year)
    try:
        path = store.paper_path(catalog, key)
    except ValueError as e:
        _fail(f"error: {e}; give --key", 2)
    if path.exists():
        _fail(f"error: {path} already exists: edit it, or choose another --key", 1)
    evidence = {"code": evidence_code, "paper": evidence_paper, "abstract": evidence_abstract}
    data = {"key": key, "title": title, "authors": author, "year": year, "venue": venue or "",
            "arxiv": arxiv, "doi": doi, "url": url, "code": code, "supervision": supervision, "input": input,
            "domains": domain, "architecture": architecture, "losses": levels,
            "evidence": {k: v for k, v in evidence.items() if v}, "datasets": dataset, "summary": summary,
            "provenance": {"sources": source}}
    data = {k: v for k, v in data.items() if v is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_ordered(data, store.FLOW_FIELDS), encoding="utf-8")
    out.print(f"wrote {path}; now run `sins catalog validate {catalog}` and fill what it reports")


@catalog_app.command("import-bib")
def import_bib(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The .bib file to import."),
    catalog: Path = CatalogOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report only; write nothing."),
) -> None:
    """Write a draft paper file for each new BibTeX entry; report duplicates and unmapped fields."""
    from sins.catalog import store
    from sins.catalog.bibtex import draft_yaml, mark_existing, read_bibtex

    report = read_bibtex(file)
    existing = []
    if (catalog / "papers").is_dir():
        from types import SimpleNamespace

        from sins.catalog.yamlio import parse, read_text

        for f in store.paper_files(catalog):  # even files with problems count as present
            text, _ = read_text(f, str(f))
            data, _ = parse(text or "", str(f))
            if isinstance(data, dict):
                existing.append(SimpleNamespace(key=str(data.get("key", f.stem)), arxiv=data.get("arxiv"), doi=data.get("doi")))
    mark_existing(report, existing)
    code = 0
    for line, msg in report.failed:
        err.print(f"{file}:{line}: not imported: {msg}", markup=False)
        code = 1
    written = 0
    for e in report.entries:
        where = f"{file}:{e.line}: {e.bib_key}"
        if e.problems:
            for p in e.problems:
                err.print(f"{where}: not imported: {p}", markup=False)
            code = 1
            continue
        if e.existing:
            out.print(f"{where}: already in the catalog ({e.existing}); skipped", markup=False)
            continue
        if e.unmapped:
            out.print(f"{where}: fields not mapped to the catalog (kept out, listed here): {', '.join(sorted(e.unmapped))}", markup=False)
        try:
            target = store.paper_path(catalog, e.facts.key)
        except ValueError as ex:
            err.print(f"{where}: not imported: {ex}", markup=False)
            code = 1
            continue
        if target.exists():
            out.print(f"{where}: {target} already exists (a file the catalog could not read?); left untouched", markup=False)
            continue
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(draft_yaml(e.facts), encoding="utf-8")
            written += 1
        out.print(f"{where}: {'would write' if dry_run else 'wrote'} {target}", markup=False)
    out.print(f"{len(report.entries)} entries read, {written} drafts written, {sum(1 for e in report.entries if e.existing)} already present, {len(report.failed) + sum(1 for e in report.entries if e.problems)} not imported")
    if written:
        out.print("Drafts leave supervision, input, domains, architecture, losses (with their evidence), datasets, summary and provenance empty: `sins catalog validate` lists what to fill.")
    raise typer.Exit(code)


@catalog_app.command("enrich")
def enrich_cmd(
    keys: List[str] = typer.Argument(..., help="Keys of the papers to check against arXiv / Crossref."),
    write: bool = typer.Option(False, "--write", help="Apply the changes (default: show the diff only)."),
    catalog: Path = CatalogOpt,
    arxiv_api: str = typer.Option("https://export.arxiv.org/api/query", "--arxiv-api", hidden=True),
    crossref_api: str = typer.Option("https://api.crossref.org/works", "--crossref-api", hidden=True),
    cache: Optional[Path] = typer.Option(None, "--cache", help="HTTP cache file (default: ~/.cache/sins/http)."),
    min_interval: float = typer.Option(3.0, "--min-interval", help="Seconds between two calls to the same service."),
    timeout: float = typer.Option(15.0, "--timeout", help="Seconds to wait for an answer."),
) -> None:
    """Compare papers with arXiv / Crossref metadata; show a diff, change nothing without --write."""
    import difflib

    from sins.catalog import dump_paper, enrich, save_paper

    cat = _load(catalog)
    client = enrich.Client(arxiv_api=arxiv_api, crossref_api=crossref_api, cache=cache or enrich.default_cache(),
                           min_interval=min_interval, timeout=timeout)
    code = 0
    for key in keys:
        if key not in cat.papers:
            from sins.catalog.errors import unknown_id_message

            _fail(f"error: {unknown_id_message('paper key', key, cat.papers)}", 2)
        paper = cat.papers[key]
        if not (paper.arxiv or paper.doi):
            err.print(f"{key}: no arXiv id or DOI to look up; skipped", markup=False)
            continue
        try:
            meta = enrich.lookup(arxiv=paper.arxiv, doi=paper.doi, client=client)
        except enrich.LookupFailed as e:
            err.print(f"{key}: {e}", markup=False)
            code = 1
            continue
        changes = enrich.proposed_changes(paper, meta)
        if not changes:
            out.print(f"{key}: agrees with {', '.join(meta.sources)}", markup=False)
            continue
        new = paper.model_copy(update=changes)
        path = cat.paths[key]
        diff = difflib.unified_diff(dump_paper(paper).splitlines(True), dump_paper(new).splitlines(True), str(path), str(path) + " (looked up)")
        sys.stdout.write("".join(diff))
        if write:
            save_paper(new, catalog)
            out.print(f"{key}: wrote {path}", markup=False)
        else:
            out.print(f"{key}: {len(changes)} field(s) differ; run again with --write to apply", markup=False)
    raise typer.Exit(code)


# --------------------------------------------------------------------------- queries


def _filter(catalog: Path, loss, any_, exclude, supervision, input, architecture, domain, dataset, year, text, has_code,
            venue, evidence):
    from sins.catalog import UnknownIdError, filter_papers, parse_years
    from sins.catalog.query import parse_evidence

    try:
        years = parse_years(year)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--year")
    try:
        parse_evidence(evidence)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--evidence")
    cat = _load(catalog)
    try:
        df = filter_papers(cat, losses=loss, match="any" if any_ else "all", exclude=exclude, supervision=supervision,
                           input=input, architecture=architecture, domain=domain, dataset=dataset, years=years, text=text,
                           has_code=has_code, venue=venue, evidence=evidence)
    except UnknownIdError as e:
        _fail(f"error: {e}", 2)
    return cat, df


_LossOpt = typer.Option([], "--loss", "-l", help="Loss term id (repeat); all must match unless --any.")
_AnyOpt = typer.Option(False, "--any", help="Match papers with any of the --loss terms (OR) instead of all (AND).")
_ExclOpt = typer.Option([], "--exclude", help="Drop papers that use this loss term (repeat).")
_SupOpt = typer.Option([], "--supervision", help="Training signal id, e.g. mono-video (repeat for any of several).")
_InOpt = typer.Option([], "--input", help="Test-time input id, e.g. multi-frame (repeat for any of several).")
_EvOpt = typer.Option([], "--evidence", help="Count a --loss tag only when it rests on this level: code, paper or abstract (repeat).")
_ArchOpt = typer.Option([], "--architecture", help="Architecture id (repeat for any of several).")
_DomOpt = typer.Option([], "--domain", help="Domain id (repeat for any of several).")
_DataOpt = typer.Option([], "--dataset", help="Dataset id (repeat for any of several).")
_YearOpt = typer.Option(None, "--year", help="'2019', '2017-2020', '2018-' or '-2018'.")
_TextOpt = typer.Option(None, "--text", "-t", help="Words to find in title, authors or summary (case-insensitive).")
_CodeOpt = typer.Option(None, "--code/--no-code", help="Only papers with (or without) official code.")
_VenueOpt = typer.Option(None, "--venue", help="Venue contains this text (case-insensitive), e.g. CVPR.")


@app.command("papers")
def papers(
    loss: List[str] = _LossOpt, any_: bool = _AnyOpt, exclude: List[str] = _ExclOpt, evidence: List[str] = _EvOpt,
    supervision: List[str] = _SupOpt, input: List[str] = _InOpt,
    architecture: List[str] = _ArchOpt, domain: List[str] = _DomOpt, dataset: List[str] = _DataOpt,
    year: Optional[str] = _YearOpt, text: Optional[str] = _TextOpt, code: Optional[bool] = _CodeOpt,
    venue: Optional[str] = _VenueOpt,
    format: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, csv, json or bib."),
    catalog: Path = CatalogOpt,
) -> None:
    """List the papers that match every given filter."""
    cat, df = _filter(catalog, loss, any_, exclude, supervision, input, architecture, domain, dataset, year, text, code,
                      venue, evidence)
    _print_papers(cat, df, format)


def _print_papers(cat, df, format: Fmt) -> None:
    from sins.catalog.bibtex import export_bibtex

    if format is Fmt.bib:
        sys.stdout.write(export_bibtex(cat.papers[k] for k in df["key"]))
        return
    if format is Fmt.json:
        records = df.drop(columns=["sources"]).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    if format is Fmt.csv:
        flat = df.drop(columns=["sources"]).copy()
        for col in ("authors", "domains", "architecture", "losses", "datasets"):
            flat[col] = flat[col].map(";".join)
        flat["evidence"] = flat["evidence"].map(lambda ev: ";".join(f"{k}={v}" for k, v in ev.items()))
        sys.stdout.write(flat.to_csv(index=False))
        return
    t = Table(title=f"{len(df)} paper{'s' if len(df) != 1 else ''} (loss tags: * code, + paper text, ' abstract)")
    for col in ("key", "year", "venue", "trained on", "input", "losses", "title"):
        t.add_column(col, overflow="fold", no_wrap=col in ("key", "year"))
    mark = {"code": "*", "paper": "+", "abstract": "'"}
    for row in df.itertuples():
        cells = (row.key, str(row.year), row.venue, row.supervision, row.input,
                 ", ".join(f"{k}{mark[v]}" for k, v in row.evidence.items()), row.title)
        t.add_row(*(Text(c) for c in cells))  # catalog strings are text, never rich markup
    out.print(t)


@app.command("results")
def results_cmd(
    benchmark: Optional[str] = typer.Option(None, "--benchmark", "-b", help="kitti-eigen, kitti-2015, kitti-2012, make3d, nyuv2, ddad, cityscapes."),
    protocol: Optional[str] = typer.Option(None, "--protocol", help="A protocol id (see the table's protocol_id column)."),
    sort: Optional[str] = typer.Option(None, "--sort", help="A metric (abs_rel, sq_rel, rmse, rmse_log, a1, a2, a3, epe, d1_all, ...)."),
    compare: bool = typer.Option(False, "--compare", help="Print what the loss terms buy (an observational comparison) instead of rows."),
    metric: str = typer.Option("abs_rel", "--metric", help="With --compare: the metric compared."),
    loss: List[str] = _LossOpt, any_: bool = _AnyOpt, exclude: List[str] = _ExclOpt, evidence: List[str] = _EvOpt,
    supervision: List[str] = typer.Option([], "--supervision", help="M, S, MS, M+D ... (a row's training signal) or mono-video, stereo-pairs ... (the paper's)."),
    input: List[str] = _InOpt, architecture: List[str] = _ArchOpt, domain: List[str] = _DomOpt, dataset: List[str] = _DataOpt,
    year: Optional[str] = _YearOpt, text: Optional[str] = _TextOpt, code: Optional[bool] = _CodeOpt,
    venue: Optional[str] = _VenueOpt,
    format: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, csv or json."),
    catalog: Path = CatalogOpt,
) -> None:
    """Reported benchmark results of the papers matching the catalog filters, one protocol apart from another."""
    from sins.catalog import UnknownIdError, parse_years
    from sins.catalog.query import parse_evidence
    from sins.catalog.results import filter_results, loss_term_comparison

    try:
        years = parse_years(year)
        parse_evidence(evidence)
    except ValueError as e:
        raise typer.BadParameter(str(e))
    if format is Fmt.bib:
        _fail("error: --format bib is for papers; use table, csv or json", 2)
    cat = _load(catalog)
    if compare:
        from sins.catalog.results import BENCHMARKS, SORTABLE

        if metric not in SORTABLE:
            _fail(f"error: --metric {metric!r}: use one of {', '.join(SORTABLE)}", 2)
        bench = benchmark or "kitti-eigen"
        if bench not in BENCHMARKS:
            _fail(f"error: unknown benchmark {bench!r} (valid: {', '.join(BENCHMARKS)})", 2)
        c = loss_term_comparison(cat, bench, metric)
        if format is Fmt.json:
            sys.stdout.write(json.dumps(c, indent=2) + "\n")
            return
        out.print(c["caveat"], markup=False)
        if c["left_out"]:
            out.print(f"Left out, their loss terms read only from an abstract: {', '.join(c['left_out'])}", markup=False)
        for p in c["protocols"]:
            if not p["terms"]:
                out.print(f"{p['protocol']} ({p['papers']} papers): no loss term has {c['min_papers']} papers on both "
                          "sides within one period", markup=False)
                continue
            t = Table(title=f"{p['protocol']} ({p['papers']} papers)")
            for col in ("loss term", f"{metric}: with - without", "papers with", "papers without", "periods"):
                t.add_column(col)
            for row in p["terms"]:
                t.add_row(row["term"], f"{row['difference']:+.4f}", str(row["papers_with"]), str(row["papers_without"]), str(row["years"]))
            out.print(t)
        return
    try:
        df = filter_results(cat, benchmark=benchmark, protocol=protocol, supervision=supervision, sort=sort,
                            losses=loss, match="any" if any_ else "all", exclude=exclude, evidence=evidence, input=input,
                            architecture=architecture, domain=domain, dataset=dataset, years=years, text=text,
                            has_code=code, venue=venue)
    except UnknownIdError as e:
        _fail(f"error: {e}", 2)
    if format is Fmt.json:
        sys.stdout.write(df.to_json(orient="records", indent=1, force_ascii=False) + "\n")
        return
    if format is Fmt.csv:
        sys.stdout.write(df.to_csv(index=False))
        return
    t = Table(title=f"{len(df)} result row{'s' if len(df) != 1 else ''}")
    cols = ["key", "protocol", "model", "abs_rel", "sq_rel", "rmse", "a1", "epe", "d1_all"]
    cols = [c for c in cols if c in df.columns and (c in ("key", "protocol", "model") or df[c].notna().any())]
    for c in cols:
        t.add_column(c, overflow="fold", no_wrap=c == "key")
    for _, r in df.iterrows():
        t.add_row(*(Text("" if (isinstance(r[c], float) and r[c] != r[c]) else (f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]))) for c in cols))
    out.print(t)


@catalog_app.command("export-bib")
def export_bib(
    loss: List[str] = _LossOpt, any_: bool = _AnyOpt, exclude: List[str] = _ExclOpt, evidence: List[str] = _EvOpt,
    supervision: List[str] = _SupOpt, input: List[str] = _InOpt,
    architecture: List[str] = _ArchOpt, domain: List[str] = _DomOpt, dataset: List[str] = _DataOpt,
    year: Optional[str] = _YearOpt, text: Optional[str] = _TextOpt, code: Optional[bool] = _CodeOpt,
    venue: Optional[str] = _VenueOpt,
    output: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output."),
    catalog: Path = CatalogOpt,
) -> None:
    """BibTeX of the whole catalog, or of the papers matching the filters."""
    from sins.catalog.bibtex import export_bibtex

    cat, df = _filter(catalog, loss, any_, exclude, supervision, input, architecture, domain, dataset, year, text, code,
                      venue, evidence)
    bib = export_bibtex(cat.papers[k] for k in df["key"])
    if output:
        output.write_text(bib, encoding="utf-8")
        err.print(f"wrote {len(df)} entries to {output}")
    else:
        sys.stdout.write(bib)


def _mount_optional() -> None:
    """Mount the site and experiments command groups when their modules are present."""
    try:
        from sins.site.cli import app as site_app

        app.add_typer(site_app, name="site", help="Build or serve the survey website.")
    except ImportError:
        pass
    try:
        from sins.experiments.cli import app as exp_app

        app.add_typer(exp_app, name="experiments", help="Run the experiments and the loss-landscape analysis.")
    except ImportError:
        pass


_mount_optional()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
