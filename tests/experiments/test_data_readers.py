"""Dataset readers on small files written in each dataset's exact format and layout."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from sins.experiments.data import (
    DatasetLayoutError,
    StereoSample,
    VideoSample,
    kitti2015,
    kitti_raw_eigen,
    middlebury2014,
    nyuv2,
    scared,
    sceneflow,
    write_pfm,
    write_png16,
)

H, W = 6, 10
RNG = np.random.default_rng(0)


def _img(path, h=H, w=W, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    a = RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(a).save(path, format=fmt)
    return a


def _disp(h=H, w=W):
    d = RNG.uniform(1, 40, (h, w))
    d[0, 0] = 0.0
    return d


# --- KITTI 2015 ---

def test_kitti2015(tmp_path):
    t = tmp_path / "training"
    left = _img(t / "image_2" / "000000_10.png")
    _img(t / "image_3" / "000000_10.png")
    _img(t / "image_2" / "000000_11.png")  # the second frame of the flow pair is not a stereo sample
    d = _disp()
    (t / "disp_occ_0").mkdir()
    write_png16(t / "disp_occ_0" / "000000_10.png", d, scale=256)
    ds = kitti2015(tmp_path)
    assert len(ds) == 1
    s = ds[0]
    assert isinstance(s, StereoSample) and s.left.shape == (3, H, W)
    np.testing.assert_allclose(s.left.permute(1, 2, 0).numpy(), left / 255.0, atol=1e-6)
    np.testing.assert_allclose(s.disparity[0].numpy(), np.round(d * 256) / 256, atol=1e-6)
    assert not s.valid[0, 0, 0] and s.valid.sum() == H * W - 1


def test_kitti2015_says_what_is_missing(tmp_path):
    with pytest.raises(DatasetLayoutError, match="training"):
        kitti2015(tmp_path)
    (tmp_path / "training" / "image_2").mkdir(parents=True)
    with pytest.raises(DatasetLayoutError, match="image_3"):
        kitti2015(tmp_path)
    (tmp_path / "training" / "image_3").mkdir()
    (tmp_path / "training" / "disp_occ_0").mkdir()
    with pytest.raises(DatasetLayoutError, match="000000_10.png"):
        kitti2015(tmp_path)


# --- KITTI raw + Eigen split ---

CALIB = """calib_time: 09-Jan-2012 13:57:47
corner_dist: 9.950000e-02
P_rect_02: 7.215377e+02 0.000000e+00 6.095593e+02 4.485728e+01 0.000000e+00 7.215377e+02 1.728540e+02 2.163791e-01 0.000000e+00 0.000000e+00 1.000000e+00 2.745884e-03
P_rect_03: 7.215377e+02 0.000000e+00 6.095593e+02 -3.395242e+02 0.000000e+00 7.215377e+02 1.728540e+02 2.199936e+00 0.000000e+00 0.000000e+00 1.000000e+00 2.729905e-03
"""


def _kitti_raw(tmp_path):
    drive = tmp_path / "2011_09_26" / "2011_09_26_drive_0002_sync"
    (tmp_path / "2011_09_26").mkdir()
    (tmp_path / "2011_09_26" / "calib_cam_to_cam.txt").write_text(CALIB)
    l_img = _img(drive / "image_02" / "data" / "0000000069.png")
    r_img = _img(drive / "image_03" / "data" / "0000000069.png")
    depth = RNG.uniform(3, 80, (H, W))
    depth[2, 3] = 0
    gt = tmp_path / "gt" / "train" / "2011_09_26_drive_0002_sync" / "proj_depth" / "groundtruth" / "image_02"
    gt.mkdir(parents=True)
    write_png16(gt / "0000000069.png", depth, scale=256)
    split = tmp_path / "test_files.txt"
    split.write_text("2011_09_26/2011_09_26_drive_0002_sync 0000000069 l\n2011_09_26/2011_09_26_drive_0002_sync 69 r\n")
    return split, depth, l_img, r_img


def test_kitti_raw_eigen(tmp_path):
    split, depth, l_img, r_img = _kitti_raw(tmp_path)
    ds = kitti_raw_eigen(tmp_path, split, gt_root=tmp_path / "gt")
    assert len(ds) == 2
    s = ds[0]
    np.testing.assert_allclose(s.left.permute(1, 2, 0).numpy(), l_img / 255.0, atol=1e-6)
    f, B = 721.5377, (44.85728 + 339.5242) / 721.5377
    assert abs(s.baseline - B) < 1e-6 and abs(float(s.K[0, 0]) - f) < 1e-3
    q = np.round(depth * 256) / 256
    np.testing.assert_allclose(s.depth[0].numpy(), q, rtol=1e-5)
    assert not s.valid[0, 2, 3] and int(s.valid.sum()) == H * W - 1
    np.testing.assert_allclose(s.disparity[0].numpy()[q > 0], f * B / q[q > 0], rtol=1e-4)
    r = ds[1]  # 'r': target is image_03, mirrored so the left-view convention holds; no gt for image_03
    np.testing.assert_allclose(r.left.permute(1, 2, 0).numpy(), r_img[:, ::-1] / 255.0, atol=1e-6)
    assert not r.valid.any()


def test_kitti_raw_missing_frame_and_bad_line(tmp_path):
    split, *_ = _kitti_raw(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_text("2011_09_26/2011_09_26_drive_0002_sync 0000000070 l\n")
    with pytest.raises(DatasetLayoutError, match="image_02 frame"):
        kitti_raw_eigen(tmp_path, bad)
    bad.write_text("2011_09_26/2011_09_26_drive_0002_sync 70\n")
    with pytest.raises(DatasetLayoutError, match="DATE/DRIVE FRAME"):
        kitti_raw_eigen(tmp_path, bad)
    with pytest.raises(DatasetLayoutError, match="calib"):
        kitti_raw_eigen(tmp_path / "2011_09_26", split)


# --- Middlebury 2014 ---

MB_CALIB = """cam0=[3979.911 0 1244.772; 0 3979.911 1019.507; 0 0 1]
cam1=[3979.911 0 1369.115; 0 3979.911 1019.507; 0 0 1]
doffs=124.343
baseline=193.001
width=2964
height=1988
ndisp=270
isint=0
vmin=23
vmax=245
"""


@pytest.mark.parametrize("little", [True, False])
def test_middlebury2014(tmp_path, little):
    scene = tmp_path / "Motorcycle-perfect"
    _img(scene / "im0.png")
    _img(scene / "im1.png")
    d = _disp().astype(np.float32)
    d[1, 2] = np.inf
    write_pfm(scene / "disp0.pfm", d, little_endian=little)
    (scene / "calib.txt").write_text(MB_CALIB)
    (tmp_path / "NotAScene").mkdir()
    ds = middlebury2014(tmp_path)
    assert len(ds) == 1
    s = ds[0]
    assert not s.valid[0, 1, 2] and not s.valid[0, 0, 0] and int(s.valid.sum()) == H * W - 2
    np.testing.assert_allclose(s.disparity[0].numpy()[s.valid[0].numpy()], d[s.valid[0].numpy()])
    assert torch.isfinite(s.disparity).all()
    assert abs(s.baseline - 0.193001) < 1e-9 and abs(float(s.K[0, 2]) - 1244.772) < 1e-3
    z = s.depth[0, 3, 4].item()
    assert abs(z - 3979.911 * 0.193001 / (d[3, 4] + 124.343)) < 1e-4


def test_middlebury_missing_files(tmp_path):
    with pytest.raises(DatasetLayoutError, match="im0.png"):
        middlebury2014(tmp_path)
    _img(tmp_path / "Piano" / "im0.png")
    _img(tmp_path / "Piano" / "im1.png")
    with pytest.raises(DatasetLayoutError, match="disp0.pfm"):
        middlebury2014(tmp_path)


# --- SceneFlow ---

@pytest.mark.parametrize("little", [True, False])
def test_sceneflow(tmp_path, little):
    rel = "TRAIN/A/0000"
    _img(tmp_path / "frames_cleanpass" / rel / "left" / "0006.png")
    _img(tmp_path / "frames_cleanpass" / rel / "right" / "0006.png")
    d = _disp().astype(np.float32)
    (tmp_path / "disparity" / rel / "left").mkdir(parents=True)
    write_pfm(tmp_path / "disparity" / rel / "left" / "0006.pfm", d, little_endian=little)
    ds = sceneflow(tmp_path)
    assert len(ds) == 1
    s = ds[0]
    np.testing.assert_array_equal(s.disparity[0].numpy()[1:], d[1:])
    assert s.name == "sceneflow/TRAIN/A/0000/left/0006"


def test_sceneflow_missing_disparity(tmp_path):
    _img(tmp_path / "frames_cleanpass" / "x" / "left" / "0006.png")
    _img(tmp_path / "frames_cleanpass" / "x" / "right" / "0006.png")
    with pytest.raises(DatasetLayoutError, match="disparity/"):
        sceneflow(tmp_path)
    (tmp_path / "disparity").mkdir()
    with pytest.raises(DatasetLayoutError, match="left disparity PFM"):
        sceneflow(tmp_path)


# --- SCARED ---

SCARED_YAML = """%YAML:1.0
---
R: !!opencv-matrix
   rows: 3
   cols: 3
   dt: d
   data: [ 1., 0., 0., 0., 1., 0., 0., 0., 1. ]
T: !!opencv-matrix
   rows: 3
   cols: 1
   dt: d
   data: [ -4.3, 0.03, -0.1 ]
M1: !!opencv-matrix
   rows: 3
   cols: 3
   dt: d
   data: [ 1035.3, 0., 597.1, 0.,
       1035.1, 520.3, 0., 0., 1. ]
D1: !!opencv-matrix
   rows: 1
   cols: 5
   dt: d
   data: [ -0.0005, 0.001, 0., 0., 0. ]
"""


def test_scared(tmp_path):
    k = tmp_path / "dataset_1" / "keyframe_1"
    _img(k / "Left_Image.png")
    _img(k / "Right_Image.png")
    xyz = RNG.uniform(-20, 20, (H, W, 3)).astype(np.float32)
    xyz[..., 2] = RNG.uniform(40, 200, (H, W))
    xyz[0, 1] = 0.0
    xyz[2, 2] = np.nan
    tifffile.imwrite(k / "left_depth_map.tiff", xyz)
    (k / "endoscope_calibration.yaml").write_text(SCARED_YAML)
    ds = scared(tmp_path)
    s = ds[0]
    assert s.name == "scared/dataset_1/keyframe_1"
    assert int(s.valid.sum()) == H * W - 2 and not s.valid[0, 0, 1] and not s.valid[0, 2, 2]
    np.testing.assert_allclose(s.depth[0, 3, 3].item(), xyz[3, 3, 2] / 1000, rtol=1e-6)
    B = np.linalg.norm([-4.3, 0.03, -0.1]) / 1000
    assert abs(s.baseline - B) < 1e-9
    np.testing.assert_allclose(s.disparity[0, 3, 3].item(), 1035.3 * B / (xyz[3, 3, 2] / 1000), rtol=1e-5)


def test_scared_incomplete(tmp_path):
    with pytest.raises(DatasetLayoutError, match="dataset_N/keyframe_M"):
        scared(tmp_path)
    k = tmp_path / "dataset_2" / "keyframe_3"
    _img(k / "Left_Image.png")
    _img(k / "Right_Image.png")
    with pytest.raises(DatasetLayoutError, match="left_depth_map.tiff"):
        scared(tmp_path)


# --- NYUv2 ---

def test_nyuv2(tmp_path):
    _img(tmp_path / "bedroom_0001" / "rgb_00000.jpg", h=8, w=8, fmt="JPEG")
    mm = RNG.integers(500, 9000, (8, 8)).astype(np.uint16)
    mm[4, 4] = 0
    Image.fromarray(mm).save(tmp_path / "bedroom_0001" / "sync_depth_00000.png")
    ds = nyuv2(tmp_path)
    v = ds[0]
    assert isinstance(v, VideoSample) and v.frames.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(v.depth[0].numpy(), mm / 1000.0, rtol=1e-6)
    assert not v.valid[0, 4, 4] and int(v.valid.sum()) == 63
    assert torch.equal(v.poses[0], torch.eye(4)) and abs(float(v.K[0, 0]) - 518.8579) < 1e-3


def test_nyuv2_missing_depth(tmp_path):
    with pytest.raises(DatasetLayoutError, match="rgb_00000.jpg"):
        nyuv2(tmp_path)
    _img(tmp_path / "kitchen_0001" / "rgb_00001.jpg", fmt="JPEG")
    with pytest.raises(DatasetLayoutError, match="sync_depth"):
        nyuv2(tmp_path)


def test_kitti_raw_eigen_yields_clips_for_video(tmp_path):
    from tests.experiments.realdata import kitti_raw

    base = kitti_raw(tmp_path, n=3)
    ds = kitti_raw_eigen(base, base / "eigen_test_files.txt", frames=3)
    assert len(ds) == 3
    v = ds[1]
    assert isinstance(v, VideoSample) and v.frames.shape == (3, 3, 24, 48) and v.poses is None
    assert v.valid.any() and v.K.shape == (3, 3)
    with pytest.raises(ValueError, match="odd number"):
        kitti_raw_eigen(base, base / "eigen_test_files.txt", frames=2)
    lonely = tmp_path / "first.txt"
    lonely.write_text("2011_09_26/2011_09_26_drive_0002_sync 0000000000 l\n")  # no frame before the first
    with pytest.raises(DatasetLayoutError, match="consecutive frames"):
        kitti_raw_eigen(base, lonely, frames=3)
