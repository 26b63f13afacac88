"""From a trainer config's data section to training and held-out samples, and from samples to batches."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, Callable

import torch

from .samples import StereoSample, VideoSample

_RENDERER = Path(__file__).with_name("procedural.py")


def _renderer_version() -> str:
    """A hash of the renderer's and the samples' source: editing either invalidates every cached scene."""
    h = hashlib.sha256()
    for f in (_RENDERER, _RENDERER.with_name("samples.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _pack(sample) -> dict[str, Any]:
    fields = {f.name: getattr(sample, f.name) for f in dataclasses.fields(sample)}
    return {"kind": "video" if isinstance(sample, VideoSample) else "stereo", "fields": fields}


def _unpack(blob: dict[str, Any]):
    cls = VideoSample if blob["kind"] == "video" else StereoSample
    return cls(**blob["fields"])


def cached_render(render: Callable[[], Any], key: dict[str, Any], cache: str | Path | None):
    """``render()``, or the scene a previous call with the same ``key`` saved under ``cache``.

    The procedural renderer is deterministic for its arguments, so a scene is the same for every seed and
    variant of an experiment that trains on it; caching saves its rendering (about 0.8 s a scene at 96x192)
    in every run but the first. The key holds the renderer's source hash, so a changed renderer never
    returns an old scene. Files are written atomically (parallel workers may render the same scene) and
    read with ``weights_only=True`` (tensors, numbers and strings only). ``cache=None`` renders.
    """
    if cache is None:
        return render()
    blob = json.dumps({**key, "renderer": _renderer_version()}, sort_keys=True, default=str)
    path = Path(cache) / f"{hashlib.sha256(blob.encode()).hexdigest()[:24]}.pt"
    if path.is_file():
        try:
            return _unpack(torch.load(path, weights_only=True))
        except Exception:  # a truncated or foreign file: render again and replace it
            pass
    sample = render()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    torch.save(_pack(sample), tmp)
    os.replace(tmp, path)
    return sample


def _crop(sample: StereoSample, x0: int, x1: int) -> StereoSample:
    def c(t):
        return t[..., x0:x1] if isinstance(t, torch.Tensor) else t

    return dataclasses.replace(
        sample, left=c(sample.left), right=c(sample.right), disparity=c(sample.disparity), valid=c(sample.valid),
        name=f"{sample.name}[x{x0}:{x1}]",  # the two parts of one pair are different scenes (caches, per-scene fields)
        causes={k: c(v) for k, v in sample.causes.items()},
        depth=c(sample.depth) if getattr(sample, "depth", None) is not None else None,
    )


def _procedural_renderer(cfg, scene_cache: str | Path | None) -> Callable[[int], Any]:
    """``seed -> scene`` for a procedural data config, through the scene cache."""
    from .procedural import Dials, render_stereo, render_video

    d = cfg.data
    dials = Dials(**d.dials)
    key = {"task": cfg.task, "domain": d.domain, "size": list(d.size), "dials": dials.model_dump(),
           "supersample": d.supersample}
    if cfg.task == "stereo":
        def render(seed):
            return cached_render(lambda: render_stereo(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed,
                                                       supersample=d.supersample), {**key, "seed": seed}, scene_cache)
    else:
        def render(seed):
            return cached_render(lambda: render_video(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed,
                                                      frames=d.frames, supersample=d.supersample),
                                 {**key, "seed": seed, "frames": d.frames}, scene_cache)
    return render


def scene_seeds(cfg) -> list[int]:
    """The procedural scenes a config trains and is judged on (none for other sources)."""
    if cfg.data.source != "procedural":
        return []
    return [cfg.data.seed + i for i in range(cfg.data.count)] + list(cfg.heldout.procedural_seeds())


def render_into_cache(cfg, seeds: list[int], scene_cache: str | Path) -> int:
    """Render the given procedural scenes of ``cfg`` into the cache (parallel workers warm it before the runs
    that read it); returns how many scenes were rendered or found."""
    render = _procedural_renderer(cfg, scene_cache)
    for s in seeds:
        render(s)
    return len(seeds)


def make_datasets(cfg, scene_cache: str | Path | None = None) -> tuple[list, list]:
    """(training samples, held-out samples) for a :class:`sins.experiments.config.Config`; procedural scenes
    are read from / saved to ``scene_cache`` when given (:func:`cached_render`)."""
    from ..config import ConfigError
    from . import readers
    from .motorcycle import motorcycle

    d = cfg.data
    if d.source == "motorcycle":
        s = motorcycle(scale=d.scale)
        if cfg.heldout.whole_pair:
            return [s], [s]
        w = s.left.shape[-1]
        cut = int(round(w * (1 - cfg.heldout.crop_fraction)))
        return [_crop(s, 0, cut)], [_crop(s, cut, w)]
    if d.source == "procedural":
        render = _procedural_renderer(cfg, scene_cache)
        train = [render(d.seed + i) for i in range(d.count)]
        held = [render(s) for s in cfg.heldout.procedural_seeds()]
        return train, held
    if not hasattr(readers, d.source) or d.source.startswith("_"):
        raise ConfigError(f"data.source {d.source!r} is not a reader (known: motorcycle, procedural, "
                          f"{', '.join(readers.__all__[1:])})", field="data.source")
    if d.root is None:
        raise ConfigError(f"data.source {d.source!r} needs data.root", field="data.root")
    options = dict(d.options)
    for k, v in options.items():  # file options (split_file, gt_root) are relative to the dataset's root
        if (k.endswith("_file") or k.endswith("_root")) and isinstance(v, str) and not Path(v).is_absolute():
            options[k] = str(Path(d.root) / v)
    if cfg.task == "video" and d.source == "kitti_raw_eigen":
        options.setdefault("frames", d.frames)  # video tasks read clips, not stereo pairs
    ds = getattr(readers, d.source)(d.root, **options)
    n = len(ds)
    k = max(1, int(round(n * (1 - cfg.heldout.crop_fraction))))
    return [ds[i] for i in range(k)], [ds[i] for i in range(k, n)] or [ds[n - 1]]


_FIELDS = ("left", "right", "disparity", "valid", "frames", "depth", "K", "poses", "labels")


def batch(samples: list, device) -> dict[str, Any]:
    """Stack samples of one size into a batch dict (B leading); causes stacked too."""
    out: dict[str, Any] = {}
    for k in _FIELDS:
        vals = [getattr(s, k, None) for s in samples]
        if all(isinstance(v, torch.Tensor) for v in vals):
            out[k] = torch.stack(vals).to(device)
    names = set.intersection(*(set(s.causes or {}) for s in samples)) if samples else set()
    out["causes"] = {k: torch.stack([s.causes[k] for s in samples]).to(device) for k in sorted(names)}
    out["names"] = [s.name for s in samples]
    return out


__all__ = ["batch", "make_datasets"]
