"""Benchmark results a paper reports, with the protocol that makes two rows comparable.

A row holds the metrics exactly as reported (fractions, not percentages), the protocol they were
measured under and where they were read (the paper's table or the official repository's README).
Two rows are comparable only when their whole protocol key (:meth:`ResultRow.protocol_key`) is
equal; a leaderboard never mixes keys.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

#: benchmarks and the metrics each reports
DEPTH_METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")
STEREO_METRICS = ("epe", "d1_all", "d1_noc", "d1_bg", "d1_fg", "bad3")
BENCHMARKS: dict[str, dict] = {
    "kitti-eigen": {"name": "KITTI, Eigen split (monocular depth)", "kind": "depth"},
    "kitti-2015": {"name": "KITTI 2015 stereo", "kind": "stereo"},
    "kitti-2012": {"name": "KITTI 2012 stereo", "kind": "stereo"},
    "make3d": {"name": "Make3D (monocular depth)", "kind": "depth"},
    "nyuv2": {"name": "NYU Depth v2 (monocular depth)", "kind": "depth"},
    "ddad": {"name": "DDAD (monocular depth)", "kind": "depth"},
    "cityscapes": {"name": "Cityscapes (monocular depth)", "kind": "depth"},
}
Benchmark = Literal["kitti-eigen", "kitti-2015", "kitti-2012", "make3d", "nyuv2", "ddad", "cityscapes"]
#: what trained the model whose numbers are reported (Monodepth2's notation)
Supervision = Literal["M", "S", "MS", "M+D", "S+D", "MS+D", "other"]
RES_RE = re.compile(r"^\d{2,5}x\d{2,5}$")
#: the fields that make two rows comparable, in the order they are shown
PROTOCOL_FIELDS = ("benchmark", "split", "ground_truth", "resolution", "cap", "median_scaling", "supervision",
                   "test_time_refinement", "post_processing", "region")


def _url(v: str) -> str:
    if not re.match(r"^https?://\S+\.\S+", v or ""):
        raise ValueError(f"the source must be the URL of the page the numbers were read from, not {v!r}")
    return v


class ResultRow(BaseModel):
    """One reported result."""

    model_config = ConfigDict(extra="forbid")

    benchmark: Benchmark
    split: str = Field(description="kitti-eigen: eigen (697 images) or eigen_benchmark (652 with improved ground truth); "
                       "stereo: train, val or test")
    ground_truth: Literal["original", "improved", "dataset"] = Field(
        "dataset", description="kitti-eigen: original (raw LiDAR) or improved (Uhrig et al.); else dataset")
    resolution: str | None = Field(None, description="input size WxH, e.g. 640x192")
    cap: float | None = Field(None, gt=0, description="depth cap in metres (80 or 50 for KITTI)")
    median_scaling: bool | None = Field(None, description="predictions scaled by the ground truth's median")
    supervision: Supervision = Field(description="M (monocular video), S (stereo pairs), MS (both), +D (depth labels), other")
    test_time_refinement: bool | None = Field(None, description="test-time training or adaptation (None: not stated)")
    post_processing: bool | None = Field(None, description="Monodepth's flipped-image post-processing or similar "
                                         "(None: not stated)")
    region: Literal["all", "noc", "n/a"] = Field("n/a", description="stereo: all or non-occluded pixels")
    backbone: str = ""
    pretraining: str = Field("", description="e.g. ImageNet, none, Cityscapes")
    model: str = Field("", description="the row's name in its table, e.g. 'Ours (M, 640x192)'")
    metrics: dict[str, float] = Field(min_length=1)
    source: str = Field(description="URL of the paper or official repository page the numbers were read from")
    where: str = Field(min_length=1, description="the table, row or README section, e.g. 'Table 1, row 12'")
    notes: str = ""

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return _url(v)

    @field_validator("resolution")
    @classmethod
    def _res(cls, v: str | None) -> str | None:
        if v is not None and not RES_RE.match(v):
            raise ValueError(f"resolution {v!r}: write width x height, e.g. '640x192'")
        return v

    @field_validator("split")
    @classmethod
    def _split(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("benchmark") == "kitti-eigen" and v not in ("eigen", "eigen_benchmark"):
            raise ValueError(f"{v!r} is not a KITTI Eigen split: use eigen (697 test images, original ground truth) "
                             "or eigen_benchmark (652 images, improved ground truth)")
        return v

    @field_validator("metrics")
    @classmethod
    def _ranges(cls, m: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        bench = info.data.get("benchmark")
        if bench not in BENCHMARKS:  # the benchmark's own error is reported
            return m
        kind = BENCHMARKS[bench]["kind"]
        valid = DEPTH_METRICS if kind == "depth" else STEREO_METRICS
        problems = [f"{k} is not a {kind} metric of {bench} (valid: {', '.join(valid)})" for k in m if k not in valid]
        if kind == "depth":
            if "abs_rel" in m and not 0 < m["abs_rel"] < 1:
                problems.append(f"abs_rel {m['abs_rel']:g} is outside the valid range (0, 1)")
            for k in ("sq_rel", "rmse", "rmse_log"):
                if k in m and not m[k] > 0:
                    problems.append(f"{k} {m[k]:g} must be positive")
            for k in ("a1", "a2", "a3"):
                if k in m and not 0 <= m[k] <= 1:
                    problems.append(f"{k} {m[k]:g} is outside the valid range [0, 1] (write 0.877, not 87.7)")
            ds = [m[k] for k in ("a1", "a2", "a3") if k in m]
            if ds != sorted(ds):
                problems.append(f"the deltas must not decrease (a1 <= a2 <= a3), got {', '.join(f'{d:g}' for d in ds)}")
        else:
            if "epe" in m and not m["epe"] > 0:
                problems.append(f"epe {m['epe']:g} must be positive")
            for k in ("d1_all", "d1_noc", "d1_bg", "d1_fg", "bad3"):
                if k in m and not 0 <= m[k] <= 1:
                    problems.append(f"{k} {m[k]:g} is outside the valid range [0, 1] (write 0.0455 for 4.55 %)")
        if problems:
            raise ValueError("; ".join(problems))
        return m

    def protocol_table(self) -> list[tuple[str, str]]:
        """Every protocol field as (name, value), with 'not stated' where the source does not say."""
        def yes_no(v):
            return "not stated" if v is None else ("yes" if v else "no")

        gt = self.ground_truth
        if gt == "dataset":
            gt = "not stated" if self.benchmark == "kitti-eigen" else "the benchmark's"
        depth = BENCHMARKS[self.benchmark]["kind"] == "depth"
        return [("benchmark", BENCHMARKS[self.benchmark]["name"]), ("split", self.split), ("ground truth", gt),
                ("input resolution", self.resolution or "not stated"),
                *([("depth cap", f"{self.cap:g} m" if self.cap else "not stated"),
                   ("median scaling", yes_no(self.median_scaling))] if depth or self.cap or self.median_scaling is not None
                  else []),
                ("training supervision", self.supervision),
                ("test-time refinement", yes_no(self.test_time_refinement)),
                ("post-processing", yes_no(self.post_processing)),
                *([("pixels", self.region)] if self.region != "n/a" else [])]

    def protocol_key(self) -> tuple:
        return tuple(getattr(self, f) for f in PROTOCOL_FIELDS)

    def protocol_label(self) -> str:
        """A short human label of the protocol, e.g. 'kitti-eigen, eigen, original GT, 640x192, cap 80 m, median scaling, M'."""
        parts = [self.benchmark, self.split]
        if self.ground_truth != "dataset":
            parts.append(f"{self.ground_truth} ground truth")
        elif self.benchmark == "kitti-eigen":
            parts.append("ground truth not stated")
        if self.resolution:
            parts.append(self.resolution)
        if self.cap:
            parts.append(f"cap {self.cap:g} m")
        if self.median_scaling is not None:
            parts.append("median scaling" if self.median_scaling else "no median scaling")
        parts.append(self.supervision)
        if self.test_time_refinement:
            parts.append("test-time refinement")
        if self.post_processing:
            parts.append("post-processing")
        if self.region != "n/a":
            parts.append(f"{self.region} pixels")
        return ", ".join(parts)


# --------------------------------------------------------------------------- queries


RESULT_COLUMNS = ["key", "title", "year", "venue", "code", "benchmark", "protocol", "protocol_id", *PROTOCOL_FIELDS[1:],
                  "backbone", "pretraining", "model", *DEPTH_METRICS, *STEREO_METRICS, "source", "where", "notes"]
SORTABLE = (*DEPTH_METRICS, *STEREO_METRICS, "year")
#: metrics where a larger value is better
HIGHER_IS_BETTER = {"a1", "a2", "a3"}


def protocol_id(row: ResultRow) -> str:
    """A stable, URL-safe name of a row's protocol key, e.g. 'eigen-original-640x192-cap80-ms-M'."""
    import hashlib

    parts = [row.split, row.ground_truth]
    parts.append(row.resolution or "res-unstated")
    parts.append(f"cap{row.cap:g}" if row.cap else "cap-unstated")
    parts.append({True: "ms", False: "no-ms", None: "ms-unstated"}[row.median_scaling])
    parts.append(row.supervision.replace("+", "plus"))
    if row.test_time_refinement:
        parts.append("ttr")
    elif row.test_time_refinement is None:
        parts.append("ttr-unstated")
    if row.post_processing:
        parts.append("pp")
    elif row.post_processing is None:
        parts.append("pp-unstated")
    if row.region != "n/a":
        parts.append(row.region)
    slug = "-".join(p.replace("_", "-").replace(".", "p") for p in parts)
    return slug if len(slug) <= 90 else slug[:80] + "-" + hashlib.sha1(slug.encode()).hexdigest()[:8]


def results_frame(papers) -> "pd.DataFrame":
    """One row per reported result, with the paper's key, title, year, venue and code."""
    import pandas as pd

    rows = []
    for p in papers:
        for r in p.results:
            d = {"key": p.key, "title": p.title, "year": p.year, "venue": p.venue, "code": p.code,
                 "benchmark": r.benchmark, "protocol": r.protocol_label(), "protocol_id": protocol_id(r)}
            for f in PROTOCOL_FIELDS[1:]:
                d[f] = getattr(r, f)
            d.update(backbone=r.backbone, pretraining=r.pretraining, model=r.model, source=r.source, where=r.where,
                     notes=r.notes)
            for m in (*DEPTH_METRICS, *STEREO_METRICS):
                d[m] = r.metrics.get(m, float("nan"))
            rows.append(d)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


ROW_SUPERVISION = ("M", "S", "MS", "M+D", "S+D", "MS+D", "other")


def filter_results(catalog, benchmark: str | None = None, protocol: str | None = None,
                   supervision: str | list[str] | None = None, sort: str | None = None, **paper_filters) -> "pd.DataFrame":
    """Reported results of the papers that match the catalog filters (any argument of
    :func:`sins.catalog.query.filter_papers`), optionally of one benchmark and protocol.

    ``supervision`` may name a row's training signal (M, S, MS, M+D ...) or the catalog's (mono-video ...);
    ``protocol`` is a :func:`protocol_id`. ``sort`` names a metric: lower first, except the deltas."""
    from .errors import UnknownIdError
    from .query import _as_list, filter_papers

    sup = _as_list(supervision)
    row_sup = [s for s in sup if s in ROW_SUPERVISION]
    paper_sup = [s for s in sup if s not in ROW_SUPERVISION]
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise UnknownIdError("benchmark", benchmark, BENCHMARKS)
    if sort is not None and sort not in SORTABLE:
        raise UnknownIdError("sort column", sort, SORTABLE)
    papers_df = filter_papers(catalog, supervision=paper_sup or None, **paper_filters)
    keep = set(papers_df["key"])
    df = results_frame([catalog.papers[k] for k in catalog.papers if k in keep])
    if benchmark:
        df = df[df["benchmark"] == benchmark]
    if protocol:
        df = df[df["protocol_id"] == protocol]
    if row_sup:
        df = df[df["supervision"].isin(row_sup)]
    if sort:
        df = df.sort_values([sort, "year", "key"], ascending=[sort not in HIGHER_IS_BETTER, True, True], na_position="last",
                            kind="stable")
    else:
        df = df.sort_values(["benchmark", "protocol_id", "year", "key"], kind="stable")
    return df.reset_index(drop=True)


def protocols(df) -> list[dict]:
    """The protocols present in a results frame: id, label, benchmark, rows, papers (most papers first)."""
    out = []
    for (bench, pid), g in df.groupby(["benchmark", "protocol_id"], sort=False):
        out.append({"benchmark": bench, "protocol_id": pid, "protocol": g["protocol"].iloc[0], "rows": len(g),
                    "papers": g["key"].nunique()})
    return sorted(out, key=lambda x: (x["benchmark"], -x["papers"], x["protocol_id"]))


def loss_term_comparison(catalog, benchmark: str = "kitti-eigen", metric: str = "abs_rel", min_papers: int = 2,
                         years_per_bin: int = 2, evidence: tuple[str, ...] = ("code", "paper")) -> dict:
    """What the loss terms buy, observationally: within each protocol, each paper's best row on ``metric``;
    for each loss term, the papers that use it against those that do not, **in the same period**
    (``years_per_bin`` years, e.g. 2019-2020); the difference of medians per period, averaged with weights
    min(n_with, n_without) over the periods where both groups exist. Negative means the papers with the term
    report a lower (better) error. A term is compared only with at least ``min_papers`` papers on each side.

    Only papers whose loss terms were read from the sources in ``evidence`` (by default the official code or
    the paper's text) take part: for a paper tagged from its abstract, a missing tag means "not read", not
    "not used", so it could not stand on the 'without' side. The papers left out are counted."""
    import statistics

    read = {k for k, p in catalog.papers.items() if p.losses and all(lv in evidence for lv in p.losses.values())}
    df = results_frame(list(catalog.papers.values()))
    df = df[(df["benchmark"] == benchmark) & df[metric].notna()]
    left_out = sorted(set(df["key"]) - read)
    df = df[df["key"].isin(read)]
    better_low = metric not in HIGHER_IS_BETTER
    best = (df.sort_values(metric, ascending=better_low).groupby(["protocol_id", "key"], sort=False).head(1))
    out = {"benchmark": benchmark, "metric": metric, "years_per_bin": years_per_bin, "min_papers": min_papers,
           "evidence": list(evidence), "left_out": left_out, "protocols": [], "caveat": (
        "Observational: papers differ in far more than one loss term (architecture, resolution, training data, "
        "schedule, pretraining), and which terms a paper uses is not random. A difference here is an association "
        "within a protocol and a period of years, not the effect of the term.")}
    terms = sorted({t for p in catalog.papers.values() for t in p.losses})
    for pid, g in best.groupby("protocol_id"):
        if g["key"].nunique() < 2 * min_papers:
            continue
        item = {"protocol_id": pid, "protocol": g["protocol"].iloc[0], "papers": int(g["key"].nunique()), "terms": []}
        for t in terms:
            diffs, weights, n_with, n_without = [], [], 0, 0
            for _y, gy in g.groupby(g["year"] // years_per_bin):
                w = [v for k, v in zip(gy["key"], gy[metric]) if t in catalog.papers[k].losses]
                wo = [v for k, v in zip(gy["key"], gy[metric]) if t not in catalog.papers[k].losses]
                if w and wo:
                    diffs.append(statistics.median(w) - statistics.median(wo))
                    weights.append(min(len(w), len(wo)))
                    n_with += len(w)
                    n_without += len(wo)
            if n_with >= min_papers and n_without >= min_papers:
                d = sum(a * b for a, b in zip(diffs, weights)) / sum(weights)
                item["terms"].append({"term": t, "difference": d, "papers_with": n_with, "papers_without": n_without,
                                      "years": len(diffs)})
        item["terms"].sort(key=lambda x: x["difference"] if better_low else -x["difference"])
        out["protocols"].append(item)
    return out


