"""The training loop: steps, held-out evaluations, checkpoints, resume, NaN guard, DDP.

Deterministic for a seed, resumable (atomic checkpoints with model, optimiser, RNG states and step),
stops on a non-finite loss naming the step and the last good checkpoint, saves and exits cleanly on
Ctrl-C, and runs under ``torchrun`` with DDP (gloo on CPU, NCCL on CUDA). What is minimised lives in
:mod:`sins.experiments.objectives`, what is measured in :mod:`sins.experiments.evaluation`.
"""
from __future__ import annotations

import csv
import inspect
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from . import models as _models
from .config import Config, ConfigError, load_config, resolve_max_disp, validate_config
from .data.build import batch as make_batch
from .data.build import make_datasets
from .evaluation import baseline_errors, cause_shares, evaluate
from .objectives import objective_for, pretraining_objective, teacher_prediction

CHECKPOINT = "checkpoint.pt"


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


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


def save_checkpoint(path: Path, model, optim, step: int, history: list[dict], teacher=None) -> None:
    """Atomic write: a temporary file in the same folder, then ``os.replace``."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    blob = {"model": model.state_dict(), "optim": optim.state_dict(), "rng": rng_state(), "step": step,
            "history": json.dumps(history)}
    if teacher is not None:
        blob["teacher"] = teacher.state_dict()
    torch.save(blob, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


# --------------------------------------------------------------------------- setup


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but CUDA is not available", "device")
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


def build_model(cfg: Config, train_set: list, held: list | None = None) -> torch.nn.Module:
    """The configured model; a per-pixel field takes its grid size from the data when not given, and holds one
    grid per scene when it is trained and evaluated on the same scenes (else one grid shared by all)."""
    kwargs = dict(cfg.model.kwargs)
    params = inspect.signature(_models.REGISTRY[cfg.model.name]).parameters
    if cfg.task == "stereo" and "max_disp" in params and kwargs.get("max_disp", "auto") == "auto":
        kwargs["max_disp"] = cfg.max_disp  # resolved from the data
    if "height" in params and "height" not in kwargs:
        kwargs["height"], kwargs["width"] = (int(x) for x in train_set[0].left.shape[-2:])
    names = [s.name for s in train_set]
    if "names" in params and "names" not in kwargs and held is not None and sorted(names) == sorted(s.name for s in held):
        kwargs["names"] = names  # one parameter set per scene
    return _models.build(cfg.model.name, **kwargs)


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


def _indices(step: int, batch: int, dd: _Dist, n: int) -> list[int]:
    first = (step * dd.world + dd.rank) * batch
    return [(first + j) % n for j in range(batch)]


# --------------------------------------------------------------------------- the loop


_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed blocks for reuse instead of handing them back to the kernel.

    A training step allocates and frees the same few-MB activations every step; above glibc's mmap threshold each
    one is a fresh mapping, and the kernel zero-fills its pages on first touch (it shows as ``aten::fill_`` under
    ``resize_`` in a ``torch.profiler`` table of a step). Raising the mmap and trim thresholds makes the allocator
    reuse the blocks (``tests/experiments/test_loop.py`` counts the page faults both ways). Changes no number. Once per process; True if applied (Linux with glibc), False
    where ``mallopt`` is not available."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # 32 MiB is glibc's largest mmap threshold on 64-bit; keep up to 1 GiB of freed memory before trimming
    ok = mallopt(M_MMAP_THRESHOLD, 32 * 2**20) == 1 and mallopt(M_TRIM_THRESHOLD, 2**30) == 1
    _ALLOCATOR_TUNED = ok
    return ok


def skip_uninitialised_fill() -> None:
    """Stop deterministic mode from filling every freshly allocated tensor with NaN.

    :func:`seed_everything` turns on ``torch.use_deterministic_algorithms``, and with it
    ``torch.utils.deterministic.fill_uninitialized_memory``: a debugging aid that poisons memory a kernel might read
    before writing. Every kernel of a training step writes what it allocates (a read of the poison would turn the
    losses into NaN), so the fill changes no number, but it costs: in a ``torch.profiler`` table of a CPU training
    step it shows as ``aten::fill_`` under ``resize_`` in ``convolution_backward``, largest for the full-resolution
    gradients (``benchmarks/experiments.py --only seeds`` measures the whole step with and without the levers).
    ``tests/experiments/test_loop.py`` checks that training with and without the fill gives the same history bit
    for bit. Call after :func:`seed_everything`."""
    torch.utils.deterministic.fill_uninitialized_memory = False


def mixed_precision(model: torch.nn.Module, device: torch.device) -> int:
    """Train ``model``'s networks in bfloat16 (``optim.precision: bfloat16``); returns how many were switched.

    Each part of the model marked as one (:func:`sins.experiments.models._blocks.mixed_part`: the encoders,
    decoders, the pose net's convolutions, a cost volume's aggregation, a discriminator) runs under
    ``torch.autocast`` in bfloat16 while the model is in training mode, as mixed-precision training usually does:
    its convolutions compute in bfloat16 and the activations between them are bfloat16. Layers
    marked as output layers (:func:`sins.experiments.models._blocks.output_layer`: disparity, depth, pose, masks,
    logits, costs) compute in float32 from a float32 copy of their input, and every part hands a float32 result
    to what follows, so the outputs, the weights, the optimiser, the warp and the losses stay in float32. In
    evaluation mode nothing changes: every held-out evaluation (and the landscape) is float32 through and
    through. On a CPU with bfloat16 instructions (AVX512-BF16, AMX) a training step is faster;
    ``benchmarks/experiments.py --only seeds`` measures how much. It changes the numbers of a run (activations
    and gradients inside the parts are rounded to bfloat16's 8 significant bits), so it is part of the run's
    config and of its key; ``benchmarks/precision.py`` measures whether it changes what a standard run finds."""
    def enter(mod, args):
        if not mod.training:
            return None
        head = getattr(mod, "keep_float32", False)
        ctx = torch.autocast(device.type, enabled=False) if head else torch.autocast(device.type, dtype=torch.bfloat16)
        ctx.__enter__()
        mod._autocast = ctx
        return tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args) if head else None

    def leave(mod, args, out):
        ctx = mod.__dict__.pop("_autocast", None)
        if ctx is None:
            return None
        ctx.__exit__(None, None, None)
        return _tree_float(out)

    def hook(mod):
        mod.register_forward_pre_hook(enter)
        mod.register_forward_hook(leave, always_call=True)

    parts = []

    def find(mod):  # the outermost marked parts; anything outside them stays float32
        for child in mod.children():
            if getattr(child, "mixed_part", False):
                parts.append(child)
            else:
                find(child)

    find(model)
    for part in parts:
        hook(part)
        for m in part.modules():
            if getattr(m, "keep_float32", False):
                hook(m)
    return len(parts)


def _tree_float(out):
    """``out`` (a tensor, or a tuple or list of them) with every floating-point tensor in float32."""
    if torch.is_tensor(out):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (tuple, list)):
        return type(out)(_tree_float(o) for o in out)
    return out


def channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Store a 2-D convolutional model's weights channels-last (NHWC): oneDNN's convolutions then skip their
    layout reorders (about 1.2x per training step of the U-Net on a CPU). Models with 3-D convolutions (5-D
    weights) are left as they are, and so is a model trained under DDP. Only the memory layout changes, not
    what is computed."""
    if any(p.dim() == 5 for p in model.parameters()) or not any(p.dim() == 4 for p in model.parameters()):
        return model
    return model.to(memory_format=torch.channels_last)


def _frozen_copy(model: torch.nn.Module) -> torch.nn.Module:
    import copy

    t = copy.deepcopy(model).eval()
    for p in t.parameters():
        p.requires_grad_(False)
    return t


def train(config: Config | dict | str | Path, out_dir: str | Path, resume: bool = False, progress: bool = True,
          min_heldout: int = 1, scene_cache: str | Path | None = None) -> dict[str, Any]:
    """Train one config; returns ``{"step", "final", "history", "interrupted", "checkpoint", "model", "train",
    "heldout", "config", "baseline", "cause_shares", "max_true_disparity"}``.

    ``final`` holds the last held-out evaluation. With ``resume`` the run continues from
    ``out_dir/checkpoint.pt`` and reaches the same numbers as an uninterrupted run. Before the first
    step, an explicit ``max_disp`` below the data's largest disparity, or fewer than ``min_heldout``
    held-out samples, raises :class:`ConfigError`. ``scene_cache``: a folder where procedural scenes are
    kept between runs (:func:`sins.experiments.data.build.cached_render`).
    """
    cfg = config if isinstance(config, Config) else (
        validate_config(config) if isinstance(config, dict) else load_config(config))
    out = Path(out_dir)
    dd = _init_distributed(cfg.device)
    device = torch.device(f"cuda:{dd.local_rank}") if (dd.world > 1 and cfg.device != "cpu" and torch.cuda.is_available()) else resolve_device(cfg.device)
    ckpt_path = out / CHECKPOINT
    if device.type == "cpu":
        keep_freed_memory()

    seed_everything(cfg.seed)
    skip_uninitialised_fill()
    train_set, held = make_datasets(cfg, scene_cache=scene_cache)
    if len(held) < min_heldout:
        raise ConfigError(f"heldout: {len(held)} held-out samples, at least {min_heldout} are needed for a verdict",
                          field="heldout.count")
    cfg, top = resolve_max_disp(cfg, train_set + held)
    if dd.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(cfg.model_dump_json(indent=1))
    model = build_model(cfg, train_set, held).to(device)
    if dd.world == 1:  # DDP's gradient buckets expect contiguous parameters
        model = channels_last(model)
    if cfg.optim.precision == "bfloat16":
        mixed_precision(model, device)
    if cfg.model.init == "ground_truth" and not resume:
        model.set_disparity(torch.stack([s.disparity for s in train_set[: model.theta.shape[0]]]))
    optim = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    step, history = 0, []
    teacher = None
    if resume:
        if not ckpt_path.is_file():
            raise ConfigError(f"--resume: no checkpoint at {ckpt_path}")
        ck = load_checkpoint(ckpt_path)
        model.load_state_dict(ck["model"])
        optim.load_state_dict(ck["optim"])
        set_rng_state(ck["rng"])
        step, history = int(ck["step"]), json.loads(ck["history"])
        if "teacher" in ck:
            teacher = _frozen_copy(model)
            teacher.load_state_dict(ck["teacher"])
    net = model
    if dd.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dd.local_rank] if device.type == "cuda" else None)
    objective = objective_for(cfg.task)
    # the steps before loss.auto_mask_from train without the auto-mask (held-out evaluations keep cfg's)
    warm_cfg = cfg.model_copy(update={"loss": cfg.loss.model_copy(update={"auto_mask": False})})
    last_good = step if ckpt_path.is_file() else None

    def checkpoint(s: int) -> None:
        nonlocal last_good
        if dd.main:
            save_checkpoint(ckpt_path, model, optim, s, history, teacher)
            _write_metrics(out, history)
        last_good = s

    bar = None
    if progress and dd.main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc=cfg.name, leave=False, file=sys.stderr)
    interrupted = finished = False
    fresh_optimiser = False
    if step == 0 and not history:
        model.eval()
        history.append({"step": 0, "train_loss": None, **evaluate(model, held, cfg, device)})
    try:
        while step < cfg.steps:
            if cfg.pretrain_steps and step == cfg.pretrain_steps and not fresh_optimiser:
                # fine-tuning starts with a fresh optimiser (a run resumed past this step restores that one)
                optim = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
                fresh_optimiser = True
            if cfg.distill_from and step == cfg.distill_from and teacher is None:
                # the network becomes its own frozen teacher; a fresh optimiser trains the student from its weights
                teacher = _frozen_copy(model)
                optim = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
            b = make_batch([train_set[i] for i in _indices(step, cfg.optim.batch, dd, len(train_set))], device)
            if teacher is not None:
                b["teacher"] = teacher_prediction(teacher, b, cfg.task)
            net.train()
            step_cfg = warm_cfg if step < cfg.loss.auto_mask_from else cfg
            loss = (pretraining_objective if step < cfg.pretrain_steps else objective)(net, b, step_cfg).loss
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
            if step % cfg.eval_every == 0 or step in (cfg.steps, cfg.pretrain_steps, cfg.distill_from):
                model.eval()
                history.append({"step": step, "train_loss": float(loss.detach()), **evaluate(model, held, cfg, device)})
            if step % cfg.checkpoint_every == 0 or step in (cfg.steps, cfg.pretrain_steps, cfg.distill_from):
                checkpoint(step)
        finished = True
    except KeyboardInterrupt:
        interrupted = True
        checkpoint(step)
    finally:
        if bar is not None:
            bar.close()
        # Tear the group down only after a run every rank finished: a rank that closes its gloo connections while
        # another still writes its checkpoint can abort that rank at exit; after an error, a barrier would hang.
        if dd.world > 1 and dist.is_initialized() and finished:
            dist.barrier()
            dist.destroy_process_group()
    return {"step": step, "final": history[-1] if history else {}, "history": history, "interrupted": interrupted,
            "checkpoint": str(ckpt_path), "model": model, "train": train_set, "heldout": held, "config": cfg,
            "baseline": baseline_errors(train_set, held, cfg.task), "cause_shares": cause_shares(held),
            "max_true_disparity": top}


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
    except (ConfigError, NonFiniteLoss) as e:
        print(e, file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(r["final"]))
    return 130 if r["interrupted"] else 0
