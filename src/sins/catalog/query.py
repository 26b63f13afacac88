"""Queries over the catalog as pandas DataFrames."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from .errors import UnknownIdError
from .schema import EVIDENCE_LEVELS, FIELD_ORDER, Paper

if TYPE_CHECKING:
    from .store import Catalog

#: columns of the frame, in order (``losses`` lists the ids; ``evidence`` maps each id to its level)
COLUMNS = [f for f in FIELD_ORDER if f not in ("provenance", "evidence")] + ["evidence", "sources"]

YEAR_FORMS = "a year or a range: '2019', '2017-2020', '2018-' (from) or '-2018' (up to)"


def papers_frame(papers: Iterable[Paper]) -> pd.DataFrame:
    """One row per paper; ``authors``, ``domains``, ``architecture``, ``losses``, ``datasets`` and
    ``sources`` are list columns; ``evidence`` is {loss id: 'code' | 'paper' | 'abstract'}."""
    rows = []
    for p in papers:
        row = {f: getattr(p, f) for f in FIELD_ORDER if f not in ("provenance", "evidence", "losses")}
        row["losses"] = list(p.losses)
        row["evidence"] = dict(p.losses)
        row["sources"] = list(p.provenance.sources)
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    if len(df):
        df = df.sort_values(["year", "key"], kind="stable").reset_index(drop=True)
    df["year"] = df["year"].astype("int64")
    return df


def parse_years(text: str | None) -> tuple[int | None, int | None] | None:
    """'2019' -> (2019, 2019); '2017-2020'; '2018-' -> (2018, None); '-2018' -> (None, 2018)."""
    if text is None or str(text).strip() == "":
        return None
    m = re.fullmatch(r"\s*(\d{4})?\s*(-)?\s*(\d{4})?\s*", str(text))
    if not m or (not m.group(1) and not m.group(3)) or (m.group(2) is None and m.group(3)):
        raise ValueError(f"malformed year {text!r}: expected {YEAR_FORMS}")
    first = int(m.group(1)) if m.group(1) else None
    last = int(m.group(3)) if m.group(3) else (first if m.group(2) is None else None)
    if first is not None and last is not None and first > last:
        raise ValueError(f"malformed year {text!r}: the range runs backwards; expected {YEAR_FORMS}")
    return first, last


def _as_list(v: str | Sequence[str] | None) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x for x in (s.strip() for s in v.split(",")) if x]
    return [x for x in v if x]


def _check(values: list[str], valid: set[str], kind: str) -> None:
    for v in values:
        if v not in valid:
            raise UnknownIdError(kind, v, valid)


def parse_evidence(values: str | Sequence[str] | None) -> list[str]:
    """'code,paper' -> ['code', 'paper']; raises ValueError naming the valid levels."""
    levels = _as_list(values)
    for v in levels:
        if v not in EVIDENCE_LEVELS:
            raise ValueError(f"unknown evidence level {v!r}: use {', '.join(EVIDENCE_LEVELS)} (several with commas)")
    return levels


def filter_papers(
    catalog: "Catalog",
    losses: str | Sequence[str] | None = None,
    match: Literal["all", "any"] = "all",
    supervision: str | Sequence[str] | None = None,
    input: str | Sequence[str] | None = None,
    architecture: str | Sequence[str] | None = None,
    domain: str | Sequence[str] | None = None,
    dataset: str | Sequence[str] | None = None,
    years: tuple[int | None, int | None] | str | None = None,
    text: str | None = None,
    exclude: str | Sequence[str] | None = None,
    has_code: bool | None = None,
    venue: str | None = None,
    evidence: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``catalog.frame()`` that match every given facet.

    Loss terms combine with AND (``match="all"``) or OR (``match="any"``);
    ``evidence`` (levels ``code``, ``paper``, ``abstract``) makes a ``losses``
    term match only where its tag rests on one of those levels;
    ``exclude`` drops papers that use any of the listed loss terms, whatever
    the evidence. Within supervision, input, architecture, domain and dataset
    several values mean "any of them"; different facets combine with AND. ``text`` is split into words,
    each of which must occur (case-insensitive) in the title, the authors or
    the summary. An unknown id raises :class:`UnknownIdError` with the
    closest valid ids.
    """
    if match not in ("all", "any"):
        raise ValueError(f"match must be 'all' or 'any', not {match!r}")
    tax = catalog.taxonomy
    df = _frame(catalog)
    keep = np.ones(len(df), dtype=bool)

    wanted = _as_list(losses)
    _check(wanted, tax.ids("losses"), "loss term")
    levels = set(parse_evidence(evidence)) or set(EVIDENCE_LEVELS)
    if wanted:
        w = set(wanted)
        test = (lambda s: w <= s) if match == "all" else (lambda s: bool(w & s))
        keep &= np.fromiter((test({t for t, lv in ev.items() if lv in levels}) for ev in df["evidence"]), bool, len(df))
    dropped = _as_list(exclude)
    _check(dropped, tax.ids("losses"), "loss term")
    if dropped:
        d = set(dropped)
        keep &= np.fromiter((not (d & set(x)) for x in df["losses"]), bool, len(df))

    for values, column, group, kind in (
        (supervision, "supervision", "supervision", "training signal"),
        (input, "input", "inputs", "test-time input"),
    ):
        vals = _as_list(values)
        _check(vals, tax.ids(group), kind)
        if vals:
            keep &= df[column].isin(vals).to_numpy()
    for values, column, group, kind in (
        (architecture, "architecture", "architectures", "architecture"),
        (domain, "domains", "domains", "domain"),
        (dataset, "datasets", "datasets", "dataset"),
    ):
        vals = _as_list(values)
        _check(vals, tax.ids(group), kind)
        if vals:
            v = set(vals)
            keep &= np.fromiter((bool(v & set(x)) for x in df[column]), bool, len(df))

    if isinstance(years, str):
        years = parse_years(years)
    if years:
        first, last = years
        if first is not None:
            keep &= (df["year"] >= first).to_numpy()
        if last is not None:
            keep &= (df["year"] <= last).to_numpy()
    if text and text.strip():
        hay = _haystack(catalog, df)
        for word in text.lower().split():
            keep &= hay.str.contains(word, regex=False).to_numpy(dtype=bool)
    if has_code is not None:
        keep &= (df["code"].notna() == bool(has_code)).to_numpy()
    if venue:
        keep &= df["venue"].str.lower().str.contains(venue.lower(), regex=False).to_numpy(dtype=bool)
    return df[keep]


def _frame(catalog) -> pd.DataFrame:
    if isinstance(catalog, pd.DataFrame):
        return catalog
    # keyed by the paper objects themselves: replacing a paper (same count) rebuilds the frame
    key = tuple(map(id, catalog.papers.values()))
    cached = getattr(catalog, "_frame_cache", None)
    if cached is None or cached[0] != key:
        cached = (key, catalog.frame())
        object.__setattr__(catalog, "_frame_cache", cached)
    return cached[1]


def _haystack(catalog, df: pd.DataFrame) -> pd.Series:
    cached = getattr(catalog, "_hay_cache", None)
    if cached is not None and cached[0] is df:
        return cached[1]
    hay = (df["title"] + " " + df["authors"].map(" ".join) + " " + df["summary"]).str.lower()
    if not isinstance(catalog, pd.DataFrame):
        object.__setattr__(catalog, "_hay_cache", (df, hay))
    return hay


__all__ = ["COLUMNS", "YEAR_FORMS", "filter_papers", "papers_frame", "parse_evidence", "parse_years"]
