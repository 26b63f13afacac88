"""Image synthesis losses and regularisers, as the original papers define them.

Every function is pure and typed; per-pixel terms return maps so that callers
choose masking and reduction. Images are (B, C, H, W) floats in [0, 1].

References
----------
- SSIM: Wang et al., "Image quality assessment: from error visibility to
  structural similarity", TIP 2004; the 3x3 / reflection-padded variant with
  the 0.85 SSIM + 0.15 L1 blend: Godard et al., "Unsupervised Monocular Depth
  Estimation with Left-Right Consistency" (Monodepth), CVPR 2017, and
  Godard et al., "Digging Into Self-Supervised Monocular Depth Estimation"
  (Monodepth2), ICCV 2019.
- Census: Zabih & Woodfill, ECCV 1994; soft ternary form of Meister et al.,
  "UnFlow", AAAI 2018.
- Min reprojection and auto-mask: Monodepth2 (ICCV 2019).
- Explainability mask: Zhou et al., "Unsupervised Learning of Depth and
  Ego-Motion from Video" (SfMLearner), CVPR 2017.
- Feature-metric loss: Shu et al., "Feature-metric Loss for Self-supervised
  Learning of Depth and Egomotion", ECCV 2020.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from sins.experiments.synthesis import warp_stereo

C1 = 0.01**2
C2 = 0.03**2


# --------------------------------------------------------------------------- SSIM
def _ssim_from_moments(mu_x, mu_y, sxx, syy, sxy):
    num = (2 * mu_x * mu_y + C1) * (2 * sxy + C2)
    den = (mu_x * mu_x + mu_y * mu_y + C1) * (sxx + syy + C2)
    return torch.clamp((1 - num / den) / 2, 0, 1)


def ssim_reference(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Straightforward Monodepth2 formulation: five 3x3 average pools after reflection padding.

    Kept as the oracle and the speed baseline for :func:`ssim`.
    """
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    y = F.pad(y, (1, 1, 1, 1), mode="reflect")
    mu_x = F.avg_pool2d(x, 3, 1)
    mu_y = F.avg_pool2d(y, 3, 1)
    sxx = F.avg_pool2d(x * x, 3, 1) - mu_x**2
    syy = F.avg_pool2d(y * y, 3, 1) - mu_y**2
    sxy = F.avg_pool2d(x * y, 3, 1) - mu_x * mu_y
    return _ssim_from_moments(mu_x, mu_y, sxx, syy, sxy)


def _box3(t: torch.Tensor) -> torch.Tensor:
    """3x3 mean with reflection padding, computed separably with shifted adds."""
    t = F.pad(t, (1, 1, 1, 1), mode="reflect")
    h = t[..., :, :-2] + t[..., :, 1:-1] + t[..., :, 2:]
    v = h[..., :-2, :] + h[..., 1:-1, :] + h[..., 2:, :]
    return v * (1.0 / 9.0)


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Per-pixel SSIM dissimilarity ``(1 - SSIM(x, y)) / 2`` clamped to [0, 1].

    .. math::
        \mathrm{SSIM} = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
                             {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}

    with 3x3 uniform windows, reflection padding, ``C1 = 0.01^2``,
    ``C2 = 0.03^2`` (Monodepth, CVPR 2017; Monodepth2, ICCV 2019). Returns
    (B, C, H, W). All five moments are filtered in one separable pass over the
    stacked ``[x, y, x^2, y^2, xy]`` channels; equal to :func:`ssim_reference`.
    """
    c = x.shape[1]
    m = _box3(torch.cat([x, y, x * x, y * y, x * y], dim=1))
    mu_x, mu_y, exx, eyy, exy = m.split(c, dim=1)
    return _ssim_from_moments(mu_x, mu_y, exx - mu_x * mu_x, eyy - mu_y * mu_y, exy - mu_x * mu_y)


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-pixel L1 ``|\tilde I - I|`` averaged over channels -> (B,1,H,W)."""
    return (pred - target).abs().mean(1, keepdim=True)


def l2(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-pixel squared difference ``(\tilde I - I)^2`` averaged over channels -> (B,1,H,W)."""
    return ((pred - target) ** 2).mean(1, keepdim=True)


def _box3_adjoint(g: torch.Tensor) -> torch.Tensor:
    """Adjoint (transpose) of :func:`_box3`: spread each value over its 3x3 window, fold reflected borders back."""
    g = F.pad(g, (2, 2, 2, 2))
    h = g[..., :, :-2] + g[..., :, 1:-1] + g[..., :, 2:]
    v = (h[..., :-2, :] + h[..., 1:-1, :] + h[..., 2:, :]) * (1.0 / 9.0)
    # v is the gradient w.r.t. the reflection-padded input (H+2, W+2): padded column 0 is column 1, etc.
    v[..., :, 2] += v[..., :, 0]
    v[..., :, -3] += v[..., :, -1]
    v[..., 2, :] += v[..., 0, :]
    v[..., -3, :] += v[..., -1, :]
    return v[..., 1:-1, 1:-1]


def _photometric_fwd(x: torch.Tensor, y: torch.Tensor, alpha: float):
    """Forward of the photometric error; also returns the intermediates the analytic backward needs."""
    c = x.shape[1]
    m = _box3(torch.cat([x, y, x * x, y * y, x * y], 1))
    mx, my, exx, eyy, exy = m.split(c, 1)
    a = 2 * mx * my + C1
    b = 2 * (exy - mx * my) + C2
    cc = mx * mx + my * my + C1
    d = (exx - mx * mx) + (eyy - my * my) + C2
    r = (a * b) / (cc * d)
    s = ((1 - r) * 0.5).clamp(0, 1)
    out = alpha / c * s.sum(1, keepdim=True) + (1 - alpha) / c * (x - y).abs().sum(1, keepdim=True)
    return out, mx, my, a, b, cc, d, r


def _photometric_bwd(go, x, y, mx, my, a, b, cc, d, r, alpha: float):
    """Analytic gradient w.r.t. ``pred`` of :func:`_photometric_fwd`.

    With r = AB / (C D) (A = 2 mu_x mu_y + C1, B = 2 s_xy + C2, C = mu_x^2 + mu_y^2 + C1,
    D = s_x^2 + s_y^2 + C2) and the moments mu_x, E[x^2], E[xy] as variables:
    dr/dmu_x = r (2mu_y/A - 2mu_y/B - 2mu_x/C + 2mu_x/D), dr/dE[x^2] = -r/D, dr/dE[xy] = 2r/B;
    the moment gradients go back through the adjoint box filter.
    """
    c = x.shape[1]
    gate = (r >= -1) & (r <= 1)  # clamp(0, 1) of (1 - r) / 2 passes gradients inside
    g = (go * (-0.5 * alpha / c)) * r * gate
    gmx = g * (2 * my / a - 2 * my / b - 2 * mx / cc + 2 * mx / d)
    bt = _box3_adjoint(torch.cat([gmx, -g / d, 2 * g / b], 1))
    b1, b2, b3 = bt.split(c, 1)
    return b1 + 2 * x * b2 + y * b3 + (go * ((1 - alpha) / c)) * torch.sign(x - y)


class _Compiled:
    """torch.compile of the two kernels, built lazily, with a permanent eager fallback if compilation fails."""

    def __init__(self):
        self.fwd = None
        self.bwd = None
        self.failed: str | None = None

    def get(self, use_compile: bool):
        if not use_compile or self.failed is not None:
            return _photometric_fwd, _photometric_bwd
        if self.fwd is None:
            try:
                self.fwd = torch.compile(_photometric_fwd, dynamic=False)
                self.bwd = torch.compile(_photometric_bwd, dynamic=False)
            except Exception as exc:  # no compiler backend in this environment
                self.failed = repr(exc)
                return _photometric_fwd, _photometric_bwd
        return self.fwd, self.bwd

    def call(self, which: int, use_compile: bool, *args):
        fns = self.get(use_compile)
        try:
            return fns[which](*args)
        except Exception as exc:  # e.g. no C++ compiler at first call: fall back to eager for good
            if fns[which] in (_photometric_fwd, _photometric_bwd):
                raise
            self.failed = repr(exc)
            return (_photometric_fwd, _photometric_bwd)[which](*args)


_COMPILED = _Compiled()


class _PhotometricFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, alpha, use_compile):
        out, *rest = _COMPILED.call(0, use_compile, x, y, alpha)
        ctx.save_for_backward(x, y, *rest)
        ctx.alpha, ctx.use_compile = alpha, use_compile
        return out

    @staticmethod
    def backward(ctx, go):
        gx = _COMPILED.call(1, ctx.use_compile, go.contiguous(), *ctx.saved_tensors, ctx.alpha)
        return gx, None, None, None


def photometric(pred: torch.Tensor, target: torch.Tensor, alpha: float = 0.85, compile: bool = True) -> torch.Tensor:
    r"""Monodepth photometric error ``alpha * (1-SSIM)/2 + (1-alpha) * |pred - target|``.

    Both terms are averaged over channels; returns (B, 1, H, W) (Godard et al.,
    CVPR 2017 and ICCV 2019, alpha = 0.85). Numerically the same as
    :func:`photometric_reference` (within 1e-5, gradients included) but faster:
    one separable filter over the stacked moments, an analytic backward, and
    ``torch.compile`` of both kernels where a compiler works (``compile=False``
    or a failed compilation uses the same kernels eagerly). When ``target``
    requires a gradient the plain autograd formulation is used.
    """
    if target.requires_grad and torch.is_grad_enabled():
        return alpha * ssim(pred, target).mean(1, keepdim=True) + (1 - alpha) * l1(pred, target)
    if not (pred.requires_grad and torch.is_grad_enabled()):
        return _COMPILED.call(0, compile, pred, target, alpha)[0]
    return _PhotometricFn.apply(pred, target, float(alpha), bool(compile))


def photometric_reference(pred: torch.Tensor, target: torch.Tensor, alpha: float = 0.85) -> torch.Tensor:
    """The straightforward Monodepth2-style formulation of :func:`photometric` (oracle and speed baseline)."""
    return alpha * ssim_reference(pred, target).mean(1, keepdim=True) + (1 - alpha) * (pred - target).abs().mean(1, keepdim=True)


# ----------------------------------------------------------------- other data terms
def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * w).sum(1, keepdim=True)
    return x.mean(1, keepdim=True)


def census_transform(img: torch.Tensor, window: int = 7) -> torch.Tensor:
    r"""Soft ternary census transform (UnFlow): ``t_k = d_k / sqrt(0.81 + d_k^2)``, ``d_k = I(p+k) - I(p)``.

    Input (B,C,H,W) in [0,1] (converted to grey levels 0..255); returns (B, window^2, H, W).
    """
    g = _gray(img) * 255.0
    r = window // 2
    patches = F.unfold(F.pad(g, (r, r, r, r), mode="replicate"), window)  # (B, w*w, H*W)
    b, _, h, w = g.shape
    d = patches.view(b, window * window, h, w) - g
    return d / torch.sqrt(0.81 + d * d)


def census_reference(pred: torch.Tensor, target: torch.Tensor, window: int = 7) -> torch.Tensor:
    """The straightforward formulation of :func:`census` through :func:`census_transform`'s (B, window^2, H, W)
    tensors and autograd (oracle and speed baseline)."""
    diff = census_transform(pred, window) - census_transform(target, window)
    dist = diff * diff / (0.1 + diff * diff)
    return dist.mean(1, keepdim=True)


def _soft_sign(p: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One census comparison, with ``d = p - c``: ``1 / sqrt(0.81 + d^2)`` and ``t = d / sqrt(0.81 + d^2)``."""
    d = p - c
    s = torch.rsqrt(0.81 + d * d)
    return s, d * s


def _census_windows(gp: torch.Tensor, gt: torch.Tensor, window: int):
    """The window's offsets as views: yields (the shifted padded grey views of pred and target, the slice)."""
    r = window // 2
    h, w = gp.shape[-2] - 2 * r, gp.shape[-1] - 2 * r
    for dy in range(window):
        for dx in range(window):
            sl = (slice(None), slice(None), slice(dy, dy + h), slice(dx, dx + w))
            yield gp[sl], gt[sl], sl


class _CensusFn(torch.autograd.Function):
    """:func:`census` with a hand-written backward, one window offset at a time.

    Nothing of size (B, window^2, H, W) is kept: the forward accumulates the distance offset by offset, the backward
    recomputes each offset's comparison from the padded grey images and scatters its gradient into the padded
    image (``d_k = g(p+k) - g(p)``: +1 at the shifted pixel, -1 at the centre). About 3x faster than autograd
    through :func:`census_reference` on a CPU (``benchmarks/experiments.py``)."""

    @staticmethod
    def forward(ctx, gp, gt, window):
        r = window // 2
        c, ct = gp[..., r:-r, r:-r], gt[..., r:-r, r:-r]
        acc = torch.zeros_like(c)
        for p, q, _ in _census_windows(gp, gt, window):
            diff = _soft_sign(p, c)[1] - _soft_sign(q, ct)[1]
            sq = diff * diff
            acc += sq / (0.1 + sq)
        ctx.save_for_backward(gp, gt)
        ctx.window = window
        return acc / (window * window)

    @staticmethod
    def backward(ctx, go):
        gp, gt = ctx.saved_tensors
        window = ctx.window
        r = window // 2
        c, ct = gp[..., r:-r, r:-r], gt[..., r:-r, r:-r]
        ggp = torch.zeros_like(gp)
        gc = torch.zeros_like(c)
        scale = go * (0.2 / (window * window))  # d/dx of x^2 / (0.1 + x^2) is 0.2 x / (0.1 + x^2)^2
        for p, q, sl in _census_windows(gp, gt, window):
            s, t = _soft_sign(p, c)
            diff = t - _soft_sign(q, ct)[1]
            den = 0.1 + diff * diff
            gd = scale * diff / (den * den) * (0.81 * s * s * s)  # dt/dd = 0.81 / (0.81 + d^2)^(3/2)
            ggp[sl] += gd
            gc += gd
        ggp[..., r:-r, r:-r] -= gc
        return ggp, None, None


def census(pred: torch.Tensor, target: torch.Tensor, window: int = 7) -> torch.Tensor:
    r"""Soft Hamming distance between census transforms, averaged over the window -> (B,1,H,W).

    ``sum_k (t_k - t'_k)^2 / (0.1 + (t_k - t'_k)^2)`` (Zabih & Woodfill 1994; UnFlow, AAAI 2018), with the soft
    ternary transform of :func:`census_transform`. Robust to monotone brightness changes. Computed by
    :class:`_CensusFn` (the same numbers as :func:`census_reference` up to float rounding); when ``target`` needs
    a gradient too, through :func:`census_reference`.
    """
    if window < 3 or window % 2 == 0:
        raise ValueError(f"census window must be odd and at least 3, got {window}")
    if target.requires_grad and torch.is_grad_enabled():
        return census_reference(pred, target, window)
    r = window // 2
    gp = F.pad(_gray(pred) * 255.0, (r, r, r, r), mode="replicate")
    with torch.no_grad():
        gt = F.pad(_gray(target) * 255.0, (r, r, r, r), mode="replicate")
    return _CensusFn.apply(gp, gt, window)


def ncc(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    r"""Local zero-normalised cross-correlation dissimilarity ``(1 - NCC) / 2`` over 3x3 windows -> (B,1,H,W).

    ``NCC = cov(x, y) / sqrt(var(x) var(y) + eps)`` on grey levels; invariant to
    local affine brightness changes (used e.g. by Yang et al. and in medical
    self-supervised depth).
    """
    x, y = _gray(pred), _gray(target)
    m = _box3(torch.cat([x, y, x * x, y * y, x * y], 1))
    mx, my, exx, eyy, exy = m.split(1, 1)
    vx, vy, cxy = (exx - mx * mx).clamp_min(0), (eyy - my * my).clamp_min(0), exy - mx * my
    n = cxy / torch.sqrt(vx * vy + eps)
    return ((1 - n) / 2).clamp(0, 1)


def _dx(t: torch.Tensor) -> torch.Tensor:
    return t[..., :, 1:] - t[..., :, :-1]


def _dy(t: torch.Tensor) -> torch.Tensor:
    return t[..., 1:, :] - t[..., :-1, :]


def gradient(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Image-gradient difference ``|\partial_x \tilde I - \partial_x I| + |\partial_y \tilde I - \partial_y I|``.

    Forward differences, zero at the last column / row; averaged over channels -> (B,1,H,W).
    """
    gx = F.pad((_dx(pred) - _dx(target)).abs(), (0, 1, 0, 0))
    gy = F.pad((_dy(pred) - _dy(target)).abs(), (0, 0, 0, 1))
    return (gx + gy).mean(1, keepdim=True)


def feature_metric(feat_pred: torch.Tensor, feat_target: torch.Tensor) -> torch.Tensor:
    r"""Feature-metric error ``|\phi(\tilde I) - \phi(I)|_1`` averaged over feature channels -> (B,1,H,W).

    Pass the features of the synthesised and the real view (Shu et al., ECCV 2020);
    warping the features instead of the image is equivalent for an inverse warp.
    """
    return (feat_pred - feat_target).abs().mean(1, keepdim=True)


# -------------------------------------------------------------------- regularisers
def edge_aware_smoothness(disp: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    r"""Edge-aware first-order smoothness (Monodepth2), a scalar.

    ``mean|\partial_x d^*| e^{-mean_c|\partial_x I|} + mean|\partial_y d^*| e^{-mean_c|\partial_y I|}``
    on the mean-normalised disparity ``d^* = d / mean(d)`` (per image).
    """
    d = disp / (disp.mean(dim=(2, 3), keepdim=True) + 1e-7)
    wx = torch.exp(-_dx(img).abs().mean(1, keepdim=True))
    wy = torch.exp(-_dy(img).abs().mean(1, keepdim=True))
    return (_dx(d).abs() * wx).mean() + (_dy(d).abs() * wy).mean()


def second_order_smoothness(disp: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    r"""Edge-aware second-order smoothness, a scalar (Yin et al. GeoNet 2018; Wang et al. 2018).

    ``mean|\partial_{xx} d^*| e^{-mean_c|\partial_{xx} I|} + mean|\partial_{yy} d^*| e^{-mean_c|\partial_{yy} I|}``
    on the mean-normalised disparity; zero for any planar (linear) disparity.
    """
    d = disp / (disp.mean(dim=(2, 3), keepdim=True) + 1e-7)
    wxx = torch.exp(-_dx(_dx(img)).abs().mean(1, keepdim=True))
    wyy = torch.exp(-_dy(_dy(img)).abs().mean(1, keepdim=True))
    return (_dx(_dx(d)).abs() * wxx).mean() + (_dy(_dy(d)).abs() * wyy).mean()


def lr_consistency(disp_l: torch.Tensor, disp_r: torch.Tensor) -> torch.Tensor:
    r"""Left-right disparity consistency ``|d^l - d^r(x - d^l)|`` -> (B,1,H,W) (Monodepth, CVPR 2017).

    ``disp_r`` is the disparity of the right view (positive, ``right[x]`` matches ``left[x + d^r]``);
    it is sampled at the left pixel's correspondence.
    """
    warped, _ = warp_stereo(disp_r, disp_l)
    return (disp_l - warped).abs()


def _stack(errors: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    if isinstance(errors, torch.Tensor):
        return errors
    return torch.cat(list(errors), dim=1)


def min_reprojection(errors: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    r"""Per-pixel minimum over source views ``min_s pe(I_t, I_{s->t})`` (Monodepth2) -> (B,1,H,W).

    ``errors``: a list of (B,1,H,W) maps or a (B,S,H,W) stack.
    """
    return _stack(errors).min(dim=1, keepdim=True).values


def auto_mask(reproj_errors, identity_errors) -> torch.Tensor:
    r"""Monodepth2 auto-mask ``[min_s pe(I_t, I_{s->t}) < min_s pe(I_t, I_s)]`` -> bool (B,1,H,W).

    Drops pixels that the unwarped source explains at least as well as the warp
    (static camera, objects moving with the camera, textureless areas).
    """
    return min_reprojection(reproj_errors) < min_reprojection(identity_errors)


def explainability_loss(errors: Sequence[torch.Tensor] | torch.Tensor, masks: torch.Tensor, weight: float = 0.2) -> torch.Tensor:
    r"""SfMLearner explainability-weighted loss, a scalar (Zhou et al., CVPR 2017).

    ``sum_s mean(E_s * |I_t - \hat I_s|) + weight * mean(-log E_s)``: the
    cross-entropy towards 1 stops the trivial solution ``E = 0``. ``errors``
    (B,S,H,W) or a list, ``masks`` (B,S,H,W) in (0, 1].
    """
    e = _stack(errors)
    if masks.shape != e.shape:
        raise ValueError(f"masks {tuple(masks.shape)} must match errors {tuple(e.shape)}")
    data = (masks * e).mean(dim=(0, 2, 3)).sum()
    reg = F.binary_cross_entropy(masks.clamp(1e-6, 1.0), torch.ones_like(masks))
    return data + weight * reg


IMPLEMENTS: dict[str, Callable] = {
    "l1": l1,
    "l2": l2,
    "ssim": ssim,
    "census": census,
    "ncc": ncc,
    "gradient": gradient,
    "feature_metric": feature_metric,
    "smoothness_2nd_order": second_order_smoothness,
    "smoothness_edge_aware": edge_aware_smoothness,
    "lr_consistency": lr_consistency,
    "min_reprojection": min_reprojection,
    "auto_mask": auto_mask,
    "explainability_mask": explainability_loss,
}


# ----------------------------------------------------------------- robust penalties, clipping, consistency
def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3, power: float = 0.5) -> torch.Tensor:
    r"""Generalised Charbonnier penalty of the colour residual, averaged over channels: ``((r^2 + eps^2)^power)``.

    ``eps = 1e-3, power = 0.5`` is the form FeatDepth (``shu2020feature``) and RNW (``wang2021regularizing``)
    put in place of the L1 of the 0.85 SSIM + 0.15 L1 mix; ``power = 0.45`` is DF-Net's exponent (``zou2018df``, there on a
    census distance). Returns (B, 1, H, W).
    """
    return ((pred - target) ** 2 + eps * eps).pow(power).mean(1, keepdim=True)


def clip_residuals(err: torch.Tensor, k: float = 0.5) -> torch.Tensor:
    """Cap a per-pixel error map at ``mean + k * std`` of the whole batch's map (the threshold carries no
    gradient), as MonoFormer (Bae et al., AAAI 2023, ``bae2023deep``) does before the per-pixel minimum over sources; pixels
    above the threshold keep its value and lose their gradient."""
    thr = (err.mean() + k * err.std()).detach()
    return torch.minimum(err, thr)


def geometry_inconsistency(projected_depth: torch.Tensor, sampled_depth: torch.Tensor) -> torch.Tensor:
    r"""SC-SfMLearner's depth inconsistency (``bian2019unsupervised``, ``bian2021unsupervised``):
    ``clamp(|D_c - D_p| / (D_c + D_p), 0, 1)``, with ``D_c`` the target's depth moved into the source frame
    (clamped at 1e-3) and ``D_p`` the source frame's predicted depth sampled at the projected pixel."""
    dc = projected_depth.clamp_min(1e-3)
    return ((dc - sampled_depth).abs() / (dc + sampled_depth)).clamp(0, 1)


def align_brightness(warped: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Rescale each warped image to the target's mean and standard deviation, as VFDepth (``kim2022self``) and
    CylinderDepth (``abualhanud2025cylinderdepth``) do: one scalar mean per image over the valid pixels, a
    standard deviation around that mean over all pixels, both computed without gradient; the aligned image is
    zero outside the valid pixels."""
    with torch.no_grad():
        m = valid.to(warped.dtype).expand_as(warped)
        n = m.sum(dim=(1, 2, 3), keepdim=True)
        mu_w = (warped * m).sum(dim=(1, 2, 3), keepdim=True) / (n + 1e-8)
        mu_t = (target * m).sum(dim=(1, 2, 3), keepdim=True) / (n + 1e-8)
        sd_w = ((warped - mu_w) ** 2).mean(dim=(1, 2, 3), keepdim=True).add(1e-16).sqrt()
        sd_t = ((target - mu_t) ** 2).mean(dim=(1, 2, 3), keepdim=True).add(1e-16).sqrt()
    return ((warped - mu_w) / (sd_w + 1e-8) * sd_t + mu_t) * m


def pose_cycle(T_ts: torch.Tensor, T_st: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gordon et al.'s normalised forward-backward motion cycle (``gordon2019depth``; ``li2020unsupervised``,
    ``lee2021learning``) for a global pose: with :math:`R, t` of :math:`T_{ts} T_{st}`,
    ``e_rot = mean((R - I)^2) / (1e-24 + mean((R_ts - I)^2) + mean((R_st - I)^2))`` and
    ``e_trans = |t|^2 / (1e-24 + |t_ts|^2 + |t_st|^2)``, both per batch element; returns their batch means."""
    eye = torch.eye(3, dtype=T_ts.dtype, device=T_ts.device)
    R1, t1, R2, t2 = T_ts[:, :3, :3], T_ts[:, :3, 3], T_st[:, :3, :3], T_st[:, :3, 3]
    R = R1 @ R2
    t = (R1 @ t2[..., None])[..., 0] + t1
    sq = lambda m: ((m - eye) ** 2).mean(dim=(1, 2))  # noqa: E731
    e_rot = sq(R) / (1e-24 + sq(R1) + sq(R2))
    e_trans = (t ** 2).sum(1) / (1e-24 + (t1 ** 2).sum(1) + (t2 ** 2).sum(1))
    return e_rot.mean(), e_trans.mean()


def epipolar_distance(T_ts: torch.Tensor, K: torch.Tensor, x_t: torch.Tensor, x_s: torch.Tensor) -> torch.Tensor:
    r"""DeepMatchVO's epipolar loss (``shen2019beyond``): the distance in pixels of each source match ``x_s`` to
    the epipolar line :math:`\ell = F \tilde x_t` of its target pixel, ``|x_s^T F x_t| / (|\ell_{1,2}| + 1e-6)``,
    with ``F = K^{-T} [t]_x R K^{-1}`` from the predicted pose (for X_s = R X_t + t; the textbook order, not the
    R [t]_x of the released code). ``x_t``, ``x_s``: (B, N, 2) pixel coordinates; returns (B, N)."""
    R, t = T_ts[:, :3, :3], T_ts[:, :3, 3]
    z = torch.zeros_like(t[:, 0])
    tx = torch.stack([torch.stack([z, -t[:, 2], t[:, 1]], -1), torch.stack([t[:, 2], z, -t[:, 0]], -1),
                      torch.stack([-t[:, 1], t[:, 0], z], -1)], 1)
    Kinv = torch.linalg.inv(K.to(T_ts.dtype))
    F = Kinv.transpose(1, 2) @ tx @ R @ Kinv
    one = torch.ones_like(x_t[..., :1])
    ht, hs = torch.cat([x_t, one], -1), torch.cat([x_s, one], -1)
    line = ht @ F.transpose(1, 2)  # (B, N, 3): F x_t per match
    return (hs * line).sum(-1).abs() / (line[..., :2].norm(dim=-1) + 1e-6)


def flow_cycle(flow_ab: torch.Tensor, flow_ba_at_b: torch.Tensor, inside: torch.Tensor,
               alpha: float = 0.05, beta: float = 3.0) -> torch.Tensor:
    r"""Forward-backward rigid-flow consistency (``wang2019recurrent``): with :math:`F_{ab}` the flow from view a to b
    and :math:`\hat F` the flow from b back to a sampled at :math:`p + F_{ab}(p)`, the per-channel L1 of
    :math:`F_{ab} + \hat F` averaged (halved, as in the code) over the pixels that land inside b and whose cycle
    error is at most ``max(beta px, alpha |F_ab|)``. Flows (B, 2, H, W), ``inside`` (B, 1, H, W)."""
    cyc = flow_ab + flow_ba_at_b
    ok = inside & (cyc.norm(dim=1, keepdim=True) <= torch.clamp(alpha * flow_ab.norm(dim=1, keepdim=True), min=beta))
    m = ok.to(cyc.dtype)
    return (cyc.abs() * m).sum() / (2 * m.sum().clamp_min(1.0))


IMPLEMENTS.update({
    "robust_penalty": charbonnier,
    "residual_clipping": clip_residuals,
    "depth_consistency": geometry_inconsistency,
    "brightness_compensation": align_brightness,
    "pose_consistency": pose_cycle,
    "epipolar": epipolar_distance,
    "flow_consistency": flow_cycle,
})
