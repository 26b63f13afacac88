"""Readers for the real datasets, laid out on disk as their users have them after unpacking.

Each reader is a ``torch.utils.data.Dataset`` of :class:`StereoSample` or
:class:`VideoSample`. A folder that does not have the expected layout raises
:class:`DatasetLayoutError` naming what was expected where.

Layouts (``root`` is the folder passed in):

- KITTI 2015 (``kitti2015``): ``root/training/image_2/000000_10.png``,
  ``image_3/``, ``disp_occ_0/`` (or ``disp_noc_0/``) 16-bit PNG, disparity =
  value / 256, 0 = invalid.
- KITTI raw + Eigen split (``kitti_raw_eigen``): ``root/2011_09_26/calib_cam_to_cam.txt``,
  ``root/2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png`` (and
  ``image_03``); split lines ``2011_09_26/2011_09_26_drive_0002_sync 0000000069 l``
  (``l`` = image_02 is the target, ``r`` = image_03). Ground-truth depth from the
  annotated depth maps (16-bit PNG / 256 m, 0 invalid), looked up as
  ``<gt_root>/{train,val,}/<drive>/proj_depth/groundtruth/image_0X/<frame>.png``
  (``gt_root`` defaults to ``root``); frames without one have no valid pixel.
- Middlebury 2014 (``middlebury2014``): ``root/<Scene>-perfect/im0.png, im1.png,
  disp0.pfm`` (or ``disp0GT.pfm``), ``calib.txt`` (cam0, baseline in mm, doffs, ndisp);
  inf disparities are invalid.
- SceneFlow (``sceneflow``): ``root/frames_cleanpass/<...>/left/0006.png`` (``right/``)
  and ``root/disparity/<...>/left/0006.pfm``; PFM in either byte order.
- SCARED (``scared``): ``root/dataset_1/keyframe_1/Left_Image.png, Right_Image.png,
  left_depth_map.tiff`` (H x W x 3 float32 point map, Z used as depth in mm, 0/NaN invalid),
  ``endoscope_calibration.yaml`` (OpenCV FileStorage with M1 and T). The images are
  the raw (unrectified) keyframes: ``disparity`` is ``f * |T| / Z``, an approximation.
- NYUv2 (``nyuv2``): the commonly used extracted layout ``root/<scene>/rgb_00000.jpg``
  with ``sync_depth_00000.png`` (16-bit, millimetres, 0 invalid); samples are
  single-frame :class:`VideoSample` (T = 1, identity pose) with the standard
  Kinect intrinsics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .formats import read_pfm, read_png16
from .samples import StereoSample, VideoSample

__all__ = ["DatasetLayoutError", "kitti2015", "kitti_raw_eigen", "middlebury2014", "sceneflow", "scared", "nyuv2"]


class DatasetLayoutError(FileNotFoundError):
    """The folder given to a reader does not hold the layout it expects."""


def _need(path: Path, what: str, dataset: str) -> Path:
    if not path.exists():
        raise DatasetLayoutError(f"{dataset}: expected {what} at {path}, found nothing there")
    return path


def _rgb(path: Path) -> torch.Tensor:
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=a.dtype))[None]


class _ListDataset(Dataset):
    def __init__(self, items: Sequence, load: Callable):
        self.items = list(items)
        self._load = load

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self._load(self.items[i])


def _stereo(left, right, disp: np.ndarray, valid: np.ndarray, name: str, K=None, baseline=None, depth=None) -> StereoSample:
    disp = np.where(valid, disp, 0).astype(np.float32)
    return StereoSample(left, right, _t(disp), _t(valid.astype(bool)), {}, name,
                        depth=None if depth is None else _t(np.where(valid, depth, 0).astype(np.float32)),
                        K=None if K is None else torch.as_tensor(K, dtype=torch.float32), baseline=baseline)


# --- KITTI 2015 -------------------------------------------------------------------------

def kitti2015(root: str | Path, split: str = "training", occ: bool = True) -> Dataset:
    """KITTI 2015 stereo: pairs ``*_10.png`` of image_2 / image_3 with disp_occ_0 (or disp_noc_0)."""
    base = _need(Path(root) / split, f"the '{split}' folder of KITTI 2015 (data_scene_flow)", "KITTI 2015")
    left_dir = _need(base / "image_2", "left images image_2/000000_10.png", "KITTI 2015")
    right_dir = _need(base / "image_3", "right images image_3/000000_10.png", "KITTI 2015")
    disp_dir = _need(base / ("disp_occ_0" if occ else "disp_noc_0"), "16-bit disparity PNGs", "KITTI 2015")
    names = sorted(p.name for p in left_dir.glob("*_10.png"))
    if not names:
        raise DatasetLayoutError(f"KITTI 2015: expected frames like 000000_10.png in {left_dir}, found none")
    for n in names:
        _need(right_dir / n, "the right image", "KITTI 2015")
        _need(disp_dir / n, "the disparity map", "KITTI 2015")

    def load(n: str) -> StereoSample:
        d = read_png16(disp_dir / n, 256.0)
        return _stereo(_rgb(left_dir / n), _rgb(right_dir / n), d, d > 0, f"kitti2015/{n[:-4]}")

    return _ListDataset(names, load)


# --- KITTI raw / Eigen split ------------------------------------------------------------

def read_kitti_calib(path: Path) -> dict[str, np.ndarray]:
    out = {}
    for line in Path(path).read_text().splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        try:
            out[k.strip()] = np.array([float(x) for x in v.split()])
        except ValueError:
            continue  # e.g. calib_time
    return out


def kitti_raw_eigen(root: str | Path, split_file: str | Path, gt_root: str | Path | None = None,
                    frames: int | None = None) -> Dataset:
    """KITTI raw frames listed by an Eigen split file, with depth from the annotated maps.

    ``frames=None``: stereo samples (the listed camera and the other one). ``frames=3`` (any odd
    number): video samples of that many consecutive frames of the listed camera, centred on the
    listed frame (the first and last frames of a drive are skipped when a neighbour is missing);
    the camera poses are unknown (``poses`` is None), as they are to a self-supervised method."""
    if frames is not None and (frames < 2 or frames % 2 == 0):
        raise ValueError(f"frames must be an odd number >= 3 (target in the middle), got {frames}")
    root = Path(root)
    gt_root = Path(gt_root) if gt_root is not None else root
    lines = [ln.split() for ln in Path(_need(Path(split_file), "the split file", "KITTI raw")).read_text().splitlines() if ln.strip()]
    items = []
    for i, parts in enumerate(lines, 1):
        if len(parts) != 3 or parts[2] not in ("l", "r"):
            raise DatasetLayoutError(f"KITTI raw: split line {i} {' '.join(parts)!r}: expected 'DATE/DRIVE FRAME l|r'")
        folder, frame, side = parts
        date = folder.split("/")[0]
        calib = _need(root / date / "calib_cam_to_cam.txt", "the calibration of the date", "KITTI raw")
        cam, other = ("image_02", "image_03") if side == "l" else ("image_03", "image_02")
        tgt = _need(root / folder / cam / "data" / f"{int(frame):010d}.png", f"the {cam} frame", "KITTI raw")
        if frames is not None:
            half = frames // 2
            clip = [root / folder / cam / "data" / f"{int(frame) + k:010d}.png" for k in range(-half, half + 1)]
            if not all(c.exists() for c in clip):
                continue  # a drive's first or last frame: no neighbour on one side
            src = clip
        else:
            src = _need(root / folder / other / "data" / f"{int(frame):010d}.png", f"the {other} frame", "KITTI raw")
        drive = folder.split("/")[-1]
        gt = None
        for sub in ("train", "val", ""):
            p = gt_root / sub / drive / "proj_depth" / "groundtruth" / cam / f"{int(frame):010d}.png"
            if p.exists():
                gt = p
                break
        items.append((folder, frame, side, calib, tgt, src, gt))

    if not items:
        raise DatasetLayoutError(f"KITTI raw: no listed frame of {split_file} has {frames} consecutive frames on disk")

    def load(item) -> StereoSample | VideoSample:
        folder, frame, side, calib, tgt, src, gt = item
        c = read_kitti_calib(calib)
        P2, P3 = c["P_rect_02"].reshape(3, 4), c["P_rect_03"].reshape(3, 4)
        f = P2[0, 0]
        baseline = abs(P2[0, 3] - P3[0, 3]) / f
        if frames is not None:
            clip = torch.stack([_rgb(p) for p in src])
            h, w = clip.shape[-2:]
            depth = read_png16(gt, 256.0) if gt is not None else np.zeros((h, w), np.float32)
            K = torch.as_tensor((P2 if side == "l" else P3)[:, :3], dtype=torch.float32)
            return VideoSample(clip, _t(depth.astype(np.float32)), _t(depth > 0), K, None, {},
                               f"kitti_raw/{folder}/{frame}/{side}/video")
        left, right = _rgb(tgt), _rgb(src)
        if side == "r":  # the target is the right camera: mirror so that the disparity convention (left view) holds
            left, right = left.flip(-1), right.flip(-1)
        h, w = left.shape[-2:]
        if gt is not None:
            depth = read_png16(gt, 256.0)
            if side == "r":
                depth = depth[:, ::-1]
        else:
            depth = np.zeros((h, w), np.float32)
        valid = depth > 0
        disp = np.where(valid, f * baseline / np.maximum(depth, 1e-6), 0)
        K = (P2 if side == "l" else P3)[:, :3].copy()
        if side == "r":  # mirrored image: the principal point mirrors too
            K[0, 2] = (w - 1) - K[0, 2]
        return _stereo(left, right, disp, valid, f"kitti_raw/{folder}/{frame}/{side}", K=K, baseline=baseline, depth=depth)

    return _ListDataset(items, load)


# --- Middlebury 2014 --------------------------------------------------------------------

def read_middlebury_calib(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for line in Path(path).read_text().splitlines():
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        if v.startswith("["):
            rows = [r.split() for r in v.strip("[]").split(";")]
            out[k] = np.array(rows, dtype=float)
        else:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def middlebury2014(root: str | Path) -> Dataset:
    """Middlebury 2014 scenes (each folder: im0.png, im1.png, disp0.pfm or disp0GT.pfm, calib.txt)."""
    root = _need(Path(root), "a folder of Middlebury 2014 scenes", "Middlebury 2014")
    scenes = sorted(p for p in root.iterdir() if p.is_dir() and (p / "im0.png").exists())
    if (root / "im0.png").exists():
        scenes = [root]
    if not scenes:
        raise DatasetLayoutError(f"Middlebury 2014: expected scene folders with im0.png, im1.png, disp0.pfm, calib.txt in {root}, found none")
    items = []
    for s in scenes:
        disp = s / "disp0.pfm" if (s / "disp0.pfm").exists() else s / "disp0GT.pfm"
        items.append((s, _need(s / "im1.png", "im1.png", "Middlebury 2014"), _need(disp, "disp0.pfm", "Middlebury 2014"),
                      _need(s / "calib.txt", "calib.txt", "Middlebury 2014")))

    def load(item) -> StereoSample:
        s, im1, dispf, calib = item
        c = read_middlebury_calib(calib)
        d = read_pfm(dispf)
        valid = np.isfinite(d) & (d > 0)
        K = c.get("cam0")
        baseline = float(c["baseline"]) / 1000.0 if "baseline" in c else None
        depth = None
        if K is not None and baseline is not None:
            depth = np.where(valid, K[0, 0] * baseline / np.maximum(np.nan_to_num(d, posinf=0) + float(c.get("doffs", 0.0)), 1e-6), 0)
        return _stereo(_rgb(s / "im0.png"), _rgb(im1), np.nan_to_num(d, posinf=0, neginf=0), valid, f"middlebury2014/{s.name}",
                       K=K, baseline=baseline, depth=depth)

    return _ListDataset(items, load)


# --- SceneFlow --------------------------------------------------------------------------

def sceneflow(root: str | Path, pass_name: str = "frames_cleanpass") -> Dataset:
    """SceneFlow (FlyingThings3D / Driving / Monkaa): images under ``pass_name``, PFM disparity under ``disparity``."""
    root = Path(root)
    img_root = _need(root / pass_name, f"the image pass folder {pass_name}/", "SceneFlow")
    disp_root = _need(root / "disparity", "the disparity/ folder of PFM files", "SceneFlow")
    lefts = sorted(p for p in img_root.rglob("*.png") if p.parent.name == "left")
    if not lefts:
        raise DatasetLayoutError(f"SceneFlow: expected <...>/left/*.png under {img_root}, found none")
    items = []
    for p in lefts:
        rel = p.relative_to(img_root)
        items.append((p, _need(p.parent.parent / "right" / p.name, "the right image", "SceneFlow"),
                      _need(disp_root / rel.with_suffix(".pfm"), "the left disparity PFM", "SceneFlow"), rel))

    def load(item) -> StereoSample:
        lp, rp, dp, rel = item
        d = read_pfm(dp)
        if d.ndim == 3:
            d = d[..., 0]
        valid = np.isfinite(d) & (d > 0)
        return _stereo(_rgb(lp), _rgb(rp), np.nan_to_num(d, posinf=0, neginf=0), valid, f"sceneflow/{rel.with_suffix('')}")

    return _ListDataset(items, load)


# --- SCARED -----------------------------------------------------------------------------

def read_opencv_yaml_matrix(text: str, name: str) -> np.ndarray | None:
    m = re.search(rf"^\s*{re.escape(name)}\s*:\s*!!opencv-matrix(.*?)data\s*:\s*\[(.*?)\]", text, re.S | re.M)
    if not m:
        return None
    rows = int(re.search(r"rows\s*:\s*(\d+)", m.group(1)).group(1))
    cols = int(re.search(r"cols\s*:\s*(\d+)", m.group(1)).group(1))
    return np.array([float(x) for x in m.group(2).replace("\n", " ").split(",")]).reshape(rows, cols)


def scared(root: str | Path) -> Dataset:
    """SCARED keyframes: ``dataset_N/keyframe_M/`` with Left_Image.png, Right_Image.png,
    left_depth_map.tiff and endoscope_calibration.yaml."""
    import tifffile

    root = Path(root)
    frames = sorted(p for p in root.glob("dataset_*/keyframe_*") if p.is_dir())
    if not frames:
        raise DatasetLayoutError(f"SCARED: expected dataset_N/keyframe_M/ folders in {root}, found none")
    need = ("Left_Image.png", "Right_Image.png", "left_depth_map.tiff", "endoscope_calibration.yaml")
    for f in frames:
        for n in need:
            _need(f / n, n, "SCARED")

    def load(f: Path) -> StereoSample:
        xyz = tifffile.imread(f / "left_depth_map.tiff").astype(np.float32)
        if xyz.ndim != 3 or xyz.shape[-1] != 3:
            raise DatasetLayoutError(f"SCARED: expected an H x W x 3 point map in {f / 'left_depth_map.tiff'}, got shape {xyz.shape}")
        z = np.nan_to_num(xyz[..., 2], nan=0.0, posinf=0.0) / 1000.0  # mm -> m
        valid = z > 0
        text = (f / "endoscope_calibration.yaml").read_text()
        M1, T = read_opencv_yaml_matrix(text, "M1"), read_opencv_yaml_matrix(text, "T")
        if M1 is None or T is None:
            raise DatasetLayoutError(f"SCARED: expected OpenCV matrices M1 and T in {f / 'endoscope_calibration.yaml'}")
        baseline = float(np.linalg.norm(T)) / 1000.0
        disp = np.where(valid, M1[0, 0] * baseline / np.maximum(z, 1e-9), 0)
        name = f"scared/{f.parent.name}/{f.name}"
        return _stereo(_rgb(f / "Left_Image.png"), _rgb(f / "Right_Image.png"), disp, valid, name, K=M1, baseline=baseline, depth=z)

    return _ListDataset(frames, load)


# --- NYUv2 ------------------------------------------------------------------------------

NYU_K = np.array([[518.8579, 0, 325.5824], [0, 519.4696, 253.7362], [0, 0, 1]])


def nyuv2(root: str | Path) -> Dataset:
    """NYUv2, extracted layout: ``<scene>/rgb_00000.jpg`` + ``<scene>/sync_depth_00000.png`` (16-bit mm)."""
    root = Path(root)
    rgbs = sorted(root.glob("*/rgb_*.jpg")) + sorted(root.glob("rgb_*.jpg"))
    if not rgbs:
        raise DatasetLayoutError(f"NYUv2: expected <scene>/rgb_00000.jpg with sync_depth_00000.png next to it in {root}, found none")
    items = [(p, _need(p.with_name(p.name.replace("rgb_", "sync_depth_")).with_suffix(".png"), "the matching sync_depth_*.png", "NYUv2"))
             for p in rgbs]

    def load(item) -> VideoSample:
        rgb, dep = item
        depth = read_png16(dep, 1000.0)
        return VideoSample(_rgb(rgb)[None], _t(depth), _t(depth > 0), torch.tensor(NYU_K, dtype=torch.float32),
                           torch.eye(4)[None], {}, f"nyuv2/{rgb.parent.name}/{rgb.stem}")

    return _ListDataset(items, load)
