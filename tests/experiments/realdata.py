"""Tiny copies of the real datasets' layouts, in their exact file formats (PNG, 16-bit PNG, TIFF, YAML),
for driving the full profile's code path without the datasets themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from sins.experiments.data import write_png16

KITTI_CALIB = """calib_time: 09-Jan-2012 13:57:47
P_rect_02: 7.215377e+01 0.000000e+00 2.4e+01 4.485728e+00 0.000000e+00 7.215377e+01 1.2e+01 2.163791e-01 0.000000e+00 0.000000e+00 1.000000e+00 2.745884e-03
P_rect_03: 7.215377e+01 0.000000e+00 2.4e+01 -3.395242e+01 0.000000e+00 7.215377e+01 1.2e+01 2.199936e+00 0.000000e+00 0.000000e+00 1.000000e+00 2.729905e-03
"""
SCARED_YAML = """%YAML:1.0
---
T: !!opencv-matrix
   rows: 3
   cols: 1
   dt: d
   data: [ -4.3, 0.03, -0.1 ]
M1: !!opencv-matrix
   rows: 3
   cols: 3
   dt: d
   data: [ 60.0, 0., 24., 0., 60.0, 12., 0., 0., 1. ]
"""


def _img(path: Path, rng, h: int, w: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)


def kitti2015(root: Path, n: int = 34, h: int = 24, w: int = 48) -> Path:
    rng = np.random.default_rng(0)
    t = root / "kitti2015" / "training"
    for i in range(n):
        name = f"{i:06d}_10.png"
        _img(t / "image_2" / name, rng, h, w)
        _img(t / "image_3" / name, rng, h, w)
        (t / "disp_occ_0").mkdir(parents=True, exist_ok=True)
        write_png16(t / "disp_occ_0" / name, rng.uniform(1, 6, (h, w)), scale=256)
    return root / "kitti2015"


def kitti_raw(root: Path, n: int = 34, h: int = 24, w: int = 48) -> Path:
    """A drive of n + 2 frames of both cameras, annotated depth for the listed ones, an Eigen-style split."""
    rng = np.random.default_rng(1)
    base = root / "kitti_raw"
    drive = base / "2011_09_26" / "2011_09_26_drive_0002_sync"
    (base / "2011_09_26").mkdir(parents=True, exist_ok=True)
    (base / "2011_09_26" / "calib_cam_to_cam.txt").write_text(KITTI_CALIB)
    lines = []
    for f in range(n + 2):
        for cam in ("image_02", "image_03"):
            _img(drive / cam / "data" / f"{f:010d}.png", rng, h, w)
    gt = base / "train" / "2011_09_26_drive_0002_sync" / "proj_depth" / "groundtruth" / "image_02"
    gt.mkdir(parents=True, exist_ok=True)
    for f in range(1, n + 1):
        write_png16(gt / f"{f:010d}.png", rng.uniform(3, 60, (h, w)), scale=256)
        lines.append(f"2011_09_26/2011_09_26_drive_0002_sync {f:010d} l")
    (base / "eigen_test_files.txt").write_text("\n".join(lines) + "\n")
    return base


def scared(root: Path, n: int = 34, h: int = 24, w: int = 48) -> Path:
    rng = np.random.default_rng(2)
    base = root / "scared"
    for i in range(n):
        k = base / f"dataset_{i // 5 + 1}" / f"keyframe_{i % 5 + 1}"
        _img(k / "Left_Image.png", rng, h, w)
        _img(k / "Right_Image.png", rng, h, w)
        xyz = rng.uniform(-20, 20, (h, w, 3)).astype(np.float32)
        xyz[..., 2] = rng.uniform(40, 200, (h, w))
        tifffile.imwrite(k / "left_depth_map.tiff", xyz, photometric="rgb")
        (k / "endoscope_calibration.yaml").write_text(SCARED_YAML)
    return base


WRITERS = {"kitti2015": kitti2015, "kitti_raw_eigen": kitti_raw, "scared": scared}
