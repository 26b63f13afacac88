import pytest
import torch

from sins.experiments import metrics as M


def test_epe_bad_k_with_mask():
    gt = torch.tensor([10.0, 10.0, 10.0, 10.0])
    pred = torch.tensor([10.0, 11.5, 13.0, 50.0])
    valid = torch.tensor([True, True, True, False])
    assert M.epe(pred, gt, valid) == pytest.approx(1.5)
    assert M.bad_k(pred, gt, valid, k=1.0) == pytest.approx(2 / 3)


def test_d1_crafted():
    # err 4 px on gt 100 (4 % -> inlier), err 4 px on gt 50 (8 % -> outlier), err 2 px (inlier), err 10 on 100 (outlier)
    gt = torch.tensor([100.0, 50.0, 20.0, 100.0])
    pred = torch.tensor([104.0, 54.0, 22.0, 110.0])
    assert M.d1(pred, gt, torch.ones(4, dtype=torch.bool)) == pytest.approx(0.5)


def test_depth_metrics_hand_values():
    gt = torch.tensor([2.0, 4.0, 100.0])
    pred = torch.tensor([2.0, 5.0, 1.0])
    m = M.depth_metrics(pred, gt, None, max_depth=80.0)  # the 100 m pixel is capped out
    assert m["abs_rel"] == pytest.approx((0 + 0.25) / 2)
    assert m["sq_rel"] == pytest.approx((0 + 1 / 4) / 2)
    assert m["rmse"] == pytest.approx((0.5) ** 0.5)
    assert m["a1"] == pytest.approx(0.5)  # ratio 1.25 is not < 1.25
    assert m["rmse_log"] == pytest.approx(((torch.log(torch.tensor(1.25)) ** 2 / 2) ** 0.5).item(), rel=1e-5)


def test_median_scaling_removes_scale():
    gt = torch.rand(100) * 10 + 1
    m = M.depth_metrics(gt * 3.0, gt, median_scaling=True)
    assert m["abs_rel"] < 1e-5 and m["a1"] == 1.0
    assert M.depth_metrics(gt * 3.0, gt)["a1"] == 0.0


def test_empty_mask_raises():
    with pytest.raises(ValueError):
        M.epe(torch.zeros(3), torch.zeros(3), torch.zeros(3, dtype=torch.bool))
