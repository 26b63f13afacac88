"""From measured curves to a verdict: one documented rule, nothing written by hand.

Each run (one seed) gives a table of held-out evaluations: ``step``, ``l_syn`` (the synthesis loss
on at least 16 held-out scenes) and ``error`` (EPE for stereo, AbsRel for monocular; lower is
better), and the error of a constant prediction on the same scenes (``baseline``).

**Per run.**

- *Failed run*: the held-out ``l_syn`` never went below its value at step 0, or the best error
  is not at least ``min_gain`` (10%) below the constant prediction's (the run learnt next to nothing:
  a depth network whose error came within 1% of a constant depth's had output an almost constant
  depth). A failed run is shown, never used in a verdict. A run that beat the constant and then got worse while its loss kept falling did
  train: that is what a divergence looks like, so it is not called failed.
- *Cost of trusting the loss*: ``cost = error(t_L) - min_t error(t)``, where ``t_L`` is the
  evaluation with the lowest held-out ``l_syn``: how much worse the depth is at the checkpoint the
  loss would pick than at the best checkpoint of the run.
- *Evaluation noise*: ``noise_sd`` is the late-training fluctuation of the error, from the
  differences between consecutive evaluations over the second half of the run (robust spread,
  1.4826 x median absolute deviation, divided by sqrt 2; a slow trend barely moves it). The
  error's trend is its running median over ``trend_window`` evaluations. Because the minimum over noisy
  evaluations is biased low, ``cost`` is positive even when loss and error agree up to noise. The
  paired statistic removes that part: ``excess = error(t_L) - error(t_T)``, where ``t_T`` is the
  evaluation with the lowest *trend* of the error (the checkpoint an oracle that sees the error,
  but not its noise, would pick). If the loss picks as well as that oracle, ``excess`` is noise
  centred on 0.
- *Overfitting*: held-out ``l_syn`` ends more than 2 ``noise`` above its minimum while the error
  rose too; the loss still tracks the error there, so overfitting is reported, not called
  divergence.
- ``share_lost = cost / (baseline - best error)``: the share of what training gained over a
  constant prediction that trusting the loss gives back.

**Per experiment** (one configuration, its successful seeds): the mean ``excess`` over seeds with
a two-sided Student-t interval at ``confidence`` (a paired test: both errors come from the same run).
The tolerance is ``tolerance`` times the mean improvement over the constant prediction.

- **failed**: fewer than ``min_seeds`` runs succeeded (the failed runs and why are listed);
- **diverges**: the interval lies above 0 and the mean ``excess`` is at least the tolerance;
- **consistent**: the interval lies below the tolerance (trusting the loss costs less than that);
- **inconclusive**: otherwise.

Each verdict answers its own question at 95 %. Where a claim pools many verdicts (every
configuration, globally and per cause), it also reports which divergences survive a Holm-Bonferroni
correction over that family (one-sided paired t-test of ``excess > 0``, :func:`holm`).

**Per cause** the same rule runs on the error inside one cause mask (``occluded_epe`` ...), with the
checkpoint still picked by the global held-out ``l_syn``, as a user would; a cause is judged only
where it exists at the experiment's scale (see :func:`cause_exists`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

Verdict = str  # "diverges" | "consistent" | "inconclusive" | "failed"
VERDICTS = ("diverges", "consistent", "inconclusive", "failed")


@dataclass(frozen=True)
class VerdictRule:
    min_seeds: int = 3
    min_heldout: int = 16
    confidence: float = 0.95
    tolerance: float = 0.05
    trend_window: int = 5
    min_cause_share: float = 0.005
    #: a run trained only if its best error is at least this share below the constant prediction's
    min_gain: float = 0.10

    def describe(self) -> str:
        return (
            f"cost of trusting the loss = error at the lowest held-out L_syn minus the run's lowest error; paired "
            f"statistic excess = error at the lowest L_syn minus error at the lowest running-median ({self.trend_window} "
            f"evaluations) of the error; over >= {self.min_seeds} successful seeds on >= {self.min_heldout} held-out "
            f"scenes, a {self.confidence:.0%} Student-t interval of the mean excess: diverges if it lies above 0 and the "
            f"mean is >= {self.tolerance:.0%} of the improvement over a constant prediction; consistent if it lies below "
            f"that tolerance; inconclusive otherwise; failed runs (L_syn never below its start, or a best error not "
            f"{self.min_gain:.0%} below a constant prediction's) are excluded and listed"
        )


@dataclass
class RunSummary:
    failed: str
    evaluations: int
    start_loss: float
    min_loss: float
    final_loss: float
    step_at_min_loss: int
    best_error: float
    best_step: int
    final_error: float
    error_at_min_loss: float
    baseline_error: float
    improvement: float
    cost: float
    share_lost: float
    trend_step: int
    error_at_trend_min: float
    excess: float
    noise_sd: float
    overfits: bool


def running_median(x: np.ndarray, window: int) -> np.ndarray:
    h = window // 2
    return np.array([np.median(x[max(0, i - h): i + h + 1]) for i in range(len(x))])


def robust_sd(r: np.ndarray) -> float:
    r = r[np.isfinite(r)]
    return float(1.4826 * np.median(np.abs(r - np.median(r)))) if r.size else float("nan")


def summarise_run(curve: pd.DataFrame, baseline: float, error: str = "error", loss: str = "l_syn",
                  rule: VerdictRule = VerdictRule(), failed: str | None = None) -> RunSummary:
    """Numbers of one run from its evaluation table. ``failed``: a reason decided elsewhere (e.g. by the
    global error when this is a per-cause curve); otherwise it is decided here."""
    c = curve.dropna(subset=[error, loss]).sort_values("step")
    if len(c) < 2:
        raise ValueError(f"need at least two evaluations to summarise a run, got {len(c)}")
    steps, L, E = c["step"].to_numpy(), c[loss].to_numpy(float), c[error].to_numpy(float)
    iL, iE = int(np.argmin(L)), int(np.argmin(E))
    trend = running_median(E, rule.trend_window)
    iT = int(np.argmin(trend))
    late = slice(len(E) // 2, None)
    noise = robust_sd(np.diff(E[late])) / math.sqrt(2) if len(E[late]) >= 3 else float("nan")
    noise_l = robust_sd(np.diff(L[late])) / math.sqrt(2) if len(L[late]) >= 3 else float("nan")
    best, final = float(E[iE]), float(E[-1])
    improvement = float(baseline - best) if math.isfinite(baseline) else float("nan")
    cost = float(E[iL] - best)
    if failed is None:
        failed = ""
        if float(np.min(L[1:])) >= float(L[0]):
            failed = f"held-out L_syn never went below its start ({L[0]:.4g})"
        elif math.isfinite(baseline) and best > (1.0 - rule.min_gain) * baseline:
            failed = (f"the best error is not {rule.min_gain:.0%} below a constant prediction's "
                      f"({best:.4g} against {baseline:.4g})")
    tol_l = 2 * noise_l if math.isfinite(noise_l) else 0.0
    tol_e = 2 * noise if math.isfinite(noise) else 0.0
    overfits = bool(L[-1] - L[iL] > tol_l and E[-1] - E[iL] > tol_e and iL < len(L) - 1)
    return RunSummary(
        failed=failed, evaluations=len(c), start_loss=float(L[0]), min_loss=float(L[iL]), final_loss=float(L[-1]),
        step_at_min_loss=int(steps[iL]), best_error=best, best_step=int(steps[iE]), final_error=final,
        error_at_min_loss=float(E[iL]), baseline_error=float(baseline), improvement=improvement, cost=cost,
        share_lost=cost / improvement if improvement and improvement > 0 else float("nan"),
        trend_step=int(steps[iT]), error_at_trend_min=float(E[iT]), excess=float(E[iL] - E[iT]), noise_sd=noise,
        overfits=overfits,
    )


def t_interval(x: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of a two-sided Student-t interval of the mean."""
    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], float)
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(a.mean())
    if a.size == 1:
        return m, float("-inf"), float("inf")
    half = float(stats.t.ppf(0.5 + confidence / 2, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return m, m - half, m + half


def one_sided_p(x: Sequence[float]) -> float:
    """p-value of a one-sided Student-t test of 'mean > 0' (1 when the mean is not positive or n < 2)."""
    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], float)
    if a.size < 2 or a.mean() <= 0:
        return 1.0
    sd = a.std(ddof=1)
    if sd == 0:
        return 0.0
    return float(stats.t.sf(a.mean() / (sd / math.sqrt(a.size)), a.size - 1))


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Holm-Bonferroni: which of a family of tests are rejected at family-wise level ``alpha``."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    out = [False] * len(p_values)
    m = len(p_values)
    for k, i in enumerate(order):
        if p_values[i] <= alpha / (m - k):
            out[i] = True
        else:
            break
    return out


def decide(runs: Sequence[RunSummary], rule: VerdictRule = VerdictRule()) -> tuple[Verdict, dict]:
    """The verdict and the numbers it was computed from."""
    good = [r for r in runs if not r.failed]
    failed = [{"run": i, "reason": r.failed} for i, r in enumerate(runs) if r.failed]
    nums: dict = {"seeds": len(runs), "successful_seeds": len(good), "failed_runs": failed}
    if not runs:
        return "inconclusive", {**nums, "reason": "no runs"}
    if len(good) < rule.min_seeds:
        if failed:
            return "failed", {**nums, "reason": f"only {len(good)} of {len(runs)} runs trained (at least {rule.min_seeds} "
                                                f"needed): " + "; ".join(f"run {f['run']}: {f['reason']}" for f in failed)}
        return "inconclusive", {**nums, "reason": f"fewer than {rule.min_seeds} seeds"}
    mean, lo, hi = t_interval([r.excess for r in good], rule.confidence)
    p_value = one_sided_p([r.excess for r in good])
    improvement = float(np.mean([r.improvement for r in good]))
    tol = rule.tolerance * improvement if math.isfinite(improvement) and improvement > 0 else 0.0
    nums.update(
        mean_excess=mean, excess_low=lo, excess_high=hi, confidence=rule.confidence, tolerance=tol, p_value=p_value,
        mean_cost=float(np.mean([r.cost for r in good])),
        mean_share_lost=float(np.nanmean([r.share_lost for r in good])) if any(math.isfinite(r.share_lost) for r in good) else float("nan"),
        mean_noise_sd=float(np.nanmean([r.noise_sd for r in good])) if any(math.isfinite(r.noise_sd) for r in good) else float("nan"),
        mean_best_error=float(np.mean([r.best_error for r in good])),
        mean_final_error=float(np.mean([r.final_error for r in good])),
        mean_error_at_min_loss=float(np.mean([r.error_at_min_loss for r in good])),
        mean_baseline_error=float(np.mean([r.baseline_error for r in good])),
        mean_final_loss=float(np.mean([r.final_loss for r in good])),
        overfitting_seeds=int(sum(r.overfits for r in good)),
    )
    if lo > 0 and mean >= tol:
        return "diverges", {**nums, "reason": f"at the lowest held-out L_syn the error is higher than at the error's best trend by "
                                             f"{mean:.3g} ({rule.confidence:.0%} interval {lo:.3g} to {hi:.3g}), above the "
                                             f"tolerance {tol:.3g}"}
    if hi < tol:
        return "consistent", {**nums, "reason": f"trusting the loss costs at most {hi:.3g} ({rule.confidence:.0%} interval "
                                               f"{lo:.3g} to {hi:.3g}), below the tolerance {tol:.3g}"}
    return "inconclusive", {**nums, "reason": f"the excess cost {mean:.3g} ({rule.confidence:.0%} interval {lo:.3g} to "
                                             f"{hi:.3g}) is neither clearly above 0 and the tolerance {tol:.3g} nor below it"}


def verdict_of_curves(curves: Sequence[pd.DataFrame], baselines: Sequence[float], error: str = "error",
                      loss: str = "l_syn", rule: VerdictRule = VerdictRule(),
                      failed: Sequence[str | None] | None = None) -> tuple[Verdict, dict, list[dict]]:
    """Verdict of several seeds' curves: (verdict, aggregate numbers, per-seed numbers)."""
    failed = list(failed) if failed is not None else [None] * len(curves)
    runs = [summarise_run(c, b, error=error, loss=loss, rule=rule, failed=f) for c, b, f in zip(curves, baselines, failed)]
    verdict, nums = decide(runs, rule)
    return verdict, nums, [asdict(r) for r in runs]


def cause_exists(share: float, misleading: float, clean_misleading: float, rule: VerdictRule = VerdictRule()) -> tuple[bool, str]:
    """A cause is judged only where it exists: it covers at least ``min_cause_share`` of the held-out pixels
    and the per-pixel loss minimum is off the truth there more often than at clean pixels."""
    if not share or share < rule.min_cause_share:
        return False, f"covers {share or 0:.2%} of the held-out pixels (< {rule.min_cause_share:.1%})"
    if misleading is None or clean_misleading is None or not math.isfinite(misleading) or not math.isfinite(clean_misleading):
        return True, "the landscape was not measured (no ground-truth sweep for this task)"
    if misleading <= clean_misleading:
        return False, (f"misleads the loss at {misleading:.1%} of its pixels, no more often than clean pixels "
                       f"({clean_misleading:.1%})")
    return True, f"covers {share:.1%} of the pixels and misleads the loss at {misleading:.1%} of them (clean {clean_misleading:.1%})"
