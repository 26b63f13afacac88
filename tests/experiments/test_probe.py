"""`sins experiments probe`: an experiment composed from taxonomy ids, run and judged like the committed ones."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sins.catalog.store import load_taxonomy
from sins.cli import app
from sins.experiments.config import validate_config
from sins.experiments.probe import TERMS, ProbeError, build_spec
from sins.experiments.runner import check_spec
from sins.experiments.specs import load_specs
from tests.conftest import ROOT

EXPERIMENTS = ROOT / "experiments"
TAX = load_taxonomy(ROOT / "catalog" / "taxonomy.yaml")[0]


def spec(losses, arch=("unet-cnn",), domain="driving"):
    return build_spec(list(losses), list(arch), domain, folder=EXPERIMENTS, taxonomy=TAX)


@pytest.mark.parametrize("losses,expected", [
    (["ssim", "l1"], {"photometric": 1.0, "alpha": 0.85}),
    (["ssim"], {"photometric": 1.0, "alpha": 1.0}),
    (["l1"], {"photometric": 1.0, "alpha": 0.0}),
    (["census"], {"photometric": 0.0, "census": 1.0}),
    (["ssim", "l1", "smoothness_edge_aware", "lr_consistency"], {"alpha": 0.85, "smoothness": 0.001, "lr_consistency": 1.0}),
])
def test_the_loss_ids_become_the_trainer_loss(losses, expected):
    s = spec(losses)
    assert set(s.tests) == set(losses)
    loss = s.config["loss"]
    for k, v in expected.items():
        assert loss[k] == v, (k, loss)
    cfg = validate_config(s.config_for("quick", 0))
    assert cfg.task == "stereo" and cfg.model.name == "monounet"


def test_video_ids_make_a_video_experiment():
    s = spec(["ssim", "l1", "min_reprojection", "auto_mask"], arch=["pose-cnn"], domain="medical")
    cfg = validate_config(s.config_for("quick", 0))
    assert cfg.task == "video" and cfg.model.name == "depthpose" and cfg.data.domain == "medical"
    assert cfg.loss.min_reprojection and cfg.loss.auto_mask
    plain = validate_config(spec(["ssim", "l1"], arch=["pose-cnn"]).config_for("quick", 0))
    assert not plain.loss.min_reprojection and not plain.loss.auto_mask  # averaged over the sources


@pytest.mark.parametrize("tid", sorted(TERMS))
def test_every_runnable_id_gives_a_spec_that_passes_the_checks(tid, tmp_path):
    term = TERMS[tid]
    losses = [tid] if term.synthesis else ["ssim", "l1", tid]
    if tid == "auto_mask":
        losses.append("min_reprojection")
    arch = ["pose-cnn"] if term.task == "video" else ["unet-cnn"]
    s = spec(losses, arch)
    check_spec(s, "quick", tmp_path)
    assert tid in s.tests and TAX.ids("losses") >= set(s.tests)


@pytest.mark.parametrize("losses,arch,domain,message", [
    (["perceptual", "ssim"], [], "driving", "'perceptual' is in the taxonomy but the engine does not implement it yet; runnable ids: "),
    (["ssimm"], [], "driving", "unknown loss term 'ssimm' (did you mean 'ssim'"),
    (["smoothness_edge_aware"], [], "driving", "give at least one image-synthesis term"),
    (["ssim", "lr_consistency", "min_reprojection"], [], "driving", "lr_consistency need(s) stereo pairs but min_reprojection"),
    (["ssim", "auto_mask"], [], "driving", "add --loss min_reprojection"),
    (["ssim"], ["transformer"], "driving", "'transformer' is in the taxonomy but the engine has no such model"),
    (["ssim"], ["unet-cnn", "correlation-2d"], "driving", "give one stereo architecture"),
    (["ssim"], [], "aerial", "'aerial' is in the taxonomy but the renderer has no such scenes"),
    ([], [], "driving", "give at least one --loss"),
])
def test_what_cannot_run_is_refused_with_what_can(losses, arch, domain, message):
    with pytest.raises(ProbeError) as e:
        spec(losses, arch, domain)
    assert message in str(e.value)


def test_cli_runs_a_probe_and_prints_its_verdict(tmp_path):
    r = CliRunner().invoke(app, ["experiments", "probe", "--loss", "ssim", "--loss", "l1", "--loss", "smoothness_edge_aware",
                                 "--steps", "20", "--out", str(tmp_path), "--format", "json",
                                 "--folder", str(EXPERIMENTS), "--catalog", str(ROOT / "catalog")])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output[r.output.index("{"):])
    assert got["verdict"] in ("diverges", "consistent", "inconclusive", "failed")
    assert got["seeds"] == [0, 1, 2] and got["tests"] == ["ssim", "l1", "smoothness_edge_aware"]
    if got["verdict"] == "failed":  # 20 steps may not train: each failed run then says why
        assert got["numbers"]["failed_runs"] and all(f["reason"] for f in got["numbers"]["failed_runs"])
    else:
        assert isinstance(got["numbers"]["mean_excess"], float)
    folder = tmp_path / got["name"]
    assert (folder / "summary.json").is_file() and (folder / "metrics.csv").is_file() and (folder / "curves.png").is_file()
    # the spec it wrote is a valid experiment spec, to copy into experiments/
    specs, problems = load_specs(tmp_path)
    assert problems == [] and got["name"] in specs
    table = CliRunner().invoke(app, ["experiments", "probe", "--loss", "ssim", "--loss", "l1", "--loss", "smoothness_edge_aware",
                                     "--steps", "20", "--out", str(tmp_path), "--folder", str(EXPERIMENTS)])
    assert table.exit_code == 0 and "verdict:" in table.output  # resumed from the finished runs


def test_cli_lists_runnable_ids_and_refuses_the_others():
    r = CliRunner().invoke(app, ["experiments", "probe", "--list"])
    assert r.exit_code == 0 and all(t in r.output for t in TERMS)
    r = CliRunner().invoke(app, ["experiments", "probe", "--loss", "perceptual", "--loss", "ssim"])
    assert r.exit_code == 2 and "runnable ids" in r.output


def test_an_implemented_id_a_probe_cannot_compose_says_why():
    with pytest.raises(ProbeError, match=r"'distillation' cannot be probed: its teacher is the network at a step"):
        spec(["ssim", "l1", "distillation"], ["pose-cnn"])
