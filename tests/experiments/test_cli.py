import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from sins.experiments.cli import app

CONFIGS = Path(__file__).parent / "configs"
runner = CliRunner()


def test_list_empty_and_with_a_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0 and "no experiment specs" in r.output


def test_run_bad_config_exits_1_with_did_you_mean(tmp_path):
    cfg = yaml.safe_load((CONFIGS / "tiny_stereo.yaml").read_text())
    cfg["stpes"] = 3
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(cfg))
    r = runner.invoke(app, ["train", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert "did you mean 'steps'" in r.output


def test_run_missing_config_exits_1(tmp_path):
    r = runner.invoke(app, ["train", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 1 and "not found" in r.output


def test_run_and_resume(tmp_path):
    out = tmp_path / "o"
    r = runner.invoke(app, ["train", str(CONFIGS / "tiny_video.yaml"), "--out", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["step"] == 2
    r2 = runner.invoke(app, ["train", str(CONFIGS / "tiny_video.yaml"), "--out", str(out), "--resume", "--no-progress"])
    assert r2.exit_code == 0 and json.loads(r2.stdout)["step"] == 2


def test_manifold_usage_errors_exit_2():
    assert runner.invoke(app, ["manifold", "--pair", "nope"]).exit_code == 2
    assert runner.invoke(app, ["manifold", "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["train"]).exit_code == 2


def test_manifold_json_reports_oracle_gap_and_causes():
    r = runner.invoke(app, ["manifold", "--scale", "0.125", "--hypotheses", "24", "--format", "json", "--no-compile"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert 0.0 <= res["misleading"] <= 1.0
    assert "occluded" in res["per_cause"]
    # the winner-take-all answer has a lower photometric loss than the truth: the gap is positive
    assert abs(res["oracle_gap"] - (res["loss_at_gt"] - res["loss_at_pred"])) < 1e-6
    assert res["oracle_gap"] > 0


def test_list_shows_spec_names_and_tested_ids(tmp_path, monkeypatch):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "e1.yaml").write_text(yaml.safe_dump({
        "name": "e1", "title": "t", "question": "q?", "tests": ["ssim", "l1"], "architecture": ["unet"],
        "supervision": "stereo-pairs", "input": "stereo-pair", "domain": "street", "config": {}}))
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0, r.output
    assert "e1" in r.output and "ssim, l1" in r.output
