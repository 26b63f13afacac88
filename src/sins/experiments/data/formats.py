"""File formats of depth/disparity datasets: PFM (both byte orders) and 16-bit PNG.

PFM: header ``PF`` (3 channels) or ``Pf`` (1 channel), ``width height``, then a
scale whose sign gives the byte order (negative = little endian), then float32
rows stored bottom-to-top. 16-bit PNG: unsigned 16-bit grey levels (KITTI stores
disparity * 256 with 0 = invalid; NYUv2 / KITTI depth maps store depth the same way).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["read_pfm", "write_pfm", "read_png16", "write_png16"]


def read_pfm(path: str | Path) -> np.ndarray:
    """Read a PFM file as float32 (H, W) or (H, W, 3), rows top-to-bottom."""
    with open(path, "rb") as f:
        magic = f.readline().strip()
        if magic not in (b"PF", b"Pf"):
            raise ValueError(f"{path}: not a PFM file (header {magic!r}, expected b'PF' or b'Pf')")
        channels = 3 if magic == b"PF" else 1
        dims = f.readline()
        while dims.startswith(b"#"):
            dims = f.readline()
        m = re.match(rb"^\s*(\d+)\s+(\d+)\s*$", dims)
        if not m:
            raise ValueError(f"{path}: malformed PFM size line {dims!r}")
        w, h = int(m.group(1)), int(m.group(2))
        scale = float(f.readline().strip())
        dtype = "<f4" if scale < 0 else ">f4"
        data = np.frombuffer(f.read(), dtype=dtype)
    n = w * h * channels
    if data.size < n:
        raise ValueError(f"{path}: PFM truncated, {data.size} of {n} values")
    shape = (h, w, channels) if channels == 3 else (h, w)
    return np.ascontiguousarray(np.flipud(data[:n].reshape(shape))).astype(np.float32)


def write_pfm(path: str | Path, array: np.ndarray, little_endian: bool = True) -> None:
    """Write float32 (H, W) or (H, W, 3) as PFM in the chosen byte order."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"PFM holds (H, W) or (H, W, 3) arrays, got {a.shape}")
    magic = b"PF\n" if a.ndim == 3 else b"Pf\n"
    h, w = a.shape[:2]
    scale = -1.0 if little_endian else 1.0
    body = np.flipud(a).astype("<f4" if little_endian else ">f4").tobytes()
    with open(path, "wb") as f:
        f.write(magic + f"{w} {h}\n{scale}\n".encode() + body)


def read_png16(path: str | Path, scale: float = 1.0) -> np.ndarray:
    """Read a 16-bit grey PNG as float32 values / ``scale`` (e.g. 256 for KITTI disparity)."""
    with Image.open(path) as im:
        if im.mode not in ("I;16", "I;16B", "I;16L", "I"):
            raise ValueError(f"{path}: expected a 16-bit grey PNG, got mode {im.mode}")
        a = np.array(im).astype(np.float32)
    return a / float(scale)


def write_png16(path: str | Path, values: np.ndarray, scale: float = 1.0) -> None:
    """Write ``round(values * scale)`` as a 16-bit grey PNG (non-finite and negative -> 0)."""
    v = np.asarray(values, dtype=np.float64) * scale
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    if v.max(initial=0) > 65535:
        raise ValueError("values * scale exceed the 16-bit range")
    Image.fromarray(np.round(v).astype(np.uint16)).save(path)
