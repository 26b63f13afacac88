"""From a trainer config's data section to training and held-out samples, and from samples to batches."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from .samples import StereoSample


def _crop(sample: StereoSample, x0: int, x1: int) -> StereoSample:
    def c(t):
        return t[..., x0:x1] if isinstance(t, torch.Tensor) else t

    return dataclasses.replace(
        sample, left=c(sample.left), right=c(sample.right), disparity=c(sample.disparity), valid=c(sample.valid),
        causes={k: c(v) for k, v in sample.causes.items()},
        depth=c(sample.depth) if getattr(sample, "depth", None) is not None else None,
    )


def make_datasets(cfg) -> tuple[list, list]:
    """(training samples, held-out samples) for a :class:`sins.experiments.config.Config`."""
    from ..config import ConfigError
    from . import readers
    from .motorcycle import motorcycle
    from .procedural import Dials, render_stereo, render_video

    d = cfg.data
    if d.source == "motorcycle":
        s = motorcycle(scale=d.scale)
        w = s.left.shape[-1]
        cut = int(round(w * (1 - cfg.heldout.crop_fraction)))
        return [_crop(s, 0, cut)], [_crop(s, cut, w)]
    if d.source == "procedural":
        dials = Dials(**d.dials)
        if cfg.task == "stereo":
            def render(seed):
                return render_stereo(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed, supersample=d.supersample)
        else:
            def render(seed):
                return render_video(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed, frames=d.frames,
                                    supersample=d.supersample)
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


_FIELDS = ("left", "right", "disparity", "valid", "frames", "depth", "K", "poses")


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
