"""What is minimised: each objective alone, on small exact inputs."""
from __future__ import annotations

import pytest
import torch

from sins.experiments import losses as L
from sins.experiments.config import validate_config
from sins.experiments.data import Dials, render_stereo, render_video
from sins.experiments.data.build import batch
from sins.experiments.objectives import IDENTITY_OFFSET, OBJECTIVES, stereo_objective, synthesis_error, video_objective


def cfg(task="stereo", model="monounet", **loss):
    return validate_config({"name": "t", "task": task, "model": {"name": model}, "max_disp": 16,
                            "loss": {"compile": False, **loss}})


class Truth(torch.nn.Module):
    """Predicts a fixed disparity (the ground truth of the batch it is given)."""

    def __init__(self, disp):
        super().__init__()
        self.disp = disp
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, left, right=None):
        return self.disp + 0 * self.w


class VideoTruth(torch.nn.Module):
    def __init__(self, depth, poses, identity=False):
        super().__init__()
        self.d, self.p, self.identity = depth, poses, identity
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, frames):
        poses = [torch.eye(4)[None] if self.identity else self.p[:, i] for i in (0, 2)]
        return self.d + 0 * self.w, poses


def test_stereo_objective_parts_sum_to_the_loss_and_the_truth_scores_well():
    s = render_stereo("street", (24, 48), Dials(specular=0, occluders=0, curved=0, shadows=0), seed=1)
    b = batch([s], "cpu")
    c = cfg(smoothness=0.01, second_order=0.01, supervised=0.5)
    t = stereo_objective(Truth(b["disparity"]), b, c)
    assert set(t.parts) == {"synthesis", "smoothness", "second_order", "supervised"}
    assert torch.isclose(t.loss, sum(t.parts.values()))
    assert float(t.parts["supervised"]) == pytest.approx(0.0, abs=1e-6)
    wrong = stereo_objective(Truth(b["disparity"] + 3), b, c)
    assert float(wrong.parts["synthesis"]) > 2 * float(t.parts["synthesis"])


def test_synthesis_error_blends_the_configured_terms():
    x, y = torch.rand(1, 3, 8, 12), torch.rand(1, 3, 8, 12)
    e = synthesis_error(x, y, cfg(photometric=0.0, l1=1.0).loss)
    torch.testing.assert_close(e, L.l1(x, y).mean(1, keepdim=True))
    e2 = synthesis_error(x, y, cfg(photometric=1.0, alpha=0.85).loss)
    torch.testing.assert_close(e2, L.photometric(x, y, alpha=0.85, compile=False))


def test_video_auto_mask_takes_the_identity_error_and_averages_over_all_pixels():
    """Monodepth2: identity losses join the per-pixel minimum; the mean runs over every pixel."""
    v = render_video("street", (24, 48), Dials(occluders=0, curved=0), seed=0)
    b = batch([v], "cpu")
    c = cfg("video", "depthpose", smoothness=0.0)
    model = VideoTruth(b["depth"], b["poses"])
    t = video_objective(model, b, c)
    from sins.experiments.synthesis import warp_frame

    tgt = b["frames"][:, 1]
    reproj = [L.photometric(warp_frame(b["frames"][:, i], b["depth"], b["K"], b["poses"][:, i])[0], tgt, compile=False) for i in (0, 2)]
    ident = [L.photometric(b["frames"][:, i], tgt, compile=False) + IDENTITY_OFFSET for i in (0, 2)]
    want = torch.cat(reproj + ident, 1).min(1).values.mean()
    assert float(t.parts["synthesis"]) == pytest.approx(float(want), rel=1e-5)
    no_mask = video_objective(model, b, cfg("video", "depthpose", auto_mask=False))
    assert float(no_mask.parts["synthesis"]) == pytest.approx(float(torch.cat(reproj, 1).min(1).values.mean()), rel=1e-5)


def test_explainability_needs_a_mask_head():
    from sins.experiments.config import ConfigError

    v = render_video("street", (24, 48), Dials(), seed=0)
    b = batch([v], "cpu")
    c = cfg("video", "depthpose", explainability=0.2, min_reprojection=False, auto_mask=False)
    with pytest.raises(ConfigError, match="explainability head"):
        video_objective(VideoTruth(b["depth"], b["poses"]), b, c)


def test_every_task_has_an_objective():
    assert set(OBJECTIVES) == {"stereo", "video"}
