"""A trainer config (YAML) validated by pydantic: what to train, on what, with which objective.

Unknown keys are errors with the closest known key. ``max_disp: auto`` (the default, for the config
and for a model's ``kwargs``) is resolved from the data when the run starts (:func:`resolve_max_disp`);
an explicit value below the largest true disparity of the data is refused before any training step.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rapidfuzz import process as _fuzz

from . import models as _models


class ConfigError(ValueError):
    """A config that cannot be read, validated or run on its data; ``field`` names the offending key."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field

    def __reduce__(self):  # keeps ``field`` when raised in a worker process
        return type(self), (str(self), self.field)


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
    kwargs: dict[str, Any] = Field(default_factory=dict, description="constructor arguments; max_disp: auto follows the data")
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
    supersample: int = Field(3, ge=1, description="rays per pixel side of the procedural renderer (odd; 1 = point sampling)")
    scale: float = Field(0.25, gt=0, description="motorcycle: image scale")
    root: str | None = None
    frames: int = 3
    options: dict[str, Any] = Field(default_factory=dict, description="extra keyword arguments of a dataset reader "
                                    "(e.g. split_file of kitti_raw_eigen)")


class HeldOutConfig(_Strict):
    seeds: list[int] | None = Field(None, description="procedural held-out seeds (default: start .. start + count - 1)")
    start: int = Field(1000, description="first procedural held-out seed")
    count: int = Field(16, ge=1, description="number of procedural held-out scenes")
    crop_fraction: float = Field(0.5, gt=0, lt=1, description="single real pair: train on the left part, hold out the rest; "
                                 "a dataset: the share of its samples held out")
    whole_pair: bool = Field(False, description="single real pair: train and evaluate on the whole pair instead of "
                             "cutting it (a per-pixel field, which holds one disparity per pixel and does not generalise)")

    def procedural_seeds(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.start, self.start + self.count))


class LossConfig(_Strict):
    alpha: float = Field(0.85, ge=0, le=1, description="SSIM share of the photometric term")
    photometric: float = Field(1.0, description="weight of alpha SSIM + (1 - alpha) L1 (Monodepth)")
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
    supervised: float = Field(0.0, description="weight of an L1 term towards the true disparity / depth (pre-training)")
    robust: Literal["none", "charbonnier"] = Field("none", description="charbonnier: the L1 of the photometric mix becomes "
                                                   "(r^2 + robust_eps^2)^robust_power (FeatDepth, RNW)")
    robust_eps: float = Field(1e-3, gt=0)
    robust_power: float = Field(0.5, gt=0, le=1)
    residual_clip: float | None = Field(None, description="video: cap each reprojection error at the batch's mean + k std "
                                        "before the per-pixel minimum (MonoFormer, k = 0.5); None: off")
    sparse_depth: float = Field(0.0, description="video: weight of an L1 on inverse depth at a sparse random subset of the "
                                "true depth (LiDARTouch), whose pixels leave the photometric term")
    sparse_density: float = Field(0.05, gt=0, le=1, description="share of valid pixels that carry a sparse depth point")
    pose_velocity: float = Field(0.0, description="video: weight of |‖t̂‖ - ‖t‖| between predicted and true translation "
                                 "lengths (md4all's velocity supervision, 0.02)")
    out_of_view_mask: bool = Field(False, description="video: a reprojection whose sample falls outside the source image "
                                   "takes no part in the per-pixel minimum (out-of-view validity mask)")
    geometry_consistency: float = Field(0.0, description="video: weight of SC-SfMLearner's depth inconsistency between the "
                                        "target's depth moved into each source frame and that frame's predicted depth (0.5)")
    geometry_mask: bool = Field(True, description="with geometry_consistency: weight each reprojection error by "
                                "1 - inconsistency (SC-SfMLearner's self-discovered mask)")
    uncertainty: bool = Field(False, description="video: the per-pixel minimum reprojection error r enters as r / u + log u "
                              "with u the depth network's predicted uncertainty (SUB-Depth, CoProU); needs model.kwargs."
                              "uncertainty: true")
    semantic: float = Field(0.0, description="stereo: weight of the cross-entropy of a segmentation head on the shared "
                            "decoder to the renderer's classes (Zama-Ramirez et al. 0.1; FSRE-Depth, SGDepth); needs "
                            "model.kwargs.classes")
    adversarial: float = Field(0.0, description="stereo: weight of the adversarial term of a PatchGAN that judges the "
                               "synthesised left view against the real one (Pilzer et al. 1e-4); needs model.kwargs."
                               "discriminator: true")
    gan_form: Literal["pilzer", "lsgan"] = Field("pilzer", description="pilzer: the generator maximises mean D(fake)^2 as "
                                                 "their code does; lsgan: mean (D(fake) - 1)^2 (RNW)")
    distillation: float = Field(0.0, description="weight of an L1 from the network's disparity to a frozen copy of itself "
                                "taken at step distill_from (PlaneDepth, SUB-Depth, md4all: 1.0); video: on the sigmoid "
                                "disparity")
    flow_consistency: float = Field(0.0, description="video: weight of the forward-backward consistency of the rigid "
                                    "flows from depth and pose, both directions, the depth network also run on the "
                                    "sources (wang2019recurrent; 0.1 keeps its ratio to the photometric term)")
    motion_mask: bool = Field(False, description="video: pixels of the possibly moving class (boxes: cars, furniture) "
                              "leave the photometric term (CoMoDA's mask-out of detected movable objects)")
    pose_cycle: float = Field(0.0, description="video: multiplier of Gordon et al.'s forward-backward pose cycle loss "
                              "(1: their weights, 1e-3 rotation and 1e-2 translation); the pose network also runs on the "
                              "swapped frame order")
    epipolar: float = Field(0.0, description="video: weight of DeepMatchVO's epipolar distance (px) of 100 exact matches "
                            "per source frame to the lines of the predicted pose (0.001); the matches come from the true "
                            "depth and poses, standing in for SIFT")
    brightness_align: bool = Field(False, description="video: rescale each warped frame to the target's mean and std before "
                                   "the comparison (VFDepth's intensity alignment)")
    min_reprojection: bool = True
    auto_mask: bool = True
    auto_mask_from: int = Field(0, ge=0, description="video, with auto_mask: the training step from which the auto-mask "
                                "applies; the steps before it take the per-pixel minimum over the warped sources alone "
                                "(a warm-up that Monodepth2 does not have; benchmarks/pose_remedies.py measures it). "
                                "Held-out evaluations always use the auto-mask. 0: from the first step")
    compile: bool = Field(True, description="torch.compile the photometric kernels (off: eager, faster start-up)")


class OptimConfig(_Strict):
    name: Literal["adam"] = "adam"
    lr: float = Field(1e-3, gt=0)
    batch: int = Field(1, ge=1, description="training samples per step")
    precision: Literal["float32", "bfloat16"] = Field(
        "float32", description="bfloat16: mixed precision while training, each convolution of the networks in bfloat16 "
        "under torch.autocast except the output layers (weights, optimiser, warping, losses and every held-out "
        "evaluation stay in float32; see loop.mixed_precision)")


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
    distill_from: int = Field(0, ge=0, description="with loss.distillation: the step at which the network becomes its "
                              "own frozen teacher and a fresh optimiser trains the student from the same weights; the "
                              "verdict reads the student's part")
    pretrain_steps: int = Field(0, ge=0, description="the first steps train with ground-truth supervision only (L1 to the "
                                "true disparity, or to the true log-depth and poses for video) before the configured loss "
                                "fine-tunes the network; the verdict reads the fine-tuning part only. 0: none")
    eval_every: int = Field(10, ge=1)
    checkpoint_every: int = Field(10, ge=1)
    max_disp: int | Literal["auto"] = Field("auto", description="disparity hypotheses of the proxy matcher and of the "
                                            "landscape; auto: from the data")
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
        if self.loss.semantic and not (self.model.name == "monounet" and self.model.kwargs.get("classes")):
            raise ValueError("loss.semantic needs a segmentation head: model monounet with kwargs classes: 5 "
                             "(the renderer's classes)")
        if self.loss.adversarial and not (self.model.name == "monounet" and self.model.kwargs.get("discriminator")):
            raise ValueError("loss.adversarial needs a discriminator: model monounet with kwargs discriminator: true")
        if self.loss.uncertainty and not (self.model.name == "depthpose" and self.model.kwargs.get("uncertainty")):
            raise ValueError("loss.uncertainty needs a depth network with an uncertainty head: model depthpose with "
                             "kwargs uncertainty: true")
        video_only = [k for k in ("residual_clip", "sparse_depth", "pose_velocity", "out_of_view_mask",
                                  "geometry_consistency", "brightness_align", "uncertainty", "pose_cycle", "epipolar", "flow_consistency", "motion_mask")
                      if getattr(self.loss, k) not in (None, 0.0, False)]
        if video_only and self.task != "video":
            raise ValueError(f"loss.{video_only[0]} is defined on monocular video (task 'video'), not on {self.task!r}")
        if self.loss.auto_mask_from and not (self.task == "video" and self.loss.auto_mask and self.loss.min_reprojection):
            raise ValueError("loss.auto_mask_from delays the auto-mask of the per-pixel minimum: it needs task 'video' "
                             "with loss.min_reprojection and loss.auto_mask true")
        if self.loss.auto_mask_from and self.loss.auto_mask_from >= self.steps:
            raise ValueError(f"loss.auto_mask_from ({self.loss.auto_mask_from}) must be below steps ({self.steps}), or "
                             "the auto-mask never applies")
        if self.loss.explainability and self.loss.min_reprojection:
            raise ValueError("loss.explainability weights each source's error: set loss.min_reprojection to false")
        if bool(self.loss.distillation) != bool(self.distill_from):
            raise ValueError("loss.distillation and distill_from go together: the teacher is the network at step "
                             f"distill_from (now distillation {self.loss.distillation}, distill_from {self.distill_from})")
        if self.distill_from and (self.distill_from >= self.steps or self.distill_from <= self.pretrain_steps):
            raise ValueError(f"distill_from {self.distill_from} must lie between pretrain_steps ({self.pretrain_steps}) "
                             f"and steps ({self.steps})")
        if self.pretrain_steps and self.pretrain_steps >= self.steps:
            raise ValueError(f"pretrain_steps {self.pretrain_steps} must be below steps {self.steps}: the rest fine-tunes")
        if self.pretrain_steps and self.model.init == "ground_truth":
            raise ValueError("pretrain_steps and model.init 'ground_truth' both start at the truth: use one of them")
        if isinstance(self.max_disp, int) and self.max_disp < 4:
            raise ValueError(f"max_disp {self.max_disp} is too small: use auto or at least 4")
        md = self.model.kwargs.get("max_disp")
        if md is not None and md != "auto" and not isinstance(md, (int, float)):
            raise ValueError(f"model.kwargs.max_disp must be a number or auto, not {md!r}")
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


def data_max_disparity(samples) -> float:
    """The largest valid true disparity over stereo samples (0 when none has one)."""
    import torch

    top = 0.0
    for s in samples:
        d = getattr(s, "disparity", None)
        v = getattr(s, "valid", None)
        if isinstance(d, torch.Tensor) and isinstance(v, torch.Tensor) and bool(v.any()):
            top = max(top, float(torch.nan_to_num(d[v.bool()], nan=0.0, posinf=0.0).max()))
    return top


def auto_max_disp(top: float) -> int:
    """Room above the largest true disparity (25 % and 4 px), rounded up to a multiple of 4 (the models
    work at quarter resolution)."""
    return int(4 * math.ceil((top * 1.25 + 4) / 4))


def resolve_max_disp(cfg: Config, samples) -> tuple[Config, float]:
    """The config with every ``auto`` max_disp replaced by a value from the data, and the data's largest
    disparity. An explicit value below that disparity raises :class:`ConfigError` naming the field."""
    if cfg.task != "stereo":
        return cfg, 0.0
    top = data_max_disparity(samples)
    auto = auto_max_disp(top)
    fields = {"max_disp": cfg.max_disp, "model.kwargs.max_disp": cfg.model.kwargs.get("max_disp", None)}
    for name, value in fields.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < top:
            raise ConfigError(f"{name}: {value} is below the largest true disparity of the data ({top:.1f} px); "
                              f"use auto or at least {math.ceil(top)}", field=name)
    kwargs = dict(cfg.model.kwargs)
    if "max_disp" in kwargs and kwargs["max_disp"] == "auto":
        kwargs["max_disp"] = auto
    model = cfg.model.model_copy(update={"kwargs": kwargs})
    new = cfg.model_copy(update={"model": model, "max_disp": auto if cfg.max_disp == "auto" else cfg.max_disp})
    return new, top
