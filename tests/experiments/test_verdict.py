"""The verdict rule on crafted curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sins.experiments.verdict import VerdictRule, decide, summarise_seed, verdict_of_curves


def curve(loss, error):
    return pd.DataFrame({"step": np.arange(len(loss)) * 100, "l_syn": loss, "error": error})


def test_summary_of_one_seed():
    s = summarise_seed(curve([1.0, 0.8, 0.6, 0.5, 0.4], [2.0, 1.0, 1.2, 1.5, 1.6]))
    assert s.best_error == 1.0 and s.best_step == 100 and s.final_error == 1.6
    assert s.gap == pytest.approx(0.6) and s.relative_gap == pytest.approx(0.6)
    assert s.loss_drop_after_best == pytest.approx(0.4)
    assert s.spearman < 0  # after warm-up, loss falls while error rises


def test_divergence_beyond_seed_spread():
    curves = [curve([1.0, 0.8, 0.6, 0.5, 0.4], [2.0, 1.0, 1.2, 1.5, 1.6 + d]) for d in (0.0, 0.01, -0.01)]
    verdict, nums, per_seed = verdict_of_curves(curves)
    assert verdict == "diverges" and nums["seeds_loss_fell_error_rose"] == 3 and len(per_seed) == 3


def test_consistent_when_both_fall():
    curves = [curve([1.0, 0.8, 0.6, 0.5, 0.4], [2.0 + d, 1.5, 1.2, 1.1, 1.0]) for d in (0.0, 0.1, 0.2)]
    assert verdict_of_curves(curves)[0] == "consistent"


def test_inconclusive_when_gap_is_within_seed_noise():
    # every seed has a small rise at the end, but the seeds' final errors differ far more
    curves = [curve([1.0, 0.8, 0.6, 0.5, 0.4], np.array([2.0, 1.5, 1.2, 1.0, 1.1]) * k) for k in (0.5, 1.0, 2.0)]
    verdict, nums, _ = verdict_of_curves(curves)
    assert verdict == "inconclusive" and nums["mean_gap"] < 2 * nums["final_error_sd"]


def test_too_few_seeds_is_inconclusive():
    curves = [curve([1.0, 0.8, 0.6, 0.5, 0.4], [2.0, 1.0, 1.2, 1.5, 1.6])] * 2
    verdict, nums, _ = verdict_of_curves(curves)
    assert verdict == "inconclusive" and "fewer than 3 seeds" in nums["reason"]
    assert decide([])[0] == "inconclusive"


def test_rule_describes_itself():
    assert "diverges" in VerdictRule().describe() and "Spearman" in VerdictRule().describe()
