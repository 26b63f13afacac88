"""The verdict rule on constructed curves, one test per outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sins.experiments.verdict import (VerdictRule, cause_exists, decide, holm, one_sided_p, running_median, summarise_run,
                                     t_interval, verdict_of_curves)

STEPS = 21
BASELINE = 3.0


def curve(loss, error):
    return pd.DataFrame({"step": np.arange(len(loss)) * 50, "l_syn": loss, "error": error})


def falling(n=STEPS, start=1.0, end=0.4):
    return np.linspace(start, end, n)


def noise(seed, n=STEPS, sd=0.01):
    return np.random.default_rng(seed).normal(0, sd, n)


def diverging(seed):
    """Loss falls all the way; error falls to 1.0 at step 500, then rises to 1.6."""
    t = np.arange(STEPS)
    err = np.where(t <= 10, 2.0 - 0.1 * t, 1.0 + 0.06 * (t - 10)) + noise(seed)
    return curve(falling(), err)


def consistent(seed):
    """Both fall together; the error has evaluation noise."""
    return curve(falling(), np.linspace(2.0, 1.0, STEPS) + noise(seed))


def test_summary_of_one_run():
    r = summarise_run(diverging(0), BASELINE)
    assert not r.failed and r.step_at_min_loss == 1000 and r.evaluations == STEPS
    assert r.best_step == pytest.approx(500, abs=100)
    assert r.cost == pytest.approx(0.6, abs=0.05) and 0.45 < r.excess <= r.cost
    assert r.share_lost == pytest.approx(r.cost / (BASELINE - r.best_error))
    assert 0 < r.noise_sd < 0.03 and not r.overfits


def test_diverges():
    verdict, nums, per_seed = verdict_of_curves([diverging(s) for s in range(3)], [BASELINE] * 3)
    assert verdict == "diverges", nums["reason"]
    assert nums["excess_low"] > 0 and nums["mean_excess"] >= nums["tolerance"] and len(per_seed) == 3


def test_consistent_when_both_fall_and_the_error_is_noisy():
    """The minimum over noisy evaluations makes the plain cost positive; the paired excess is noise around 0."""
    verdict, nums, per_seed = verdict_of_curves([consistent(s) for s in range(5)], [BASELINE] * 5)
    assert verdict == "consistent", nums["reason"]
    assert nums["mean_cost"] >= 0 and nums["excess_high"] < nums["tolerance"]


def test_inconclusive_when_seeds_disagree():
    curves = [diverging(0), consistent(1), curve(falling(), np.linspace(2.0, 1.0, STEPS)[::-1] * 0 + 1.5 + noise(2, sd=0.3))]
    verdict, nums, _ = verdict_of_curves(curves, [BASELINE] * 3)
    assert verdict == "inconclusive", nums["reason"]


def test_overfitting_is_told_apart_from_divergence():
    """Held-out loss and error fall, then rise together: the loss still picks the right checkpoint."""
    t = np.arange(STEPS)
    runs = []
    for s in range(3):
        shape = np.where(t <= 10, 1.0 - 0.05 * t, 0.5 + 0.04 * (t - 10))
        runs.append(curve(shape + noise(s, sd=0.002), 2 * shape + 0.5 + noise(s + 10)))
    verdict, nums, per_seed = verdict_of_curves(runs, [BASELINE] * 3)
    assert verdict == "consistent", nums["reason"]
    assert nums["overfitting_seeds"] == 3 and all(p["overfits"] for p in per_seed)


def test_failed_runs_are_excluded_and_named():
    never = curve(np.linspace(1.0, 1.2, STEPS), np.linspace(2.0, 1.0, STEPS))  # L_syn never below its start
    useless = curve(falling(), np.full(STEPS, 3.5))  # never better than a constant prediction
    r = summarise_run(never, BASELINE)
    assert "never went below its start" in r.failed
    assert "not 10% below a constant prediction's" in summarise_run(useless, BASELINE).failed
    # within 10% of the constant: an almost constant prediction, not a trained network
    barely = curve(falling(), np.linspace(BASELINE, 0.92 * BASELINE, STEPS))
    assert "not 10% below" in summarise_run(barely, BASELINE).failed
    assert summarise_run(curve(falling(), np.linspace(BASELINE, 0.88 * BASELINE, STEPS)), BASELINE).failed == ""
    verdict, nums, _ = verdict_of_curves([never, useless, diverging(0), diverging(1)], [BASELINE] * 4)
    assert verdict == "failed" and nums["successful_seeds"] == 2
    assert [f["run"] for f in nums["failed_runs"]] == [0, 1] and "only 2 of 4 runs trained" in nums["reason"]
    verdict, nums, _ = verdict_of_curves([never] + [diverging(s) for s in range(3)], [BASELINE] * 4)
    assert verdict == "diverges" and nums["successful_seeds"] == 3  # the failed one is left out, not counted


def test_a_run_that_trained_then_got_worse_than_constant_is_not_failed():
    t = np.arange(STEPS)
    err = np.where(t <= 5, 3.0 - 0.3 * t, 1.5 + 0.25 * (t - 5))  # ends at 5.5, above the constant 3.0
    r = summarise_run(curve(falling(), err), BASELINE)
    assert not r.failed and r.excess > 0


def test_failure_decided_elsewhere_is_kept():
    r = summarise_run(diverging(0), BASELINE, failed="global run failed")
    assert r.failed == "global run failed"


def test_too_few_seeds_is_inconclusive():
    verdict, nums, _ = verdict_of_curves([diverging(0), diverging(1)], [BASELINE] * 2)
    assert verdict == "inconclusive" and "fewer than 3 seeds" in nums["reason"]
    assert decide([])[0] == "inconclusive"


def test_t_interval_and_running_median():
    m, lo, hi = t_interval([1.0, 2.0, 3.0], 0.95)
    assert m == 2.0 and lo == pytest.approx(2.0 - 4.303 / np.sqrt(3), abs=1e-3) and hi == pytest.approx(4 - lo)
    assert t_interval([5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)
    assert list(running_median(np.array([0, 10, 0, 0, 0.0]), 3)) == [5.0, 0.0, 0.0, 0.0, 0.0]


def test_cause_exists_needs_share_and_more_misleading_than_clean():
    assert cause_exists(0.001, 0.5, 0.1)[0] is False
    ok, why = cause_exists(0.02, 0.3, 0.05)
    assert ok and "misleads the loss at 30.0%" in why
    assert cause_exists(0.02, 0.03, 0.05)[0] is False
    assert cause_exists(0.02, float("nan"), float("nan"))[0] is True  # video: share only


def test_rule_describes_itself():
    text = VerdictRule().describe()
    assert "cost of trusting the loss" in text and "Student-t" in text and "failed runs" in text


def test_one_sided_p_and_holm():
    assert one_sided_p([0.5, 0.6, 0.55]) < 0.01 and one_sided_p([-1.0, 0.1, 0.2]) == 1.0 and one_sided_p([1.0]) == 1.0
    assert holm([0.001, 0.04, 0.03], 0.05) == [True, False, False]  # 0.03 > 0.05 / 2 stops the step-down
    assert holm([0.001, 0.02, 0.04], 0.05) == [True, True, True]
    assert holm([], 0.05) == []
