"""Load, validate and save the catalog (``catalog/papers/*.yaml`` + ``taxonomy.yaml``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError
from rapidfuzz import fuzz

from .errors import CatalogError, Problem, shorten, suggest, unknown_id_message
from .schema import EVIDENCE_HELP, FIELD_ORDER, ID_FIELDS, ID_LIST_FIELDS, KEY_RE, Evidence, Paper, Provenance
from .taxonomy import GROUPS, Taxonomy, Term
from .yamlio import Lines, dump_ordered, parse, read_text, write_atomic

#: two titles whose normalised forms score at least this (0..100) are near-identical
TITLE_SIMILARITY = 95.0
#: how many neighbours in sorted order each title is compared with
_TITLE_WINDOW = 6


@dataclass
class Catalog:
    """The validated catalog: papers by key, the taxonomy, and where each paper lives."""

    root: Path
    taxonomy: Taxonomy
    papers: dict[str, Paper] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.papers)

    def __iter__(self):
        return iter(self.papers.values())

    def frame(self):
        """One row per paper (pandas DataFrame); multi-valued facets are list columns."""
        from .query import papers_frame

        return papers_frame(self.papers.values())


# --------------------------------------------------------------------------- helpers


def _shown(path: Path, cwd: Path | None = None) -> str:
    """The path as the user should see it: relative to the working folder when inside it."""
    cwd = cwd or Path.cwd()
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def _loc_text(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(err: ValidationError, shown: str, lines: Lines, model_fields: Iterable[str]) -> list[Problem]:
    fields = list(model_fields)
    probs = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        kind = e["type"]
        msg = e["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            name = str(loc[-1])
            nested = {"provenance": Provenance, "evidence": Evidence}
            valid = fields if len(loc) == 1 else list(nested[loc[0]].model_fields) if loc[0] in nested else fields
            close = suggest(name[:200], valid)
            name = shorten(name, 60)
            if len(loc) == 1 and name in ("setting", "annotation"):
                close = ["supervision", "input"] if name == "setting" else []
                msg = ("the field 'setting' was split in two: 'supervision' (what trains the network) and 'input' "
                       "(what it takes at test time)" if name == "setting" else
                       "provenance.annotation was replaced by the evidence of each loss tag (losses: {ssim: code, ...})")
                probs.append(Problem(shown, lines.line(loc), _loc_text(loc), msg))
                continue
            msg = f"unknown field {name!r}" + (
                f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else f" (valid fields: {', '.join(valid)})"
            )
        elif kind == "missing":
            msg = f"missing required field {loc[-1]!r}"
            if loc[0] == "results" and len(loc) == 3:
                from .results import ResultRow

                f = ResultRow.model_fields.get(str(loc[-1]))
                if f is not None and f.description:
                    msg += f": {f.description}"
            probs.append(Problem(shown, lines.line(loc[:-1]), _loc_text(loc), msg))
            continue
        elif kind == "literal_error" and loc[0] == "losses":
            note = " (memory and the family's usual objective are not evidence)" if e["input"] in (None, "memory", "family") else ""
            msg = f"{shorten(repr(e['input']))} is not evidence{note}; use {EVIDENCE_HELP}"
        elif kind == "literal_error":
            msg = f"{shorten(repr(e['input']))} is not valid here: {msg.lower()}"
        elif kind == "too_short" and isinstance(e.get("input"), (list, dict)):
            msg = "the list is empty: give at least one value" if isinstance(e["input"], list) else \
                "the mapping is empty: give at least one entry"
        elif kind in ("string_type", "int_type", "int_parsing", "list_type", "dict_type", "model_type", "date_from_datetime_parsing",
                      "date_parsing", "date_type"):
            msg = f"{msg} (got {shorten(repr(e.get('input')))})"
        elif kind == "too_long":
            msg = f"{msg.split(' after validation')[0]}; it has {len(e.get('input') or '')} characters"
        probs.append(Problem(shown, lines.line(loc), _loc_text(loc), msg))
    return probs


def _norm_title(title: str) -> str:
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def _norm_arxiv(a: str) -> str:
    return re.sub(r"v\d+$", "", a.strip().lower())


def _norm_doi(d: str) -> str:
    return d.strip().lower()


# --------------------------------------------------------------------------- taxonomy


def load_taxonomy(path: Path) -> tuple[Taxonomy | None, list[Problem]]:
    shown = _shown(path)
    if not path.exists():
        return None, [Problem(shown, 0, "", "taxonomy file not found: every catalog needs catalog/taxonomy.yaml")]
    text, probs = read_text(path, shown)
    if text is None:
        return None, probs
    data, probs = parse(text, shown)
    if probs:
        return None, probs
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, "", "expected a mapping with losses, supervision, inputs, architectures, domains, datasets")]
    try:
        return Taxonomy.model_validate(data), []
    except ValidationError as err:
        return None, _pydantic_problems(err, shown, Lines(text), GROUPS)


# --------------------------------------------------------------------------- papers


def _check_ids(paper: Paper, tax: Taxonomy, shown: str, lines: Lines) -> list[Problem]:
    probs = []
    for fname in ID_FIELDS:
        group, kind = tax.for_field(fname)
        value = getattr(paper, fname)
        if value not in tax.ids(group):
            probs.append(Problem(shown, lines.line((fname,)), fname, unknown_id_message(kind, value, tax.ids(group))))
    valid = tax.ids("losses")
    for tag in paper.losses:
        if tag not in valid:
            probs.append(Problem(shown, lines.line(("losses", tag)), f"losses.{shorten(tag, 60)}", unknown_id_message("loss term", tag, valid)))
    for loc, msg in paper.evidence_problems():
        probs.append(Problem(shown, lines.line(loc), _loc_text(loc), msg))
    for fname in ID_LIST_FIELDS:
        group, kind = tax.for_field(fname)
        valid = tax.ids(group)
        seen: set[str] = set()
        for i, value in enumerate(getattr(paper, fname)):
            loc = (fname, i)
            if value not in valid:
                probs.append(Problem(shown, lines.line(loc), _loc_text(loc), unknown_id_message(kind, value, valid)))
            elif value in seen:
                probs.append(Problem(shown, lines.line(loc), _loc_text(loc), f"{kind} {value!r} is listed twice"))
            seen.add(value)
    return probs


def read_paper(path: Path, taxonomy: Taxonomy | None, shown: str | None = None) -> tuple[Paper | None, Lines | None, list[Problem]]:
    """Validate one paper file: (paper or None, line map, problems)."""
    shown = shown or _shown(path)
    text, probs = read_text(path, shown)
    if text is None:
        return None, None, probs
    data, probs = parse(text, shown)
    if probs:
        return None, None, probs
    lines = Lines(text)
    if not isinstance(data, dict):
        return None, lines, [Problem(shown, 1, "", f"expected a mapping of fields ({', '.join(FIELD_ORDER)}), got {type(data).__name__}")]
    try:
        paper = Paper.model_validate(data)
    except ValidationError as err:
        return None, lines, _pydantic_problems(err, shown, lines, Paper.model_fields)
    probs = []
    if taxonomy is not None:
        probs += _check_ids(paper, taxonomy, shown, lines)
    if path.stem != paper.key:
        probs.append(
            Problem(shown, lines.line(("key",)), "key", f"file name {path.name!r} differs from key {paper.key!r}: rename the file to '{paper.key}.yaml' or fix the key")
        )
    return (None if probs else paper), lines, probs


def _near_duplicate_titles(entries: list[tuple[str, str, str, int]]) -> list[Problem]:
    """Sorted-neighbourhood check (forward and reversed order): O(n log n), not O(n^2).

    entries: (normalised title, key, shown path, line of title)
    """
    probs: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for order in (lambda e: e[0], lambda e: e[0][::-1]):
        ranked = sorted(entries, key=order)
        for i, a in enumerate(ranked):
            for b in ranked[i + 1 : i + 1 + _TITLE_WINDOW]:
                pair = tuple(sorted((a[1], b[1])))
                if pair in reported or a[1] == b[1]:
                    continue
                if a[0] == b[0] or fuzz.ratio(a[0], b[0]) >= TITLE_SIMILARITY:
                    first, second = sorted((a, b), key=lambda e: (e[2], e[1]))
                    reported.add(pair)  # type: ignore[arg-type]
                    probs.append(
                        Problem(second[2], second[3], "title", f"near-identical to the title of {first[1]!r} ({first[2]}:{first[3]}): is it the same paper?")
                    )
    return probs


def _cross_checks(items: list[tuple[Path, str, Paper, Lines]]) -> list[Problem]:
    probs: list[Problem] = []
    first: dict[tuple[str, str], tuple[str, Lines]] = {}
    for _path, shown, paper, lines in sorted(items, key=lambda t: t[1]):
        for fname, value in (("key", paper.key), ("arxiv", paper.arxiv and _norm_arxiv(paper.arxiv)), ("doi", paper.doi and _norm_doi(paper.doi))):
            if not value:
                continue
            if (fname, value) in first:
                where, wlines = first[(fname, value)]
                what = {"key": "duplicate key", "arxiv": "the same arXiv id", "doi": "the same DOI"}[fname]
                probs.append(Problem(shown, lines.line((fname,)), fname, f"{what} {value!r} is already in {where}:{wlines.line((fname,))}"))
            else:
                first[(fname, value)] = (shown, lines)
    titles = [(_norm_title(p.title), p.key, shown, 0) for _path, shown, p, _l in items]
    for prob in _near_duplicate_titles(titles):
        lines = next(l for _pa, s, _p, l in items if s == prob.path)
        probs.append(Problem(prob.path, lines.line(("title",)), prob.field, prob.message))
    return probs


def paper_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "papers").rglob("*.yaml") if not p.name.startswith("."))


def check_catalog(path: str | Path = "catalog") -> tuple[Catalog | None, list[Problem]]:
    """Validate everything and return (catalog, problems); every problem, not just the first."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"catalog folder not found: {root} (expected a folder with taxonomy.yaml and papers/)")
    taxonomy, probs = load_taxonomy(root / "taxonomy.yaml")
    items: list[tuple[Path, str, Paper, Lines]] = []
    cwd = Path.cwd()
    for f in paper_files(root):
        shown = _shown(f, cwd)
        paper, lines, p = read_paper(f, taxonomy, shown)
        probs += p
        if paper is not None and lines is not None:
            items.append((f, shown, paper, lines))
    probs += _cross_checks(items)
    if taxonomy is None:
        return None, sorted(probs)
    cat = Catalog(root=root, taxonomy=taxonomy)
    for f, _shown_path, paper, _l in items:
        if paper.key not in cat.papers:
            cat.papers[paper.key] = paper
            cat.paths[paper.key] = f
    return cat, sorted(probs)


def load_catalog(path: str | Path = "catalog") -> Catalog:
    """Load and validate the catalog; raises CatalogError listing every problem."""
    cat, probs = check_catalog(path)
    if probs or cat is None:
        raise CatalogError(probs)
    return cat


# --------------------------------------------------------------------------- saving


def dump_paper(paper: Paper) -> str:
    """The canonical YAML text of a paper."""
    data = paper.ordered()
    prov = data.get("provenance", {})
    for k in ("added", "checked"):
        if getattr(paper.provenance, k) is not None:
            prov[k] = getattr(paper.provenance, k)  # a YAML date, not a quoted string
    if "provenance" in data:  # keep the field order of the model
        data["provenance"] = {k: prov[k] for k in Provenance.model_fields if k in prov}
    return dump_ordered(data, flow_fields=FLOW_FIELDS)


#: fields written on one line
FLOW_FIELDS = ("domains", "architecture", "losses", "datasets", "metrics")


def paper_path(root: str | Path, key: str) -> Path:
    """``<root>/papers/<key>.yaml`` for a key of the catalog's form; anything else (a path, '..', an empty or
    odd name) is refused, so that no command writes outside ``papers/``."""
    if not isinstance(key, str) or not KEY_RE.match(key) or len(key) > 100:
        raise ValueError(f"malformed key {shorten(repr(key), 80)}: a key is lower-case letters, digits and '_' with a "
                         "four-digit year, e.g. 'godard2017unsupervised'")
    folder = (Path(root) / "papers").resolve()
    path = (folder / f"{key}.yaml").resolve()
    if path.parent != folder:  # pragma: no cover - the key pattern already rules this out
        raise ValueError(f"key {key!r} would write outside {folder}")
    return Path(root) / "papers" / f"{key}.yaml"


def save_paper(paper: Paper, root: str | Path = "catalog") -> Path:
    """Write ``papers/<key>.yaml`` canonically (atomic; unchanged files are not touched)."""
    path = paper_path(root, paper.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dump_paper(paper))
    return path


def save_catalog(cat: Catalog) -> list[Path]:
    """Rewrite every paper canonically; returns the files that changed."""
    changed = []
    for key, paper in cat.papers.items():
        path = cat.paths.get(key, cat.root / "papers" / f"{key}.yaml")
        if write_atomic(path, dump_paper(paper)):
            changed.append(path)
    return changed


__all__ = [
    "Catalog", "Term", "check_catalog", "load_catalog", "load_taxonomy", "read_paper",
    "dump_paper", "save_paper", "save_catalog", "paper_files", "paper_path",
]
