"""Trainer: a YAML config validated by pydantic, run by the plain function :func:`train`.

Deterministic for a seed, resumable (atomic checkpoints with model, optimiser, RNG states and
step), stops on a non-finite loss naming the step and the last good checkpoint, saves and exits
cleanly on Ctrl-C, and runs under ``torchrun`` with DDP (gloo on CPU, NCCL on CUDA).
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rapidfuzz import process as _fuzz

from . import models as _models

CHECKPOINT = "checkpoint.pt"


class ConfigError(ValueError):
    """A config that cannot be read or validated; the message says what is wrong."""


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


# --------------------------------------------------------------------------- config


class _Strict(BaseModel):
    """Forbids unknown keys and suggests the closest known one."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _did_you_mean(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in known:
                    best = _fuzz.extractOne(str(key), known, score_cutoff=60)
                    hint = f"; did you mean {best[0]!r}?" if best else ""
                    raise ValueError(f"unknown key {key!r} in {cls.__name__}{hint} (known: {', '.join(known)})")
        return data


class ModelConfig(_Strict):
    name: str = Field(description="a name in sins.experiments.models.REGISTRY")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    init: Literal["default", "ground_truth"] = Field(
        "default", description="ground_truth: start a per-pixel field at the first training sample's true disparity")

    @model_validator(mode="after")
    def _known(self):
        if self.name not in _models.REGISTRY:
            best = _fuzz.extractOne(self.name, list(_models.REGISTRY), score_cutoff=50)
            hint = f"; did you mean {best[0]!r}?" if best else ""
            raise ValueError(f"unknown model {self.name!r}{hint} (known: {', '.join(sorted(_models.REGISTRY))})")
        return self


class DataConfig(_Strict):
    source: str = Field("procedural", description="motorcycle | procedural | a reader name in sins.experiments.data")
    domain: Literal["street", "indoor", "medical"] = "street"
    size: tuple[int, int] = (32, 64)
    dials: dict[str, float] = Field(default_factory=dict)
    seed: int = 0
    count: int = Field(1, ge=1, description="number of training samples (procedural seeds seed..seed+count-1)")
    scale: float = Field(0.25, gt=0, description="motorcycle: image scale")
    root: str | None = None
    frames: int = 3
    options: dict[str, Any] = Field(default_factory=dict, description="extra keyword arguments of a dataset reader "
                                    "(e.g. split_file of kitti_raw_eigen)")


class HeldOutConfig(_Strict):
    seeds: list[int] = Field(default_factory=lambda: [1000], description="procedural held-out seeds")
    crop_fraction: float = Field(0.5, gt=0, lt=1, description="single real pair: train on the left part, hold out the rest")


class LossConfig(_Strict):
    alpha: float = Field(0.85, ge=0, le=1, description="SSIM share of the photometric term")
    photometric: float = 1.0
    l1: float = 0.0
    census: float = 0.0
    ncc: float = 0.0
    gradient: float = 0.0
    smoothness: float = Field(0.0, description="edge-aware first-order smoothness")
    second_order: float = 0.0
    lr_consistency: float = 0.0
    explainability: float = Field(0.0, description="SfMLearner explainability mask (video; weight of its -log E regulariser)")
    feature_metric: float = Field(0.0, description="L1 between features of a fixed, seeded random conv encoder")
    proxy: float = Field(0.0, description="weight of supervision by a classical matcher")
    proxy_matcher: Literal["wta"] = "wta"
    min_reprojection: bool = True
    auto_mask: bool = True
    compile: bool = Field(True, description="torch.compile the photometric kernels (off: eager, faster start-up)")


class OptimConfig(_Strict):
    name: Literal["adam"] = "adam"
    lr: float = Field(1e-3, gt=0)


class Config(_Strict):
    name: str
    seed: int = 0
    model: ModelConfig
    task: Literal["stereo", "video"] = "stereo"
    data: DataConfig = Field(default_factory=DataConfig)
    heldout: HeldOutConfig = Field(default_factory=HeldOutConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    steps: int = Field(100, ge=1)
    eval_every: int = Field(10, ge=1)
    checkpoint_every: int = Field(10, ge=1)
    max_disp: int = Field(32, ge=4, description="disparity hypotheses of the proxy matcher")
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @model_validator(mode="after")
    def _task_matches_model(self):
        kind = "video" if self.model.name in _models.VIDEO else "stereo"
        if kind != self.task:
            raise ValueError(f"model {self.model.name!r} is a {kind} model but task is {self.task!r}")
        if self.model.init == "ground_truth" and self.model.name != "field":
            raise ValueError(f"model.init 'ground_truth' needs the per-pixel model 'field', not {self.model.name!r}")
        if self.loss.explainability and self.task != "video":
            raise ValueError("loss.explainability needs task 'video' (a pose network with a mask head)")
        if self.loss.explainability and self.loss.min_reprojection:
            raise ValueError("loss.explainability weights each source's error: set loss.min_reprojection to false")
        return self


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config; raises :class:`ConfigError` with a readable message."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from e
    return validate_config(raw, str(p))


def validate_config(raw: Any, where: str = "config") -> Config:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        lines = [f"{where}: invalid config"]
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(top)"
            lines.append(f"  {loc}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None


# --------------------------------------------------------------------------- data


def _data_module():
    import importlib

    return importlib.import_module("sins.experiments.data")


def _data_fn(name: str):
    mod = _data_module()
    if hasattr(mod, name):
        return getattr(mod, name)
    sub = {"motorcycle": "motorcycle", "render_stereo": "procedural", "render_video": "procedural", "Dials": "procedural"}
    import importlib

    return getattr(importlib.import_module(f"sins.experiments.data.{sub.get(name, 'readers')}"), name)


def _crop(sample, x0: int, x1: int):
    import dataclasses

    def c(t):
        return t[..., x0:x1] if isinstance(t, torch.Tensor) else t

    return dataclasses.replace(
        sample, left=c(sample.left), right=c(sample.right), disparity=c(sample.disparity), valid=c(sample.valid),
        causes={k: c(v) for k, v in sample.causes.items()},
        depth=c(sample.depth) if getattr(sample, "depth", None) is not None else None,
    )


def make_datasets(cfg: Config) -> tuple[list, list]:
    """(train samples, held-out samples) for the config."""
    d = cfg.data
    if d.source == "motorcycle":
        s = _data_fn("motorcycle")(scale=d.scale)
        w = s.left.shape[-1]
        cut = int(round(w * cfg.heldout.crop_fraction))
        return [_crop(s, 0, cut)], [_crop(s, cut, w)]
    if d.source == "procedural":
        dials = _data_fn("Dials")(**d.dials)
        if cfg.task == "stereo":
            render = lambda seed: _data_fn("render_stereo")(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed)  # noqa: E731
        else:
            render = lambda seed: _data_fn("render_video")(domain=d.domain, size=tuple(d.size), dials=dials, seed=seed, frames=d.frames)  # noqa: E731
        train = [render(d.seed + i) for i in range(d.count)]
        held = [render(s) for s in cfg.heldout.seeds]
        return train, held
    reader = _data_fn(d.source)
    if d.root is None:
        raise ConfigError(f"data.source {d.source!r} needs data.root")
    ds = reader(d.root, **d.options)
    n = len(ds)
    k = max(1, int(n * (1 - cfg.heldout.crop_fraction)))
    return [ds[i] for i in range(k)], [ds[i] for i in range(k, n)] or [ds[n - 1]]


def _batch(sample, device) -> dict[str, Any]:
    out = {}
    for k in ("left", "right", "disparity", "valid", "frames", "depth", "K", "poses"):
        v = getattr(sample, k, None)
        if isinstance(v, torch.Tensor):
            out[k] = v.unsqueeze(0).to(device)
    out["causes"] = {k: v.unsqueeze(0).to(device) for k, v in (sample.causes or {}).items()}
    return out


# --------------------------------------------------------------------------- losses


def _masked_mean(err: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(err.dtype).expand_as(err)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def synthesis_error(pred: torch.Tensor, target: torch.Tensor, lc: LossConfig) -> torch.Tensor:
    """Per-pixel weighted image-synthesis error (B, 1, H, W) from the configured terms."""
    from . import losses as L

    err = torch.zeros_like(pred[:, :1])
    if lc.photometric:
        err = err + lc.photometric * L.photometric(pred, target, alpha=lc.alpha, compile=lc.compile)
    for name in ("l1", "census", "ncc", "gradient"):
        w = getattr(lc, name)
        if w:
            e = getattr(L, name)(pred, target)
            err = err + w * (e.mean(1, keepdim=True) if e.shape[1] != 1 else e)
    if lc.feature_metric:
        phi = feature_encoder(pred.shape[1], pred.device)
        err = err + lc.feature_metric * L.feature_metric(phi(pred), phi(target))
    return err


_FEATURES: dict[tuple[int, str], torch.nn.Module] = {}


def feature_encoder(channels: int, device) -> torch.nn.Module:
    """A fixed feature extractor for the feature-metric term: two 3x3 conv + ELU layers (16 channels,
    full resolution) with weights drawn from a private generator seeded with 0, never trained.

    FeatDepth (Shu et al., ECCV 2020) learns its features with an auto-encoder; a fixed random
    encoder keeps the comparison in a feature space without a second training stage.
    """
    key = (channels, str(device))
    if key not in _FEATURES:
        g = torch.Generator().manual_seed(0)
        c1 = torch.nn.Conv2d(channels, 16, 3, 1, 1, padding_mode="replicate")
        c2 = torch.nn.Conv2d(16, 16, 3, 1, 1, padding_mode="replicate")
        with torch.no_grad():
            for c in (c1, c2):
                fan_in = c.weight[0].numel()
                c.weight.copy_(torch.randn(c.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                c.bias.zero_()
        net = torch.nn.Sequential(c1, torch.nn.ELU(), c2, torch.nn.ELU()).to(device)
        for prm in net.parameters():
            prm.requires_grad_(False)
        _FEATURES[key] = net
    return _FEATURES[key]


def _flip(t: torch.Tensor) -> torch.Tensor:
    return torch.flip(t, dims=[-1])


def stereo_loss(model, batch: dict, cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """(training loss, predicted left disparity) for a stereo batch."""
    from . import losses as L
    from .synthesis import warp_stereo

    left, right, lc = batch["left"], batch["right"], cfg.loss
    disp = model(left, right)
    warped, outside = warp_stereo(right, disp)
    loss = _masked_mean(synthesis_error(warped, left, lc), ~outside)
    if lc.smoothness:
        loss = loss + lc.smoothness * L.edge_aware_smoothness(disp / disp.mean().clamp_min(1e-6), left).mean()
    if lc.second_order:
        loss = loss + lc.second_order * L.second_order_smoothness(disp / disp.mean().clamp_min(1e-6), left).mean()
    if lc.lr_consistency:
        disp_r = _flip(model(_flip(right), _flip(left)))
        # in units of the image width, as Monodepth's disparities are, so that its weight (1.0) carries over
        loss = loss + lc.lr_consistency * L.lr_consistency(disp, disp_r).mean() / left.shape[-1]
    if lc.proxy:
        proxy = proxy_disparity(left, right, cfg.max_disp, lc.compile)
        loss = loss + lc.proxy * (disp - proxy).abs().mean()
    return loss, disp


def proxy_disparity(left: torch.Tensor, right: torch.Tensor, max_disp: int, compile: bool = True) -> torch.Tensor:
    """Winner-take-all over the photometric cost volume of integer disparities 0..max_disp."""
    from .manifold import cost_volume

    hyps = torch.arange(0, max_disp + 1, dtype=left.dtype)
    with torch.no_grad():
        cv = cost_volume(left, right, hyps, compile=compile)
        return hyps.to(left.device)[cv.argmin(1)].unsqueeze(1)


def video_loss(model, batch: dict, cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """(training loss, predicted target depth) for a video batch (depth + pose)."""
    from . import losses as L
    from .synthesis import warp_frame

    frames, K, lc = batch["frames"], batch["K"], cfg.loss
    t = frames.shape[1] // 2
    target = frames[:, t]
    depth, poses = model(frames)
    sources = [frames[:, i] for i in range(frames.shape[1]) if i != t]
    errs, outs = [], []
    for src, T in zip(sources, poses):
        warped, outside = warp_frame(src, depth, K, T)
        errs.append(synthesis_error(warped, target, lc))
        outs.append(outside)
    if lc.explainability:
        head = getattr(getattr(model, "module", model), "explain", None)
        if head is None:
            raise ConfigError("loss.explainability needs a model with an explainability head (depthpose with explain: true)")
        masks = torch.cat([head(target, s) for s in sources], 1)
        valid = torch.cat([(~o).to(masks.dtype) for o in outs], 1)
        loss = L.explainability_loss(torch.cat(errs, 1) * valid, masks, weight=lc.explainability)
    elif lc.min_reprojection:
        err = L.min_reprojection(errs)
        mask = torch.ones_like(err, dtype=torch.bool)
        if lc.auto_mask:
            ident = [synthesis_error(s, target, lc) for s in sources]
            mask = L.auto_mask(errs, ident).bool()
        loss = _masked_mean(err, mask)
    else:
        loss = sum(_masked_mean(e, ~o) for e, o in zip(errs, outs)) / len(errs)
    disp = 1.0 / depth
    if lc.smoothness:
        loss = loss + lc.smoothness * L.edge_aware_smoothness(disp / disp.mean(), target).mean()
    if lc.second_order:
        loss = loss + lc.second_order * L.second_order_smoothness(disp / disp.mean(), target).mean()
    return loss, depth


# --------------------------------------------------------------------------- evaluation


def video_lsyn(model, batch: dict, cfg: Config, depth: torch.Tensor | None = None, poses=None) -> torch.Tensor:
    """Held-out synthesis loss of a clip, the same whatever the training terms: the per-pixel minimum over
    source frames of the photometric error (SSIM + L1, ``loss.alpha``), averaged over valid target pixels
    seen by at least one source. ``depth``/``poses`` override the model's (e.g. the ground truth)."""
    from . import losses as L
    from .synthesis import warp_frame

    frames, K = batch["frames"], batch["K"]
    t = frames.shape[1] // 2
    target = frames[:, t]
    if depth is None or poses is None:
        d, p = model(frames)
        depth = d if depth is None else depth
        poses = p if poses is None else poses
    errs = []
    for i, T in zip([i for i in range(frames.shape[1]) if i != t], poses):
        warped, outside = warp_frame(frames[:, i], depth, K, T)
        e = L.photometric(warped, target, alpha=cfg.loss.alpha, compile=cfg.loss.compile)
        errs.append(torch.where(outside, torch.full_like(e, float("inf")), e))
    err = torch.stack(errs, 0).min(0).values
    m = torch.isfinite(err) & batch["valid"].bool()
    return err[m].mean() if bool(m.any()) else err.new_tensor(float("nan"))



@torch.no_grad()
def evaluate(model, samples: list, cfg: Config, device) -> dict[str, float]:
    """Held-out L_syn and depth errors (overall and per cause mask), averaged over samples."""
    from . import metrics as M

    acc: dict[str, list[float]] = {}

    def add(k, v):
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            acc.setdefault(k, []).append(float(v))

    for s in samples:
        b = _batch(s, device)
        if cfg.task == "stereo":
            loss, disp = stereo_loss(model, b, cfg)
            from .synthesis import warp_stereo
            from . import losses as L

            warped, outside = warp_stereo(b["right"], disp)
            add("heldout_lsyn", float(_masked_mean(L.photometric(warped, b["left"], alpha=cfg.loss.alpha, compile=cfg.loss.compile), ~outside & b["valid"])))
            gt, valid = b["disparity"], b["valid"]
            for tag, m in [("", valid)] + [(f"{c}_", valid & cm) for c, cm in b["causes"].items()]:
                if int(m.sum()) == 0:
                    continue
                add(f"{tag}epe", M.epe(disp, gt, m))
                add(f"{tag}bad1", M.bad_k(disp, gt, m, 1.0))
                add(f"{tag}d1", M.d1(disp, gt, m))
        else:
            add("heldout_lsyn", float(video_lsyn(model, b, cfg)))
            depth, _ = model(b["frames"])
            gt, valid = b["depth"], b["valid"]
            for tag, m in [("", valid)] + [(f"{c}_", valid & cm) for c, cm in b["causes"].items()]:
                if int(m.sum()) == 0:
                    continue
                dm = M.depth_metrics(depth, gt, m, max_depth=float(gt[m].max()) + 1.0, median_scaling=True)
                add(f"{tag}abs_rel", dm["abs_rel"])
                add(f"{tag}a1", dm["a1"])
    return {k: sum(v) / len(v) for k, v in acc.items()}


# --------------------------------------------------------------------------- checkpoints & RNG


def rng_state() -> dict[str, Any]:
    st = np.random.get_state()
    out = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": (st[0], torch.from_numpy(st[1].astype(np.int64)), int(st[2]), int(st[3]), float(st[4])),
    }
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, model, optim, step: int, history: list[dict]) -> None:
    """Atomic write: a temporary file in the same folder, then ``os.replace``."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save({"model": model.state_dict(), "optim": optim.state_dict(), "rng": rng_state(), "step": step,
                "history": json.dumps(history)}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


# --------------------------------------------------------------------------- trainer


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but CUDA is not available")
    return torch.device(name)


@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device_name: str) -> _Dist:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
    return _Dist(rank, world, local)


def _write_metrics(out: Path, history: list[dict]) -> None:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    tmp = out / "metrics.csv.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    os.replace(tmp, out / "metrics.csv")
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(history, indent=1))
    os.replace(tmp, out / "metrics.json")


def train(config: Config | dict | str | Path, out_dir: str | Path, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train one config; returns ``{"step", "final", "history", "interrupted", "checkpoint", "model", "heldout", "config"}``.

    ``final`` holds the last held-out evaluation. With ``resume`` the run continues from
    ``out_dir/checkpoint.pt`` and reaches the same numbers as an uninterrupted run.
    """
    cfg = config if isinstance(config, Config) else (
        validate_config(config) if isinstance(config, dict) else load_config(config))
    out = Path(out_dir)
    dd = _init_distributed(cfg.device)
    device = torch.device(f"cuda:{dd.local_rank}") if (dd.world > 1 and cfg.device != "cpu" and torch.cuda.is_available()) else resolve_device(cfg.device)
    if dd.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(cfg.model_dump_json(indent=1))
    ckpt_path = out / CHECKPOINT

    seed_everything(cfg.seed)
    train_set, held = make_datasets(cfg)
    model = _models.build(cfg.model.name, **cfg.model.kwargs).to(device)
    if cfg.model.init == "ground_truth" and not resume:
        model.set_disparity(train_set[0].disparity[None])
    optim = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    step, history = 0, []
    if resume:
        if not ckpt_path.is_file():
            raise ConfigError(f"--resume: no checkpoint at {ckpt_path}")
        ck = load_checkpoint(ckpt_path)
        model.load_state_dict(ck["model"])
        optim.load_state_dict(ck["optim"])
        set_rng_state(ck["rng"])
        step, history = int(ck["step"]), json.loads(ck["history"])
    net = model
    if dd.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dd.local_rank] if device.type == "cuda" else None)
    loss_fn = stereo_loss if cfg.task == "stereo" else video_loss
    last_good = step if ckpt_path.is_file() else None

    def checkpoint(s: int) -> None:
        nonlocal last_good
        if dd.main:
            save_checkpoint(ckpt_path, model, optim, s, history)
            _write_metrics(out, history)
        last_good = s

    bar = None
    if progress and dd.main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc=cfg.name, leave=False, file=sys.stderr)
    interrupted = False
    if step == 0 and not history:
        model.eval()
        history.append({"step": 0, "train_loss": None, **evaluate(model, held, cfg, device)})
    try:
        while step < cfg.steps:
            sample = train_set[(step * dd.world + dd.rank) % len(train_set)]
            net.train()
            loss, _ = loss_fn(net, _batch(sample, device), cfg)
            if not torch.isfinite(loss):
                where = f"{ckpt_path} (step {last_good})" if last_good is not None else "none (no checkpoint written yet)"
                raise NonFiniteLoss(f"non-finite training loss ({float(loss.detach())}) at step {step + 1}; last good checkpoint: {where}")
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            step += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                model.eval()
                row = {"step": step, "train_loss": float(loss.detach()), **evaluate(model, held, cfg, device)}
                history.append(row)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                checkpoint(step)
    except KeyboardInterrupt:
        interrupted = True
        checkpoint(step)
    finally:
        if bar is not None:
            bar.close()
        if dd.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
    return {"step": step, "final": history[-1] if history else {}, "history": history,
            "interrupted": interrupted, "checkpoint": str(ckpt_path), "model": model, "heldout": held, "config": cfg}


def main(argv: list[str] | None = None) -> int:
    """``python -m sins.experiments.train CONFIG OUT [--resume]`` (the torchrun entry point)."""
    import argparse

    ap = argparse.ArgumentParser(prog="sins.experiments.train")
    ap.add_argument("config")
    ap.add_argument("out")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args(argv)
    try:
        r = train(a.config, a.out, resume=a.resume, progress=False)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    except NonFiniteLoss as e:
        print(e, file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(r["final"]))
    return 130 if r["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
