"""Compose an experiment from taxonomy ids (``sins experiments probe``).

A researcher names the loss terms of their own method (taxonomy loss ids), an architecture and a domain;
:func:`build_spec` turns them into an :class:`~sins.experiments.specs.ExperimentSpec` with the same data,
schedule and verdict rule as the committed experiments of that architecture, and
:func:`sins.experiments.runner.run_spec` trains and judges it. Only ids the engine implements are accepted;
any other id is refused with the list of runnable ones.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .specs import ExperimentSpec, load_specs


class ProbeError(ValueError):
    """A combination of ids the engine cannot run; the message says what would be valid."""


@dataclass(frozen=True)
class Term:
    """How one taxonomy loss id enters the trainer's ``loss`` config."""

    loss: dict[str, Any]
    #: 'stereo', 'video' or None (both tasks)
    task: str | None = None
    #: the term is an image-synthesis term (at least one is needed)
    synthesis: bool = False
    note: str = ""
    #: model keyword arguments the term needs (e.g. an extra output channel)
    model: dict[str, Any] = field(default_factory=dict)


#: taxonomy loss id -> the trainer's loss settings that implement it (weights as the committed experiments use)
TERMS: dict[str, Term] = {
    "ssim": Term({}, synthesis=True, note="with l1: 0.85 SSIM + 0.15 L1 (Monodepth); alone: SSIM only"),
    "l1": Term({}, synthesis=True, note="with ssim: 0.85 SSIM + 0.15 L1; alone: L1 only"),
    "census": Term({"census": 1.0}, synthesis=True),
    "ncc": Term({"ncc": 1.0}, synthesis=True),
    "gradient": Term({"gradient": 1.0}, synthesis=True),
    "feature_metric": Term({"feature_metric": 1.0}, synthesis=True),
    "smoothness_edge_aware": Term({"smoothness": 0.001}),
    "smoothness_2nd_order": Term({"second_order": 0.001}),
    "lr_consistency": Term({"lr_consistency": 1.0}, task="stereo"),
    "proxy_supervision": Term({"proxy": 0.1}, task="stereo"),
    "min_reprojection": Term({"min_reprojection": True}, task="video"),
    "auto_mask": Term({"auto_mask": True}, task="video"),
    "explainability_mask": Term({"explainability": 0.2, "min_reprojection": False}, task="video",
                                model={"explain": True}),
    "robust_penalty": Term({"robust": "charbonnier", "robust_eps": 1e-3}, note="Charbonnier in place of the L1 (FeatDepth)"),
    "residual_clipping": Term({"residual_clip": 0.5}, task="video", note="cap at mean + 0.5 std (MonoFormer)"),
    "occlusion_mask": Term({"out_of_view_mask": True}, task="video", note="out-of-view validity mask (stereo always "
                           "masks samples outside the right image)"),
    "depth_consistency": Term({"geometry_consistency": 0.5, "geometry_mask": True}, task="video",
                              note="SC-SfMLearner geometry consistency + mask"),
    "sparse_depth_supervision": Term({"sparse_depth": 1.0, "sparse_density": 0.05}, task="video",
                                     note="L1 on inverse depth at 5% of the pixels (LiDARTouch)"),
    "pose_supervision": Term({"pose_velocity": 0.02}, task="video", note="translation-length supervision (md4all)"),
    "uncertainty": Term({"uncertainty": True}, task="video", model={"uncertainty": True},
                        note="r / u + log u with a predicted uncertainty u (SUB-Depth, CoProU)"),
    "pose_consistency": Term({"pose_cycle": 1.0}, task="video", note="forward-backward pose cycle (Gordon et al.)"),
    "adversarial": Term({"adversarial": 1e-4}, task="stereo", model={"discriminator": True},
                        note="PatchGAN on the synthesised view (Pilzer et al.)"),
    "instance_motion_mask": Term({"motion_mask": True}, task="video",
                                 note="possibly moving objects masked out (CoMoDA); the probe's clips are static"),
    "semantic": Term({"semantic": 0.1}, task="stereo", model={"classes": 5},
                     note="segmentation head trained jointly (cross-entropy to the scene's classes)"),
    "flow_consistency": Term({"flow_consistency": 0.1}, task="video", note="forward-backward rigid-flow consistency"),
    "epipolar": Term({"epipolar": 0.001}, task="video", note="epipolar distance of exact matches (DeepMatchVO)"),
    "brightness_compensation": Term({"brightness_align": True}, task="video",
                                    note="warped frames rescaled to the target's mean and std (VFDepth)"),
}

#: ids the engine implements in a committed experiment but a probe cannot compose, and why
NOT_PROBED = {
    "distillation": "its teacher is the network at a step of the schedule (distill_from), which a probe does not "
                    "set; run or copy experiments/distillation.yaml",
}

#: taxonomy architecture id -> (task, the committed experiment whose model, schedule and data a probe reuses)
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "unet-cnn": ("stereo", "monodepth_stereo"),
    "correlation-2d": ("stereo", "census_stereo"),
    "cost-volume-3d": ("stereo", "costvolume_stereo"),
    "pixel-field": ("stereo", "field_constant"),
    "pose-cnn": ("video", "monodepth2_video"),
}
#: taxonomy domain id -> the renderer's domain
DOMAINS = {"driving": "street", "indoor": "indoor", "medical": "medical"}


def runnable_ids() -> list[str]:
    return sorted(TERMS)


def _unknown(kind: str, value: str, valid) -> ProbeError:
    from sins.catalog.errors import unknown_id_message

    return ProbeError(unknown_id_message(kind, value, list(valid)))


def probe_name(losses: list[str], architecture: list[str], domain: str) -> str:
    slug = "-".join([*sorted(losses), *sorted(architecture), domain])
    return "probe-" + re.sub(r"[^a-z0-9-]+", "-", slug.lower().replace("_", "-"))[:120]


def build_spec(losses: list[str], architecture: list[str], domain: str = "driving", folder: str | Path = "experiments",
               seeds: list[int] | None = None, taxonomy=None) -> ExperimentSpec:
    """The experiment spec of a probe. Raises :class:`ProbeError` naming the id that cannot run and the valid ones."""
    if not losses:
        raise ProbeError(f"give at least one --loss; runnable ids: {', '.join(runnable_ids())}")
    losses = list(dict.fromkeys(losses))
    for t in losses:
        if t not in TERMS:
            known = taxonomy.ids("losses") if taxonomy is not None else set()
            if taxonomy is not None and t not in known:
                err = _unknown("loss term", t, runnable_ids())
                raise ProbeError(f"{err}; runnable ids: {', '.join(runnable_ids())}")
            if t in NOT_PROBED:
                raise ProbeError(f"loss term {t!r} cannot be probed: {NOT_PROBED[t]}; runnable ids: {', '.join(runnable_ids())}")
            raise ProbeError(f"loss term {t!r} is in the taxonomy but the engine does not implement it yet; "
                             f"runnable ids: {', '.join(runnable_ids())}")
    if not any(TERMS[t].synthesis for t in losses):
        raise ProbeError("give at least one image-synthesis term (" + ", ".join(t for t in runnable_ids() if TERMS[t].synthesis)
                         + "): the probe measures a synthesis loss against the depth error")
    arch = list(dict.fromkeys(architecture or ["unet-cnn"]))
    for a in arch:
        if a not in ARCHITECTURES:
            if taxonomy is not None and a in taxonomy.ids("architectures"):
                raise ProbeError(f"architecture {a!r} is in the taxonomy but the engine has no such model; "
                                 f"runnable architectures: {', '.join(ARCHITECTURES)}")
            raise _unknown("architecture", a, ARCHITECTURES)
    if domain not in DOMAINS:
        if taxonomy is not None and domain in taxonomy.ids("domains"):
            raise ProbeError(f"domain {domain!r} is in the taxonomy but the renderer has no such scenes; "
                             f"runnable domains: {', '.join(DOMAINS)}")
        raise _unknown("domain", domain, DOMAINS)
    tasks = {TERMS[t].task for t in losses} - {None}
    if "pose-cnn" in arch:
        tasks.add("video")
    if len(tasks) > 1:
        stereo = [t for t in losses if TERMS[t].task == "stereo"]
        video = [t for t in losses if TERMS[t].task == "video"] + (["pose-cnn"] if "pose-cnn" in arch else [])
        raise ProbeError(f"{', '.join(stereo)} need(s) stereo pairs but {', '.join(video)} need(s) video: probe them separately")
    task = tasks.pop() if tasks else "stereo"
    if task == "video":
        arch = ["unet-cnn", "pose-cnn"]
        template_name = ARCHITECTURES["pose-cnn"][1]
    else:
        stereo_arch = [a for a in arch if ARCHITECTURES[a][0] == "stereo"]
        if len(stereo_arch) != 1:
            raise ProbeError(f"give one stereo architecture ({', '.join(a for a in ARCHITECTURES if ARCHITECTURES[a][0] == 'stereo')}), "
                             f"not {', '.join(arch)}")
        template_name = ARCHITECTURES[stereo_arch[0]][1]
    specs, problems = load_specs(folder)
    if template_name not in specs:
        raise ProbeError(f"the probe reuses {Path(folder) / template_name}.yaml, which is missing or invalid"
                         + (f": {problems[0]}" if problems else ""))
    template = specs[template_name]
    config = copy.deepcopy(template.config)
    loss: dict[str, Any] = {"compile": False}
    has_ssim, has_l1 = "ssim" in losses, "l1" in losses
    loss["photometric"] = 1.0 if (has_ssim or has_l1) else 0.0
    loss["alpha"] = 0.85 if (has_ssim and has_l1) else (1.0 if has_ssim else 0.0)
    if task == "video":
        loss["min_reprojection"] = False
        loss["auto_mask"] = False
    model_kwargs = dict(config.get("model", {}).get("kwargs", {}))
    for t in losses:
        loss.update(TERMS[t].loss)
        model_kwargs.update(TERMS[t].model)
    if task == "video" and loss.get("auto_mask") and not loss.get("min_reprojection"):
        raise ProbeError("auto_mask joins the identity errors into the per-pixel minimum: add --loss min_reprojection")
    config["loss"] = loss
    config.setdefault("model", {})["kwargs"] = model_kwargs
    data = config.setdefault("data", {})
    data["domain"] = DOMAINS[domain]
    supervision = template.supervision
    name = probe_name(losses, arch, domain)
    return ExperimentSpec(
        name=name, title=f"Probe: {' + '.join(losses)} with {' + '.join(arch)}, {domain}",
        question=f"With {' + '.join(losses)}, does a lower synthesis loss mean a lower depth error ({domain} scenes)?",
        tests=losses, architecture=arch, supervision=supervision, input=template.input, domain=domain, claims=[1, 2],
        cites=[], seeds=seeds or template.seeds, config=config, profiles=copy.deepcopy(template.profiles),
        seed_sets_scene=template.seed_sets_scene)


def spec_yaml(spec: ExperimentSpec) -> str:
    """The spec as YAML, to keep as ``experiments/<name>.yaml`` (then add the ids' links in the taxonomy)."""
    import yaml

    data = spec.model_dump(exclude_defaults=False)
    data = {k: v for k, v in data.items() if v not in ("", [], {}) or k in ("tests", "architecture")}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
