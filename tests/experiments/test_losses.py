import pytest
import torch
import torch.nn.functional as F

from sins.experiments import losses as L


def test_ssim_identical_images_is_zero():
    x = torch.rand(2, 3, 8, 9)
    assert torch.allclose(L.ssim(x, x), torch.zeros_like(x), atol=1e-6)


def test_ssim_hand_computed_constant_images():
    # Constant images a, b: sigma = 0, SSIM = (2ab + C1) / (a^2 + b^2 + C1).
    a, b = 0.2, 0.6
    x, y = torch.full((1, 1, 5, 5), a), torch.full((1, 1, 5, 5), b)
    s = (2 * a * b + L.C1) / (a * a + b * b + L.C1)
    assert torch.allclose(L.ssim(x, y), torch.full_like(x, (1 - s) / 2), atol=1e-4)  # float32 variance cancellation


def test_ssim_matches_reference_and_range():
    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 16, 20), torch.rand(2, 3, 16, 20)
    s = L.ssim(x, y)
    assert torch.allclose(s, L.ssim_reference(x, y), atol=1e-5)
    assert s.min() >= 0 and s.max() <= 1


def test_photometric_blend_and_gradients_match_reference():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 12, 14, requires_grad=True)
    y = torch.rand(2, 3, 12, 14)
    p = L.photometric(x, y, compile=False)
    assert p.shape == (2, 1, 12, 14)
    expected = 0.85 * L.ssim(x, y).mean(1, keepdim=True) + 0.15 * (x - y).abs().mean(1, keepdim=True)
    assert torch.allclose(p, expected, atol=1e-6)
    (g1,) = torch.autograd.grad(p.sum(), x)
    (g2,) = torch.autograd.grad(L.photometric_reference(x, y).sum(), x)
    assert torch.allclose(g1, g2, atol=1e-5)
    assert torch.allclose(L.photometric(x, y, alpha=0.0, compile=False), L.l1(x, y))


def test_census_brightness_invariant_and_positive():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 10, 10) * 0.5
    assert torch.allclose(L.census(x, x), torch.zeros(1, 1, 10, 10))
    # A constant offset leaves every neighbour difference unchanged.
    assert L.census(x + 0.3, x).abs().max() < 1e-6
    assert L.census(x, torch.rand(1, 3, 10, 10)).mean() > 0.1


def test_ncc_affine_invariant():
    torch.manual_seed(0)
    x = torch.rand(1, 1, 10, 10)
    assert L.ncc(x * 0.8 + 0.1, x).mean() < 1e-3
    assert L.ncc(1 - x, x).mean() > 0.9


def test_gradient_zero_for_offset():
    x = torch.rand(1, 3, 6, 7)
    assert torch.allclose(L.gradient(x + 0.2, x), torch.zeros(1, 1, 6, 7), atol=1e-6)
    y = torch.zeros(1, 1, 1, 3)
    p = torch.tensor([[[[0.0, 1.0, 1.0]]]])
    assert torch.allclose(L.gradient(p, y), torch.tensor([[[[1.0, 0.0, 0.0]]]]))


def test_feature_metric_l1():
    a, b = torch.zeros(1, 4, 2, 2), torch.ones(1, 4, 2, 2)
    assert torch.allclose(L.feature_metric(a, b), torch.ones(1, 1, 2, 2))


def test_smoothness_constant_and_planar():
    img = torch.rand(1, 3, 8, 8)
    assert float(L.edge_aware_smoothness(torch.full((1, 1, 8, 8), 5.0), img)) == 0.0
    ramp = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 8, 8) + 1
    assert float(L.second_order_smoothness(ramp, img)) < 1e-6
    # Hand value: flat image, disparity ramp of step 1 with mean 4.5 -> mean |dx d*| = 1/4.5 over 7 of 8 columns.
    flat = torch.zeros(1, 3, 8, 8)
    assert abs(float(L.edge_aware_smoothness(ramp, flat)) - 1 / 4.5) < 1e-5


def test_lr_consistency_constant():
    d = torch.full((1, 1, 4, 10), 2.0)
    assert torch.allclose(L.lr_consistency(d, d), torch.zeros_like(d))
    assert torch.allclose(L.lr_consistency(d, d + 1), torch.ones_like(d))


def test_min_reprojection_and_auto_mask():
    e1 = torch.tensor([[[[0.1, 0.5]]]])
    e2 = torch.tensor([[[[0.3, 0.2]]]])
    assert torch.allclose(L.min_reprojection([e1, e2]), torch.tensor([[[[0.1, 0.2]]]]))
    ident = torch.tensor([[[[0.05, 0.4]]]])
    assert L.auto_mask([e1, e2], [ident]).tolist() == [[[[False, True]]]]


def test_explainability_loss():
    e = torch.full((1, 2, 3, 3), 0.5)
    ones = torch.ones_like(e)
    assert abs(float(L.explainability_loss(e, ones)) - 1.0) < 1e-5  # two sources x 0.5, no penalty
    half = torch.full_like(e, 0.5)
    expected = 0.5 + 0.2 * -torch.log(torch.tensor(0.5))
    assert abs(float(L.explainability_loss(e, half)) - float(expected)) < 1e-5


def test_implements_registry_matches_taxonomy_ids():
    assert L.IMPLEMENTS["ssim"] is L.ssim and L.IMPLEMENTS["census"] is L.census
    assert all(callable(f) for f in L.IMPLEMENTS.values())


def test_photometric_fast_paths_agree_with_reference():
    torch.manual_seed(3)
    y = torch.rand(1, 3, 9, 11)
    for target_grad in (False, True):
        x = torch.rand(1, 3, 9, 11, requires_grad=True)
        t = y.clone().requires_grad_(target_grad)
        p = L.photometric(x, t, compile=False)
        (g1,) = torch.autograd.grad(p.sum(), x)
        (g2,) = torch.autograd.grad(L.photometric_reference(x, t).sum(), x)
        assert torch.allclose(p, L.photometric_reference(x, t), atol=1e-5)
        assert torch.allclose(g1, g2, atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(L.photometric(x, y, compile=False), L.photometric_reference(x, y), atol=1e-5)


def test_photometric_falls_back_when_compile_fails(monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("no compiler")

    monkeypatch.setattr(L, "_COMPILED", L._Compiled())
    monkeypatch.setattr(torch, "compile", broken)
    x = torch.rand(1, 3, 6, 7, requires_grad=True)
    y = torch.rand(1, 3, 6, 7)
    p = L.photometric(x, y)
    p.sum().backward()
    assert L._COMPILED.failed is not None
    assert torch.allclose(p, L.photometric_reference(x, y), atol=1e-5)
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_taxonomy_names_the_implementation_of_each_loss():
    """Each taxonomy loss id implemented here names its function, and the names resolve."""
    import importlib

    from sins.catalog import load_catalog
    from sins.experiments.objectives import IMPLEMENTS
    from tests.conftest import ROOT

    tax = load_catalog(ROOT / "catalog").taxonomy
    for loss_id, fn in IMPLEMENTS.items():
        assert tax.losses[loss_id].implementation == f"{fn.__module__}.{fn.__name__}", loss_id
    for loss_id, term in tax.losses.items():
        if term.implementation:
            module, _, name = term.implementation.rpartition(".")
            assert getattr(importlib.import_module(module), name) is IMPLEMENTS[loss_id]


def test_census_hand_written_backward_matches_autograd_through_the_reference():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 9, 13, dtype=torch.float64, requires_grad=True)
    y = torch.rand(2, 3, 9, 13, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: L.census(a, y, 5), (x,))
    xf, yf = x.detach().float().requires_grad_(), y.float()
    go = torch.rand(2, 1, 9, 13)
    fast, ref = L.census(xf, yf), L.census_reference(xf, yf)
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-6)
    (g_fast,) = torch.autograd.grad(fast, xf, go)
    (g_ref,) = torch.autograd.grad(ref, xf, go)
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(L.census(xf, yf), ref.detach(), rtol=1e-5, atol=1e-6)
    # a target that needs a gradient gets one (through the reference)
    yt = yf.clone().requires_grad_()
    L.census(xf, yt).sum().backward()
    assert yt.grad is not None and yt.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="odd and at least 3"):
        L.census(xf, yf, 4)
