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


def test_three_level_blocks_keep_their_parameter_names_and_deeper_ones_reach_further():
    from sins.experiments.models._blocks import Decoder, Encoder

    enc, dec = Encoder(3, 4), Decoder(4)
    assert sorted({k.split(".")[0] for k in enc.state_dict()}) == ["c0", "c1", "c2"]
    assert sorted({k.split(".")[0] for k in dec.state_dict()}) == ["out", "u0", "u1"]
    enc5, dec5 = Encoder(3, 4, levels=5), Decoder(4, levels=5)
    feats = enc5(torch.rand(1, 3, 32, 64))
    assert [tuple(f.shape[-2:]) for f in feats] == [(32, 64), (16, 32), (8, 16), (4, 8), (2, 4)]
    assert dec5(feats).shape == (1, 1, 32, 64)
    # receptive field: the columns whose input moves one output pixel (about 35 with three levels, 140 with five)
    for levels, lo, hi in ((3, 25, 45), (5, 120, 160)):
        torch.manual_seed(0)
        e, d = Encoder(3, 4, levels), Decoder(4, levels=levels)
        x = torch.rand(1, 3, 32, 256, requires_grad=True)
        d(e(x))[0, 0, 16, 128].backward()
        cols = (x.grad.abs().sum((0, 1, 2)) > 0).nonzero().flatten()
        assert lo <= int(cols.max() - cols.min()) <= hi, levels
    with pytest.raises(ValueError, match="3 levels got 5"):
        Decoder(4)(feats)


def test_temporal_pose_order_inverts_the_earlier_source_and_keeps_the_swapped_order_apart():
    from sins.experiments.models.depthpose import invert_rigid, pose_vec_to_matrix

    T = pose_vec_to_matrix(torch.randn(3, 6))
    assert torch.allclose(invert_rigid(T) @ T, torch.eye(4).expand(3, 4, 4), atol=1e-5)
    torch.manual_seed(0)
    net = models.build("depthpose", width=4, pose_scale=1.0, pose_levels=4)
    assert net.pose_order == "temporal"
    frames = torch.rand(2, 3, 3, 32, 64)
    _, poses = net(frames)
    f0, ft, f2 = frames[:, 0], frames[:, 1], frames[:, 2]
    # the earlier source: the pose net sees (earlier, later) and its transform is inverted
    assert torch.allclose(poses[0], invert_rigid(net.pose(f0, ft)), atol=1e-5)
    assert torch.allclose(poses[1], net.pose(ft, f2), atol=1e-5)
    # the swapped order is a second prediction, not the inverse (a pose cycle would be closed by construction)
    assert torch.allclose(net.swapped_pose(frames, 1, 0), invert_rigid(net.pose(ft, f0)), atol=1e-5)
    assert not torch.allclose(net.swapped_pose(frames, 1, 0) @ poses[0], torch.eye(4).expand(2, 4, 4), atol=1e-3)
    old = models.build("depthpose", width=4, pose_order="target_first")
    old.load_state_dict(net.state_dict(), strict=False)
    assert torch.allclose(old(frames)[1][0], old.pose(ft, f0))
    with pytest.raises(ValueError, match="temporal, target_first"):
        models.build("depthpose", pose_order="backwards")


@pytest.mark.parametrize("order", ["temporal", "target_first"])
def test_the_pose_net_learns_the_direction_of_each_source_only_in_temporal_order(tmp_path, order):
    """Regression: with (target, source) for both sources the pose net learnt one translation for the two, backwards
    for the earlier source, and the per-pixel minimum fell back on the later source alone."""
    from sins.experiments.loop import train
    from sins.experiments.data.build import batch

    cfg = {"name": f"pose-{order}", "seed": 0, "task": "video", "device": "cpu", "steps": 150, "eval_every": 150,
           "checkpoint_every": 150, "model": {"name": "depthpose", "kwargs": {"pose_scale": 0.1, "pose_order": order}},
           "data": {"source": "procedural", "domain": "street", "size": [32, 64], "count": 8, "frames": 3},
           "heldout": {"count": 4}, "optim": {"lr": 2e-4},
           "loss": {"smoothness": 0.001, "min_reprojection": True, "auto_mask": True, "compile": False}}
    out = train(cfg, tmp_path / order, progress=False)
    b = batch(out["heldout"], "cpu")
    with torch.no_grad():
        _, poses = out["model"].eval()(b["frames"])
    cos = [torch.nn.functional.cosine_similarity(p[:, :3, 3], b["poses"][:, i, :3, 3], dim=1).mean().item()
           for p, i in zip(poses, (0, 2))]
    if order == "temporal":
        assert min(cos) > 0.9, cos
    else:
        assert min(cos) < 0.0, cos


@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format])
def test_decoder_upsampling_hands_back_a_dense_gradient_and_the_same_numbers(layout, monkeypatch):
    """The decoder's upsampling copies the strided gradient it gets from torch.cat into its input's layout; the
    numbers stay those of plain F.interpolate."""
    import torch.nn.functional as F

    from sins.experiments.models import _blocks

    torch.manual_seed(0)
    x0 = torch.randn(2, 8, 6, 12).contiguous(memory_format=layout)
    skip = torch.randn(2, 4, 12, 24).contiguous(memory_format=layout)
    w = torch.randn(3, 12, 3, 3).contiguous(memory_format=layout)
    seen = []

    def run(dense: bool):
        monkeypatch.setattr(_blocks, "DENSE_UPSAMPLE_GRADS", dense)
        x = x0.clone().requires_grad_()
        y = _blocks.upsample_to(x, (12, 24))
        y.register_hook(lambda g: seen.append(g))  # what the upsampling's backward receives
        F.conv2d(torch.cat([y, skip], 1), w, padding=1).square().sum().backward()
        return y.detach(), x.grad

    y_plain, g_plain = run(False)
    y_dense, g_dense = run(True)
    assert torch.equal(y_plain, F.interpolate(x0, size=(12, 24), mode="bilinear", align_corners=False))
    assert torch.equal(y_plain, y_dense)
    # the convolution's backward may pick another kernel for the dense layout: equal up to float rounding
    torch.testing.assert_close(g_dense, g_plain, rtol=1e-5, atol=1e-6)
    # the hook sees the gradient before _DenseGrad's copy: a strided slice of the concatenation's gradient
    assert not seen[1].is_contiguous(memory_format=layout) or layout == torch.contiguous_format
    fmt = _blocks._DenseGrad.backward(type("Ctx", (), {"fmt": layout})(), seen[1])
    assert fmt.is_contiguous(memory_format=layout) and torch.equal(fmt, seen[1])


def test_a_zero_pose_init_starts_at_the_identity_and_leaves_every_other_weight_as_drawn():
    from sins.experiments.models.depthpose import DepthPose

    torch.manual_seed(3)
    default = DepthPose(width=4)
    torch.manual_seed(3)
    zero = DepthPose(width=4, pose_init="zero")
    a, b = torch.rand(2, 3, 32, 64), torch.rand(2, 3, 32, 64)
    assert torch.equal(zero.pose(a, b), torch.eye(4).expand(2, 4, 4))
    assert not torch.equal(default.pose(a, b), torch.eye(4).expand(2, 4, 4))
    for (n, p), (m, q) in zip(default.named_parameters(), zero.named_parameters()):
        assert n == m and (torch.equal(p, q) or n.startswith("pose.out."))
    zero.pose(a, b)[:, :3, 3].sum().backward()  # the identity is not a dead end: the output layer gets a gradient
    assert zero.pose.out.bias.grad.abs().sum() > 0 and torch.isfinite(zero.pose.out.weight.grad).all()
    with pytest.raises(ValueError, match="pose_init 'small' is not one of random, zero"):
        DepthPose(width=4, pose_init="small")
