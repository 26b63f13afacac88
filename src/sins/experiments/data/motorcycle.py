"""The real Middlebury 2014 Motorcycle pair shipped by scikit-image, with ground truth.

``skimage.data.stereo_motorcycle()`` returns left, right (uint8) and the left
disparity (float32 px, 741x500). Invalid ground truth is encoded as +inf
(27,226 pixels); those are marked invalid here.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .samples import StereoSample

# Middlebury 2014 Motorcycle calib.txt (full resolution, 2964 px wide; the
# shipped images are a quarter of that): focal 3979.911 px, principal point
# (1244.772, 1019.507), baseline 193.001 mm, doffs 124.343 px. Checked against
# the docstring of skimage.data.stereo_motorcycle, which gives the quarter-size
# values (focal 994.978, principal point 311.193 / 254.877, dx 31.086, baseline
# 193.001 mm), and against the Middlebury calib.txt format (doffs = cx1 - cx0 =
# 1369.115 - 1244.772; Z = baseline * f / (d + doffs)). The principal point is
# mapped to the quarter size exactly, (x + 0.5) / 4 - 0.5, where skimage rounds
# to x / 4.
_FULL_W, _FOCAL, _CX, _CY, _BASELINE_M, _DOFFS = 2964, 3979.911, 1244.772, 1019.507, 0.193001, 124.343


def motorcycle(scale: float = 1.0) -> StereoSample:
    """Load the pair; ``scale`` < 1 downsamples images (area) and disparities (scaled by ``scale``)."""
    from skimage import data as skdata

    from sins.experiments.manifold import cause_masks

    left, right, disp = skdata.stereo_motorcycle()
    valid = np.isfinite(disp)
    d = np.where(valid, disp, 0.0).astype(np.float32)
    lt = torch.from_numpy(left).permute(2, 0, 1).float() / 255.0
    rt = torch.from_numpy(right).permute(2, 0, 1).float() / 255.0
    dt = torch.from_numpy(d)[None]
    vt = torch.from_numpy(valid)[None]
    h, w = dt.shape[-2:]
    if scale != 1.0:
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        lt = F.interpolate(lt[None], (nh, nw), mode="area")[0]
        rt = F.interpolate(rt[None], (nh, nw), mode="area")[0]
        # nearest sampling of disparity (no blending across depth edges); invalid if any source invalid
        dt = F.interpolate(dt[None], (nh, nw), mode="nearest")[0] * (nw / w)
        inv = F.interpolate((~vt).float()[None], (nh, nw), mode="area")[0] > 0
        vt = ~inv
        dt = torch.where(vt, dt, torch.zeros_like(dt))
    sx = dt.shape[-1] / w
    focal = _FOCAL * (w / _FULL_W) * sx
    doffs = _DOFFS * (w / _FULL_W) * sx
    depth = torch.where(vt, focal * _BASELINE_M / (dt + doffs).clamp_min(1e-6), torch.zeros_like(dt))
    s = (w / _FULL_W) * sx  # pixel index = coordinate of the pixel centre
    K = torch.tensor([[focal, 0.0, (_CX + 0.5) * s - 0.5], [0.0, focal, (_CY + 0.5) * s - 0.5], [0.0, 0.0, 1.0]])
    causes = {k: v[0] for k, v in cause_masks(lt[None], dt[None], vt[None]).items()}
    causes = {k: v & vt for k, v in causes.items()}
    return StereoSample(lt.contiguous(), rt.contiguous(), dt.contiguous(), vt, causes, name=f"middlebury2014/motorcycle@{scale:g}",
                        depth=depth, K=K, baseline=_BASELINE_M)
