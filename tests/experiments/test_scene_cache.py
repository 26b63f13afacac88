"""Rendered procedural scenes kept between runs: same tensors back, a changed key renders anew, a broken file is
replaced."""
from __future__ import annotations

import pickle

import torch

from sins.experiments.config import ConfigError
from sins.experiments.data import build
from sins.experiments.data.procedural import Dials, render_stereo, render_video


def _same(a, b) -> None:
    assert type(a) is type(b)
    for k, v in vars(a).items():
        w = getattr(b, k)
        if isinstance(v, torch.Tensor):
            assert torch.equal(v, w), k
        elif isinstance(v, dict):
            assert v.keys() == w.keys() and all(torch.equal(v[c], w[c]) for c in v), k
        else:
            assert v == w, k


def test_a_cached_scene_is_the_rendered_scene(tmp_path):
    calls = []

    def render():
        calls.append(1)
        return render_stereo(size=(16, 32), dials=Dials(), seed=3, supersample=1)

    key = {"task": "stereo", "seed": 3, "size": [16, 32]}
    first = build.cached_render(render, key, tmp_path)
    again = build.cached_render(render, key, tmp_path)
    assert len(calls) == 1 and len(list(tmp_path.glob("*.pt"))) == 1
    _same(first, again)
    build.cached_render(render, {**key, "seed": 4}, tmp_path)  # another key: rendered
    assert len(calls) == 2


def test_video_clips_round_trip_and_none_renders_every_time(tmp_path):
    clip = build.cached_render(lambda: render_video(size=(16, 32), seed=1, supersample=1), {"task": "video"}, tmp_path)
    _same(clip, build.cached_render(lambda: None, {"task": "video"}, tmp_path))
    calls = []
    build.cached_render(lambda: calls.append(1), {"task": "video"}, None)
    build.cached_render(lambda: calls.append(1), {"task": "video"}, None)
    assert len(calls) == 2


def test_a_broken_cache_file_is_rendered_again_and_replaced(tmp_path):
    key = {"task": "stereo", "seed": 0}
    build.cached_render(lambda: render_stereo(size=(16, 32), seed=0, supersample=1), key, tmp_path)
    (f,) = tmp_path.glob("*.pt")
    f.write_bytes(b"not a scene")
    s = build.cached_render(lambda: render_stereo(size=(16, 32), seed=0, supersample=1), key, tmp_path)
    assert s.left.shape == (3, 16, 32) and torch.load(f, weights_only=True)["kind"] == "stereo"


def test_the_key_holds_the_renderer_version(tmp_path, monkeypatch):
    key = {"task": "stereo", "seed": 0}
    build.cached_render(lambda: render_stereo(size=(16, 32), seed=0, supersample=1), key, tmp_path)
    monkeypatch.setattr(build, "_renderer_version", lambda: "edited")
    calls = []
    build.cached_render(lambda: calls.append(1) or render_stereo(size=(16, 32), seed=0, supersample=1), key, tmp_path)
    assert calls and len(list(tmp_path.glob("*.pt"))) == 2


def test_config_errors_keep_their_field_across_processes():
    e = pickle.loads(pickle.dumps(ConfigError("max_disp 4 is too small", field="max_disp")))
    assert isinstance(e, ConfigError) and e.field == "max_disp" and str(e) == "max_disp 4 is too small"
