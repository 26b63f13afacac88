"""Benchmark results a paper reports, with the protocol that makes two rows comparable.

A row holds the metrics exactly as reported (fractions, not percentages), the protocol they were
measured under and where they were read (the paper's table or the official repository's README).
Two rows are comparable only when their whole protocol key (:meth:`ResultRow.protocol_key`) is
equal; a leaderboard never mixes keys.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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

    @model_validator(mode="after")
    def _ranges(self) -> "ResultRow":
        kind = BENCHMARKS[self.benchmark]["kind"]
        valid = DEPTH_METRICS if kind == "depth" else STEREO_METRICS
        problems = []
        for k, v in self.metrics.items():
            if k not in valid:
                problems.append(f"metrics.{k}: not a {kind} metric of {self.benchmark} (valid: {', '.join(valid)})")
        m = self.metrics
        if kind == "depth":
            if "abs_rel" in m and not 0 < m["abs_rel"] < 1:
                problems.append(f"metrics.abs_rel: {m['abs_rel']} is outside (0, 1)")
            for k in ("sq_rel", "rmse", "rmse_log"):
                if k in m and not m[k] > 0:
                    problems.append(f"metrics.{k}: {m[k]} must be positive")
            for k in ("a1", "a2", "a3"):
                if k in m and not 0 <= m[k] <= 1:
                    problems.append(f"metrics.{k}: {m[k]} is outside [0, 1] (write 0.877, not 87.7)")
            ds = [m[k] for k in ("a1", "a2", "a3") if k in m]
            if ds != sorted(ds):
                problems.append(f"metrics: the deltas must not decrease (a1 <= a2 <= a3), got {', '.join(map(str, ds))}")
            if self.benchmark == "kitti-eigen" and self.split not in ("eigen", "eigen_benchmark"):
                problems.append(f"split: {self.split!r} is not a KITTI Eigen split (eigen or eigen_benchmark)")
        else:
            if "epe" in m and not m["epe"] > 0:
                problems.append(f"metrics.epe: {m['epe']} must be positive")
            for k in ("d1_all", "d1_noc", "d1_bg", "d1_fg", "bad3"):
                if k in m and not 0 <= m[k] <= 1:
                    problems.append(f"metrics.{k}: {m[k]} is outside [0, 1] (write 0.0455 for 4.55 %)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def protocol_key(self) -> tuple:
        return tuple(getattr(self, f) for f in PROTOCOL_FIELDS)

    def protocol_label(self) -> str:
        """A short human label of the protocol, e.g. 'kitti-eigen, eigen, original GT, 640x192, cap 80 m, median scaling, M'."""
        parts = [self.benchmark, self.split]
        if self.ground_truth != "dataset":
            parts.append(f"{self.ground_truth} ground truth")
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
