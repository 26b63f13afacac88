"""Running a spec end to end, and the committed quick-profile results."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sins.experiments.runner import BASE, error_metric, run_spec
from sins.experiments.specs import ExperimentSpec, load_specs
from sins.experiments.verdict import verdict_of_curves

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "results"
PNG = b"\x89PNG\r\n\x1a\n"
VERDICTS = {"diverges", "consistent", "inconclusive"}


def tiny_spec(**over) -> ExperimentSpec:
    d = {
        "name": "tiny", "title": "Tiny", "question": "?", "tests": ["l1", "ssim"], "architecture": ["pixel-field"],
        "supervision": "stereo-pairs", "input": "stereo-pair", "domain": "driving", "claims": [1, 2], "seed_sets_scene": True,
        "config": {"task": "stereo", "model": {"name": "field", "init": "ground_truth",
                                               "kwargs": {"height": 16, "width": 32, "max_disp": 8}},
                   "loss": {"compile": False}, "optim": {"lr": 0.05}},
        "profiles": {"quick": {"steps": 12, "eval_every": 3, "checkpoint_every": 12,
                               "data": {"source": "procedural", "size": [16, 32], "count": 1}}},
        "variants": {"smooth": {"loss": {"smoothness": 0.1}}},
    }
    d.update(over)
    return ExperimentSpec.model_validate(d)


def test_run_spec_writes_a_complete_results_folder(tmp_path):
    s = run_spec(tiny_spec(), "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    out = tmp_path / "res" / "tiny"
    assert s["verdict"] in VERDICTS and s["variants"]["smooth"]["verdict"] in VERDICTS
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["verdict"] == s["verdict"] and on_disk["seeds"] == [0, 1, 2]
    assert len(on_disk["oracle_gap"]) == 3 and on_disk["landscape"]  # stereo: per-cause landscape
    assert on_disk["command"] == "sins experiments run tiny --profile quick"
    m = pd.read_csv(out / "metrics.csv")
    assert set(m["variant"]) == {BASE, "smooth"} and set(m["seed"]) == {0, 1, 2}
    assert sorted(m[(m.variant == BASE) & (m.seed == 0)]["step"]) == [0, 3, 6, 9, 12]
    for fig in on_disk["figures"]:
        assert (out / fig).read_bytes().startswith(PNG)
    assert not list(out.glob("*.pt")), "checkpoints belong in the scratch folder, not the results"
    # started at the truth, the error can only be >= 0 at the start and the first evaluation is exact
    first = m[(m.variant == BASE) & (m.step == 0)]
    assert (first["epe"] < 0.05).all()


def test_seed_sets_scene_and_real_data_root():
    spec = tiny_spec(real_data={"source": "kitti2015", "root": "kitti2015"})
    a, b = spec.config_for("quick", 0), spec.config_for("quick", 1)
    assert a["data"]["seed"] != b["data"]["seed"] and a["heldout"]["seeds"] == [a["data"]["seed"]]
    real = spec.config_for("quick", 0, data_root="/data")
    assert real["data"]["source"] == "kitti2015" and real["data"]["root"] == str(Path("/data") / "kitti2015")


# --------------------------------------------------------------------------- the committed results


SPECS, PROBLEMS = load_specs(ROOT / "experiments")


def test_specs_are_valid():
    assert not PROBLEMS
    assert len(SPECS) >= 10


@pytest.mark.parametrize("name", sorted(SPECS))
def test_committed_results_match_their_spec_and_their_numbers(name):
    """Each verdict on disk is what the rule gives for the curves on disk (nothing written by hand)."""
    spec = SPECS[name]
    s = json.loads((RESULTS / name / "summary.json").read_text())
    assert s["tests"] == spec.tests and s["profile"] == "quick" and len(s["seeds"]) >= 3
    m = pd.read_csv(RESULTS / name / "metrics.csv")
    err = error_metric(s["task"])
    for variant in [BASE, *spec.variants]:
        frame = m[m.variant == variant]
        curves = [g.rename(columns={"heldout_lsyn": "l_syn", err: "error"}) for _, g in frame.groupby("seed")]
        assert len(curves) == len(s["seeds"])
        verdict, nums, _ = verdict_of_curves(curves)
        stored = s if variant == BASE else s["variants"][variant]
        assert stored["verdict"] == verdict, (name, variant)
        assert stored["numbers"]["mean_final_error"] == pytest.approx(nums["mean_final_error"], rel=1e-4)
    for fig in s["figures"]:
        assert (RESULTS / name / fig).read_bytes().startswith(PNG)


def test_reproduces_the_committed_quick_result(tmp_path):
    """Re-run one quick experiment and compare with the committed numbers.

    Tolerance: 2% relative on the final error, final synthesis loss and oracle gap of every seed, and
    the same verdict. Runs are deterministic on one machine; the tolerance absorbs floating-point
    differences between CPUs and thread counts.
    """
    name = "field_from_truth"
    ref = json.loads((RESULTS / name / "summary.json").read_text())
    new = run_spec(SPECS[name], "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert new["verdict"] == ref["verdict"]
    for a, b in zip(new["per_seed"], ref["per_seed"]):
        assert a["final_error"] == pytest.approx(b["final_error"], rel=0.02)
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=0.02)
    assert new["oracle_gap"] == pytest.approx(ref["oracle_gap"], rel=0.02)


def test_every_frequent_loss_is_tested_or_says_why():
    from sins.catalog import load_catalog

    cat = load_catalog(ROOT / "catalog")
    counts: dict[str, int] = {}
    for p in cat.papers.values():
        for loss in p.losses:
            counts[loss] = counts.get(loss, 0) + 1
    for tid, n in counts.items():
        term = cat.taxonomy.losses[tid]
        if n >= 3:
            assert term.experiments or term.untested_because, f"{tid} is used by {n} papers: link an experiment or say why not"
        for e in term.experiments:
            assert e in SPECS and (RESULTS / e / "summary.json").is_file(), e


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_profile_and_variant_is_a_valid_trainer_config(name):
    from sins.experiments.train import validate_config

    spec = SPECS[name]
    for profile in ("quick", "full"):
        for variant in [None, *spec.variants]:
            cfg = validate_config(spec.config_for(profile, 0, variant), f"{name}/{profile}/{variant}")
            assert cfg.steps >= 100
        if spec.real_data:
            real = validate_config(spec.config_for("full", 0, data_root="/data"), name)
            assert real.data.source == spec.real_data["source"] and real.data.root.startswith("/data")


def test_cli_run_unknown_experiment_and_profile():
    from typer.testing import CliRunner

    from sins.experiments.cli import app

    r = CliRunner().invoke(app, ["run", "monodepth_stero", "--folder", str(ROOT / "experiments"),
                                 "--catalog", str(ROOT / "catalog")])
    assert r.exit_code == 2 and "monodepth_stereo" in r.output
    r = CliRunner().invoke(app, ["run", "monodepth_stereo", "--profile", "huge", "--folder", str(ROOT / "experiments"),
                                 "--catalog", str(ROOT / "catalog")])
    assert r.exit_code == 2 and "huge" in r.output


def test_full_profile_path_reads_a_real_dataset_layout(tmp_path):
    """--data-root: the spec's real_data (KITTI 2015 layout here, real PNG files) replaces the procedural scenes."""
    import numpy as np
    from PIL import Image

    from sins.experiments.data import write_png16

    rng = np.random.default_rng(0)
    t = tmp_path / "data" / "kitti2015" / "training"
    for i in range(3):
        for cam in ("image_2", "image_3"):
            (t / cam).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (24, 48, 3), dtype=np.uint8)).save(t / cam / f"00000{i}_10.png")
        (t / "disp_occ_0").mkdir(exist_ok=True)
        write_png16(t / "disp_occ_0" / f"00000{i}_10.png", rng.uniform(1, 6, (24, 48)), scale=256)
    spec = SPECS["monodepth_stereo"].model_copy(update={
        "name": "real_probe", "profiles": {"full": {"steps": 4, "eval_every": 2, "checkpoint_every": 4}}})
    s = run_spec(spec, "full", results=tmp_path / "res", scratch=tmp_path / "scratch", data_root=tmp_path / "data",
                 log=lambda m: None)
    assert s["data_root_used"] and s["profile"] == "full"
    m = pd.read_csv(tmp_path / "res" / "real_probe" / "metrics.csv")
    assert set(m["step"]) == {0, 2, 4} and m["epe"].notna().all()
    cfg = json.loads((tmp_path / "scratch" / "real_probe" / "base-s0" / "config.json").read_text())
    assert cfg["data"]["source"] == "kitti2015"
