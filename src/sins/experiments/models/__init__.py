"""Small CPU-sized models, one per file, looked up by name in ``REGISTRY``."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

from .corrstereo import CorrStereo
from .costvolume import CostVolumeStereo
from .depthpose import DepthPose
from .field import DisparityField
from .monounet import MonoUNet

REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "field": DisparityField,
    "corrstereo": CorrStereo,
    "costvolume": CostVolumeStereo,
    "monounet": MonoUNet,
    "depthpose": DepthPose,
}

#: models that predict a left disparity from a stereo pair (task ``stereo``)
STEREO = {"field", "corrstereo", "costvolume", "monounet"}
#: models that predict depth and pose from video (task ``video``)
VIDEO = {"depthpose"}


def build(name: str, **kwargs) -> nn.Module:
    """Instantiate the model registered as ``name``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name](**kwargs)
