"""Procedural scenes rendered by exact ray casting of analytic geometry (numpy).

Camera frame: x right, y down, z forward. Primitives: planes, axis-aligned boxes, spheres,
vertical cylinders (poles, bollards, vases) and an inner tube (the endoscopic lumen).

**Area-integrated pixels.** Each pixel averages ``supersample x supersample`` rays spread
evenly over its footprint (a box filter, 3 x 3 by default), so fine albedo texture is
integrated over the pixel as a camera sensor does, instead of being point-sampled at its
centre (which aliases: even the true disparity then warps badly). Depth, disparity and poses
come from the ray through the pixel centre (``supersample`` is odd), so they are exact for
the surface seen there.

**Layouts differ from seed to seed**: the positions and sizes of walls, objects, curved
shiny objects and the light are drawn from the seed; the same seed gives the same scene,
byte for byte.

**Cause masks** are computed per sub-sample and a pixel carries a cause when at least half of
its sub-samples do:

- ``occluded``: the ray from the surface point to the other camera (the right camera, or
  another frame's camera) is blocked by the scene;
- ``border``: the point projects outside the other image (stereo: ``x - d < 0``);
- ``specular``: the Blinn-Phong highlight exceeds ``SPECULAR_LEVEL`` in this view or at the
  same surface point seen from the other camera (the highlight moves between views);
- ``shadow``: the ray to the light is blocked;
- ``repetitive``: the point lies on a striped surface (with ``repetitive > 0``);
- ``textureless``: the pixel-averaged albedo has (almost) no local gradient;
- ``depth_edge``: the disparity jumps by more than 1 px to a neighbour, dilated by 1 px.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from .samples import StereoSample, VideoSample

Domain = Literal["street", "indoor", "medical"]
DOMAINS = ("street", "indoor", "medical")
#: a highlight counts as a cause where the Blinn-Phong term adds more than this to the colour
SPECULAR_LEVEL = 0.15
#: albedo gradient energy below this is textureless
TEXTURELESS_ENERGY = 2e-3


class Dials(BaseModel):
    """Aleatoric dials. ``specular``: Blinn-Phong strength; ``texture``: albedo noise amplitude
    (0 = flat albedo); ``repetitive``: weight of the stripe pattern on the designated surfaces;
    ``occluders``: number of boxes in front of the background; ``curved``: number of curved shiny
    objects (spheres and cylinders) lit from nearby; ``shadows``: cast-shadow darkness (0 = none);
    ``noise``: std of Gaussian sensor noise; ``exposure``: gain change of the second view; ``moving``: number
    of boxes that move between the frames of a video."""

    model_config = ConfigDict(extra="forbid")
    specular: float = Field(0.3, ge=0.0, le=5.0)
    texture: float = Field(1.0, ge=0.0, le=2.0)
    repetitive: float = Field(0.0, ge=0.0, le=1.0)
    occluders: int = Field(2, ge=0, le=12)
    curved: int = Field(2, ge=0, le=8)
    shadows: float = Field(0.6, ge=0.0, le=1.0)
    noise: float = Field(0.0, ge=0.0, le=0.5)
    exposure: float = Field(0.0, ge=-0.9, le=2.0)
    moving: int = Field(0, ge=0, le=12, description="video: how many of the boxes (cars, furniture) move between frames, "
                        "each with its own velocity; their pixels form the cause 'moving'")


@dataclass
class _Prim:
    kind: str  # plane | box | sphere | cylinder | tube
    a: np.ndarray  # plane: normal; box: lo; sphere: centre; cylinder: (cx, y0, cz); tube: (cx, cy) axis
    b: float | np.ndarray  # plane: offset (n.x = b); box: hi; sphere / tube: radius; cylinder: (radius, y1)
    color: np.ndarray
    texture: float = 1.0  # relative noise amplitude
    stripes: int = 0  # 0 none, 1 stripes along x, 2 along z, 3 along y
    shiny: float = 1.0  # relative specular strength
    shininess: float = 60.0  # Blinn-Phong exponent (higher: smaller, sharper highlight)
    shift: np.ndarray | None = None  # a moving object's displacement in this frame (its texture moves with it)


def _bounds(p: _Prim) -> tuple[np.ndarray, float] | None:
    """Centre and radius of a sphere enclosing a finite primitive (None for unbounded ones)."""
    if p.kind == "box":
        return (p.a + p.b) / 2, float(np.linalg.norm(p.b - p.a) / 2)
    if p.kind == "sphere":
        return p.a, float(p.b)
    if p.kind == "cylinder":
        (cx, y0, cz), (r, y1) = p.a, p.b
        return np.array([cx, (y0 + y1) / 2, cz]), float(np.hypot(r, (y1 - y0) / 2))
    return None


def _intersect(p: _Prim, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray parameter t (inf where missed) and unit normal at the hit; o, d: (N, 3).

    Finite primitives are first tested against an enclosing sphere, and only the rays that
    can hit it go through the exact test (same result, less work)."""
    bound = _bounds(p)
    if bound is not None and d.shape[0] > 256:
        centre, radius = bound
        oc = o - centre
        bb = np.einsum("ij,ij->i", oc, d)
        cc = np.einsum("ij,ij->i", oc, oc) - radius * radius
        near = (bb * bb - cc >= 0) & ((cc <= 0) | (bb < 0))
        rows = np.flatnonzero(near)
        t = np.full(d.shape[0], np.inf)
        n = np.zeros_like(d)
        if rows.size:
            ts, ns = _intersect_exact(p, o[rows], d[rows])
            t[rows] = ts
            n[rows] = ns
        return t, n
    return _intersect_exact(p, o, d)


def _intersect_exact(p: _Prim, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.zeros_like(d)
    inf = np.full(d.shape[0], np.inf)
    if p.kind == "plane":
        den = d @ p.a
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (p.b - o @ p.a) / den
        t = np.where((np.abs(den) > 1e-9) & (t > 1e-6), t, inf)
        n[:] = p.a
    elif p.kind == "box":
        tn = np.full(d.shape[0], -np.inf, d.dtype)
        tf = np.full(d.shape[0], np.inf, d.dtype)
        axis = np.zeros(d.shape[0], np.int8)
        for k in range(3):
            dk, ok = d[:, k], o[:, k]
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = 1.0 / dk
                t0 = (p.a[k] - ok) * inv
                t1 = (p.b[k] - ok) * inv
            lo, hi = np.fmin(t0, t1), np.fmax(t0, t1)  # fmin/fmax skip the NaN of 0 * inf
            enter = lo > tn
            tn = np.where(enter, lo, tn)
            axis[enter] = k
            tf = np.minimum(tf, hi)
        t = np.where((tn <= tf) & (tn > 1e-6), tn, inf)
        rows = np.flatnonzero(np.isfinite(t))
        ax = axis[rows]
        n[rows, ax] = -np.sign(d[rows, ax])
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
    elif p.kind == "cylinder":  # vertical, seen from outside, between y0 and y1 (open ends)
        cx, y0, cz = p.a
        r, y1 = p.b
        ox, oz = o[:, 0] - cx, o[:, 2] - cz
        dx, dz = d[:, 0], d[:, 2]
        A = dx * dx + dz * dz
        B = ox * dx + oz * dz
        C = ox * ox + oz * oz - r * r
        disc = B * B - A * C
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (-B - np.sqrt(np.maximum(disc, 0))) / A
        y = o[:, 1] + t * d[:, 1]
        t = np.where((disc >= 0) & (A > 1e-12) & (t > 1e-6) & (y >= y0) & (y <= y1), t, inf)
        hit = o + d * np.where(np.isfinite(t), t, 0)[:, None]
        n[:, 0] = (hit[:, 0] - cx) / r
        n[:, 2] = (hit[:, 2] - cz) / r
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
        self.table = rng.random(size**3)

    def __call__(self, x: np.ndarray, octaves: int = 3, freq: float = 2.0) -> np.ndarray:
        out = np.zeros(x.shape[0])
        amp, tot, s = 1.0, 0.0, self.size
        for k in range(octaves):
            q = x * (freq * 2.0**k) + 17.3 * k
            i = np.floor(q)
            f = q - i
            f = f * f * (3 - 2 * f)
            i = i.astype(np.int64) % s
            j = (i + 1) % s
            fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
            v = 0.0
            for ix, wx in ((i[:, 0], 1 - fx), (j[:, 0], fx)):
                for iy, wy in ((i[:, 1], 1 - fy), (j[:, 1], fy)):
                    base = (ix * s + iy) * s
                    wxy = wx * wy
                    v = v + wxy * ((1 - fz) * self.table[base + i[:, 2]] + fz * self.table[base + j[:, 2]])
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
    tex_scale: float  # texture frequency: lattice cells per metre
    extra: dict = field(default_factory=dict)


def _curved(rng: np.random.Generator, n: int, floor_y: float, x: tuple[float, float], z: tuple[float, float],
            size: tuple[float, float], shininess: tuple[float, float]) -> list[_Prim]:
    """``n`` shiny spheres resting on the floor and vertical cylinders standing on it, in view: ``x`` is the
    lateral position as a fraction of the distance ``z``."""
    out = []
    for _ in range(n):
        cz = rng.uniform(*z)
        cx = rng.uniform(*x) * cz
        r = rng.uniform(*size)
        col = rng.uniform(0.25, 0.85, 3)
        ex = rng.uniform(*shininess)
        if rng.random() < 0.5:
            out.append(_Prim("sphere", np.array([cx, floor_y - r, cz]), r, col, texture=0.3, shiny=2.5, shininess=ex))
        else:
            h = rng.uniform(3, 6) * r
            out.append(_Prim("cylinder", np.array([cx, floor_y - h, cz]), np.array([r * 0.6, floor_y]), col, texture=0.3,
                             shiny=2.5, shininess=ex))
    return out


def _scene(domain: str, dials: Dials, rng: np.random.Generator) -> _Scene:
    c = lambda *v: np.array(v, float)  # noqa: E731
    u = rng.uniform
    prims: list[_Prim] = []
    if domain == "street":
        cam_h = u(1.4, 1.8)
        left_x, right_x = -u(4.5, 8.0), u(5.0, 9.0)
        striped = rng.permutation([2, 2, 0])[:2]  # windows on one or both facades
        prims += [
            _Prim("plane", c(0, -1, 0), -cam_h, c(0.45, 0.45, 0.47) * u(0.85, 1.15), texture=0.8, shiny=0.15),  # road
            _Prim("plane", c(1, 0, 0), left_x, u(0.45, 0.8, 3), stripes=int(striped[0]), shiny=0.05),  # left facade
            _Prim("plane", c(1, 0, 0), right_x, u(0.45, 0.8, 3), stripes=int(striped[1]), shiny=0.05),  # right facade
            _Prim("plane", c(0, 0, 1), u(45, 70), c(0.75, 0.8, 0.9), texture=0.3, shiny=0.0),  # far backdrop
        ]
        for k in range(dials.occluders):  # cars, every other one near the camera and in view
            z0 = u(3.0, 6.0) if k % 2 == 0 else u(6.0, 25.0)
            w, h, l = u(1.4, 2.0), u(1.1, 1.8), u(2.0, 4.0)
            x0 = u(max(left_x + 0.3, -0.8 * z0), min(right_x - 0.3, 0.8 * z0) - w)
            prims.append(_Prim("box", c(x0, cam_h - h, z0), c(x0 + w, cam_h, z0 + l), u(0.2, 0.9, 3), shiny=1.5,
                               shininess=u(20, 80)))  # lacquered: broad highlights on flat faces
        prims += _curved(rng, dials.curved, cam_h, (-0.7, 0.7), (3.5, 10.0), (0.4, 1.0), (40, 200))
        light = c(u(-3.0, 3.0), cam_h - u(2.2, 3.5), u(2.0, 8.0))  # a lamp a few metres away, little above the camera
        return _Scene(prims, light, False, 0.35, 0.58, 0.54, 80.0, tex_scale=0.23)
    if domain == "indoor":
        floor, ceil = u(1.1, 1.4), -u(1.2, 1.6)
        wl, wr, back = -u(1.8, 2.8), u(1.8, 2.8), u(4.5, 7.0)
        stripes = rng.permutation([2, 3, 1, 0, 0])[:4]  # planks, wallpaper: on some surfaces only
        prims += [
            _Prim("plane", c(0, -1, 0), -floor, c(0.6, 0.45, 0.3) * u(0.8, 1.2), stripes=int(stripes[0] and 2), shiny=0.3),
            _Prim("plane", c(0, 1, 0), ceil, c(0.9, 0.9, 0.88), texture=0.15, shiny=0.0),  # ceiling (y = ceil < 0)
            _Prim("plane", c(1, 0, 0), wl, u(0.6, 0.85, 3), stripes=int(stripes[1] and 3), shiny=0.05),
            _Prim("plane", c(1, 0, 0), wr, u(0.6, 0.85, 3), stripes=int(stripes[2] and 3), shiny=0.05),
            _Prim("plane", c(0, 0, 1), back, u(0.7, 0.9, 3), stripes=int(stripes[3] and 1), shiny=0.05),  # back wall
        ]
        for k in range(dials.occluders):  # furniture, every other piece near the camera and in view
            z0 = u(0.7, 1.4) if k % 2 == 0 else u(1.4, back - 1.0)
            w, h, l = u(0.3, 0.7), u(0.4, 1.0), u(0.3, 0.8)
            x0 = u(max(wl + 0.1, -0.9 * z0), min(wr - 0.1, 0.9 * z0) - w)
            prims.append(_Prim("box", c(x0, floor - h, z0), c(x0 + w, floor, z0 + l), u(0.2, 0.9, 3), shiny=1.5,
                               shininess=u(20, 80)))
        prims += _curved(rng, dials.curved, floor, (-0.8, 0.8), (0.9, 2.5), (0.1, 0.3), (40, 200))
        light = c(u(-1.0, 1.0), u(-0.9, -0.3), u(0.2, 1.2))  # a lamp near the camera, a little above it
        return _Scene(prims, light, False, 0.3, 0.5, 0.2, 12.0, tex_scale=1.2)
    if domain == "medical":
        radius = u(0.015, 0.025)
        off = u(-0.15, 0.15, 2) * radius
        prims += [
            _Prim("tube", off, radius, c(0.85, 0.45, 0.4) * u(0.9, 1.1), stripes=2 if rng.random() < 0.3 else 0,  # folds
                  shiny=1.5, shininess=u(60, 150)),
            _Prim("plane", c(0, 0, 1), u(0.12, 0.18), c(0.6, 0.25, 0.25), texture=0.8),  # the far end (dark)
        ]
        for _ in range(dials.occluders + dials.curved):  # polyps: curved, wet, shiny
            ang, z = u(0, 2 * np.pi), u(0.025, 0.09)
            r = u(0.15, 0.35) * radius
            ctr = np.array([off[0] + (radius - r * 0.3) * np.cos(ang), off[1] + (radius - r * 0.3) * np.sin(ang), z])
            prims.append(_Prim("sphere", ctr, r, c(0.9, 0.55, 0.5) * u(0.9, 1.1), shiny=2.5, shininess=u(100, 300)))
        return _Scene(prims, c(0.002, -0.002, 0.0), True, 0.05, 0.45, 0.004, 0.2, tex_scale=60.0)
    raise ValueError(f"unknown domain {domain!r}; expected street, indoor or medical")


def _subsample_offsets(s: int) -> np.ndarray:
    if s < 1 or s % 2 == 0:
        raise ValueError(f"supersample must be an odd number >= 1 (so that one ray passes through the pixel centre), got {s}")
    return (np.arange(s) + 0.5) / s


def _rays(h: int, w: int, f: float, R: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit ray directions (H*W*s*s, 3) in world coordinates, pixel-major, and their pixel x coordinates
    (the pixel-index coordinate of each sub-sample: pixel centre = integer index)."""
    off = _subsample_offsets(s)
    ys, xs = np.mgrid[0:h, 0:w].astype(float)
    sx = np.broadcast_to(xs[..., None, None] + off[None, None, None, :], (h, w, s, s)).reshape(h, w, s * s)
    sy = np.broadcast_to(ys[..., None, None] + off[None, None, :, None], (h, w, s, s)).reshape(h, w, s * s)
    pix = np.stack([(sx - w / 2) / f, (sy - h / 2) / f, np.ones_like(sx)], -1).reshape(-1, 3)
    d = pix @ R  # camera->world rotation is R^T: d_world = R^T d_cam (row form d_cam @ R)
    return d / np.linalg.norm(d, axis=1, keepdims=True), (sx - 0.5).reshape(-1)


def _shade(scene: _Scene, dials: Dials, noise: _Noise, origin: np.ndarray, dirs: np.ndarray) -> dict[str, np.ndarray]:
    """Cast the rays of one view; returns per-ray arrays."""
    t, idx, normal = _cast(scene.prims, origin, dirs)
    hit_any = np.isfinite(t)
    t = np.where(hit_any, t, scene.max_depth * 4)
    P = origin + dirs * t[:, None]
    n = normal.copy()
    flip = np.einsum("ij,ij->i", n, dirs) > 0  # face normals towards the viewer
    n[flip] *= -1
    base = np.zeros_like(P)
    amp = np.zeros(P.shape[0])
    stripe_mask = np.zeros(P.shape[0], bool)
    stripe = np.zeros(P.shape[0])
    shiny = np.zeros(P.shape[0])
    expo = np.ones(P.shape[0])
    tex_P = P
    if any(p.shift is not None for p in scene.prims):  # a moving object's texture is attached to it
        tex_P = P.copy()
        for i, p in enumerate(scene.prims):
            if p.shift is not None:
                tex_P[idx == i] -= p.shift
    for i, p in enumerate(scene.prims):
        m = idx == i
        if not m.any():
            continue
        base[m] = p.color
        amp[m] = p.texture * dials.texture
        shiny[m] = p.shiny
        expo[m] = p.shininess
        if p.stripes and dials.repetitive > 0:
            coord = tex_P[m, 2] * 2 if p.kind == "tube" else tex_P[m, {1: 0, 2: 2, 3: 1}[p.stripes]]
            stripe[m] = (np.sin(2 * np.pi * coord * scene.tex_scale * 3.0) > 0).astype(float)
            stripe_mask[m] = True
    nz = noise(tex_P * scene.tex_scale) if dials.texture > 0 else np.full(P.shape[0], 0.5)
    albedo = base * (1.0 + 0.9 * amp * (nz - 0.5) * 2)[:, None]
    albedo = albedo * (1 - dials.repetitive * 0.6 * stripe_mask * (1 - stripe))[:, None]
    albedo = np.clip(albedo, 0, 1)
    L = scene.light - P
    dist_l = np.linalg.norm(L, axis=1)
    L = L / dist_l[:, None]
    ndl = np.clip(np.einsum("ij,ij->i", n, L), 0, None)
    spec = _blinn_phong(n, L, -dirs, ndl, dials.specular * shiny, expo)
    shadow = np.zeros(P.shape[0], bool)
    if dials.shadows > 0:
        shadow = _blocked(scene.prims, P + n * 1e-6 * scene.max_depth, L, dist_l) & hit_any
    lit = np.where(shadow, 1 - dials.shadows, 1.0)
    fall = np.clip((0.05 / np.maximum(dist_l, 1e-4)) ** 1.5, 0, 2) if scene.light_at_camera else 1.0
    color = albedo * (scene.ambient + (1 - scene.ambient) * ndl * lit * fall)[:, None] + (spec * lit * fall)[:, None]
    return dict(t=t, P=P, n=n, idx=idx, albedo=albedo, spec=spec * lit * fall, shiny=shiny, expo=expo, shadow=shadow,
                stripe=stripe_mask, color=color, hit=hit_any, L=L, ndl=ndl, fall=fall, lit=lit)


def _blinn_phong(n, L, V, ndl, strength, expo):
    H = L + V
    H /= np.maximum(np.linalg.norm(H, axis=1, keepdims=True), 1e-12)
    ndh = np.clip(np.einsum("ij,ij->i", n, H), 0, None)
    return strength * ndh**expo * (ndl > 0)


def _highlight_from(view: dict, eye: np.ndarray, dials: Dials) -> np.ndarray:
    """The highlight at the surface points of ``view`` as seen from another eye position."""
    V = eye - view["P"]
    V /= np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    spec = _blinn_phong(view["n"], view["L"], V, view["ndl"], dials.specular * view["shiny"], view["expo"])
    return spec * view["lit"] * view["fall"]


def _pixels(a: np.ndarray, h: int, w: int, ss: int) -> np.ndarray:
    """Per-ray values (H*W*ss, ...) -> per-pixel box average (H, W, ...)."""
    return a.reshape(h, w, ss, *a.shape[1:]).mean(2)


def _majority(m: np.ndarray, h: int, w: int, ss: int) -> np.ndarray:
    return m.reshape(h, w, ss).mean(2) >= 0.5


#: semantic classes of the rendered pixels (the labels a jointly trained segmentation head learns)
CLASSES = ("background", "horizontal surface", "vertical surface", "box", "curved object")


def _classes(prims: list, idx: np.ndarray) -> np.ndarray:
    """The class (an index into CLASSES) of the primitive each ray hit (-1: none)."""
    table = []
    for p in prims:
        if p.kind == "plane":
            table.append(1 if abs(float(np.asarray(p.a)[1])) > 0.9 else 2)
        else:
            table.append(3 if p.kind == "box" else 4)
    lut = np.array(table + [0], dtype=np.int64)  # idx -1 -> the last entry, background
    return lut[np.where(idx < 0, len(table), idx)]


def _centre(a: np.ndarray, h: int, w: int, ss: int) -> np.ndarray:
    return a.reshape(h, w, ss, *a.shape[1:])[:, :, ss // 2]


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


def _causes(view: dict, h: int, w: int, ss: int, disp: np.ndarray, occluded: np.ndarray, border: np.ndarray,
            spec_other: np.ndarray, dials: Dials) -> dict[str, torch.Tensor]:
    albedo = _pixels(view["albedo"], h, w, ss)
    jump = np.zeros((h, w), bool)
    jump[:, :-1] |= np.abs(np.diff(disp, axis=1)) > 1.0
    jump[:-1, :] |= np.abs(np.diff(disp, axis=0)) > 1.0
    spec = (view["spec"] > SPECULAR_LEVEL) | (spec_other > SPECULAR_LEVEL)
    return {
        "occluded": _t(_majority(occluded, h, w, ss)),
        "border": _t(_majority(border, h, w, ss)),
        "textureless": _t(_grad_energy(albedo) < TEXTURELESS_ENERGY),
        "specular": _t(_majority(spec, h, w, ss)),
        "repetitive": _t(_majority(view["stripe"], h, w, ss) & (dials.repetitive > 0)),
        "depth_edge": _t(_dilate(jump, 1)),
        "shadow": _t(_majority(view["shadow"], h, w, ss)),
    }


def render_stereo(domain: Domain = "street", size: tuple[int, int] = (96, 192), dials: Dials | None = None, seed: int = 0,
                  supersample: int = 3) -> StereoSample:
    """Render a rectified stereo pair with exact disparity ``f * B / Z`` of the left view (pixel centres)."""
    dials = dials or Dials()
    h, w = size
    ss = supersample * supersample
    rng = np.random.default_rng(seed)
    scene = _scene(domain, dials, rng)
    noise = _Noise(np.random.default_rng(seed + 7919))
    f = scene.focal_scale * w
    dirs, sub_x = _rays(h, w, f, np.eye(3), supersample)
    zero = np.zeros((dirs.shape[0], 3))
    cr = np.array([scene.baseline, 0.0, 0.0])
    Lv = _shade(scene, dials, noise, zero, dirs)
    Rv = _shade(scene, dials, noise, zero + cr, dirs)
    P = Lv["P"]
    z_sub = P[:, 2]
    v = P - cr
    dist = np.linalg.norm(v, axis=1)
    blocked = _blocked(scene.prims, cr + np.zeros_like(P), v / dist[:, None], dist) & Lv["hit"]
    border = (sub_x - f * scene.baseline / z_sub) < -0.5  # the match leaves the right image
    z = _centre(z_sub, h, w, ss)
    disp = f * scene.baseline / z
    spec_r = _highlight_from(Lv, cr, dials)
    causes = _causes(Lv, h, w, ss, disp, blocked, border, spec_r, dials)
    causes["occluded"] &= ~causes["border"]
    valid = _centre(Lv["hit"], h, w, ss) & np.isfinite(disp) & (z < scene.max_depth)
    gain = 1.0 + dials.exposure
    left = _finish(_pixels(Lv["color"], h, w, ss), dials, rng, 1.0)
    right = _finish(_pixels(Rv["color"], h, w, ss), dials, rng, gain)
    K = torch.tensor([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]], dtype=torch.float32)
    labels = torch.from_numpy(_centre(_classes(scene.prims, Lv["idx"]), h, w, ss).copy())[None]
    return StereoSample(left, right, _t(disp.astype(np.float32)), _t(valid), causes, name=f"procedural/{domain}/seed{seed}",
                        depth=_t(z.astype(np.float32)), K=K, baseline=scene.baseline, labels=labels)


def _movers(scene: _Scene, dials: Dials, seed: int, step: float) -> dict[int, np.ndarray]:
    """The first ``dials.moving`` boxes of the scene and their velocity per frame (m): along the road mostly, up to
    a camera step either way, from their own generator (so that the static scene is the same with or without)."""
    if not dials.moving:
        return {}
    rng = np.random.default_rng(seed + 104729)
    boxes = [i for i, p in enumerate(scene.prims) if p.kind == "box"][: dials.moving]
    return {i: np.array([rng.uniform(-0.3, 0.3) * step, 0.0, rng.choice([-1, 1]) * rng.uniform(0.4, 1.0) * step])
            for i in boxes}


def _moved(scene: _Scene, movers: dict[int, np.ndarray], s: int) -> _Scene:
    """The scene at frame offset ``s``: each moving box displaced by its velocity times ``s``."""
    if not movers or s == 0:
        return scene
    prims = list(scene.prims)
    for i, v in movers.items():
        d = v * s
        prims[i] = dataclasses.replace(prims[i], a=prims[i].a + d, b=prims[i].b + d, shift=d)
    return dataclasses.replace(scene, prims=prims)


def _yaw(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # world->camera rotation


def render_video(domain: Domain = "street", size: tuple[int, int] = (96, 192), dials: Dials | None = None, seed: int = 0,
                 frames: int = 3, supersample: int = 3) -> VideoSample:
    """Render ``frames`` views of a camera moving forward with a slight turn; target = middle frame.

    poses[t] maps target-camera coordinates to frame-t camera coordinates."""
    dials = dials or Dials()
    if frames < 2:
        raise ValueError("frames must be >= 2")
    h, w = size
    ss = supersample * supersample
    rng = np.random.default_rng(seed)
    scene = _scene(domain, dials, rng)
    noise = _Noise(np.random.default_rng(seed + 7919))
    f = scene.focal_scale * w
    mid = frames // 2
    step = scene.baseline * 1.5
    turn = rng.uniform(-0.015, 0.015)
    imgs, poses, views, centres = [], [], [], []
    movers = _movers(scene, dials, seed, step)
    for k in range(frames):
        s = k - mid
        c = np.array([0.15 * step * s, 0.0, step * s])
        Rw = _yaw(turn * s)
        dirs, _ = _rays(h, w, f, Rw, supersample)
        V = _shade(_moved(scene, movers, s), dials, noise, np.zeros_like(dirs) + c, dirs)
        views.append(V)
        centres.append(c)
        T = np.eye(4)
        T[:3, :3] = Rw
        T[:3, 3] = -Rw @ c
        poses.append(T)
        gain = 1.0 if s == 0 else 1.0 + dials.exposure * abs(s)
        imgs.append(_finish(_pixels(V["color"], h, w, ss), dials, rng, gain))
    tgt = views[mid]
    P = tgt["P"]
    occluded = np.zeros(P.shape[0], bool)
    border = np.zeros(P.shape[0], bool)
    spec_other = np.zeros(P.shape[0])
    for k in range(frames):
        if k == mid:
            continue
        T, c = poses[k], centres[k]
        v = P - c
        dist = np.linalg.norm(v, axis=1)
        occluded |= _blocked(scene.prims, np.zeros_like(P) + c, v / dist[:, None], dist) & tgt["hit"]
        pc = P @ T[:3, :3].T + T[:3, 3]
        u = f * pc[:, 0] / pc[:, 2] + (w - 1) / 2
        vv = f * pc[:, 1] / pc[:, 2] + (h - 1) / 2
        border |= (u < -0.5) | (u > w - 0.5) | (vv < -0.5) | (vv > h - 0.5) | (pc[:, 2] <= 0)
        spec_other = np.maximum(spec_other, _highlight_from(tgt, c, dials))
    z = _centre(P[:, 2], h, w, ss)
    disp_like = f * step / z  # depth edges measured on inverse depth scaled like a disparity of baseline ``step``
    valid = _centre(tgt["hit"], h, w, ss) & (z < scene.max_depth)
    causes = _causes(tgt, h, w, ss, disp_like, occluded, border, spec_other, dials)
    causes["occluded"] &= ~causes["border"]
    if movers:  # pixels of the target on an object that moves between the frames: no rigid warp explains them
        causes["moving"] = _t(_majority(np.isin(tgt["idx"], list(movers)), h, w, ss))
    K = torch.tensor([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]], dtype=torch.float32)
    labels = torch.from_numpy(_centre(_classes(scene.prims, tgt["idx"]), h, w, ss).copy())[None]
    return VideoSample(torch.stack(imgs), _t(z.astype(np.float32)), _t(valid), K, torch.tensor(np.stack(poses), dtype=torch.float32),
                       causes, name=f"procedural/{domain}/video/seed{seed}", labels=labels)
