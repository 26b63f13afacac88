"""The seeds benchmark's comparison of a from-scratch rerun with the committed results (benchmarks/experiments.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_experiments", ROOT / "benchmarks" / "experiments.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_verdict_pairs_per_configuration_and_cause():
    bx = _bench()
    fresh = {"verdict": "inconclusive", "per_cause": {"occluded": {"verdict": "diverges"}, "shadow": {"verdict": "not judged"},
                                                      "specular": {"verdict": "consistent"}},
             "variants": {"w1": {"verdict": "failed", "per_cause": {}}}}
    committed = {"verdict": "consistent", "per_cause": {"occluded": {"verdict": "inconclusive"}, "shadow": {"verdict": "not judged"},
                                                        "border": {"verdict": "consistent"}},
                 "variants": {}}
    out = bx.verdict_pairs(fresh, committed)
    # a variant the committed results lack is compared with nothing, not dropped
    assert out["verdicts"] == {"base": ("inconclusive", "consistent"), "w1": ("failed", None)}
    # a cause judged by neither side is left out; one judged by one side only is kept
    assert out["per_cause"] == {"base": {"border": ("not judged", "consistent"), "occluded": ("diverges", "inconclusive"),
                                         "specular": ("consistent", "not judged")}}
    call = {"experiments": {"x": out, "y": {"verdicts": {"base": ("consistent", "consistent")},
                                            "per_cause": {"v": {"textureless": ("consistent", "consistent")}}}}}
    text = bx._per_cause_lines(call)[0]
    assert "**1 of 4 kept**" in text
    assert "x at border: not judged / consistent; x at occluded: diverges / inconclusive; x at specular: consistent / not judged." in text
    assert "[v]" not in text  # kept verdicts are counted, not listed
