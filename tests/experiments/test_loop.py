import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from sins.experiments import loop as T
from sins.experiments import objectives as O
from sins.experiments.config import ConfigError, validate_config

CONFIGS = Path(__file__).parent / "configs"


def tiny(**over):
    cfg = yaml.safe_load((CONFIGS / "tiny_stereo.yaml").read_text())
    cfg.update(over)
    return cfg


def test_run_writes_outputs_and_is_deterministic(tmp_path):
    a = T.train(tiny(), tmp_path / "a", progress=False)
    b = T.train(tiny(), tmp_path / "b", progress=False)
    assert a["history"] == b["history"]
    rows = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert [r["step"] for r in rows] == [0, 2, 4, 6]  # step 0: before any update
    assert rows[0]["train_loss"] is None
    assert {"train_loss", "heldout_lsyn", "heldout_lsyn_trained", "epe", "bad1", "d1"} <= set(rows[-1])
    assert any(k.endswith("_epe") for k in rows[-1])  # per cause mask
    assert (tmp_path / "a" / "metrics.csv").read_text().startswith("step,")
    ck = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 6 and {"model", "optim", "rng"} <= set(ck)
    assert not list((tmp_path / "a").glob("*.tmp*"))


def test_resume_after_interrupt_equals_uninterrupted(tmp_path, monkeypatch):
    full = T.train(tiny(), tmp_path / "full", progress=False)
    real = O.OBJECTIVES["stereo"]
    calls = {"n": 0}

    def interrupt_at_4(model, batch, cfg):
        if model.training:
            calls["n"] += 1
            if calls["n"] == 4:  # Ctrl-C during the 4th training step (last periodic checkpoint: step 2)
                raise KeyboardInterrupt
        return real(model, batch, cfg)

    monkeypatch.setitem(O.OBJECTIVES, "stereo", interrupt_at_4)
    part = T.train(tiny(), tmp_path / "part", progress=False)
    assert part["interrupted"] and part["step"] == 3
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["step"] == 3
    monkeypatch.setitem(O.OBJECTIVES, "stereo", real)
    resumed = T.train(tiny(), tmp_path / "part", resume=True, progress=False)
    assert resumed["step"] == 6 and not resumed["interrupted"]
    assert resumed["history"] == full["history"]
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_naming_step_and_last_checkpoint(tmp_path, monkeypatch):
    real = O.OBJECTIVES["stereo"]

    seen = {"n": 0}

    def nan_at_3(model, batch, cfg):
        terms = real(model, batch, cfg)
        if model.training:
            seen["n"] += 1
            if seen["n"] == 3:
                terms.loss = terms.loss * float("nan")
        return terms

    monkeypatch.setitem(O.OBJECTIVES, "stereo", nan_at_3)
    with pytest.raises(T.NonFiniteLoss, match=r"at step 3; last good checkpoint: .*checkpoint.pt \(step 2\)"):
        T.train(tiny(), tmp_path, progress=False)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 2


def test_video_task_runs(tmp_path):
    r = T.train(CONFIGS / "tiny_video.yaml", tmp_path, progress=False)
    assert r["step"] == 2
    assert {"abs_rel", "a1", "heldout_lsyn", "heldout_lsyn_trained"} <= set(r["final"])
    assert 0.0 <= r["final"]["a1"] <= 1.0
    assert 0 < r["baseline"]["abs_rel"] < 1 and set(r["cause_shares"]) >= {"occluded", "border"}


def test_max_disp_below_the_data_is_refused_before_training(tmp_path):
    cfg = tiny()
    cfg["model"] = {"name": "monounet", "kwargs": {"width": 4, "max_disp": 2}}
    with pytest.raises(ConfigError, match=r"model.kwargs.max_disp: 2 is below the largest true disparity of the data \(\d+\.\d px\); "
                                          r"use auto or at least \d+") as e:
        T.train(cfg, tmp_path, progress=False)
    assert e.value.field == "model.kwargs.max_disp" and not (tmp_path / "checkpoint.pt").exists()
    r = T.train(tiny(), tmp_path / "auto", progress=False)  # auto: resolved from the data
    assert r["config"].max_disp >= r["max_true_disparity"] and isinstance(r["config"].max_disp, int)


def test_too_few_heldout_samples_is_refused_before_training(tmp_path):
    with pytest.raises(ConfigError, match="1 held-out samples, at least 16 are needed") as e:
        T.train(tiny(), tmp_path, progress=False, min_heldout=16)
    assert e.value.field == "heldout.count"


def test_batches_of_several_samples(tmp_path):
    cfg = tiny()
    cfg["optim"] = {"lr": 0.001, "batch": 2}
    r = T.train(cfg, tmp_path, progress=False)
    assert r["step"] == 6 and r["final"]["epe"] > 0


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


def test_supervised_pretraining_then_fine_tuning(tmp_path):
    r = T.train(tiny(pretrain_steps=3), tmp_path / "pre", progress=False)
    steps = [h["step"] for h in r["history"]]
    assert 3 in steps  # the pre-trained network is evaluated where fine-tuning starts
    at = {h["step"]: h for h in r["history"]}
    assert at[3]["epe"] < at[0]["epe"]  # the supervised phase moved the network towards the truth
    with pytest.raises(ValueError, match=r"pretrain_steps 6 must be below steps 6"):
        validate_config(tiny(pretrain_steps=6))


def _interrupt_and_resume(cfg, out, monkeypatch, stop_at, check=None):
    """Train ``cfg`` with Ctrl-C at the ``stop_at``-th training step of the stereo objective, then resume it;
    ``check(n, batch)`` sees every training step. Returns (interrupted run, resumed run)."""
    real = O.OBJECTIVES["stereo"]
    calls = {"n": 0}

    def interrupt(model, batch, cfg):
        if model.training:
            calls["n"] += 1
            if calls["n"] == stop_at:
                raise KeyboardInterrupt
            if check is not None:
                check(calls["n"], batch)
        return real(model, batch, cfg)

    monkeypatch.setitem(O.OBJECTIVES, "stereo", interrupt)
    part = T.train(cfg, out, progress=False)
    monkeypatch.setitem(O.OBJECTIVES, "stereo", real)
    return part, T.train(cfg, out, resume=True, progress=False)


@pytest.mark.parametrize("stop_at", [1, 2])  # the first fine-tuning step (resumes at the boundary) or the second
def test_resume_across_the_pretraining_boundary_equals_uninterrupted(tmp_path, monkeypatch, stop_at):
    full = T.train(tiny(pretrain_steps=3, checkpoint_every=1), tmp_path / "full", progress=False)
    part, resumed = _interrupt_and_resume(tiny(pretrain_steps=3, checkpoint_every=1), tmp_path / "part", monkeypatch,
                                          stop_at)
    assert part["interrupted"] and part["step"] == 3 + stop_at - 1
    assert resumed["history"] == full["history"]


@pytest.mark.parametrize("stop_at", [3, 4])  # the teacher's first student step, or the one after
def test_self_distillation_resumes_with_its_teacher(tmp_path, monkeypatch, stop_at):
    over = dict(distill_from=2, checkpoint_every=1, loss={"alpha": 0.85, "compile": False, "distillation": 1.0})
    full = T.train(tiny(**over), tmp_path / "full", progress=False)
    ck = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    assert "teacher" in ck and not all(torch.equal(ck["teacher"][k], ck["model"][k]) for k in ck["model"])
    def sees_its_teacher(n, batch):
        if n > 2:
            assert batch["teacher"].shape == batch["disparity"].shape  # the student sees its teacher

    part, resumed = _interrupt_and_resume(tiny(**over), tmp_path / "part", monkeypatch, stop_at, sees_its_teacher)
    assert part["interrupted"]
    assert resumed["history"] == full["history"]
    with pytest.raises(ValueError, match=r"loss.distillation and distill_from go together"):
        validate_config(tiny(distill_from=2))


@pytest.mark.parametrize("cfg", ["tiny_stereo.yaml", "tiny_video.yaml"])
def test_skipping_the_deterministic_fill_of_fresh_tensors_changes_no_number(tmp_path, monkeypatch, cfg):
    """Training without deterministic mode's NaN fill of new tensors (the default) and with it gives the same
    history and weights bit for bit: no kernel reads memory it did not write."""
    over = yaml.safe_load((CONFIGS / cfg).read_text())
    a = T.train(over, tmp_path / "a", progress=False)
    assert torch.utils.deterministic.fill_uninitialized_memory is False
    monkeypatch.setattr(T, "skip_uninitialised_fill", lambda: None)
    monkeypatch.setattr(torch.utils.deterministic, "fill_uninitialized_memory", True)
    b = T.train(over, tmp_path / "b", progress=False)
    assert torch.utils.deterministic.fill_uninitialized_memory is True
    assert a["history"] == b["history"]
    assert all(torch.equal(p, q) for p, q in zip(a["model"].state_dict().values(), b["model"].state_dict().values()))


def test_mixed_precision_switches_the_hidden_convolutions_while_training_only():
    """bfloat16 mixed precision: the marked parts (encoder, decoder, pose convolutions, explainability head) run
    in bfloat16 in training mode but for their output layers, and hand on float32; the pose's geometry stays in
    float32; in evaluation mode the model computes exactly what the float32 model does."""
    from sins.experiments.models import build

    torch.manual_seed(0)
    ref = build("depthpose", width=4, explain=True)
    model = build("depthpose", width=4, explain=True)
    model.load_state_dict(ref.state_dict())
    assert T.mixed_precision(model, torch.device("cpu")) == 4  # enc, dec, pose.net, mask
    seen = {}
    for name in ("dec.out", "pose.out", "mask.2", "dec.u0.0", "pose.net.0.0"):
        model.get_submodule(name).register_forward_hook(lambda m, a, out, n=name: seen.__setitem__(n, out.dtype))
    frames = torch.rand(2, 3, 3, 24, 48)
    for m in (ref, model):
        m.train()
    (d_ref, p_ref), (d, p) = ref(frames), model(frames)
    assert d.dtype == torch.float32 and p[0].dtype == torch.float32
    assert model.explain(frames[:, 0], frames[:, 1]).dtype == torch.float32  # the objective calls the mask head
    assert seen == {"dec.out": torch.float32, "pose.out": torch.float32, "mask.2": torch.float32,
                    "dec.u0.0": torch.bfloat16, "pose.net.0.0": torch.bfloat16}
    assert not torch.equal(d, d_ref)  # rounded to bfloat16 inside
    assert torch.allclose(d, d_ref, rtol=0.05) and torch.allclose(p[0], p_ref[0], atol=1e-3)
    assert not torch.is_autocast_enabled("cpu")  # each layer left its autocast region
    for m in (ref, model):
        m.eval()
    with torch.no_grad():
        (d_ref, p_ref), (d, p) = ref(frames), model(frames)
    assert torch.equal(d, d_ref) and torch.equal(p[0], p_ref[0])


def test_a_bfloat16_run_evaluates_in_float32_and_trains(tmp_path):
    """``optim.precision: bfloat16``: the held-out evaluation before the first step is the float32 run's to the
    bit (same initial weights, evaluated in float32); training then differs from the float32 run and lowers the
    held-out synthesis loss as that one does."""
    a = T.train(tiny(steps=40, eval_every=20), tmp_path / "a", progress=False)
    b = T.train(tiny(steps=40, eval_every=20, optim={"lr": 0.001, "precision": "bfloat16"}), tmp_path / "b",
                progress=False)
    assert b["config"].optim.precision == "bfloat16"
    assert b["history"][0] == a["history"][0]
    assert b["history"][-1] != a["history"][-1]
    for r in (a, b):
        assert r["history"][-1]["heldout_lsyn"] < r["history"][0]["heldout_lsyn"]
    assert b["history"][-1]["heldout_lsyn"] == pytest.approx(a["history"][-1]["heldout_lsyn"], rel=0.1)


_FAULTS = """
import resource, sys, torch
from sins.experiments.loop import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "on" else False
torch.ones(4 * 2**20).sum()  # warm up: 16 MiB, above glibc's default mmap threshold
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch.ones(4 * 2**20).sum()  # allocated, touched and freed, like a step's activations
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_reuses_blocks_instead_of_faulting_fresh_pages():
    """With the allocator tuned, freed activations are reused: repeated 16 MiB tensors no longer page-fault."""
    out = {}
    for mode in ("off", "on"):
        r = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
        applied, faults = r.stdout.split()
        out[mode] = (applied == "True", int(faults))
    pages = 16 * 2**20 // 4096
    assert out["on"][0] is True
    assert out["on"][1] <= 1.1 * pages, out  # the block is faulted in once, then reused
    assert out["off"][1] > 3 * out["on"][1], out  # glibc gives the memory back and faults it in again


def tiny_video(**over):
    cfg = yaml.safe_load((CONFIGS / "tiny_video.yaml").read_text())
    cfg.update(steps=3, eval_every=1, checkpoint_every=1, **over)
    return cfg


def test_auto_mask_from_trains_its_first_steps_without_the_auto_mask(tmp_path):
    loss = {"smoothness": 0.001, "compile": False}
    without = T.train(tiny_video(loss={**loss, "auto_mask": False}), tmp_path / "without", progress=False)
    warm = T.train(tiny_video(loss={**loss, "auto_mask_from": 2}), tmp_path / "warm", progress=False)
    masked = T.train(tiny_video(loss=loss), tmp_path / "masked", progress=False)
    depth = lambda r: [h["abs_rel"] for h in r["history"]]  # noqa: E731
    assert depth(warm)[:3] == depth(without)[:3]  # steps 1 and 2 trained without the auto-mask, bit for bit
    assert depth(warm)[3] != depth(without)[3]  # step 3 with it
    assert depth(masked)[1] != depth(without)[1]  # the auto-mask changes a step here at all
    # the held-out trained objective is the configured one, auto-mask included, at every evaluation
    assert warm["history"][1]["heldout_lsyn_trained"] != without["history"][1]["heldout_lsyn_trained"]


@pytest.mark.parametrize("over, match", [
    ({"loss": {"auto_mask": False, "auto_mask_from": 2, "compile": False}}, "needs task 'video' with loss.min_reprojection and loss.auto_mask"),
    ({"loss": {"auto_mask_from": 3, "compile": False}}, r"loss.auto_mask_from \(3\) must be below steps \(3\)"),
])
def test_auto_mask_from_is_refused_where_it_cannot_apply(over, match):
    with pytest.raises(ValueError, match=match):
        validate_config(tiny_video(**over))
    with pytest.raises(ValueError, match="needs task 'video'"):
        validate_config(tiny(loss={"auto_mask_from": 2, "compile": False}))
