import pytest
import torch

from sins.experiments import models


@pytest.mark.parametrize("name", sorted(models.STEREO))
def test_stereo_models_shape_range_and_gradient(name):
    torch.manual_seed(0)
    kw = {"height": 16, "width": 32} if name == "field" else {"width": 4, "max_disp": 16}
    net = models.build(name, **kw)
    left, right = torch.rand(2, 3, 16, 32), torch.rand(2, 3, 16, 32)
    d = net(left, right)
    assert d.shape == (2, 1, 16, 32)
    assert torch.isfinite(d).all() and (d >= 0).all() and (d <= 16.0 + 1e-4).all()
    d.mean().backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_costvolume_soft_argmin_follows_a_shift():
    # with the 3D aggregation zeroed out, the cost volume is flat: soft-argmin gives the mean hypothesis
    net = models.build("costvolume", width=4, max_disp=16)
    for p in net.agg.parameters():
        torch.nn.init.zeros_(p)
    d = net(torch.rand(1, 3, 16, 32), torch.rand(1, 3, 16, 32))
    assert torch.allclose(d, torch.full_like(d, 4.0 * (16 // 4) / 2))


def test_depthpose_depth_range_and_rigid_poses():
    net = models.build("depthpose", width=4, min_depth=0.5, max_depth=20.0)
    depth, poses = net(torch.rand(2, 3, 3, 16, 32))
    assert depth.shape == (2, 1, 16, 32)
    assert (depth >= 0.5 - 1e-5).all() and (depth <= 20.0 + 1e-3).all()
    assert len(poses) == 2
    R = poses[0][:, :3, :3]
    assert torch.allclose(R @ R.transpose(1, 2), torch.eye(3).expand(2, 3, 3), atol=1e-5)
    assert torch.allclose(poses[0][:, 3], torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(2, 4))


def test_unknown_model_names_the_known_ones():
    with pytest.raises(KeyError, match="costvolume"):
        models.build("nope")
