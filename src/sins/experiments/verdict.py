"""From measured curves to a verdict: one documented rule, nothing written by hand.

Each run (one seed) gives a table of held-out evaluations: ``step``,
``l_syn`` (the synthesis loss on held-out data) and ``error`` (EPE for
stereo, AbsRel for monocular; lower is better). For each seed:

- ``best_error`` and ``best_step``: the lowest error and where it happened;
- ``final_error`` and ``gap = final_error - best_error`` (never negative);
- ``loss_drop_after_best``: ``l_syn`` at ``best_step`` minus the final ``l_syn``
  (positive: the synthesis loss kept improving after depth stopped improving);
- ``spearman``: rank correlation of ``l_syn`` and ``error`` over the
  evaluations after warm-up (the first ``warmup`` fraction of steps is dropped).

The rule, over at least three seeds (``VerdictRule``):

- **diverges** when, in every seed, the error rose after its best while the
  synthesis loss kept falling (``gap > 0`` and ``loss_drop_after_best > 0``),
  the mean relative gap ``gap / best_error`` is at least ``min_relative_gap``,
  and the mean gap exceeds ``spread_factor`` times the standard deviation of
  the final error between seeds (the effect is larger than seed noise);
- **consistent** when the mean Spearman correlation is at least
  ``min_correlation`` and the mean relative gap is below ``min_relative_gap``
  (loss and error fall together and depth ends near its best);
- **inconclusive** otherwise, including when fewer than three seeds ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

Verdict = str  # "diverges" | "consistent" | "inconclusive"


@dataclass(frozen=True)
class VerdictRule:
    min_seeds: int = 3
    warmup: float = 0.2
    min_relative_gap: float = 0.05
    spread_factor: float = 2.0
    min_correlation: float = 0.5

    def describe(self) -> str:
        return (
            f"diverges: in all of >= {self.min_seeds} seeds the held-out error rose after its best step while L_syn kept "
            f"falling, by a mean relative gap >= {self.min_relative_gap:.0%} that exceeds {self.spread_factor:g} x the "
            f"between-seed standard deviation of the final error; consistent: mean Spearman(L_syn, error) after "
            f"{self.warmup:.0%} warm-up >= {self.min_correlation:g} and mean relative gap < {self.min_relative_gap:.0%}; "
            f"inconclusive otherwise"
        )


@dataclass
class SeedSummary:
    best_error: float
    best_step: int
    final_error: float
    gap: float
    relative_gap: float
    loss_at_best: float
    final_loss: float
    loss_drop_after_best: float
    spearman: float


def summarise_seed(curve: pd.DataFrame, error: str = "error", loss: str = "l_syn", warmup: float = 0.2) -> SeedSummary:
    """Numbers of one run from its evaluation table (columns step, l_syn, error)."""
    c = curve.dropna(subset=[error, loss]).sort_values("step")
    if len(c) < 2:
        raise ValueError(f"need at least two evaluations to summarise a run, got {len(c)}")
    ib = int(np.argmin(c[error].to_numpy()))
    best, final = float(c[error].iloc[ib]), float(c[error].iloc[-1])
    loss_best, loss_final = float(c[loss].iloc[ib]), float(c[loss].iloc[-1])
    start = c["step"].min() + warmup * (c["step"].max() - c["step"].min())
    late = c[c["step"] >= start]
    if len(late) >= 3 and late[loss].nunique() > 1 and late[error].nunique() > 1:
        rho = float(spearmanr(late[loss], late[error]).statistic)
    else:
        rho = float("nan")
    gap = max(0.0, final - best)
    return SeedSummary(best, int(c["step"].iloc[ib]), final, gap, gap / best if best > 0 else float("inf"),
                       loss_best, loss_final, loss_best - loss_final, rho)


def decide(seeds: Sequence[SeedSummary], rule: VerdictRule = VerdictRule()) -> tuple[Verdict, dict]:
    """The verdict and the numbers it was computed from."""
    n = len(seeds)
    nums: dict = {"seeds": n}
    if n == 0:
        return "inconclusive", {**nums, "reason": "no runs"}
    gaps = np.array([s.gap for s in seeds])
    rel = np.array([s.relative_gap for s in seeds])
    finals = np.array([s.final_error for s in seeds])
    rhos = np.array([s.spearman for s in seeds], dtype=float)
    spread = float(finals.std(ddof=1)) if n > 1 else float("nan")
    nums.update(
        mean_best_error=float(np.mean([s.best_error for s in seeds])),
        mean_final_error=float(finals.mean()),
        mean_gap=float(gaps.mean()),
        mean_relative_gap=float(rel.mean()),
        final_error_sd=spread,
        mean_spearman=float(np.nanmean(rhos)) if np.isfinite(rhos).any() else float("nan"),
        seeds_loss_fell_error_rose=int(sum(1 for s in seeds if s.gap > 0 and s.loss_drop_after_best > 0)),
    )
    if n < rule.min_seeds:
        return "inconclusive", {**nums, "reason": f"fewer than {rule.min_seeds} seeds"}
    all_diverge = nums["seeds_loss_fell_error_rose"] == n
    if all_diverge and nums["mean_relative_gap"] >= rule.min_relative_gap and nums["mean_gap"] > rule.spread_factor * spread:
        return "diverges", {**nums, "reason": "error rose after its best while L_syn kept falling, beyond seed spread"}
    if np.isfinite(nums["mean_spearman"]) and nums["mean_spearman"] >= rule.min_correlation and nums["mean_relative_gap"] < rule.min_relative_gap:
        return "consistent", {**nums, "reason": "L_syn and error fall together and depth ends near its best"}
    return "inconclusive", {**nums, "reason": "the effect is within the spread between seeds or the signals disagree"}


def verdict_of_curves(curves: Sequence[pd.DataFrame], error: str = "error", loss: str = "l_syn",
                      rule: VerdictRule = VerdictRule()) -> tuple[Verdict, dict, list[dict]]:
    """Verdict of several seeds' curves: (verdict, aggregate numbers, per-seed numbers)."""
    seeds = [summarise_seed(c, error=error, loss=loss, warmup=rule.warmup) for c in curves]
    verdict, nums = decide(seeds, rule)
    return verdict, nums, [asdict(s) for s in seeds]
