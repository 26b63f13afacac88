import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sins.experiments.synthesis import backproject, project, warp_frame, warp_stereo


def test_warp_stereo_integer_shift():
    torch.manual_seed(0)
    src = torch.rand(2, 3, 5, 12)
    d = 3
    out, outside = warp_stereo(src, torch.full((2, 1, 5, 12), float(d)))
    assert torch.allclose(out[..., d:], src[..., : 12 - d], atol=1e-6)
    assert outside[..., :d].all() and not outside[..., d:].any()


def test_warp_stereo_half_pixel_is_bilinear():
    src = torch.arange(8.0).view(1, 1, 1, 8)
    out, _ = warp_stereo(src, torch.full((1, 1, 1, 8), 0.5))
    assert torch.allclose(out[..., 1:], torch.arange(7.0).view(1, 1, 1, 7) + 0.5)


@settings(max_examples=25, deadline=None)
@given(d=st.integers(0, 6), h=st.integers(2, 6), w=st.integers(8, 16), seed=st.integers(0, 1000))
def test_warp_stereo_shift_property(d, h, w, seed):
    g = torch.Generator().manual_seed(seed)
    src = torch.rand(1, 2, h, w, generator=g)
    out, outside = warp_stereo(src, torch.full((1, 1, h, w), float(d)))
    assert torch.allclose(out[..., d:], src[..., : w - d], atol=1e-5)
    assert int(outside.sum()) == min(d, w) * h


def test_warp_stereo_zero_disparity_identity():
    src = torch.rand(1, 3, 7, 9)
    out, outside = warp_stereo(src, torch.zeros(1, 1, 7, 9))
    assert torch.allclose(out, src, atol=1e-6) and not outside.any()


def _K(b=1, f=10.0, w=16, h=12):
    K = torch.tensor([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
    return K.expand(b, 3, 3).clone()


def test_warp_frame_identity_pose():
    src = torch.rand(2, 3, 12, 16)
    depth = torch.rand(2, 1, 12, 16) + 1
    out, outside = warp_frame(src, depth, _K(2), torch.eye(4).expand(2, 4, 4))
    assert torch.allclose(out, src, atol=1e-5) and not outside.any()


def test_backproject_project_roundtrip():
    depth = torch.rand(1, 1, 12, 16) + 0.5
    K = _K()
    pts = backproject(depth, torch.linalg.inv(K))
    u, v, z = project(pts, K, torch.eye(4).unsqueeze(0))
    assert torch.allclose(z.view(1, 1, 12, 16), depth, atol=1e-5)
    assert torch.allclose(u.view(12, 16)[0], torch.arange(16.0), atol=1e-4)
    assert torch.allclose(v.view(12, 16)[:, 0], torch.arange(12.0), atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(tx=st.floats(-0.5, 0.5), depth=st.floats(2.0, 10.0))
def test_warp_frame_lateral_translation_is_stereo_shift(tx, depth):
    # A camera moved by t along x sees a fronto-parallel plane shifted by f * t / Z pixels.
    f, h, w = 10.0, 6, 20
    src = torch.rand(1, 1, h, w)
    T = torch.eye(4).unsqueeze(0)
    T[0, 0, 3] = tx
    out, _ = warp_frame(src, torch.full((1, 1, h, w), depth), _K(1, f, w, h), T)
    shift = -f * tx / depth  # source column = x + f t / Z  ->  disparity = -f t / Z
    ref, _ = warp_stereo(src, torch.full((1, 1, h, w), shift))
    assert torch.allclose(out, ref, atol=1e-4)


def test_warp_frame_matches_kornia_geometry():
    kornia = pytest.importorskip("kornia")
    torch.manual_seed(1)
    b, h, w = 1, 12, 16
    src = torch.rand(b, 3, h, w)
    depth = torch.rand(b, 1, h, w) * 2 + 3
    K = _K(b, 12.0, w, h)
    angle = 0.05
    T = torch.eye(4).unsqueeze(0)
    T[0, :3, :3] = torch.tensor([[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]])
    T[0, :3, 3] = torch.tensor([0.1, -0.05, 0.02])
    ours, outside = warp_frame(src, depth, K, T)
    theirs = kornia.geometry.depth.warp_frame_depth(src, depth, T, K)
    inside = ~outside.expand_as(ours)
    assert torch.allclose(ours[inside], theirs[inside], atol=1e-4)
