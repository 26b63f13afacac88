"""BibTeX in and out (bibtexparser 2).

Export writes the bibliographic facts of each paper (title, authors, year,
venue, arXiv id, DOI, URL); import reads them back, decodes LaTeX, reports
fields it could not map and entries that already exist, and never drops
anything silently. Export -> import -> export is a fixed point.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import bibtexparser
from bibtexparser import middlewares as mw
from pylatexenc.latexencode import unicode_to_latex
from slugify import slugify

from .schema import ARXIV_RE, DOI_RE, KEY_RE, Paper

# characters without a LaTeX form are kept as UTF-8 (BibTeX with biber reads them); no warning per character
logging.getLogger("pylatexenc.latexencode").setLevel(logging.ERROR)

#: the bibliographic facts carried by BibTeX (a subset of Paper)
FACTS = ("key", "title", "authors", "year", "venue", "arxiv", "doi", "url")

#: BibTeX fields that import maps onto the facts above
MAPPED_FIELDS = {"title", "author", "year", "booktitle", "journal", "howpublished", "eprint", "archiveprefix", "doi", "url", "primaryclass"}

_JOURNAL_HINTS = re.compile(
    r"\b(transactions|journal|letters|ra-l|t-pami|tpami|pami|ijcv|tmi|tip|tcsvt|t-its|medical image analysis|"
    r"neurocomputing|pattern recognition|sensors|access|remote sensing|computers|frontiers|int\. j\.|"
    r"international journal|robotics and automation letters|ieee tmi|ieee tip)\b",
    re.I,
)


@dataclass
class Facts:
    key: str
    title: str
    authors: list[str]
    year: int
    venue: str
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, paper: Paper) -> "Facts":
        return cls(**{f: getattr(paper, f) for f in FACTS})


def entry_type(venue: str) -> str:
    if venue.strip().lower() == "arxiv":
        return "misc"
    return "article" if _JOURNAL_HINTS.search(venue) else "inproceedings"


def _braced(text: str) -> str:
    return "{" + text + "}"


def _latex(text: str) -> str:
    return unicode_to_latex(text, non_ascii_only=False, unknown_char_policy="keep")


def facts_to_bibtex(f: Facts) -> str:
    kind = entry_type(f.venue)
    fields: list[tuple[str, str]] = [
        ("title", "{" + _latex(f.title) + "}"),
        ("author", " and ".join(_latex(a) for a in f.authors)),
        ("year", str(f.year)),
    ]
    if kind == "inproceedings":
        fields.append(("booktitle", _latex(f.venue)))
    elif kind == "article":
        fields.append(("journal", _latex(f.venue)))
    else:
        fields.append(("howpublished", _latex(f.venue)))
    if f.arxiv:
        fields += [("eprint", f.arxiv), ("archiveprefix", "arXiv")]
    if f.doi:
        fields.append(("doi", f.doi))
    if f.url:
        fields.append(("url", f.url))
    body = ",\n".join(f"  {k} = {_braced(v)}" for k, v in fields)
    return f"@{kind}{{{f.key},\n{body}\n}}\n"


def paper_to_bibtex(paper: Paper) -> str:
    """One BibTeX entry for a paper."""
    return facts_to_bibtex(Facts.of(paper))


def export_bibtex(papers: Iterable[Paper]) -> str:
    """BibTeX of several papers, in the order given, separated by blank lines."""
    return "\n".join(paper_to_bibtex(p) for p in papers)


# --------------------------------------------------------------------------- import


@dataclass
class ImportedEntry:
    facts: Facts
    line: int  # 1-based line of the entry in the .bib file
    bib_key: str
    unmapped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    existing: str | None = None  # why it is already in the catalog


@dataclass
class ImportReport:
    path: str
    entries: list[ImportedEntry] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def new(self) -> list[ImportedEntry]:
        return [e for e in self.entries if not e.existing and not e.problems]


def _name(parts) -> str:
    if isinstance(parts, str):
        return " ".join(parts.split())
    words = list(parts.first) + list(parts.von) + list(parts.last)
    name = " ".join(w for w in words if w)
    if parts.jr:
        name += ", " + " ".join(parts.jr)
    return name


def _arxiv_from(fields: dict[str, str]) -> str | None:
    for text in (fields.get("eprint", ""), fields.get("url", ""), fields.get("journal", ""), fields.get("howpublished", "")):
        m = re.search(r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s*|^)(\d{4}\.\d{4,5})(?:v\d+)?", text.strip(), re.I)
        if m:
            return m.group(1)
    return None


def _key_for(bib_key: str, title: str, authors: list[str], year: int) -> str:
    if KEY_RE.match(bib_key):
        return bib_key
    family = slugify(authors[0].split()[-1] if authors else "anon", separator="")
    stop = {"a", "an", "the", "on", "of", "for", "to", "in", "and", "with", "towards", "toward"}
    words = [w for w in slugify(title, separator=" ").split() if w not in stop]
    return f"{family or 'anon'}{year}{words[0] if words else 'paper'}"


def parse_bibtex(text: str, path: str = "<string>") -> ImportReport:
    """Parse BibTeX text into facts, with every problem and unmapped field listed."""
    lib = bibtexparser.parse_string(
        text, append_middleware=[mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors(), mw.SplitNameParts()]
    )
    report = ImportReport(path=path)
    for block in lib.failed_blocks:
        err = str(getattr(block, "error", "") or "").strip().split("\n")[0]
        msg = "could not parse this entry (unbalanced braces or quotes, or a missing comma?)" + (f": {err}" if err else "")
        report.failed.append((block.start_line + 1, msg))
    for entry in lib.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        problems: list[str] = []
        authors = [_name(a) for a in fields.get("author", [])] if isinstance(fields.get("author"), list) else []
        if not authors:
            problems.append("no author field: give the full author list")
        title = " ".join(str(fields.get("title", "")).replace("{", "").replace("}", "").split())
        if not title:
            problems.append("no title field")
        year_text = str(fields.get("year", "")).strip()
        year = int(year_text) if year_text.isdigit() else 0
        if not year:
            problems.append(f"missing or malformed year {year_text!r}: expected four digits such as 2019")
        arxiv = _arxiv_from({k: str(v) for k, v in fields.items() if isinstance(v, str)})
        venue = str(fields.get("booktitle") or fields.get("journal") or fields.get("howpublished") or ("arXiv" if arxiv else ""))
        venue = " ".join(venue.split())
        if not venue:
            problems.append("no venue: give booktitle (conference), journal, or an arXiv eprint")
        doi = str(fields["doi"]).strip() if fields.get("doi") else None
        if doi:
            doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.I)
            if not DOI_RE.match(doi):
                problems.append(f"malformed DOI {doi!r}")
        url = str(fields["url"]).strip() if fields.get("url") else None
        if arxiv and not ARXIV_RE.match(arxiv):
            problems.append(f"malformed arXiv id {arxiv!r}")
        unmapped = {k: (v if isinstance(v, str) else str(v)) for k, v in fields.items() if k not in MAPPED_FIELDS}
        facts = Facts(
            key=_key_for(entry.key, title, authors, year), title=title, authors=authors, year=year,
            venue=venue, arxiv=arxiv, doi=doi, url=url,
        )
        report.entries.append(ImportedEntry(facts, entry.start_line + 1, entry.key, unmapped, problems))
    return report


def read_bibtex(path: str | Path) -> ImportReport:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raw = p.read_bytes()
        line = raw[: e.start].count(b"\n") + 1
        report = ImportReport(path=str(path))
        report.failed.append((line, f"not UTF-8 (byte 0x{raw[e.start]:02x}); save the .bib file as UTF-8"))
        return report
    return parse_bibtex(text, str(path))


def mark_existing(report: ImportReport, papers: Iterable[Paper]) -> None:
    """Flag entries whose key, arXiv id or DOI is already in the catalog (or earlier in the file)."""
    by: dict[tuple[str, str], str] = {}
    for p in papers:
        by[("key", p.key)] = p.key
        if p.arxiv:
            by[("arxiv", p.arxiv)] = p.key
        if p.doi:
            by[("doi", p.doi.lower())] = p.key
    for e in report.entries:
        for kind, value in (("key", e.facts.key), ("arxiv", e.facts.arxiv), ("doi", (e.facts.doi or "").lower())):
            if value and (kind, value) in by:
                e.existing = f"same {'arXiv id' if kind == 'arxiv' else kind.upper() if kind == 'doi' else 'key'} as {by[(kind, value)]!r}"
                break
        if not e.existing and not e.problems:
            for kind, value in (("key", e.facts.key), ("arxiv", e.facts.arxiv), ("doi", (e.facts.doi or "").lower())):
                if value:
                    by[(kind, value)] = f"{e.facts.key} (line {e.line} of {report.path})"


def draft_yaml(f: Facts) -> str:
    """A paper file to complete by hand: the facts from BibTeX, empty facets to fill."""
    from .yamlio import dump_ordered

    data = {k: getattr(f, k) for k in FACTS if getattr(f, k) not in (None, "", [])}
    data.update(supervision="", input="", domains=[], architecture=[], losses={}, evidence={"code": [], "paper": []},
                datasets=[], summary="", provenance={"sources": []})
    text = dump_ordered(data, flow_fields=("domains", "architecture", "losses", "datasets", "sources"))
    return (
        "# Imported from BibTeX: fill in supervision, input, domains, architecture, datasets and summary,\n"
        "# the loss terms with the evidence of each (losses: {ssim: code, ...}; see catalog/README.md),\n"
        "# and provenance (the public pages where you checked title, authors, year and venue).\n" + text
    )
