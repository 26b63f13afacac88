"""The loss terms added for the catalog's frequent ids, each on small exact inputs: robust penalty, residual
clipping, sparse depth and pose supervision, out-of-view mask, geometry consistency, brightness alignment."""
from __future__ import annotations

import pytest
import torch

from sins.experiments import losses as L
from sins.experiments.config import validate_config
from sins.experiments.data import Dials, render_video
from sins.experiments.data.build import batch
from sins.experiments.objectives import sparse_points, synthesis_error, video_objective

CLEAN = Dials(specular=0, occluders=0, curved=0, shadows=0)


def cfg(task="video", **loss):
    model = "depthpose" if task == "video" else "monounet"
    return validate_config({"name": "t", "task": task, "model": {"name": model}, "max_disp": 16,
                            "loss": {"compile": False, **loss}})


class VideoTruth(torch.nn.Module):
    """Predicts the true depth of every frame (from a per-frame table) and the true or scaled poses."""

    def __init__(self, clip, pose_scale=1.0):
        super().__init__()
        self.clip, self.pose_scale = clip, pose_scale
        self.w = torch.nn.Parameter(torch.zeros(()))

    def depth(self, img):  # the renderer knows only the target's depth: use it for sources too
        return self.clip.depth[None] + 0 * self.w

    def forward(self, frames):
        poses = []
        for i in (0, 2):
            T = self.clip.poses[i][None].clone()
            T[:, :3, 3] *= self.pose_scale
            poses.append(T + 0 * self.w)
        return self.clip.depth[None] + 0 * self.w, poses


@pytest.fixture(scope="module")
def clip():
    return render_video("street", (24, 48), CLEAN, seed=2, supersample=1)


def test_charbonnier_is_l1_for_small_eps_and_sublinear_with_a_smaller_power():
    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    assert torch.allclose(L.charbonnier(x, y, eps=1e-6), L.l1(x, y), atol=1e-5)
    big = torch.full((1, 3, 1, 1), 2.0)
    assert float(L.charbonnier(big, 0 * big, eps=1e-3, power=0.45)) == pytest.approx(2.0 ** 0.9, rel=1e-4)  # |r|^0.9
    c = cfg("stereo", robust="charbonnier")
    plain = cfg("stereo")
    e_rob, e_plain = synthesis_error(x, y, c.loss), synthesis_error(x, y, plain.loss)
    assert torch.allclose(e_rob, e_plain, atol=2e-4) and not torch.equal(e_rob, e_plain)


def test_clipping_caps_at_mean_plus_k_std_and_stops_the_gradient_there():
    err = torch.tensor([0.0, 0.1, 0.2, 0.3, 4.0], requires_grad=True)
    out = L.clip_residuals(err, k=0.5)
    thr = float(err.detach().mean() + 0.5 * err.detach().std())
    assert float(out.max()) == pytest.approx(thr) and torch.equal(out[:4], err[:4])
    out.sum().backward()
    assert err.grad.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]


def test_geometry_inconsistency_is_zero_for_agreeing_depths_and_bounded():
    d = torch.full((1, 1, 2, 2), 5.0)
    assert float(L.geometry_inconsistency(d, d).max()) == 0.0
    assert float(L.geometry_inconsistency(d, 3 * d).max()) == pytest.approx(0.5)
    assert float(L.geometry_inconsistency(torch.zeros_like(d), d).max()) <= 1.0


def test_brightness_alignment_undoes_a_gain_and_offset_without_gradient():
    torch.manual_seed(1)
    t = torch.rand(1, 3, 6, 6)
    w = (1.4 * t + 0.1).requires_grad_()
    a = L.align_brightness(w, t, torch.ones(1, 1, 6, 6, dtype=torch.bool))
    assert torch.allclose(a, t, atol=1e-5)
    a.sum().backward()  # the gain is a constant: d a / d w = 1 / gain for every pixel
    assert torch.allclose(w.grad, torch.full_like(w, 1 / 1.4), rtol=1e-3)


def test_sparse_points_are_a_fixed_subset_of_the_valid_pixels():
    valid = torch.ones(2, 1, 40, 50, dtype=torch.bool)
    valid[:, :, :10] = False
    a = sparse_points(valid, 0.05, ["s1", "s2"])
    assert torch.equal(a, sparse_points(valid, 0.05, ["s1", "s2"]))  # the same points each time a scene is seen
    assert not torch.equal(a[0], a[1]) and not (a & ~valid).any()
    assert 0.03 < float(a[0].float().sum() / valid[0].sum()) < 0.07


def test_true_depth_and_poses_score_zero_on_the_supervision_terms(clip):
    b = batch([clip], "cpu")
    c = cfg(sparse_depth=1.0, pose_velocity=0.02, geometry_consistency=0.5)
    t = video_objective(VideoTruth(clip), b, c)
    assert float(t.parts["sparse_depth"]) == pytest.approx(0.0, abs=1e-6)
    assert float(t.parts["pose_velocity"]) == pytest.approx(0.0, abs=1e-6)
    assert float(t.loss) == pytest.approx(sum(float(v) for v in t.parts.values()), rel=1e-6)
    wrong = video_objective(VideoTruth(clip, pose_scale=2.0), b, c)
    assert float(wrong.parts["pose_velocity"]) > 1e-4  # a translation twice too long is penalised
    assert float(wrong.parts["geometry_consistency"]) > float(t.parts["geometry_consistency"])


def test_the_out_of_view_mask_drops_samples_outside_the_source(clip):
    from sins.experiments.synthesis import warp_frame

    b = batch([clip], "cpu")
    c = cfg(auto_mask=False, out_of_view_mask=True)
    model = VideoTruth(clip)
    masked = video_objective(model, b, c)
    # by hand: per pixel the smallest error among the sources whose sample lands inside, averaged over the pixels
    # that have one
    errs, ins = [], []
    for i in (0, 2):
        w, out = warp_frame(b["frames"][:, i], b["depth"], b["K"], clip.poses[i][None])
        errs.append(synthesis_error(w, b["frames"][:, 1], c.loss))
        ins.append(~out)
    e = torch.stack([torch.where(m, x, torch.full_like(x, float("inf"))) for x, m in zip(errs, ins)]).min(0).values
    seen = torch.isfinite(e)
    assert any(not bool(m.all()) for m in ins)  # the motion takes border pixels out of a source: the mask matters
    assert float(masked.parts["synthesis"]) == pytest.approx(float(e[seen].mean()), rel=1e-5)
    masked.loss.backward()  # no NaN from the infinite candidates
    assert torch.isfinite(model.w.grad).all()


def test_brightness_alignment_lowers_the_error_of_a_changed_exposure():
    clip = render_video("street", (24, 48), Dials(specular=0, occluders=0, curved=0, shadows=0, exposure=0.4), seed=3,
                        supersample=1)
    b = batch([clip], "cpu")
    raw = video_objective(VideoTruth(clip), b, cfg(auto_mask=False))
    aligned = video_objective(VideoTruth(clip), b, cfg(auto_mask=False, brightness_align=True))
    assert float(aligned.parts["synthesis"]) < 0.7 * float(raw.parts["synthesis"])


def test_video_terms_are_refused_on_stereo():
    with pytest.raises(ValueError, match=r"loss.pose_velocity is defined on monocular video \(task 'video'\)"):
        cfg("stereo", pose_velocity=0.02)


def test_uncertainty_divides_the_minimum_reprojection_and_pays_its_log(clip):
    b = batch([clip], "cpu")
    plain = video_objective(VideoTruth(clip), b, cfg())
    model = VideoTruth(clip)
    model.last_uncertainty = torch.full_like(clip.depth[None], 0.5)
    c = validate_config({"name": "t", "task": "video", "model": {"name": "depthpose", "kwargs": {"uncertainty": True}},
                         "loss": {"compile": False, "uncertainty": True}})
    u = video_objective(model, b, c)
    expect = float(plain.parts["synthesis"]) / 0.5 + float(torch.log(torch.tensor(0.5)))
    assert float(u.parts["synthesis"]) == pytest.approx(expect, rel=1e-5)


def test_the_uncertainty_head_is_required_and_clamped():
    with pytest.raises(ValueError, match=r"loss.uncertainty needs a depth network with an uncertainty head"):
        cfg(uncertainty=True)
    from sins.experiments.models import build

    m = build("depthpose", uncertainty=True)
    depth, _ = m(torch.rand(1, 3, 3, 16, 32))
    assert depth.shape == m.last_uncertainty.shape == (1, 1, 16, 32)
    assert float(m.last_uncertainty.min()) >= 0.01 and float(m.last_uncertainty.max()) <= 1.0


def test_the_pose_cycle_is_zero_for_inverse_poses_and_scale_free():
    from sins.experiments.models.depthpose import pose_vec_to_matrix

    T = pose_vec_to_matrix(torch.tensor([[0.02, -0.01, 0.03, 0.1, 0.0, 0.5]]))
    rot, trans = L.pose_cycle(T, torch.linalg.inv(T))
    assert float(rot) < 1e-8 and float(trans) < 1e-8
    rot, trans = L.pose_cycle(T, T)  # the same motion twice does not close the cycle
    assert float(rot) > 0.5 and float(trans) > 0.5


def test_epipolar_distance_is_zero_at_the_true_pose_and_grows_off_it(clip):
    from sins.experiments.objectives import exact_matches

    b = batch([clip], "cpu")
    T = clip.poses[2][None]
    x_t, x_s = exact_matches(b["depth"], b["valid"].bool(), b["K"], T, b["names"], 2)
    assert x_t.shape == (1, 100, 2) and torch.equal(x_t, exact_matches(b["depth"], b["valid"].bool(), b["K"], T, b["names"], 2)[0])
    assert float(L.epipolar_distance(T, b["K"], x_t, x_s).max()) < 1e-2
    off = T.clone()
    off[:, 0, 3] += 0.3  # a sideways translation moves the epipolar lines
    assert float(L.epipolar_distance(off, b["K"], x_t, x_s).mean()) > 0.1
    t = video_objective(VideoTruth(clip), b, cfg(epipolar=0.001, auto_mask=False))
    assert float(t.parts["epipolar"]) < 1e-4


def test_rigid_flows_of_the_true_geometry_close_their_cycle():
    from sins.experiments.objectives import _sample_flow, rigid_flow

    # a fronto-parallel plane at depth 5 seen from two cameras 0.2 apart: exact inverse flows
    depth = torch.full((1, 1, 12, 16), 5.0)
    K = torch.tensor([[[20.0, 0, 8], [0, 20.0, 6], [0, 0, 1]]])
    T = torch.eye(4)[None].clone()
    T[0, 0, 3] = 0.2
    f_ab, inside = rigid_flow(depth, K, T)
    f_ba, _ = rigid_flow(depth, K, torch.linalg.inv(T))
    assert torch.allclose(f_ab[:, 0], torch.full_like(f_ab[:, 0], 0.8)) and inside.any() and not inside.all()
    assert float(L.flow_cycle(f_ab, _sample_flow(f_ba, f_ab), inside)) < 1e-5
    assert float(L.flow_cycle(f_ab, _sample_flow(f_ba * 0.5, f_ab), inside)) > 0.1  # an inconsistent backward flow


def test_every_video_term_trains_a_real_model(clip):
    from sins.experiments.models import build

    b = batch([clip], "cpu")
    c = validate_config({"name": "t", "task": "video", "model": {"name": "depthpose", "kwargs": {"uncertainty": True, "width": 4}},
                         "loss": {"compile": False, "pose_cycle": 1.0, "flow_consistency": 0.1, "geometry_consistency": 0.5,
                                  "uncertainty": True, "epipolar": 0.001, "pose_velocity": 0.02, "sparse_depth": 1.0,
                                  "residual_clip": 0.5, "out_of_view_mask": True, "brightness_align": True,
                                  "robust": "charbonnier"}})
    model = build("depthpose", uncertainty=True, width=4)
    t = video_objective(model, b, c)
    assert {"synthesis", "pose_cycle", "flow_consistency", "geometry_consistency", "epipolar", "pose_velocity",
            "sparse_depth"} <= set(t.parts)
    assert all(torch.isfinite(v) for v in t.parts.values())
    t.loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(float(p.grad.abs().sum()) > 0 for p in model.pose.parameters())


def test_semantic_cross_entropy_trains_the_segmentation_head():
    from sins.experiments.data import render_stereo
    from sins.experiments.models import build
    from sins.experiments.objectives import stereo_objective

    s = render_stereo("street", (16, 32), seed=4, supersample=1)
    assert s.labels.shape == (1, 16, 32) and int(s.labels.max()) < 5
    b = batch([s], "cpu")
    c = validate_config({"name": "t", "task": "stereo", "model": {"name": "monounet", "kwargs": {"classes": 5, "width": 4}},
                         "max_disp": 16, "loss": {"compile": False, "semantic": 0.1}})
    model = build("monounet", classes=5, width=4, max_disp=16)
    t = stereo_objective(model, b, c)
    assert float(t.parts["semantic"]) == pytest.approx(0.1 * float(torch.nn.functional.cross_entropy(
        model.last_logits, b["labels"][:, 0])), rel=1e-5)
    t.loss.backward()
    assert float(model.seg.weight.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match=r"loss.semantic needs a segmentation head"):
        cfg("stereo", semantic=0.1)


def test_adversarial_terms_train_each_network_on_its_own_loss_only():
    from sins.experiments.data import render_stereo
    from sins.experiments.models import build
    from sins.experiments.objectives import stereo_objective

    s = render_stereo("street", (32, 64), seed=4, supersample=1)
    b = batch([s], "cpu")
    c = validate_config({"name": "t", "task": "stereo", "model": {"name": "monounet", "kwargs": {"discriminator": True, "width": 4}},
                         "max_disp": 16, "loss": {"compile": False, "adversarial": 1e-4}})
    model = build("monounet", discriminator=True, width=4, max_disp=16)
    assert model.disc(torch.rand(1, 3, 32, 64)).shape == (1, 1, 4, 8)  # a patch map at 1/8 resolution
    t = stereo_objective(model, b, c)
    assert {"adversarial", "discriminator"} <= set(t.parts) and float(t.parts["adversarial"]) <= 0  # Pilzer's form
    model.zero_grad()
    t.parts["adversarial"].backward(retain_graph=True)
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0 for p in model.disc.parameters())
    assert float(model.dec.out.weight.grad.abs().sum()) > 0  # the generator term trains the depth network
    model.zero_grad()
    t.parts["discriminator"].backward()
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0 for p in model.dec.parameters())
    assert float(model.disc.net[0].weight.grad.abs().sum()) > 0
    lsgan = validate_config({**c.model_dump(), "loss": {**c.loss.model_dump(), "gan_form": "lsgan"}})
    assert float(stereo_objective(model, b, lsgan).parts["adversarial"]) >= 0
    with pytest.raises(ValueError, match=r"loss.adversarial needs a discriminator"):
        cfg("stereo", adversarial=1e-4)


def test_moving_boxes_and_the_motion_mask():
    from sins.experiments.data.procedural import CLASSES

    still = render_video("street", (24, 48), Dials(occluders=4), seed=3, supersample=1)
    moving = render_video("street", (24, 48), Dials(occluders=4, moving=2), seed=3, supersample=1)
    assert torch.equal(still.frames[1], moving.frames[1]) and not torch.equal(still.frames[0], moving.frames[0])
    assert "moving" not in still.causes and moving.causes["moving"].any()
    assert (moving.labels[moving.causes["moving"]] == CLASSES.index("box")).float().mean() > 0.9  # the movers are boxes
    from sins.experiments.synthesis import warp_frame

    b = batch([moving], "cpu")
    c = cfg(auto_mask=False, motion_mask=True)
    errs = [synthesis_error(warp_frame(b["frames"][:, i], b["depth"], b["K"], moving.poses[i][None])[0], b["frames"][:, 1], c.loss)
            for i in (0, 2)]
    e = L.min_reprojection(errs)
    mov = moving.causes["moving"][None]
    assert float(e[mov].mean()) > 2 * float(e[~mov].mean())  # no rigid warp explains a moving box
    masked = video_objective(VideoTruth(moving), b, c)
    keep = b["labels"] != CLASSES.index("box")
    assert float(masked.parts["synthesis"]) == pytest.approx(float(e[keep].mean()), rel=1e-5)
