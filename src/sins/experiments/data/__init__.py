"""Data for the experiments: the embedded Motorcycle pair, procedural scenes, dataset readers."""

from .formats import read_pfm, read_png16, write_pfm, write_png16
from .motorcycle import motorcycle
from .procedural import Dials, render_stereo, render_video
from .readers import DatasetLayoutError, kitti2015, kitti_raw_eigen, middlebury2014, nyuv2, scared, sceneflow
from .samples import CAUSES, StereoSample, VideoSample

__all__ = ["CAUSES", "DatasetLayoutError", "Dials", "StereoSample", "VideoSample", "kitti2015", "kitti_raw_eigen",
           "middlebury2014", "motorcycle", "nyuv2", "read_pfm", "read_png16", "render_stereo", "render_video", "scared",
           "sceneflow", "write_pfm", "write_png16"]
