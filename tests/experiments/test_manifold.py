import torch

from sins.experiments import manifold as Mf


def _pair(h=12, w=40, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    right = torch.rand(1, 3, h, w, generator=g)
    disp = torch.full((1, 1, h, w), float(d))
    left = torch.cat([right[..., :1].expand(1, 3, h, d), right[..., : w - d]], -1)  # left[x] = right[x - d]
    return left, right, disp


def test_cost_volume_fast_path_matches_warp_and_reference():
    left, right, _ = _pair()
    hyp = [0, 1, 3, 4, 7, 36, 37, 38, 39, 2.5]
    fast = Mf.cost_volume(left, right, hyp, compile=False)
    ref = Mf.cost_volume_reference(left, right, hyp)
    assert fast.shape == (1, len(hyp), 12, 40)
    assert torch.allclose(fast, ref, atol=1e-5)


def test_truth_is_minimum_for_exact_shift():
    left, right, disp = _pair()
    vol = Mf.cost_volume(left, right, torch.arange(0, 10), compile=False)
    best = vol.argmin(1)
    assert (best[..., 6:] == 4).all()
    mins, argd = Mf.sweep_min(left, right, torch.arange(0, 10), compile=False)
    assert torch.allclose(mins, vol.min(1, keepdim=True).values)
    assert (argd[..., 6:] == 4).all()


def test_analyse_exact_pair_is_not_misleading_and_gap_positive_for_wrong_pred():
    left, right, disp = _pair()
    valid = torch.ones_like(disp, dtype=torch.bool)
    valid[..., :6] = False
    sample = {"left": left[0], "right": right[0], "disparity": disp[0], "valid": valid[0], "causes": {"textureless": torch.zeros(1, 12, 40, dtype=torch.bool)}}
    res = Mf.analyse(sample, pred_disparity=disp + 3, hypotheses=range(0, 10), compile=False)
    assert res["misleading"] == 0.0
    assert res["loss_at_gt"] < 1e-6
    assert res["oracle_gap"] < 0  # the truth has lower loss than the wrong prediction
    assert res["per_cause"]["none"]["share"] == 1.0


def test_analyse_flags_flat_region_as_misleading():
    # A nearly flat patch whose fine noise does not correspond between the views: there the
    # truth is the cost minimum only by chance, and the patch is detected as textureless.
    g = torch.Generator().manual_seed(5)
    left, right, disp = _pair(seed=1)
    right[..., :, 10:30] = 0.5 + 0.005 * torch.rand(1, 3, 12, 20, generator=g)
    left = torch.cat([right[..., :1].expand(1, 3, 12, 4), right[..., :36]], -1)
    left[..., :, 14:34] = 0.5 + 0.005 * torch.rand(1, 3, 12, 20, generator=g)
    valid = torch.ones_like(disp, dtype=torch.bool)
    res = Mf.analyse({"left": left, "right": right, "disparity": disp, "valid": valid}, hypotheses=range(0, 10), compile=False)
    assert 0.1 < res["misleading"] < 0.7
    assert res["per_cause"]["textureless"]["share"] > 0.2
    assert res["per_cause"]["textureless"]["misleading"] > res["misleading"]


def test_cause_masks_hand_cases():
    h, w = 4, 12
    left = torch.zeros(1, 3, h, w)
    left[..., 6:] = torch.rand(1, 3, h, 6) * 0.5
    left[..., 0, 0] = 1.0
    disp = torch.full((1, 1, h, w), 2.0)
    disp[..., 6:] = 5.0  # foreground at x >= 6 hides background pixels whose match lands on x - 5
    m = Mf.cause_masks(left, disp)
    assert set(m) == {"occluded", "textureless", "specular", "depth_edge"}
    assert m["occluded"][..., :2].all()  # match out of the image
    assert m["occluded"][0, 0, 0, 3] and m["occluded"][0, 0, 0, 4]  # background at x=3,4 -> right x=1,2 seen by x=6,7
    assert not m["occluded"][..., 6:].any()
    assert m["textureless"][0, 0, 2, 2] and not m["textureless"][0, 0, 2, 9]
    assert m["specular"][0, 0, 0, 0] and m["specular"].sum() == 1
    assert m["depth_edge"][0, 0, 0, 5] and not m["depth_edge"][0, 0, 0, 0]
