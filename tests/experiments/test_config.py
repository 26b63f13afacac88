"""Trainer configs: strict keys, model and task checks, max_disp resolved from the data."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from sins.experiments.config import ConfigError, auto_max_disp, data_max_disparity, resolve_max_disp, validate_config
from sins.experiments.data.samples import StereoSample

CONFIGS = Path(__file__).parent / "configs"


def tiny(**over):
    cfg = yaml.safe_load((CONFIGS / "tiny_stereo.yaml").read_text())
    cfg.update(over)
    return cfg


def test_unknown_key_is_an_error_with_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'eval_every'"):
        validate_config(tiny(eval_evry=3))
    bad = tiny()
    bad["loss"] = {"smothness": 0.1}
    with pytest.raises(ConfigError, match="did you mean 'smoothness'"):
        validate_config(bad)


def test_task_must_match_model():
    with pytest.raises(ConfigError, match="video model"):
        validate_config(tiny(model={"name": "depthpose"}))


def _sample(top: float) -> StereoSample:
    d = torch.full((1, 4, 8), top)
    return StereoSample(torch.zeros(3, 4, 8), torch.zeros(3, 4, 8), d, torch.ones(1, 4, 8, dtype=torch.bool))


def test_auto_max_disp_leaves_room_and_rounds_to_four():
    assert auto_max_disp(21.0) == 32 and auto_max_disp(0.0) == 4
    assert auto_max_disp(16.0) % 4 == 0 and auto_max_disp(16.0) >= 16 * 1.25
    assert data_max_disparity([_sample(3.0), _sample(21.5)]) == pytest.approx(21.5)


def test_resolve_max_disp_fills_auto_and_refuses_too_small_values():
    cfg = validate_config(tiny(model={"name": "monounet", "kwargs": {"width": 4, "max_disp": "auto"}}))
    new, top = resolve_max_disp(cfg, [_sample(21.0)])
    assert top == 21.0 and new.max_disp == 32 and new.model.kwargs["max_disp"] == 32
    small = validate_config(tiny(max_disp=12))
    with pytest.raises(ConfigError, match=r"max_disp: 12 is below the largest true disparity of the data \(21.0 px\); "
                                          r"use auto or at least 21") as e:
        resolve_max_disp(small, [_sample(21.0)])
    assert e.value.field == "max_disp"
