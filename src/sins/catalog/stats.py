"""Counts that the command line and the site both show (one implementation)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from .schema import EVIDENCE_LEVELS
from .store import Catalog


def compute_stats(cat: Catalog, top: int = 15) -> dict:
    """Counts by year and training signal, loss-term frequency, frequent loss combinations, co-occurrence.

    - ``by_year``: {year: {supervision id: n}} (every id listed, zeros included)
    - ``by_supervision`` / ``by_input``: papers per training signal / test-time input
    - ``evidence``: loss tags resting on code, paper text and abstract (``evidence_by_loss`` per term)
    - ``losses``: {loss id: number of papers}, most used first
    - ``combinations``: the most frequent exact sets of loss terms, as [[ids...], n]
    - ``pairs``: the most frequent pairs of loss terms, as [[a, b], n]
    - ``cooccurrence``: {a: {b: papers using both}} over loss terms used at least once
    """
    papers = sorted(cat.papers.values(), key=lambda p: (p.year, p.key))
    settings = list(cat.taxonomy.supervision)
    years = sorted({p.year for p in papers})
    by_year = {y: {s: 0 for s in settings} for y in years}
    for p in papers:
        by_year[p.year][p.supervision] += 1
    count = lambda values: dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    losses = count(l for p in papers for l in p.losses)
    combos = Counter(tuple(sorted(p.losses)) for p in papers)
    pairs = Counter(pair for p in papers for pair in combinations(sorted(set(p.losses)), 2))
    used = list(losses)
    co = {a: {b: 0 for b in used} for a in used}
    for p in papers:
        ls = sorted(set(p.losses))
        for a in ls:
            co[a][a] += 1
        for a, b in combinations(ls, 2):
            co[a][b] += 1
            co[b][a] += 1
    return {
        "total": len(papers),
        "years": [years[0], years[-1]] if years else [],
        "by_year": {str(y): v for y, v in by_year.items()},
        "by_supervision": {s: sum(1 for p in papers if p.supervision == s) for s in settings},
        "by_input": {s: sum(1 for p in papers if p.input == s) for s in cat.taxonomy.inputs},
        "by_domain": count(d for p in papers for d in p.domains),
        "by_architecture": count(a for p in papers for a in p.architecture),
        "by_dataset": count(d for p in papers for d in p.datasets),
        "evidence": {lv: sum(p.levels()[lv] for p in papers) for lv in EVIDENCE_LEVELS},
        "evidence_by_loss": {t: {lv: sum(1 for p in papers if p.losses.get(t) == lv) for lv in EVIDENCE_LEVELS} for t in losses},
        "papers_by_strongest_evidence": count(next((lv for lv in EVIDENCE_LEVELS if p.levels()[lv]), "unread") for p in papers),
        "losses_unread": sum(1 for p in papers if not p.losses),
        "with_code": sum(1 for p in papers if p.code),
        "losses": losses,
        "combinations": [[list(c), n] for c, n in sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "pairs": [[list(c), n] for c, n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "cooccurrence": co,
    }
