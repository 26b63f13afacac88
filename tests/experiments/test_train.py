import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from sins.experiments import train as T

CONFIGS = Path(__file__).parent / "configs"


def tiny(**over):
    cfg = yaml.safe_load((CONFIGS / "tiny_stereo.yaml").read_text())
    cfg.update(over)
    return cfg


def test_unknown_key_is_an_error_with_did_you_mean():
    with pytest.raises(T.ConfigError, match="did you mean 'eval_every'"):
        T.validate_config(tiny(eval_evry=3))
    bad = tiny()
    bad["loss"] = {"smothness": 0.1}
    with pytest.raises(T.ConfigError, match="did you mean 'smoothness'"):
        T.validate_config(bad)


def test_task_must_match_model():
    with pytest.raises(T.ConfigError, match="video model"):
        T.validate_config(tiny(model={"name": "depthpose"}))


def test_run_writes_outputs_and_is_deterministic(tmp_path):
    a = T.train(tiny(), tmp_path / "a", progress=False)
    b = T.train(tiny(), tmp_path / "b", progress=False)
    assert a["history"] == b["history"]
    rows = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert [r["step"] for r in rows] == [0, 2, 4, 6]  # step 0: before any update
    assert rows[0]["train_loss"] is None
    assert {"train_loss", "heldout_lsyn", "epe", "bad1", "d1"} <= set(rows[-1])
    assert any(k.endswith("_epe") for k in rows[-1])  # per cause mask
    assert (tmp_path / "a" / "metrics.csv").read_text().startswith("step,")
    ck = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 6 and {"model", "optim", "rng"} <= set(ck)
    assert not list((tmp_path / "a").glob("*.tmp*"))


def test_resume_after_interrupt_equals_uninterrupted(tmp_path, monkeypatch):
    full = T.train(tiny(), tmp_path / "full", progress=False)
    real = T.stereo_loss
    calls = {"n": 0}

    def interrupt_at_4(model, batch, cfg):
        if model.training:
            calls["n"] += 1
            if calls["n"] == 4:  # Ctrl-C during the 4th training step (last periodic checkpoint: step 2)
                raise KeyboardInterrupt
        return real(model, batch, cfg)

    monkeypatch.setattr(T, "stereo_loss", interrupt_at_4)
    part = T.train(tiny(), tmp_path / "part", progress=False)
    assert part["interrupted"] and part["step"] == 3
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["step"] == 3
    monkeypatch.setattr(T, "stereo_loss", real)
    resumed = T.train(tiny(), tmp_path / "part", resume=True, progress=False)
    assert resumed["step"] == 6 and not resumed["interrupted"]
    assert resumed["history"] == full["history"]
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_naming_step_and_last_checkpoint(tmp_path, monkeypatch):
    real = T.stereo_loss

    seen = {"n": 0}

    def nan_at_3(model, batch, cfg):
        loss, d = real(model, batch, cfg)
        if model.training:
            seen["n"] += 1
            if seen["n"] == 3:
                loss = loss * float("nan")
        return loss, d

    monkeypatch.setattr(T, "stereo_loss", nan_at_3)
    with pytest.raises(T.NonFiniteLoss, match=r"at step 3; last good checkpoint: .*checkpoint.pt \(step 2\)"):
        T.train(tiny(), tmp_path, progress=False)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 2


def test_video_task_runs(tmp_path):
    r = T.train(CONFIGS / "tiny_video.yaml", tmp_path, progress=False)
    assert r["step"] == 2
    assert {"abs_rel", "a1", "heldout_lsyn"} <= set(r["final"])
    assert 0.0 <= r["final"]["a1"] <= 1.0


def test_ddp_two_processes_gloo(tmp_path):
    cfg = tiny(steps=2, eval_every=2, checkpoint_every=2)
    cfg["model"] = {"name": "field", "kwargs": {"height": 24, "width": 48, "max_disp": 16}}
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "sins.experiments.train", str(p), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert rows[-1]["step"] == 2 and rows[-1]["heldout_lsyn"] > 0
    assert torch.load(tmp_path / "out" / "checkpoint.pt", weights_only=True)["step"] == 2
