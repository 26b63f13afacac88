"""Procedural scenes rendered by exact ray casting of analytic geometry (numpy, per pixel).

Camera frame: x right, y down, z forward. Primitives: planes, axis-aligned boxes,
spheres and an inner cylinder (the endoscopic lumen). Every pixel of every view
casts a ray; depth, disparity and poses are therefore exact. Masks come from the
geometry: ``occluded`` = the left point's ray to the right camera (or to another
frame) is blocked or leaves the image; ``shadow`` = the ray to the light is
blocked; ``specular`` = the Blinn-Phong term (light and eye positions, so the
highlight moves with the viewpoint) exceeds 0.15; ``textureless`` = the exact
albedo has (almost) no local gradient; ``repetitive`` = pixels on the striped
surfaces; ``depth_edge`` = disparity jumps > 1 px, dilated by 1 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from .samples import StereoSample, VideoSample

Domain = Literal["street", "indoor", "medical"]


class Dials(BaseModel):
    """Aleatoric dials. ``specular``: Blinn-Phong strength; ``texture``: albedo noise amplitude
    (0 = flat albedo); ``repetitive``: weight of the stripe pattern on the designated surfaces;
    ``occluders``: number of extra objects in front; ``shadows``: cast-shadow darkness (0 = none);
    ``noise``: std of Gaussian sensor noise; ``exposure``: gain change of the second view (right / other frames)."""

    model_config = ConfigDict(extra="forbid")
    specular: float = Field(0.3, ge=0.0, le=5.0)
    texture: float = Field(1.0, ge=0.0, le=2.0)
    repetitive: float = Field(0.0, ge=0.0, le=1.0)
    occluders: int = Field(2, ge=0, le=12)
    shadows: float = Field(0.6, ge=0.0, le=1.0)
    noise: float = Field(0.0, ge=0.0, le=0.5)
    exposure: float = Field(0.0, ge=-0.9, le=2.0)


@dataclass
class _Prim:
    kind: str  # plane | box | sphere | tube
    a: np.ndarray  # plane: normal; box: lo; sphere: centre; tube: (cx, cy) axis position
    b: float | np.ndarray  # plane: offset (n.x = b); box: hi; sphere/tube: radius
    color: np.ndarray
    texture: float = 1.0  # relative noise amplitude
    stripes: int = 0  # 0 none, 1 stripes along x, 2 along z, 3 along y
    shiny: float = 1.0  # relative specular strength


def _intersect(p: _Prim, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray parameter t (inf where missed) and unit normal at the hit; o, d: (N, 3)."""
    n = np.zeros_like(d)
    inf = np.full(d.shape[0], np.inf)
    if p.kind == "plane":
        den = d @ p.a
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (p.b - o @ p.a) / den
        t = np.where((np.abs(den) > 1e-9) & (t > 1e-6), t, inf)
        n[:] = p.a
    elif p.kind == "box":
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d
            t0 = (p.a - o) * inv
            t1 = (p.b - o) * inv
        tmin, tmax = np.fmin(t0, t1), np.fmax(t0, t1)  # fmin/fmax skip the NaN of 0 * inf
        tmin0, tmin1, tmin2 = tmin[:, 0], tmin[:, 1], tmin[:, 2]
        tn = np.maximum(np.maximum(tmin0, tmin1), tmin2)
        tf = np.minimum(np.minimum(tmax[:, 0], tmax[:, 1]), tmax[:, 2])
        t = np.where((tn <= tf) & (tn > 1e-6), tn, inf)
        axis = np.where(tn == tmin0, 0, np.where(tn == tmin1, 1, 2))
        n[np.arange(len(d)), axis] = -np.sign(d[np.arange(len(d)), axis])
    elif p.kind == "sphere":
        oc = o - p.a
        bb = np.einsum("ij,ij->i", oc, d)
        c = np.einsum("ij,ij->i", oc, oc) - p.b**2
        disc = bb * bb - c
        s = np.sqrt(np.maximum(disc, 0))
        t = np.where(disc >= 0, -bb - s, inf)
        t = np.where(t > 1e-6, t, inf)
        hit = o + d * np.where(np.isfinite(t), t, 0)[:, None]
        n = (hit - p.a) / p.b
    elif p.kind == "tube":  # seen from inside: farthest root of |(o + t d)_xy - c| = r
        oc = o[:, :2] - p.a
        dd = d[:, :2]
        A = np.einsum("ij,ij->i", dd, dd)
        B = np.einsum("ij,ij->i", oc, dd)
        C = np.einsum("ij,ij->i", oc, oc) - p.b**2
        disc = B * B - A * C
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (-B + np.sqrt(np.maximum(disc, 0))) / A
        t = np.where((disc >= 0) & (A > 1e-12) & (t > 1e-6), t, inf)
        hit = o + d * np.where(np.isfinite(t), t, 0)[:, None]
        n[:, :2] = (p.a - hit[:, :2]) / p.b
    else:  # pragma: no cover
        raise ValueError(p.kind)
    return t, n


def _cast(prims: list[_Prim], o: np.ndarray, d: np.ndarray):
    best = np.full(d.shape[0], np.inf)
    idx = np.full(d.shape[0], -1)
    normal = np.zeros_like(d)
    for i, p in enumerate(prims):
        t, n = _intersect(p, o, d)
        closer = t < best
        best = np.where(closer, t, best)
        idx = np.where(closer, i, idx)
        normal[closer] = n[closer]
    return best, idx, normal


def _blocked(prims: list[_Prim], o: np.ndarray, d: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """True where a primitive lies on the segment o + t d, 0 < t < dist * (1 - 1e-4) (d unit)."""
    out = np.zeros(d.shape[0], bool)
    for p in prims:
        t, _ = _intersect(p, o, d)
        out |= t < dist * (1 - 1e-4) - 1e-4
    return out


class _Noise:
    """Seeded 3-D value noise (trilinear lattice interpolation, a few octaves)."""

    def __init__(self, rng: np.random.Generator, size: int = 64):
        self.size = size
        self.table = rng.random((size, size, size))

    def __call__(self, x: np.ndarray, octaves: int = 3, freq: float = 2.0) -> np.ndarray:
        out = np.zeros(x.shape[0])
        amp, tot = 1.0, 0.0
        for k in range(octaves):
            q = x * freq * (2.0**k) + 17.3 * k
            i = np.floor(q).astype(np.int64)
            f = q - i
            f = f * f * (3 - 2 * f)
            v = 0.0
            for dx in (0, 1):
                for dy in (0, 1):
                    for dz in (0, 1):
                        w = (f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1]) * (f[:, 2] if dz else 1 - f[:, 2])
                        v = v + w * self.table[(i[:, 0] + dx) % self.size, (i[:, 1] + dy) % self.size, (i[:, 2] + dz) % self.size]
            out += amp * v
            tot += amp
            amp *= 0.5
        return out / tot


@dataclass
class _Scene:
    prims: list[_Prim]
    light: np.ndarray
    light_at_camera: bool
    ambient: float
    focal_scale: float  # focal = focal_scale * W
    baseline: float
    max_depth: float
    shininess: float = 60.0  # Blinn-Phong exponent


def _scene(domain: str, dials: Dials, rng: np.random.Generator) -> _Scene:
    c = lambda *v: np.array(v, float)  # noqa: E731
    prims: list[_Prim] = []
    if domain == "street":
        prims += [
            _Prim("plane", c(0, -1, 0), -1.6, c(0.45, 0.45, 0.47), texture=0.6, shiny=1.5),  # road (y = 1.6 below camera)
            _Prim("plane", c(1, 0, 0), -6.0, c(0.7, 0.55, 0.45), stripes=2),  # left facade
            _Prim("plane", c(1, 0, 0), 7.0, c(0.6, 0.62, 0.7), stripes=2),  # right facade
            _Prim("plane", c(0, 0, 1), 60.0, c(0.75, 0.8, 0.9), texture=0.3),  # far backdrop
        ]
        for _ in range(dials.occluders):
            x0, z0 = rng.uniform(-4.5, 4.0), rng.uniform(6, 25)
            w, h, l = rng.uniform(1.2, 2.0), rng.uniform(1.0, 2.2), rng.uniform(1.5, 4.0)
            prims.append(_Prim("box", c(x0, 1.6 - h, z0), c(x0 + w, 1.6, z0 + l), rng.uniform(0.2, 0.9, 3), shiny=2.0))
        return _Scene(prims, c(1.0, -40.0, 12.0), False, 0.35, 0.58, 0.54, 80.0)
    if domain == "indoor":
        prims += [
            _Prim("plane", c(0, -1, 0), -1.3, c(0.6, 0.45, 0.3), stripes=2),  # floor (wood planks)
            _Prim("plane", c(0, 1, 0), 1.5, c(0.9, 0.9, 0.88), texture=0.15),  # ceiling
            _Prim("plane", c(1, 0, 0), -2.5, c(0.8, 0.75, 0.65)),
            _Prim("plane", c(1, 0, 0), 2.5, c(0.7, 0.8, 0.75), stripes=3),
            _Prim("plane", c(0, 0, 1), 6.0, c(0.85, 0.8, 0.7), stripes=1),  # back wall
        ]
        for _ in range(dials.occluders):
            x0, z0 = rng.uniform(-2.3, 1.5), rng.uniform(1.5, 4.5)
            w, h, l = rng.uniform(0.4, 0.9), rng.uniform(0.4, 1.2), rng.uniform(0.4, 0.9)
            prims.append(_Prim("box", c(x0, 1.3 - h, z0), c(x0 + w, 1.3, z0 + l), rng.uniform(0.2, 0.9, 3), shiny=1.5))
        return _Scene(prims, c(0.5, -1.3, 2.5), False, 0.3, 0.5, 0.1, 12.0, shininess=250.0)
    if domain == "medical":
        off = rng.uniform(-0.15, 0.15, 2) * 0.02
        prims += [
            _Prim("tube", off, 0.02, c(0.85, 0.45, 0.4), stripes=2, shiny=2.0),  # lumen, 2 cm radius
            _Prim("plane", c(0, 0, 1), 0.15, c(0.6, 0.25, 0.25), texture=0.8),  # far end (dark)
        ]
        for _ in range(dials.occluders):  # polyps on the wall
            ang, z = rng.uniform(0, 2 * np.pi), rng.uniform(0.03, 0.09)
            r = rng.uniform(0.003, 0.007)
            ctr = np.array([off[0] + (0.02 - r * 0.3) * np.cos(ang), off[1] + (0.02 - r * 0.3) * np.sin(ang), z])
            prims.append(_Prim("sphere", ctr, r, c(0.9, 0.55, 0.5), shiny=2.5))
        return _Scene(prims, c(0.002, -0.002, 0.0), True, 0.05, 0.45, 0.004, 0.2)
    raise ValueError(f"unknown domain {domain!r}; expected street, indoor or medical")


def _shade(scene: _Scene, dials: Dials, noise: _Noise, origin: np.ndarray, dirs: np.ndarray, seed_tex: float):
    """Cast rays of one view; returns dict of per-pixel arrays."""
    t, idx, normal = _cast(scene.prims, origin, dirs)
    hit_any = np.isfinite(t)
    t = np.where(hit_any, t, scene.max_depth * 4)
    P = origin + dirs * t[:, None]
    n = normal.copy()
    # face normals towards the viewer
    flip = np.einsum("ij,ij->i", n, dirs) > 0
    n[flip] *= -1
    # albedo
    base = np.zeros_like(P)
    amp = np.zeros(P.shape[0])
    stripe_mask = np.zeros(P.shape[0], bool)
    stripe = np.zeros(P.shape[0])
    scale = 1.0 / max(scene.baseline * 4, 1e-6)  # texture frequency relative to scene size
    nz = noise(P * scale * 0.5 + seed_tex)
    for i, p in enumerate(scene.prims):
        m = idx == i
        if not m.any():
            continue
        base[m] = p.color
        amp[m] = p.texture * dials.texture
        if p.stripes and dials.repetitive > 0:
            coord = P[m, {1: 0, 2: 2, 3: 1}[p.stripes]] * scale
            if p.kind == "tube":
                coord = P[m, 2] * scale * 2
            stripe[m] = (np.sin(2 * np.pi * coord * 1.5) > 0).astype(float)
            stripe_mask[m] = True
    albedo = base * (1.0 + 0.9 * amp * (nz - 0.5) * 2)[:, None]
    albedo = albedo * (1 - dials.repetitive * 0.6 * stripe_mask * (1 - stripe))[:, None]
    albedo = np.clip(albedo, 0, 1)
    # lighting
    L = scene.light - P
    dist_l = np.linalg.norm(L, axis=1)
    L = L / dist_l[:, None]
    V = -dirs
    H = L + V
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    ndl = np.clip(np.einsum("ij,ij->i", n, L), 0, None)
    ndh = np.clip(np.einsum("ij,ij->i", n, H), 0, None)
    shiny = np.array([p.shiny for p in scene.prims])[np.maximum(idx, 0)]
    spec = dials.specular * shiny * ndh**scene.shininess * (ndl > 0)
    shadow = np.zeros(P.shape[0], bool)
    if dials.shadows > 0:
        shadow = _blocked(scene.prims, P + n * 1e-6 * scene.max_depth, L, dist_l) & hit_any
    lit = np.where(shadow, 1 - dials.shadows, 1.0)
    if scene.light_at_camera:  # inverse-square falloff of the endoscope light
        fall = np.clip((0.05 / np.maximum(dist_l, 1e-4)) ** 1.5, 0, 2)
    else:
        fall = 1.0
    color = albedo * (scene.ambient + (1 - scene.ambient) * ndl * lit * fall)[:, None] + (spec * lit * fall)[:, None]
    return dict(t=t, P=P, idx=idx, albedo=albedo, spec=spec, shadow=shadow, stripe=stripe_mask, color=color, hit=hit_any)


def _rays(h: int, w: int, f: float, R: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(float)
    pix = np.stack([(xs + 0.5 - w / 2) / f, (ys + 0.5 - h / 2) / f, np.ones_like(xs)], -1).reshape(-1, 3)
    d = pix @ R  # camera->world rotation is R^T: d_world = R^T d_cam (row form d_cam @ R)
    return d / np.linalg.norm(d, axis=1, keepdims=True), pix


def _grad_energy(a: np.ndarray) -> np.ndarray:
    g = a.mean(-1)
    gx = np.abs(np.diff(g, axis=1, append=g[:, -1:]))
    gy = np.abs(np.diff(g, axis=0, append=g[-1:, :]))
    e = np.maximum(gx, gy)
    pad = np.pad(e, 1, mode="edge")
    return sum(pad[i : i + g.shape[0], j : j + g.shape[1]] for i in range(3) for j in range(3)) / 9


def _dilate(m: np.ndarray, r: int = 1) -> np.ndarray:
    pad = np.pad(m, r)
    h, w = m.shape
    out = np.zeros_like(m)
    for i in range(2 * r + 1):
        for j in range(2 * r + 1):
            out |= pad[i : i + h, j : j + w]
    return out


def _finish(img: np.ndarray, dials: Dials, rng: np.random.Generator, gain: float) -> torch.Tensor:
    img = img * gain
    if dials.noise > 0:
        img = img + rng.normal(0, dials.noise, img.shape)
    return torch.from_numpy(np.clip(img, 0, 1).astype(np.float32)).permute(2, 0, 1).contiguous()


def _t(m: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(m))[None]


def _common_causes(view: dict, h: int, w: int, disp: np.ndarray, occluded: np.ndarray, dials: Dials) -> dict[str, torch.Tensor]:
    albedo = view["albedo"].reshape(h, w, 3)
    jump = np.zeros((h, w), bool)
    jump[:, :-1] |= np.abs(np.diff(disp, axis=1)) > 1.0
    jump[:-1, :] |= np.abs(np.diff(disp, axis=0)) > 1.0
    return {
        "occluded": _t(occluded),
        "textureless": _t(_grad_energy(albedo) < 2e-3),
        "specular": _t(view["spec"].reshape(h, w) > 0.15),
        "repetitive": _t(view["stripe"].reshape(h, w) & (dials.repetitive > 0)),
        "depth_edge": _t(_dilate(jump, 1)),
        "shadow": _t(view["shadow"].reshape(h, w)),
    }


def render_stereo(domain: Domain = "street", size: tuple[int, int] = (128, 256), dials: Dials | None = None, seed: int = 0) -> StereoSample:
    """Render a rectified stereo pair with exact disparity ``f * B / Z`` of the left view."""
    dials = dials or Dials()
    h, w = size
    rng = np.random.default_rng(seed)
    scene = _scene(domain, dials, rng)
    noise = _Noise(np.random.default_rng(seed + 7919))
    f = scene.focal_scale * w
    dirs, pix = _rays(h, w, f, np.eye(3))
    zero = np.zeros((dirs.shape[0], 3))
    cr = np.array([scene.baseline, 0.0, 0.0])
    L = _shade(scene, dials, noise, zero, dirs, 0.0)
    R = _shade(scene, dials, noise, zero + cr, dirs, 0.0)
    z = (L["P"][:, 2]).reshape(h, w)
    disp = f * scene.baseline / z
    # visibility of each left point from the right camera
    P = L["P"]
    v = P - cr
    dist = np.linalg.norm(v, axis=1)
    blocked = _blocked(scene.prims, cr + np.zeros_like(P), v / dist[:, None], dist)
    xs = np.arange(w)[None, :].astype(float)  # pixel index = the coordinate of its centre (as in synthesis)
    occluded = blocked.reshape(h, w) | (xs - disp < 0)
    valid = L["hit"].reshape(h, w) & np.isfinite(disp) & (z < scene.max_depth)
    causes = _common_causes(L, h, w, disp, occluded, dials)
    gain = 1.0 + dials.exposure
    left = _finish(L["color"].reshape(h, w, 3), dials, rng, 1.0)
    right = _finish(R["color"].reshape(h, w, 3), dials, rng, gain)
    K = torch.tensor([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]], dtype=torch.float32)
    return StereoSample(left, right, _t(disp.astype(np.float32)), _t(valid), causes, name=f"procedural/{domain}/seed{seed}",
                        depth=_t(z.astype(np.float32)), K=K, baseline=scene.baseline)


def _yaw(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # world->camera rotation


def render_video(domain: Domain = "street", size: tuple[int, int] = (128, 256), dials: Dials | None = None, seed: int = 0, frames: int = 3) -> VideoSample:
    """Render ``frames`` views of a camera moving forward with a slight turn; target = middle frame.

    poses[t] maps target-camera coordinates to frame-t camera coordinates."""
    dials = dials or Dials()
    if frames < 2:
        raise ValueError("frames must be >= 2")
    h, w = size
    rng = np.random.default_rng(seed)
    scene = _scene(domain, dials, rng)
    noise = _Noise(np.random.default_rng(seed + 7919))
    f = scene.focal_scale * w
    mid = frames // 2
    step = scene.baseline * 1.5
    imgs, poses, views = [], [], []
    for k in range(frames):
        s = k - mid
        c = np.array([0.15 * step * s, 0.0, step * s])
        Rw = _yaw(0.01 * s)
        dirs, _ = _rays(h, w, f, Rw)
        V = _shade(scene, dials, noise, np.zeros_like(dirs) + c, dirs, 0.0)
        views.append(V)
        T = np.eye(4)
        T[:3, :3] = Rw
        T[:3, 3] = -Rw @ c
        poses.append(T)
        gain = 1.0 if s == 0 else 1.0 + dials.exposure * abs(s)
        imgs.append(_finish(V["color"].reshape(h, w, 3), dials, rng, gain))
    tgt = views[mid]
    z = tgt["P"][:, 2].reshape(h, w)
    occluded = np.zeros(h * w, bool)
    P = tgt["P"]
    for k in range(frames):
        if k == mid:
            continue
        T = poses[k]
        c = -T[:3, :3].T @ T[:3, 3]
        v = P - c
        dist = np.linalg.norm(v, axis=1)
        occ = _blocked(scene.prims, np.zeros_like(P) + c, v / dist[:, None], dist)
        pc = P @ T[:3, :3].T + T[:3, 3]
        u = f * pc[:, 0] / pc[:, 2] + (w - 1) / 2
        vv = f * pc[:, 1] / pc[:, 2] + (h - 1) / 2
        occluded |= occ | (u < 0) | (u > w - 1) | (vv < 0) | (vv > h - 1) | (pc[:, 2] <= 0)
    # depth edges measured on inverse depth scaled like a disparity of baseline ``step``
    disp_like = f * step / z
    valid = tgt["hit"].reshape(h, w) & (z < scene.max_depth)
    causes = _common_causes(tgt, h, w, disp_like, occluded.reshape(h, w), dials)
    K = torch.tensor([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]], dtype=torch.float32)
    return VideoSample(torch.stack(imgs), _t(z.astype(np.float32)), _t(valid), K, torch.tensor(np.stack(poses), dtype=torch.float32),
                       causes, name=f"procedural/{domain}/video/seed{seed}")
