"""The procedural renderer (exact geometry, cause masks, dials) and the Motorcycle pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sins.experiments.data import CAUSES, Dials, motorcycle, render_stereo, render_video
from sins.experiments.synthesis import warp_frame, warp_stereo

SIZE = (48, 96)
DOMAINS = ["street", "indoor", "medical"]


def _residual(s):
    warped, outside = warp_stereo(s.right[None], s.disparity[None])
    return (warped[0] - s.left).abs().mean(0, keepdim=True), outside[0]


@pytest.mark.parametrize("domain", DOMAINS)
def test_stereo_shapes_and_exact_disparity(domain):
    s = render_stereo(domain, SIZE, Dials(), seed=1)
    assert s.left.shape == s.right.shape == (3, *SIZE) and s.left.dtype == torch.float32
    assert set(s.causes) == set(CAUSES) and all(m.shape == (1, *SIZE) and m.dtype == torch.bool for m in s.causes.values())
    assert s.valid.all() and (s.disparity > 0).all()
    f = s.K[0, 0]
    torch.testing.assert_close(s.disparity, f * s.baseline / s.depth)
    # where the point is visible in the right view and there is no highlight, warping the
    # right image by the exact disparity gives back the left image
    res, outside = _residual(s)
    good = s.valid & ~s.causes["occluded"] & ~s.causes["border"] & ~s.causes["specular"] & ~s.causes["depth_edge"] & ~outside
    assert good.float().mean() > 0.6
    assert res[good].mean() < 0.02
    # a wrong disparity does much worse
    res_bad, _ = _residual(type(s)(s.left, s.right, s.disparity + 2.0, s.valid))
    assert res_bad[good].mean() > 2 * res[good].mean()


@pytest.mark.parametrize("domain", DOMAINS)
def test_deterministic_for_a_seed_and_layouts_differ_between_seeds(domain):
    a, b = render_stereo(domain, SIZE, Dials(noise=0.02), seed=3), render_stereo(domain, SIZE, Dials(noise=0.02), seed=3)
    assert torch.equal(a.left, b.left) and torch.equal(a.right, b.right) and torch.equal(a.disparity, b.disparity)
    c = render_stereo(domain, SIZE, Dials(noise=0.02), seed=4)
    assert not torch.equal(a.left, c.left)
    # not only the texture: the geometry (depth) differs from seed to seed
    depths = [render_stereo(domain, SIZE, Dials(texture=0.0), seed=k).depth for k in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert (depths[i] - depths[j]).abs().mean() > 0.02 * depths[i].mean()


def test_pixels_average_subsamples_and_the_centre_ray_gives_the_disparity():
    one = render_stereo("street", SIZE, Dials(), seed=2, supersample=1)
    three = render_stereo("street", SIZE, Dials(), seed=2, supersample=3)
    torch.testing.assert_close(one.disparity, three.disparity)  # the centre sub-sample is the pixel centre
    assert not torch.equal(one.left, three.left)
    with pytest.raises(ValueError, match="odd number"):
        render_stereo("street", SIZE, Dials(), seed=2, supersample=2)


def _clean_loss_at_truth(size, supersample, seeds=range(6)):
    from sins.experiments.losses import photometric

    clean = Dials(specular=0.0, occluders=0, curved=0, shadows=0.0, noise=0.0, exposure=0.0)
    out = []
    for seed in seeds:
        s = render_stereo("street", size, clean, seed=seed, supersample=supersample)
        warped, outside = warp_stereo(s.right[None], s.disparity[None])
        err = photometric(warped, s.left[None], compile=False)[0]
        m = s.valid & ~s.causes["occluded"] & ~s.causes["border"] & ~outside[0]
        out.append(float(err[m].mean()))
    return float(np.mean(out)), float(np.max(out))


@pytest.mark.slow
def test_area_integrated_pixels_warp_well_at_the_truth():
    """Clean Lambertian street scenes (no highlight, occluder, shadow or noise), SSIM + L1 at the true
    disparity on non-occluded pixels. Measured (6 seeds): point-sampled 96x192 about 0.010, 3 x 3
    sub-samples about 0.0045 (worst seed below 0.006); bound 0.007."""
    mean3, worst3 = _clean_loss_at_truth((96, 192), 3)
    mean1, _ = _clean_loss_at_truth((96, 192), 1)
    assert worst3 < 0.007
    assert mean3 < 0.6 * mean1


@pytest.mark.slow
def test_scenes_at_96x192_contain_the_causes():
    """Disparities reach 16 px, occlusion bands exist beside depth edges (apart from the image border),
    and a strong highlight misleads the per-pixel loss more often than clean pixels do."""
    from sins.experiments.manifold import analyse

    dials = Dials(specular=1.5, repetitive=0.6, occluders=4, curved=3)
    tops, occ, mis_spec, mis_clean = [], [], [], []
    for seed in range(4):
        s = render_stereo("street", (96, 192), dials, seed=seed)
        tops.append(float(s.disparity[s.valid].max()))
        occ.append(float(s.causes["occluded"].float().mean()))
        assert not (s.causes["occluded"] & s.causes["border"]).any()
        res = analyse(s, hypotheses=torch.arange(0.0, tops[-1] + 3, 0.5), compile=False)
        if res["per_cause"]["specular"]["share"] > 0:
            mis_spec.append(res["per_cause"]["specular"]["misleading"])
        mis_clean.append(res["per_cause"]["none"]["misleading"])
    assert max(tops) >= 16 and min(tops) >= 12
    assert min(occ) > 0.005
    assert mis_spec and np.mean(mis_spec) > 3 * np.mean(mis_clean)
    for domain in ("indoor", "medical"):  # the other domains reach 16 px too
        tops = [float(render_stereo(domain, (96, 192), dials, seed=seed).disparity.max()) for seed in range(3)]
        assert max(tops) >= 16, (domain, tops)


def test_border_is_its_own_cause():
    s = render_stereo("street", SIZE, Dials(occluders=4), seed=0)
    xs = torch.arange(SIZE[1]).view(1, 1, -1)
    leaving = (xs - s.disparity) < -0.5
    assert leaving.any() and s.causes["border"][leaving].float().mean() > 0.9
    assert not (s.causes["border"] & s.causes["occluded"]).any()
    hidden = s.causes["occluded"]
    assert hidden.any()  # occluders hide background from the right camera
    res, _ = _residual(s)
    vis = ~s.causes["occluded"] & ~s.causes["border"] & ~s.causes["specular"] & ~s.causes["depth_edge"]
    assert res[hidden].mean() > 3 * res[vis].mean()
    none = render_stereo("street", SIZE, Dials(occluders=0, curved=0), seed=0)
    assert none.causes["occluded"].float().mean() < hidden.float().mean()


@pytest.mark.parametrize("domain", DOMAINS)
def test_specular_highlight_is_view_dependent(domain):
    s = render_stereo(domain, SIZE, Dials(specular=3.0, texture=0.0, shadows=0.0, occluders=2, curved=4), seed=2)
    spec = s.causes["specular"] & ~s.causes["occluded"] & ~s.causes["border"]
    assert spec.any()
    res, _ = _residual(s)
    rest = ~s.causes["specular"] & ~s.causes["occluded"] & ~s.causes["border"] & ~s.causes["depth_edge"]
    assert res[spec].mean() > 2 * res[rest].mean() + 1e-3  # the highlight moved between the views
    dull = render_stereo(domain, SIZE, Dials(specular=0.0, texture=0.0, shadows=0.0, occluders=2, curved=4), seed=2)
    assert not dull.causes["specular"].any()


def test_texture_dial_controls_textureless_and_repetitive_masks():
    flat = render_stereo("indoor", SIZE, Dials(texture=0.0), seed=0)
    rich = render_stereo("indoor", SIZE, Dials(texture=1.5), seed=0)
    assert flat.causes["textureless"].float().mean() > 0.8
    assert rich.causes["textureless"].float().mean() < 0.3
    assert not flat.causes["repetitive"].any()
    rep = render_stereo("indoor", SIZE, Dials(texture=0.0, repetitive=1.0), seed=0)
    m = rep.causes["repetitive"]
    assert 0.1 < m.float().mean() < 1.0
    # stripes add texture exactly where the mask says
    assert rep.causes["textureless"][m].float().mean() < flat.causes["textureless"][m].float().mean()


def test_shadow_dial():
    lit = render_stereo("indoor", SIZE, Dials(shadows=0.0, occluders=4), seed=5)
    dark = render_stereo("indoor", SIZE, Dials(shadows=0.9, occluders=4), seed=5)
    assert not lit.causes["shadow"].any()
    m = dark.causes["shadow"]
    assert m.any()
    assert (dark.left.mean(0, keepdim=True)[m] < lit.left.mean(0, keepdim=True)[m]).float().mean() > 0.95


def test_noise_and_exposure_dials():
    base = render_stereo("street", SIZE, Dials(), seed=0)
    noisy = render_stereo("street", SIZE, Dials(noise=0.05), seed=0)
    diff = (noisy.left - base.left)[(base.left > 0.2) & (base.left < 0.8)]
    assert 0.04 < diff.std() < 0.06
    bright = render_stereo("street", SIZE, Dials(exposure=0.3), seed=0)
    assert torch.equal(bright.left, base.left)
    ratio = bright.right[base.right < 0.7] / base.right[base.right < 0.7].clamp_min(1e-3)
    assert torch.allclose(ratio[base.right[base.right < 0.7] > 0.05], torch.tensor(1.3), atol=1e-3)


def test_depth_edges_at_disparity_jumps():
    s = render_stereo("street", SIZE, Dials(occluders=3), seed=1)
    d = s.disparity[0]
    jump = (d[:, 1:] - d[:, :-1]).abs() > 1
    assert jump.any() and s.causes["depth_edge"][0][:, 1:][jump].all()


def test_dials_validate():
    with pytest.raises(ValueError):
        Dials(texture=-1)
    with pytest.raises(ValueError):
        Dials(shine=1)
    with pytest.raises(ValueError, match="unknown domain"):
        render_stereo("forest", SIZE)


@pytest.mark.parametrize("domain", DOMAINS)
def test_video_poses_and_depth_reproject_frames(domain):
    v = render_video(domain, SIZE, Dials(specular=0.0, shadows=0.3), seed=0, frames=3)
    assert v.frames.shape == (3, 3, *SIZE) and v.poses.shape == (3, 4, 4)
    assert torch.equal(v.poses[1], torch.eye(4))
    keep = v.valid & ~v.causes["occluded"] & ~v.causes["border"] & ~v.causes["depth_edge"] & ~v.causes["specular"]
    assert keep.float().mean() > 0.5
    for t in (0, 2):
        warped, outside = warp_frame(v.frames[t][None], v.depth[None], v.K[None], v.poses[t][None])
        err = (warped[0] - v.frames[1]).abs().mean(0, keepdim=True)
        # bilinear resampling of fine texture at 48x96 leaves a small residual
        assert err[keep & ~outside[0]].mean() < 0.03 and err[keep & ~outside[0]].median() < 0.015
        wrong = v.poses[t].clone()
        wrong[:3, 3] *= 3
        warped_bad, _ = warp_frame(v.frames[t][None], v.depth[None], v.K[None], wrong[None])
        assert (warped_bad[0] - v.frames[1]).abs().mean(0, keepdim=True)[keep].mean() > 2 * err[keep & ~outside[0]].mean()


def test_medical_lumen_has_light_at_camera():
    s = render_stereo("medical", SIZE, Dials(occluders=0, specular=0.0), seed=0)
    # with the light at the camera, the near tube wall is brighter than the far end
    near = s.depth < s.depth.quantile(0.2)
    far = s.depth > s.depth.quantile(0.9)
    assert s.left.mean(0, keepdim=True)[near].mean() > s.left.mean(0, keepdim=True)[far].mean()


def test_motorcycle_pair():
    s = motorcycle()
    assert s.left.shape == (3, 500, 741) and s.disparity.shape == (1, 500, 741)
    from skimage.data import stereo_motorcycle

    raw = stereo_motorcycle()[2]
    assert np.isinf(raw).sum() == 27226  # invalid ground truth is encoded as +inf
    assert int(s.valid.sum()) == 343274 == int(np.isfinite(raw).sum())
    assert torch.isfinite(s.disparity).all() and (s.disparity[~s.valid] == 0).all()
    assert {"occluded", "textureless", "specular", "depth_edge"} <= set(s.causes)
    for m in s.causes.values():
        assert not (m & ~s.valid).any()
    res, outside = _residual(s)
    ok = s.valid & ~s.causes["occluded"] & ~outside
    res0, _ = _residual(type(s)(s.left, s.right, torch.zeros_like(s.disparity), s.valid))
    assert res[ok].mean() < 0.5 * res0[ok].mean()
    assert 1.0 < float(s.depth[s.valid].min()) and float(s.depth[s.valid].max()) < 10.0


def test_motorcycle_scaled():
    s = motorcycle(scale=0.5)
    full = motorcycle()
    assert s.left.shape == (3, 250, 370)
    assert abs(float(s.disparity[s.valid].max()) - 0.5 * float(full.disparity[full.valid].max()) ) < 1.0
    assert s.valid.float().mean() <= full.valid.float().mean()
