"""Running a spec end to end, bad specs, the full profile on real layouts, and the committed results."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sins.experiments.runner import BASE, RULE, SpecError, check_spec, error_metric, run_spec
from sins.experiments.specs import ExperimentSpec, load_specs
from sins.experiments.verdict import VERDICTS, verdict_of_curves

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "results"
PNG = b"\x89PNG\r\n\x1a\n"


def tiny_spec(**over) -> ExperimentSpec:
    d = {
        "name": "tiny", "title": "Tiny", "question": "?", "tests": ["l1", "ssim"], "architecture": ["pixel-field"],
        "supervision": "stereo-pairs", "input": "stereo-pair", "domain": "driving", "claims": [1, 2], "seed_sets_scene": True,
        "config": {"task": "stereo", "model": {"name": "field", "init": "ground_truth", "kwargs": {"max_disp": "auto"}},
                   "loss": {"compile": False}, "optim": {"lr": 0.05}},
        "profiles": {"quick": {"steps": 12, "eval_every": 3, "checkpoint_every": 12,
                               "data": {"source": "procedural", "size": [16, 32], "supersample": 1}, "heldout": {"count": 16}}},
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
    assert on_disk["heldout_scenes"] == 16 and set(on_disk["per_cause"]) >= {"occluded", "border", "specular"}
    for c in on_disk["per_cause"].values():
        assert c["verdict"] in (*VERDICTS, "not judged") and c["why"]
    assert on_disk["command"] == "sins experiments run tiny --profile quick"
    assert "precision" not in on_disk  # float32, the default, is not named (committed summaries keep their bytes)
    m = pd.read_csv(out / "metrics.csv")
    assert set(m["variant"]) == {BASE, "smooth"} and set(m["seed"]) == {0, 1, 2}
    assert sorted(m[(m.variant == BASE) & (m.seed == 0)]["step"]) == [0, 3, 6, 9, 12]
    assert {"heldout_lsyn", "heldout_lsyn_trained", "specular_epe"} <= set(m.columns)
    for fig in on_disk["figures"]:
        assert (out / fig).read_bytes().startswith(PNG)
    assert not list(out.glob("*.pt")), "checkpoints belong in the scratch folder, not the results"
    first = m[(m.variant == BASE) & (m.step == 0)]
    assert (first["epe"] < 0.05).all()  # started at the truth


def test_a_spec_trained_in_bfloat16_names_its_precision_and_keys_its_runs_apart(tmp_path):
    from sins.experiments.runner import _hash

    spec = tiny_spec(variants={})
    mixed = tiny_spec(variants={}, config={**spec.config, "optim": {"lr": 0.05, "precision": "bfloat16"}})
    assert _hash(spec.config_for("quick", 0)) != _hash(mixed.config_for("quick", 0))
    s = run_spec(mixed, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert s["precision"] == "bfloat16"
    assert json.loads((tmp_path / "res" / "tiny" / "summary.json").read_text())["precision"] == "bfloat16"


def test_a_finished_run_is_not_trained_again_and_an_edited_one_is(tmp_path):
    spec = tiny_spec(variants={})
    run_spec(spec, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    done = tmp_path / "scratch" / "quick" / "tiny" / "base-s0" / "done.json"
    stamp = done.stat().st_mtime_ns
    again = run_spec(spec, "quick", results=tmp_path / "res2", scratch=tmp_path / "scratch", log=lambda m: None)
    assert done.stat().st_mtime_ns == stamp  # reused
    assert json.loads((tmp_path / "res2" / "tiny" / "summary.json").read_text())["verdict"] == again["verdict"]
    edited = tiny_spec(variants={}, config={**spec.config, "optim": {"lr": 0.01}})
    run_spec(edited, "quick", results=tmp_path / "res3", scratch=tmp_path / "scratch", log=lambda m: None)
    assert done.stat().st_mtime_ns != stamp  # the config changed: trained again


def test_kept_run_records_spare_training_on_another_machine_and_follow_the_spec(tmp_path):
    import shutil

    from sins.experiments.runner import read_record

    res, scratch = tmp_path / "res", tmp_path / "scratch"
    first = run_spec(tiny_spec(), "quick", results=res, scratch=scratch, log=lambda m: None)
    runs = res / "tiny" / "runs"
    names = sorted(p.name for p in runs.iterdir())
    assert names == [f"{v}-s{s}.json.gz" for v in (BASE, "smooth") for s in (0, 1, 2)]
    rec = read_record(runs / "base-s0.json.gz")
    assert rec["history"] and rec["landscape"] and "reused" not in rec
    blobs = {n: (runs / n).read_bytes() for n in names}
    summary = (res / "tiny" / "summary.json").read_text()
    shutil.rmtree(scratch)  # a fresh clone: the committed results folder and no scratch folder
    again = run_spec(tiny_spec(), "quick", results=res, scratch=scratch, log=lambda m: None)
    assert not list(scratch.rglob("done.json")) and not list(scratch.rglob("checkpoint.pt"))  # nothing trained
    assert again["verdict"] == first["verdict"] and again["numbers"] == first["numbers"]
    assert (res / "tiny" / "summary.json").read_text() == summary  # the same summary, every number of it
    assert {n: (runs / n).read_bytes() for n in names} == blobs  # the same run gives the same bytes
    run_spec(tiny_spec(variants={}), "quick", results=res, scratch=scratch, log=lambda m: None)
    assert sorted(p.name for p in runs.iterdir()) == [f"base-s{s}.json.gz" for s in (0, 1, 2)]  # the variant is gone
    edited = tiny_spec(variants={}, config={**tiny_spec().config, "optim": {"lr": 0.01}})
    run_spec(edited, "quick", results=res, scratch=scratch, log=lambda m: None)
    assert (scratch / "quick" / "tiny" / "base-s0" / "done.json").is_file()  # the config changed: trained again
    assert read_record(runs / "base-s0.json.gz")["config_hash"] != rec["config_hash"]
    (runs / "base-s1.json.gz").write_bytes(b"not gzip")  # a damaged record is trained again, not trusted
    shutil.rmtree(scratch / "quick" / "tiny" / "base-s1")
    run_spec(edited, "quick", results=res, scratch=scratch, log=lambda m: None)
    assert (scratch / "quick" / "tiny" / "base-s1" / "done.json").is_file() and read_record(runs / "base-s1.json.gz")


def test_a_models_code_version_enters_the_run_key(monkeypatch):
    from sins.experiments import runner
    from sins.experiments.models import REGISTRY

    video = {"model": {"name": "depthpose"}, "seed": 0}
    stereo = {"model": {"name": "monounet"}, "seed": 0}
    before = runner._hash(video), runner._hash(stereo)
    monkeypatch.setattr(REGISTRY["depthpose"], "VERSION", REGISTRY["depthpose"].VERSION + 1)
    assert runner._hash(video) != before[0]  # a run of the old depthpose code is trained again
    assert runner._hash(stereo) == before[1]  # models without a VERSION keep the keys of their finished runs


def test_bad_specs_stop_before_training_naming_file_field_and_what_is_valid(tmp_path):
    with pytest.raises(ValueError, match=r"seeds \[0, 1\] are not enough for a verdict: give at least three"):
        tiny_spec(seeds=[0, 1])
    small = tiny_spec(seed_sets_scene=False, profiles={"quick": {
        "steps": 4, "eval_every": 2, "data": {"source": "procedural", "size": [16, 32]}, "heldout": {"count": 4}}})
    with pytest.raises(SpecError, match=r"experiments/tiny.yaml: profiles.quick.heldout.count: 4 held-out scenes are too few "
                                        r"for a verdict; use at least 16"):
        check_spec(small, "quick")
    capped = tiny_spec(config={"task": "stereo", "model": {"name": "monounet", "kwargs": {"width": 4}}, "max_disp": 4,
                               "loss": {"compile": False}}, seed_sets_scene=False,
                       profiles={"quick": {"steps": 2, "eval_every": 2, "data": {"source": "procedural", "size": [48, 96]},
                                           "heldout": {"count": 16}}}, variants={})
    with pytest.raises(SpecError, match=r"experiments/tiny.yaml: config.max_disp: max_disp: 4 is below the largest true "
                                        r"disparity of the data \(\d+\.\d px\); use auto or at least \d+"):
        run_spec(capped, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert not list((tmp_path / "scratch").rglob("checkpoint.pt"))


def test_seed_sets_scene_and_real_data_root():
    spec = tiny_spec(real_data={"source": "kitti2015", "root": "kitti2015"})
    a, b = spec.config_for("quick", 0), spec.config_for("quick", 1)
    assert a["data"]["seed"] != b["data"]["seed"] and a["heldout"]["seeds"] == list(range(a["data"]["seed"], a["data"]["seed"] + 16))
    assert a["optim"]["batch"] == 16  # every scene's field is optimised at every step
    real = spec.config_for("quick", 0, data_root="/data")
    assert real["data"]["source"] == "kitti2015" and real["data"]["root"] == str(Path("/data") / "kitti2015")


# --------------------------------------------------------------------------- the full profile on real layouts


SPECS, PROBLEMS = load_specs(ROOT / "experiments")


@pytest.mark.slow
@pytest.mark.parametrize("source", ["kitti2015", "kitti_raw_eigen", "scared"])
def test_full_profile_code_path_runs_one_step_on_each_kind_of_real_data(tmp_path, source):
    """--data-root: the spec's real_data (a tiny layout in the dataset's own formats) replaces the procedural
    scenes; max_disp follows the data; video specs read clips."""
    from tests.experiments.realdata import WRITERS

    name = next(n for n, s in sorted(SPECS.items()) if s.real_data.get("source") == source)
    spec = SPECS[name]
    WRITERS[source](tmp_path / "data")
    full = dict(spec.profiles["full"], steps=1, eval_every=1, checkpoint_every=1, seeds=[0, 1, 2])
    full["data"] = {**full.get("data", {}), "size": [24, 48]}
    full["optim"] = {**full.get("optim", {}), "batch": 2}
    # compiling the kernels takes minutes on a CPU; a warm-up of the auto-mask (loss.auto_mask_from) needs more than
    # the one step run here (tests/experiments/test_loop.py covers it)
    full["loss"] = {**full.get("loss", {}), "compile": False, "auto_mask_from": 0}
    probe = spec.model_copy(update={"name": f"probe_{source}", "variants": {}, "profiles": {"full": full}})
    s = run_spec(probe, "full", results=tmp_path / "res", scratch=tmp_path / "scratch", data_root=tmp_path / "data",
                 log=lambda m: None)
    assert s["data_root_used"] and s["profile"] == "full" and s["heldout_scenes"] >= RULE.min_heldout
    m = pd.read_csv(tmp_path / "res" / probe.name / "metrics.csv")
    assert set(m["step"]) == {0, 1} and m[error_metric(s["task"])].notna().all()
    cfg = json.loads((tmp_path / "scratch" / "full" / probe.name / "base-s0" / "config.json").read_text())
    assert cfg["data"]["source"] == source
    if s["task"] == "stereo":
        assert isinstance(cfg["max_disp"], int) and cfg["max_disp"] >= s["max_true_disparity"]


# --------------------------------------------------------------------------- the committed results


def test_specs_are_valid():
    assert not PROBLEMS
    assert len(SPECS) >= 10


def _recompute(s: dict, m: pd.DataFrame, variant: str, stored: dict) -> None:
    err = error_metric(s["task"])
    cfg = SPECS[s["name"]].config_for(s["profile"], s["seeds"][0])
    start = max(int(cfg.get("pretrain_steps") or 0), int(cfg.get("distill_from") or 0))  # judged after these steps
    frame = m[(m.variant == variant) & (m.step >= start)]
    curves = [g for _, g in frame.groupby("seed")]
    assert len(curves) == len(s["seeds"])
    base = [b.get(err) for b in stored["baseline"]]
    verdict, nums, per_seed = verdict_of_curves([c.rename(columns={"heldout_lsyn_trained": "l_syn", err: "error"}) for c in curves],
                                                [float("nan") if b is None else b for b in base])
    if s.get("case_study"):  # one real pair: the numbers are kept, no verdict is given anywhere
        assert stored["verdict"] == "not judged" and "one real pair" in s["case_study"], (s["name"], variant)
        assert all(c["verdict"] == "not judged" for c in stored["per_cause"].values())
    else:
        assert stored["verdict"] == verdict, (s["name"], variant)
    if "mean_excess" in nums:
        # metrics.csv keeps full precision; the tolerance absorbs float summation order
        assert stored["numbers"]["mean_excess"] == pytest.approx(nums["mean_excess"], rel=1e-3, abs=1e-5)
    failed = [p["failed"] or "" for p in per_seed]  # per cause, only the global run can fail
    for cause, c in stored["per_cause"].items():
        if c["verdict"] == "not judged":
            continue
        col = f"{cause}_{err}"
        v, _, _ = verdict_of_curves([g.rename(columns={"heldout_lsyn_trained": "l_syn", col: "error"}) for g in curves],
                                    [b.get(col) for b in stored["baseline"]], failed=failed)
        assert c["verdict"] == v, (s["name"], variant, cause)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_committed_verdicts_are_recomputed_from_their_metrics(name):
    """Each verdict on disk (global and per cause) is what the rule gives for the curves on disk."""
    spec = SPECS[name]
    s = json.loads((RESULTS / name / "summary.json").read_text())
    assert s["tests"] == spec.tests and len(s["seeds"]) >= 3
    m = pd.read_csv(RESULTS / name / "metrics.csv")
    for variant in [BASE, *spec.variants]:
        _recompute(s, m, variant, s if variant == BASE else s["variants"][variant])
    for fig in s["figures"]:
        assert (RESULTS / name / fig).read_bytes().startswith(PNG)


STANDARD = sorted(n for n in SPECS if (RESULTS / n / "summary.json").is_file()
                  and json.loads((RESULTS / n / "summary.json").read_text())["profile"] == "standard")


def test_every_committed_standard_summary_is_recomputed_from_its_committed_runs(tmp_path):
    """The records of every finished run travel with the standard results (``runs/``), so that a fresh clone
    neither trains them again nor has to trust the summary: summarising the committed records afresh gives
    every committed summary.json byte for byte, and no run is trained."""
    import shutil

    from sins.experiments.runner import RUNS, run_name, run_specs

    assert STANDARD, "no committed standard results"
    for n in STANDARD:
        spec = SPECS[n]
        want = {f"{run_name(v, s)}.json.gz" for v in [None, *spec.variants] for s in spec.seeds_for("standard")}
        have = {p.name for p in (RESULTS / n / RUNS).glob("*.json.gz")}
        assert have == want, f"{n}: committed run records {sorted(have ^ want)} missing or stale"
        shutil.copytree(RESULTS / n / RUNS, tmp_path / "res" / n / RUNS)
    done = dict(run_specs([SPECS[n] for n in STANDARD], "standard", results=tmp_path / "res",
                          scratch=tmp_path / "scratch", log=lambda m: None, folder=ROOT / "experiments"))
    assert sorted(done) == STANDARD and not list((tmp_path / "scratch").rglob("done.json"))  # nothing trained
    for n in STANDARD:
        assert (tmp_path / "res" / n / "summary.json").read_text() == (RESULTS / n / "summary.json").read_text(), n


QUICK_REFERENCE = Path(__file__).with_name("quick_reference")


def test_reproduces_the_committed_quick_result(tmp_path):
    """Re-run one quick experiment and compare with its committed quick summary
    (``tests/experiments/quick_reference/``; the reference results in experiments/results are the standard
    profile's, which CI cannot afford to re-run).

    Tolerance: 2% relative on the final error, final synthesis loss and oracle gap of every seed, and
    the same verdict. Runs are deterministic on one machine; the tolerance absorbs floating-point
    differences between CPUs and thread counts.
    """
    name = "field_from_truth"
    ref = json.loads((QUICK_REFERENCE / f"{name}.json").read_text())
    assert ref["profile"] == "quick" and ref["command"] == f"sins experiments run {name} --profile quick"
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
    untested = []
    for tid, n in counts.items():
        term = cat.taxonomy.losses[tid]
        if n >= 3:
            assert term.experiments or term.untested_because, f"{tid} is used by {n} papers: link an experiment or say why not"
            if not term.experiments:
                untested.append(tid)
        for e in term.experiments:
            assert e in SPECS and (RESULTS / e / "summary.json").is_file(), e
    assert len(untested) <= 2, f"at most two frequent loss ids may stay untested, with a reason: {untested}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_profile_and_variant_is_a_valid_trainer_config(name):
    from sins.experiments.config import validate_config

    spec = SPECS[name]
    for profile in ("quick", "standard", "full"):
        assert profile in spec.profiles, (name, profile)
        check_spec(spec, profile, ROOT / "experiments")
        for variant in [None, *spec.variants]:
            cfg = validate_config(spec.config_for(profile, 0, variant), f"{name}/{profile}/{variant}")
            assert cfg.steps >= 100
        if spec.real_data:
            real = validate_config(spec.config_for("full", 0, data_root="/data"), name)
            assert real.data.source == spec.real_data["source"] and real.data.root.startswith("/data")
    assert len(spec.seeds_for("standard")) >= 5


def test_cli_run_unknown_experiment_and_profile():
    from typer.testing import CliRunner

    from sins.experiments.cli import app

    r = CliRunner().invoke(app, ["run", "monodepth_stero", "--folder", str(ROOT / "experiments"),
                                 "--catalog", str(ROOT / "catalog")])
    assert r.exit_code == 2 and "monodepth_stereo" in r.output
    r = CliRunner().invoke(app, ["run", "monodepth_stereo", "--profile", "huge", "--folder", str(ROOT / "experiments"),
                                 "--catalog", str(ROOT / "catalog")])
    assert r.exit_code == 2 and "huge" in r.output


def test_runs_side_by_side_give_the_numbers_of_runs_one_after_another(tmp_path):
    """``jobs=2`` trains the seeds in two worker processes (one CPU thread each); only the summation order of
    the floating-point kernels may differ from one process with two threads."""
    spec = tiny_spec(variants={})
    one = run_spec(spec, "quick", results=tmp_path / "r1", scratch=tmp_path / "s1", log=lambda m: None, jobs=1)
    logs: list[str] = []
    two = run_spec(spec, "quick", results=tmp_path / "r2", scratch=tmp_path / "s2", log=logs.append, jobs=2,
                   scene_cache=tmp_path / "scenes")
    assert one["verdict"] == two["verdict"] and len(logs) == 3 and all("tiny [base] seed" in m for m in logs)
    for a, b in zip(one["per_seed"], two["per_seed"]):
        assert a["final_error"] == pytest.approx(b["final_error"], rel=1e-4)
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-4)
    m1 = pd.read_csv(tmp_path / "r1" / "tiny" / "metrics.csv")
    m2 = pd.read_csv(tmp_path / "r2" / "tiny" / "metrics.csv")
    assert list(m1["seed"]) == list(m2["seed"]) and list(m1["step"]) == list(m2["step"])  # same order
    assert list((tmp_path / "scenes").glob("*.pt")), "the scenes were cached"
    timing = json.loads((tmp_path / "s2" / "quick" / "tiny" / "timing.json").read_text())
    assert timing["jobs"] == 2 and timing["runs"] == 3


def test_a_bad_config_in_a_worker_names_the_spec_field(tmp_path):
    capped = tiny_spec(config={"task": "stereo", "model": {"name": "monounet", "kwargs": {"width": 4}}, "max_disp": 4,
                               "loss": {"compile": False}}, seed_sets_scene=False,
                       profiles={"quick": {"steps": 2, "eval_every": 2, "data": {"source": "procedural", "size": [48, 96]},
                                           "heldout": {"count": 16}}}, variants={})
    with pytest.raises(SpecError, match=r"experiments/tiny.yaml: config.max_disp: max_disp: 4 is below the largest true"):
        run_spec(capped, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None, jobs=2)


def test_a_quick_run_never_replaces_the_standard_reference(tmp_path):
    ref = tmp_path / "res" / "tiny"
    ref.mkdir(parents=True)
    (ref / "summary.json").write_text(json.dumps({"profile": "standard", "verdict": "diverges"}))
    with pytest.raises(SpecError, match=r"holds the standard profile's reference results; a quick run does not "
                                        r"replace them.*build/results/quick"):
        run_spec(tiny_spec(), "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert json.loads((ref / "summary.json").read_text())["verdict"] == "diverges"  # untouched


def test_fine_tuning_a_pre_trained_network_reports_its_pull(tmp_path):
    spec = tiny_spec(variants={}, seed_sets_scene=False,
                     config={"task": "stereo", "model": {"name": "monounet", "kwargs": {"width": 4, "max_disp": "auto"}},
                             "loss": {"compile": False}},
                     profiles={"quick": {"steps": 8, "pretrain_steps": 4, "eval_every": 2, "checkpoint_every": 8,
                                         "data": {"source": "procedural", "size": [16, 32], "supersample": 1, "count": 2},
                                         "heldout": {"count": 16}}})
    s = run_spec(spec, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    ft = s["finetune"]
    assert ft["pretrain_steps"] == 4 and ft["global"]["seeds"] == 3
    g = ft["global"]
    m = pd.read_csv(tmp_path / "res" / "tiny" / "metrics.csv")
    starts = m[m.step == 4].sort_values("seed")["epe"].tolist()
    finals = m[m.step == 8].sort_values("seed")["epe"].tolist()
    assert g["start"] == pytest.approx(starts, rel=1e-5) and g["final"] == pytest.approx(finals, rel=1e-5)  # CSV: 6 digits
    assert g["pull_mean"] == pytest.approx(sum(f - s for f, s in zip(finals, starts)) / 3, abs=1e-4)
    assert g["pull_low"] <= g["pull_mean"] <= g["pull_high"]
    assert set(ft["per_cause"]) >= {"occluded", "specular"}
    assert all(p["step"] >= 4 for p in [{"step": x["step_at_min_loss"]} for x in s["per_seed"]])  # judged after pre-training


def test_a_single_real_pair_is_a_case_study_with_its_numbers_and_no_verdict(tmp_path):
    """The Motorcycle pair has one held-out region: the runs train (the 16-scene floor does not stop them), every
    number is kept, and no verdict is given globally, per cause or in a variant; the claims never read it."""
    from sins.experiments.analysis import reference_results

    pair = {"source": "motorcycle", "scale": 0.0625}
    field = tiny_spec(seed_sets_scene=False, domain="indoor", profiles={"quick": {
        "steps": 6, "eval_every": 2, "checkpoint_every": 6, "data": pair, "heldout": {"whole_pair": True},
        "optim": {"lr": 0.05, "batch": 1}}})
    s = run_spec(field, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert s["verdict"] == "not judged" and "one real pair" in s["reason"] and s["case_study"] == s["reason"]
    assert s["heldout_scenes"] == 1 and s["variants"]["smooth"]["verdict"] == "not judged"
    assert s["per_cause"] and all(c["verdict"] == "not judged" for c in s["per_cause"].values())
    assert s["numbers"]["mean_excess"] is not None and len(s["oracle_gap"]) == 3
    m = pd.read_csv(tmp_path / "res" / "tiny" / "metrics.csv")
    assert (m[m.step == 0]["epe"] < 1e-3).all()  # the whole pair, started at its true disparity
    assert (m[m.step == 6]["epe"] > 1e-3).all()  # ... and moved off it by the synthesis loss
    on_disk = json.loads((tmp_path / "res" / "tiny" / "summary.json").read_text())
    assert on_disk["verdict"] == "not judged"
    kept, left_out = reference_results({"tiny": {**on_disk, "profile": "standard"}, "other": {"profile": "standard"}})
    assert set(kept) == {"other"} and not left_out

    net = tiny_spec(variants={}, seed_sets_scene=False, domain="indoor",
                    config={"task": "stereo", "model": {"name": "monounet", "kwargs": {"width": 4, "max_disp": "auto"}},
                            "loss": {"compile": False}},
                    profiles={"quick": {"steps": 6, "pretrain_steps": 2, "eval_every": 2, "checkpoint_every": 6,
                                        "data": pair, "optim": {"batch": 1}}})
    s = run_spec(net, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert s["verdict"] == "not judged" and s["finetune"]["global"]["seeds"] == 3
    assert s["finetune"]["global"]["pulled_away"] is None  # an interval over seeds on one pair decides nothing


def test_several_experiments_share_one_pool_and_each_is_written_when_its_runs_are_done(tmp_path):
    """``run_specs`` trains the runs of several specs in one pool of workers (no worker waits for the last seed
    of a spec) and gives each spec the numbers it gets when run alone; a spec's folder is written as soon as its
    last run is done, and the times of the run add up to its total."""
    from sins.experiments.runner import run_specs

    first, second = tiny_spec(variants={}), tiny_spec(name="tiny2", variants={}, config={**tiny_spec().config,
                                                                                    "optim": {"lr": 0.02}})
    alone = {s.name: run_spec(s, "quick", results=tmp_path / "r1", scratch=tmp_path / "s1", log=lambda m: None)
             for s in (first, second)}
    seen = []
    for name, summary in run_specs([first, second], "quick", results=tmp_path / "r2", scratch=tmp_path / "s2",
                                   log=lambda m: None, jobs=2, scene_cache=tmp_path / "scenes"):
        assert (tmp_path / "r2" / name / "summary.json").is_file()  # written before the next one is yielded
        seen.append(name)
        for a, b in zip(alone[name]["per_seed"], summary["per_seed"]):
            assert a["final_error"] == pytest.approx(b["final_error"], rel=1e-4)
        assert summary["verdict"] == alone[name]["verdict"]
    assert sorted(seen) == ["tiny", "tiny2"]
    timings = [json.loads((tmp_path / "s2" / "quick" / n / "timing.json").read_text()) for n in seen]
    assert all(t["wall_s"] > 0 and t["reused_runs"] == 0 and t["resumed_runs"] == 0 for t in timings)
    list(run_specs([first], "quick", results=tmp_path / "r3", scratch=tmp_path / "s2", log=lambda m: None))
    again = json.loads((tmp_path / "s2" / "quick" / "tiny" / "timing.json").read_text())
    assert again["reused_runs"] == 3 and again["runs"] == 3  # finished runs are not trained again, and it says so


def test_a_run_that_stops_names_its_experiment_configuration_and_seed(tmp_path, monkeypatch):
    from sins.experiments import objectives as O
    from sins.experiments.runner import RunFailed

    real = O.OBJECTIVES["stereo"]

    def nan_loss(model, batch, cfg):
        terms = real(model, batch, cfg)
        if model.training:
            terms.loss = terms.loss * float("nan")
        return terms

    monkeypatch.setitem(O.OBJECTIVES, "stereo", nan_loss)
    with pytest.raises(RunFailed, match=r"^tiny \[base\] seed 0: .*non-finite"):
        run_spec(tiny_spec(), "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None)
    assert not (tmp_path / "res" / "tiny").exists()  # nothing half-written


def _twin_of_tiny() -> ExperimentSpec:
    """A spec that trains what tiny's base trains: another name, and a default written out."""
    spec = tiny_spec(variants={})
    return tiny_spec(name="twin", variants={}, config={**spec.config, "loss": {"compile": False, "smoothness": 0.0}})


def _same_numbers(a: dict, b: dict) -> None:
    for k in ("history", "landscape", "baseline", "cause_shares", "max_true_disparity"):
        assert a[k] == b[k], k


def test_runs_that_train_the_same_network_are_trained_once_within_a_call(tmp_path):
    from sins.experiments.runner import RUNS, _hash, read_record, run_specs, training_key

    tiny, twin = tiny_spec(variants={}), _twin_of_tiny()
    cfg_tiny, cfg_twin = tiny.config_for("quick", 0), twin.config_for("quick", 0)
    assert cfg_tiny != cfg_twin and training_key(cfg_tiny) == training_key(cfg_twin)
    assert training_key(tiny_spec().config_for("quick", 0, "smooth")) != training_key(cfg_tiny)  # a real change
    assert training_key(tiny.config_for("quick", 1)) != training_key(cfg_tiny)  # another seed
    logs: list[str] = []
    done = dict(run_specs([tiny, twin], "quick", results=tmp_path / "res", scratch=tmp_path / "scratch",
                          log=logs.append))
    assert len(logs) == 6 and set(done) == {"tiny", "twin"}
    assert list((tmp_path / "scratch" / "quick" / "tiny").glob("*/done.json"))
    assert not list((tmp_path / "scratch" / "quick" / "twin").glob("*/done.json"))  # nothing trained for the twin
    for seed in tiny.seeds_for("quick"):
        a = read_record(tmp_path / "res" / "tiny" / RUNS / f"base-s{seed}.json.gz")
        b = read_record(tmp_path / "res" / "twin" / RUNS / f"base-s{seed}.json.gz")
        _same_numbers(a, b)
        assert b["config_hash"] == _hash(twin.config_for("quick", seed)) != a["config_hash"]
        assert b["shared_from"] == f"tiny-s{seed}" and b["resolved"]["name"] == f"twin-s{seed}" and "shared_from" not in a
    assert [r["final_error"] for r in done["tiny"]["per_seed"]] == [r["final_error"] for r in done["twin"]["per_seed"]]
    timing = json.loads((tmp_path / "scratch" / "quick" / "twin" / "timing.json").read_text())
    assert timing["reused_runs"] == timing["runs"] == 3
    again = dict(run_specs([twin], "quick", results=tmp_path / "res", scratch=tmp_path / "scratch2", log=lambda m: None))
    assert again["twin"]["per_seed"] == done["twin"]["per_seed"]  # its own kept records, now keyed to it


def test_a_run_whose_twin_in_another_spec_has_finished_is_not_trained(tmp_path):
    from sins.experiments.probe import spec_yaml
    from sins.experiments.runner import RUNS, read_record, run_specs

    folder = tmp_path / "specs"
    folder.mkdir()
    tiny, twin = tiny_spec(variants={}), _twin_of_tiny()
    for spec in (tiny, twin):
        (folder / f"{spec.name}.yaml").write_text(spec_yaml(spec))
    first = run_spec(tiny, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None,
                     folder=folder)
    shared = run_spec(twin, "quick", results=tmp_path / "res", scratch=tmp_path / "scratch", log=lambda m: None,
                      folder=folder)
    assert not list((tmp_path / "scratch" / "quick" / "twin").glob("*/done.json"))
    assert [r["final_error"] for r in shared["per_seed"]] == [r["final_error"] for r in first["per_seed"]]
    _same_numbers(read_record(tmp_path / "res" / "twin" / RUNS / "base-s0.json.gz"),
                  read_record(tmp_path / "res" / "tiny" / RUNS / "base-s0.json.gz"))
    # two twins in one call whose run another spec of the folder finished: both take its record, none trains
    third, fourth = (tiny_spec(name=n, variants={}, config={**tiny.config, "loss": {"compile": False, "l1": 0.0}})
                     for n in ("third", "fourth"))
    both = dict(run_specs([third, fourth], "quick", results=tmp_path / "res", scratch=tmp_path / "scratch",
                          log=lambda m: None, folder=folder))
    assert set(both) == {"third", "fourth"}
    assert not [d for n in ("third", "fourth") for d in (tmp_path / "scratch" / "quick" / n).glob("*/done.json")]
    for name in ("third", "fourth"):
        assert [r["final_error"] for r in both[name]["per_seed"]] == [r["final_error"] for r in first["per_seed"]]
    # without the twin's spec in the folder, the run is trained
    (folder / "tiny.yaml").unlink()
    trained = dict(run_specs([twin], "quick", results=tmp_path / "res2", scratch=tmp_path / "scratch", log=lambda m: None,
                             folder=folder))
    assert len(list((tmp_path / "scratch" / "quick" / "twin").glob("*/done.json"))) == 3
    assert [r["final_error"] for r in trained["twin"]["per_seed"]] == pytest.approx([r["final_error"] for r in first["per_seed"]])


def test_the_committed_twins_agree_in_every_number():
    """monodepth_stereo's runs and smoothness_weights' `none` variant train the same network (the same training
    key); they were trained separately, so their records show that a standard run reproduces exactly."""
    from sins.experiments.runner import RUNS, read_record, training_key

    stereo, sweep = SPECS["monodepth_stereo"], SPECS["smoothness_weights"]
    for seed in stereo.seeds_for("standard"):
        assert training_key(stereo.config_for("standard", seed)) == training_key(sweep.config_for("standard", seed, "none"))
        a = read_record(RESULTS / "monodepth_stereo" / RUNS / f"base-s{seed}.json.gz")
        b = read_record(RESULTS / "smoothness_weights" / RUNS / f"none-s{seed}.json.gz")
        _same_numbers(a, b)
