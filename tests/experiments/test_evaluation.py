"""Held-out evaluation: pooled errors per cause, baselines, the oracle gap on every scene."""
from __future__ import annotations

import pytest
import torch

from sins.experiments.config import validate_config
from sins.experiments.data import Dials, render_stereo, render_video
from sins.experiments.data.samples import StereoSample
from sins.experiments.evaluation import baseline_errors, cause_shares, evaluate, oracle_and_landscape


class Const(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.v = value
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, left, right=None):
        return torch.full_like(left[:, :1], self.v) + 0 * self.w


def cfg(task="stereo", model="monounet"):
    return validate_config({"name": "t", "task": task, "model": {"name": model}, "max_disp": 16, "loss": {"compile": False}})


def _flat(h, w, disp, cause_cols):
    """A pair whose error against a constant prediction is known exactly."""
    d = torch.full((1, h, w), float(disp))
    m = torch.zeros(1, h, w, dtype=torch.bool)
    m[..., :cause_cols] = True
    img = torch.rand(3, h, w)
    return StereoSample(img, img, d, torch.ones(1, h, w, dtype=torch.bool), {"specular": m})


def test_errors_are_pooled_over_pixels_not_averaged_over_scenes():
    a, b = _flat(4, 10, 2.0, cause_cols=1), _flat(4, 10, 6.0, cause_cols=9)
    out = evaluate(Const(3.0), [a, b], cfg(), "cpu")
    assert out["epe"] == pytest.approx(2.0)  # |3-2| and |3-6| over equal pixel counts
    # specular: 4 px with error 1 and 36 px with error 3 -> pixel-weighted 2.8 (a scene mean would say 2.0)
    assert out["specular_epe"] == pytest.approx((4 * 1 + 36 * 3) / 40)
    assert {"heldout_lsyn", "heldout_lsyn_trained", "bad1", "d1"} <= set(out)


def test_baseline_is_the_mean_training_disparity():
    train = [_flat(4, 10, 2.0, 0), _flat(4, 10, 4.0, 0)]
    held = [_flat(4, 10, 6.0, 5)]
    base = baseline_errors(train, held, "stereo")
    assert base["epe"] == pytest.approx(3.0) and base["specular_epe"] == pytest.approx(3.0)
    assert cause_shares(held) == {"specular": pytest.approx(0.5)}


def test_video_median_scale_comes_from_the_whole_scene():
    v = render_video("street", (24, 48), Dials(), seed=0)

    class Half(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, frames):
            return v.depth[None] * 0.5 + 0 * self.w, [v.poses[None, 0], v.poses[None, 2]]

    out = evaluate(Half(), [v], cfg("video", "depthpose"), "cpu")
    # a prediction off by a global scale is exact after median scaling, in every cause too
    assert out["abs_rel"] == pytest.approx(0.0, abs=1e-5)
    assert all(out[k] == pytest.approx(0.0, abs=1e-5) for k in out if k.endswith("_abs_rel"))
    base = baseline_errors([v], [v], "video")
    assert 0 < base["abs_rel"] < 1


def test_oracle_gap_and_landscape_cover_every_heldout_scene():
    held = [render_stereo("street", (24, 48), Dials(), seed=k) for k in range(3)]
    res = oracle_and_landscape(Const(2.0), held, cfg(), "cpu")
    assert len(res["oracle_gap_per_scene"]) == 3 and len(res["per_scene"]) == 3
    assert res["oracle_gap"] == pytest.approx(sum(res["oracle_gap_per_scene"]) / 3)
    assert 0 <= res["per_cause"]["none"]["misleading"] <= 1 and res["per_cause"]["none"]["pixels"] > 0


def test_video_evaluation_measures_the_pose_against_the_true_motion():
    from sins.experiments.models.depthpose import axis_angle_to_matrix

    v = render_video("street", (24, 48), Dials(), seed=0)
    true = [v.poses[None, 0], v.poses[None, 2]]

    class Posed(torch.nn.Module):
        def __init__(self, poses):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))
            self.poses = poses

        def forward(self, frames):
            return v.depth[None] * 0.5 + 0 * self.w, self.poses

    def scaled(T, k):  # the same motion at the depth's half scale
        T = T.clone()
        T[:, :3, 3] *= k
        return T

    out = evaluate(Posed([scaled(T, 0.5) for T in true]), [v], cfg("video", "depthpose"), "cpu")
    assert out["pose_t_cos"] == pytest.approx(1.0, abs=1e-5)
    assert out["pose_t_ratio"] == pytest.approx(1.0, abs=1e-4)  # the translation fits the depth's scale
    assert out["pose_rot_err_deg"] == pytest.approx(0.0, abs=1e-3)
    out = evaluate(Posed(true), [v], cfg("video", "depthpose"), "cpu")
    assert out["pose_t_ratio"] == pytest.approx(2.0, abs=1e-4)  # twice too long for a depth at half the scale
    turn = axis_angle_to_matrix(torch.tensor([[0.0, 0.035, 0.0]]))  # 2.005 degrees about the vertical
    bad = []
    for T in true:
        B = scaled(T, -0.5)  # backwards
        B[:, :3, :3] = T[:, :3, :3] @ turn
        bad.append(B)
    out = evaluate(Posed(bad), [v], cfg("video", "depthpose"), "cpu")
    assert out["pose_t_cos"] == pytest.approx(-1.0, abs=1e-5)
    assert out["pose_rot_err_deg"] == pytest.approx(2.0054, abs=2e-3)
