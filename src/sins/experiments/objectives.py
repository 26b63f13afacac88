"""What is minimised, per task: the synthesis term as the original papers define it, plus the
configured regularisers and supervision terms.

Each objective is ``objective(model, batch, cfg) -> Terms``: the total ``loss`` to minimise, the
prediction (left disparity for stereo, target depth for video) and ``parts``, each term's value
(``parts["synthesis"]`` is the image-synthesis term exactly as trained, with its masks, which the
evaluation also reports on held-out data). A new loss term touches this module only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import losses as L
from .config import Config, ConfigError, LossConfig
from .synthesis import backproject, project, sample_pixels, warp_frame, warp_stereo

#: Monodepth2 breaks ties between a reprojection and an identity loss with tiny noise; a constant
#: offset does the same job deterministically (a tie keeps the reprojection)
IDENTITY_OFFSET = 1e-5


@dataclass
class Terms:
    loss: torch.Tensor
    prediction: torch.Tensor
    parts: dict[str, torch.Tensor] = field(default_factory=dict)
    #: anything else the evaluation needs (the predicted poses of a video model)
    extra: dict = field(default_factory=dict)


def masked_mean(err: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.to(err.dtype).expand_as(err)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def synthesis_error(pred: torch.Tensor, target: torch.Tensor, lc: LossConfig) -> torch.Tensor:
    """Per-pixel weighted image-synthesis error (B, 1, H, W) from the configured photometric terms."""
    err = torch.zeros_like(pred[:, :1])
    if lc.photometric and lc.robust == "charbonnier":  # the L1 of the mix replaced by the robust penalty
        dssim = L.photometric(pred, target, alpha=1.0, compile=lc.compile)
        rob = L.charbonnier(pred, target, eps=lc.robust_eps, power=lc.robust_power)
        err = err + lc.photometric * (lc.alpha * dssim + (1 - lc.alpha) * rob)
    elif lc.photometric:
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


def common_photometric(pred: torch.Tensor, target: torch.Tensor, cfg: Config) -> torch.Tensor:
    """The common yardstick (0.85 SSIM + 0.15 L1 unless ``loss.alpha`` says otherwise), whatever is trained."""
    return L.photometric(pred, target, alpha=cfg.loss.alpha, compile=cfg.loss.compile)


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


def proxy_disparity(left: torch.Tensor, right: torch.Tensor, max_disp: int, compile: bool = True) -> torch.Tensor:
    """Winner-take-all over the photometric cost volume of integer disparities 0..max_disp."""
    from .manifold import cost_volume

    hyps = torch.arange(0, max_disp + 1, dtype=left.dtype)
    with torch.no_grad():
        cv = cost_volume(left, right, hyps, compile=compile)
        return hyps.to(left.device)[cv.argmin(1)].unsqueeze(1)


_PROXY_CACHE: dict[tuple, torch.Tensor] = {}
_PROXY_CACHE_MAX = 4096


def cached_proxy(left, right, max_disp: int, compile: bool, names: list[str] | None) -> torch.Tensor:
    """The matcher's disparity depends on the images only: computed once per named sample, then reused."""
    if not names:
        return proxy_disparity(left, right, max_disp, compile)
    out = []
    for i, name in enumerate(names):
        key = (name, max_disp, tuple(left.shape[-2:]), float(left[i].sum()))
        if key not in _PROXY_CACHE:
            if len(_PROXY_CACHE) >= _PROXY_CACHE_MAX:
                _PROXY_CACHE.clear()
            _PROXY_CACHE[key] = proxy_disparity(left[i : i + 1], right[i : i + 1], max_disp, compile).cpu()
        out.append(_PROXY_CACHE[key].to(left.device))
    return torch.cat(out, 0)


def _flip(t: torch.Tensor) -> torch.Tensor:
    return torch.flip(t, dims=[-1])


def _regularise(parts: dict, disp: torch.Tensor, image: torch.Tensor, lc: LossConfig) -> None:
    norm = disp / disp.mean(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    if lc.smoothness:
        parts["smoothness"] = lc.smoothness * L.edge_aware_smoothness(norm, image)
    if lc.second_order:
        parts["second_order"] = lc.second_order * L.second_order_smoothness(norm, image)


def predict_stereo(model, left: torch.Tensor, right: torch.Tensor, names: list[str] | None = None) -> torch.Tensor:
    """The model's left disparity; a model with one parameter set per scene (a per-pixel field) gets the names."""
    inner = getattr(model, "module", model)
    if getattr(inner, "per_scene", False) and names is not None:
        return model(left, right, names=names)
    return model(left, right)


def stereo_objective(model, batch: dict, cfg: Config) -> Terms:
    """Left view synthesised from the right one with the predicted left disparity (Monodepth / stereo
    matching): masked mean of the synthesis error over pixels that land inside the right image."""
    left, right, lc = batch["left"], batch["right"], cfg.loss
    disp = predict_stereo(model, left, right, batch.get("names"))
    warped, outside = warp_stereo(right, disp)
    parts = {"synthesis": masked_mean(synthesis_error(warped, left, lc), ~outside)}
    _regularise(parts, disp, left, lc)
    if lc.lr_consistency:
        disp_r = _flip(model(_flip(right), _flip(left)))
        # in units of the image width, as Monodepth's disparities are, so that its weight (1.0) carries over
        parts["lr_consistency"] = lc.lr_consistency * L.lr_consistency(disp, disp_r).mean() / left.shape[-1]
    if lc.proxy:
        if not isinstance(cfg.max_disp, int):
            raise ConfigError("loss.proxy needs a resolved max_disp (the trainer resolves 'auto' from the data)", "max_disp")
        proxy = cached_proxy(left, right, cfg.max_disp, lc.compile, batch.get("names"))
        parts["proxy"] = lc.proxy * (disp - proxy).abs().mean()
    if lc.supervised:
        valid = batch["valid"].bool()
        parts["supervised"] = lc.supervised * masked_mean((disp - batch["disparity"]).abs(), valid)
    if lc.adversarial:
        parts.update(adversarial_terms(getattr(model, "module", model).disc, left, warped, lc))
    if lc.semantic:
        if batch.get("labels") is None:
            raise ConfigError("loss.semantic needs per-pixel classes (procedural scenes have them)", "loss.semantic")
        logits = getattr(model, "module", model).last_logits
        parts["semantic"] = lc.semantic * torch.nn.functional.cross_entropy(logits, batch["labels"][:, 0])
    if lc.distillation and batch.get("teacher") is not None:  # the frozen teacher's disparity (px), detached
        parts["distillation"] = lc.distillation * (disp - batch["teacher"]).abs().mean()
    return Terms(sum(parts.values()), disp, parts)


def video_objective(model, batch: dict, cfg: Config) -> Terms:
    """Target frame synthesised from each source frame with the predicted depth and poses.

    - ``min_reprojection`` (Monodepth2): per pixel, the smallest error over the sources; with
      ``auto_mask`` the identity (unwarped) errors join the minimum, so that a pixel better explained
      by not moving takes that error, and the mean runs over **all** pixels as in Monodepth2;
    - ``explainability`` (SfMLearner): each source's error weighted by a predicted mask with a
      cross-entropy towards 1;
    - otherwise the errors are averaged over sources and valid pixels.
    """
    frames, K, lc = batch["frames"], batch["K"], cfg.loss
    t = frames.shape[1] // 2
    target = frames[:, t]
    depth, poses = model(frames)
    src_idx = [i for i in range(frames.shape[1]) if i != t]
    sources = [frames[:, i] for i in src_idx]
    parts: dict[str, torch.Tensor] = {}
    errs, outs = [], []
    inconsistency = []
    for i, src, T in zip(src_idx, sources, poses):
        warped, outside = warp_frame(src, depth, K, T)
        if lc.brightness_align:
            warped = L.align_brightness(warped, target, ~outside)
        e = synthesis_error(warped, target, lc)
        if lc.geometry_consistency:
            diff, inside = _depth_inconsistency(model, frames[:, i], depth, K, T)
            inconsistency.append((diff, inside))
            if lc.geometry_mask:
                e = e * (1 - diff)
        if lc.residual_clip is not None:
            e = L.clip_residuals(e, lc.residual_clip)
        errs.append(e)
        outs.append(outside)
    keep = None  # pixels the synthesis term averages over (None: all)
    if lc.motion_mask:  # CoMoDA: possibly moving objects (the box class) leave the photometric term
        if batch.get("labels") is None:
            raise ConfigError("loss.motion_mask needs per-pixel classes (procedural scenes have them)", "loss.motion_mask")
        from .data.procedural import CLASSES

        keep = batch["labels"] != CLASSES.index("box")
    if lc.sparse_depth:
        points = sparse_points(batch["valid"].bool(), lc.sparse_density, batch.get("names"))
        keep = ~points if keep is None else keep & ~points  # measured pixels leave the photometric term (LiDARTouch)
        parts["sparse_depth"] = lc.sparse_depth * masked_mean((1.0 / depth - 1.0 / batch["depth"].clamp_min(1e-6)).abs(),
                                                              points)
    if lc.explainability:
        head = getattr(getattr(model, "module", model), "explain", None)
        if head is None:
            raise ConfigError("loss.explainability needs a model with an explainability head (depthpose with explain: true)")
        masks = torch.cat([head(target, s) for s in sources], 1)
        valid = torch.cat([(~o).to(masks.dtype) for o in outs], 1)
        parts["synthesis"] = L.explainability_loss(torch.cat(errs, 1) * valid, masks, weight=lc.explainability)
    elif lc.min_reprojection:
        candidates = list(errs)
        if lc.out_of_view_mask:  # an out-of-view sample cannot win the minimum (MonoRec: its error is infinite)
            candidates = [torch.where(o, torch.full_like(e, float("inf")), e) for e, o in zip(errs, outs)]
        if lc.auto_mask:
            candidates += [synthesis_error(s, target, lc) + IDENTITY_OFFSET for s in sources]
        best = L.min_reprojection(candidates)
        seen = torch.isfinite(best)
        valid = seen if keep is None else seen & keep
        if lc.uncertainty:  # r / u + log u (SUB-Depth, CoProU): the optimum is u = r
            u = getattr(model, "module", model).last_uncertainty
            best = torch.where(seen, best, torch.zeros_like(best)) / u + torch.log(u)
        parts["synthesis"] = masked_mean(torch.where(seen, best, torch.zeros_like(best)), valid) \
            if (lc.out_of_view_mask or keep is not None) else best.mean()
    else:
        parts["synthesis"] = sum(masked_mean(e, ~o if keep is None else ~o & keep) for e, o in zip(errs, outs)) / len(errs)
    if lc.geometry_consistency:
        parts["geometry_consistency"] = lc.geometry_consistency * sum(
            masked_mean(d, m) for d, m in inconsistency) / len(inconsistency)
    if lc.pose_cycle:  # the pose network on the swapped order too (not the inverse: that cycle is always closed)
        inner = getattr(model, "module", model)
        rot = trans = 0.0
        for i, T in zip(src_idx, poses):
            T_st = inner.swapped_pose(frames, t, i)
            for a, b_ in ((T, T_st), (T_st, T)):
                r_, t_ = L.pose_cycle(a, b_)
                rot, trans = rot + r_, trans + t_
        parts["pose_cycle"] = lc.pose_cycle * (1e-3 * rot + 1e-2 * trans)
    if lc.flow_consistency:
        inner = getattr(model, "module", model)
        total = 0.0
        for i, src, T in zip(src_idx, sources, poses):
            T_st = inner.swapped_pose(frames, t, i)
            d_s = inner.depth(src)
            f_ts, in_ts = rigid_flow(depth, K, T)
            f_st, in_st = rigid_flow(d_s, K, T_st)
            total = total + L.flow_cycle(f_ts, _sample_flow(f_st, f_ts), in_ts) \
                + L.flow_cycle(f_st, _sample_flow(f_ts, f_st), in_st)
        parts["flow_consistency"] = lc.flow_consistency * total / len(sources)
    if lc.epipolar:
        if batch.get("poses") is None:
            raise ConfigError("loss.epipolar takes its matches from the true depth and poses (procedural video has them)",
                              "loss.epipolar")
        d = 0.0
        for i, T in zip(src_idx, poses):
            x_t, x_s = exact_matches(batch["depth"], batch["valid"].bool(), K, batch["poses"][:, i], batch.get("names"), i)
            d = d + L.epipolar_distance(T, K, x_t, x_s).mean()
        parts["epipolar"] = lc.epipolar * d
    if lc.pose_velocity:
        if batch.get("poses") is None:
            raise ConfigError("loss.pose_velocity needs the true poses of the clips (procedural video has them)",
                              "loss.pose_velocity")
        true = [batch["poses"][:, i] for i in src_idx]
        parts["pose_velocity"] = lc.pose_velocity * sum(
            (T[:, :3, 3].norm(dim=1) - Tt[:, :3, 3].to(T.dtype).norm(dim=1)).abs().mean() for T, Tt in zip(poses, true)) / len(poses)
    _regularise(parts, 1.0 / depth, target, lc)
    if lc.distillation and batch.get("teacher") is not None:  # on the sigmoid disparity, as SUB-Depth
        inner = getattr(model, "module", model)
        parts["distillation"] = lc.distillation * (_sigmoid_disparity(inner, depth)
                                                   - _sigmoid_disparity(inner, batch["teacher"])).abs().mean()
    if lc.supervised:
        valid = batch["valid"].bool()
        parts["supervised"] = lc.supervised * masked_mean((torch.log(depth) - torch.log(batch["depth"].clamp_min(1e-6))).abs(),
                                                          valid)
    return Terms(sum(parts.values()), depth, parts, {"poses": poses})


def _depth_inconsistency(model, source: torch.Tensor, depth: torch.Tensor, K: torch.Tensor, T: torch.Tensor):
    """SC-SfMLearner's geometry consistency for one source frame: the target's depth moved into the source frame
    against the source's own predicted depth sampled there; returns (inconsistency (B,1,H,W), in-view mask)."""
    inner = getattr(model, "module", model)
    b, _, h, w = depth.shape
    src_depth = inner.depth(source)
    pts = backproject(depth, torch.linalg.inv(K.to(depth.dtype)))
    u, v, z = project(pts, K, T)
    sampled, outside = sample_pixels(src_depth, u.reshape(b, h, w), v.reshape(b, h, w))
    z = z.reshape(b, 1, h, w)
    inside = ~outside & (z > 0)
    return L.geometry_inconsistency(z, sampled), inside


def rigid_flow(depth: torch.Tensor, K: torch.Tensor, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rigid flow (B, 2, H, W) from a view to another given its depth and the pose between them, and the mask
    of the pixels that land inside the other view in front of its camera."""
    b, _, h, w = depth.shape
    pts = backproject(depth, torch.linalg.inv(K.to(depth.dtype)))
    u, v, z = project(pts, K, T.to(depth.dtype))
    from .synthesis import pixel_grid

    xs, ys = pixel_grid(h, w, depth.device, depth.dtype)
    flow = torch.stack([u.reshape(b, h, w) - xs, v.reshape(b, h, w) - ys], 1)
    uu, vv = u.reshape(b, 1, h, w), v.reshape(b, 1, h, w)
    inside = (uu >= 0) & (uu <= w - 1) & (vv >= 0) & (vv <= h - 1) & (z.reshape(b, 1, h, w) > 0)
    return flow, inside


def _sample_flow(flow_other: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``flow_other`` sampled bilinearly at ``p + flow(p)``."""
    from .synthesis import pixel_grid

    b, _, h, w = flow.shape
    xs, ys = pixel_grid(h, w, flow.device, flow.dtype)
    sampled, _ = sample_pixels(flow_other, xs + flow[:, 0], ys + flow[:, 1])
    return sampled


def exact_matches(depth: torch.Tensor, valid: torch.Tensor, K: torch.Tensor, T: torch.Tensor, names: list[str] | None,
                  frame: int, n: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` exact matches per sample between the target and a source frame, standing in for SIFT matches: target
    pixels drawn (the same ones each time a scene is seen) among those with a true depth whose true projection
    lands inside the source frame, and their projections. Returns (B, n, 2) target and source pixel coordinates."""
    import zlib

    b, _, h, w = depth.shape
    pts = backproject(depth, torch.linalg.inv(K.to(depth.dtype)))
    u, v, z = project(pts, K, T.to(depth.dtype))
    inside = (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1) & (z > 0) & valid.reshape(b, -1)
    xs = torch.arange(h * w, device=depth.device)
    out_t, out_s = [], []
    for k in range(b):
        g = torch.Generator().manual_seed(zlib.crc32(f"{names[k] if names else k}/{frame}".encode()))
        cand = xs[inside[k]]
        pick = cand[torch.randint(len(cand), (n,), generator=g).to(cand.device)] if len(cand) else xs[:n]
        out_t.append(torch.stack([(pick % w).to(depth.dtype), (pick // w).to(depth.dtype)], -1))
        out_s.append(torch.stack([u[k, pick], v[k, pick]], -1))
    return torch.stack(out_t), torch.stack(out_s)


def sparse_points(valid: torch.Tensor, density: float, names: list[str] | None) -> torch.Tensor:
    """A fixed sparse subset of each sample's valid pixels (B,1,H,W) standing in for LiDAR points: the same
    pixels every time a scene is seen (drawn from a generator seeded by the scene's name)."""
    import zlib

    out = torch.zeros_like(valid)
    for k in range(valid.shape[0]):
        g = torch.Generator().manual_seed(zlib.crc32((names[k] if names else str(k)).encode()))
        pick = torch.rand(valid.shape[1:], generator=g) < density
        out[k] = valid[k] & pick.to(valid.device)
    return out


def adversarial_terms(disc, real: torch.Tensor, fake: torch.Tensor, lc: LossConfig) -> dict[str, torch.Tensor]:
    """Pilzer et al.'s adversarial terms on the synthesised view, both minimised in one step by one optimiser as in
    their code: the generator's term sees the discriminator with its parameters detached (so that it trains the
    depth network only), the discriminator's LSGAN loss sees the synthesised view detached (so that it trains the
    discriminator only): ``L_D = w/2 [mean (D(real) - 1)^2 + mean D(fake)^2]``, ``L_G = -w mean D(fake)^2``
    (their form, unbounded) or ``w mean (D(fake) - 1)^2`` (``gan_form: lsgan``)."""
    from torch.func import functional_call

    frozen = {k: v.detach() for k, v in disc.named_parameters()}
    d_fake_g = functional_call(disc, frozen, (fake,))
    g = -(d_fake_g ** 2).mean() if lc.gan_form == "pilzer" else ((d_fake_g - 1) ** 2).mean()
    d = 0.5 * (((disc(real) - 1) ** 2).mean() + (disc(fake.detach()) ** 2).mean())
    return {"adversarial": lc.adversarial * g, "discriminator": lc.adversarial * d}


def _sigmoid_disparity(model, depth: torch.Tensor) -> torch.Tensor:
    lo, hi = 1.0 / model.max_depth, 1.0 / model.min_depth
    return (1.0 / depth - lo) / (hi - lo)


def teacher_prediction(teacher, batch: dict, task: str) -> torch.Tensor:
    """The frozen teacher's output for a batch (disparity for stereo, depth for video), without gradient."""
    with torch.no_grad():
        if task == "stereo":
            return predict_stereo(teacher, batch["left"], batch["right"], batch.get("names"))
        return teacher(batch["frames"])[0]


def pretraining_config(cfg: Config) -> Config:
    """The config of the supervised pre-training phase: the same run with only the ground-truth term."""
    lc = LossConfig(photometric=0.0, supervised=1.0, min_reprojection=cfg.task == "video", auto_mask=False,
                    compile=cfg.loss.compile)
    return cfg.model_copy(update={"loss": lc})


def pretraining_objective(model, batch: dict, cfg: Config) -> Terms:
    """Ground-truth supervision of a network before it is fine-tuned by a synthesis loss: L1 to the true disparity
    (stereo) or to the true log-depth plus an L1 to the true poses' top three rows (video, so that the pose network
    starts from the truth as well). ``parts["synthesis"]`` is the configured synthesis term, not trained."""
    pre = pretraining_config(cfg)
    if cfg.task == "stereo":
        t = stereo_objective(model, batch, pre)
    else:
        t = video_objective(model, batch, pre)
        if batch.get("poses") is not None:
            f = batch["frames"].shape[1]
            true = [batch["poses"][:, i] for i in range(f) if i != f // 2]
            t.parts["pose_supervised"] = sum((T[:, :3] - Tt[:, :3].to(T.dtype)).abs().mean()
                                             for T, Tt in zip(t.extra["poses"], true)) / len(true)
    loss = sum(v for k, v in t.parts.items() if k != "synthesis")
    return Terms(loss, t.prediction, t.parts, t.extra)


OBJECTIVES = {"stereo": stereo_objective, "video": video_objective}


def objective_for(task: str):
    return OBJECTIVES[task]


#: taxonomy loss id -> the function that implements it, here or in :mod:`sins.experiments.losses` (terms that live in
#: an objective's assembly name the objective)
IMPLEMENTS = {
    **L.IMPLEMENTS,
    "occlusion_mask": video_objective,
    "pose_supervision": video_objective,
    "sparse_depth_supervision": sparse_points,
    "uncertainty": video_objective,
    "distillation": video_objective,
    "instance_motion_mask": video_objective,
    "semantic": stereo_objective,
    "adversarial": adversarial_terms,
}
