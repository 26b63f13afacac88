"""Experiment specs load with located errors and link both ways with the taxonomy."""

from __future__ import annotations

import shutil

import pytest

from sins.catalog import load_catalog
from sins.experiments.specs import check_links, load_specs, merge
from tests.conftest import ROOT

SPEC = """name: demo
title: Demo
question: Does it diverge?
tests: [ssim, l1]
architecture: [unet-cnn]
supervision: stereo-pairs
input: single-image
domain: synthetic
claims: [1]
config: {steps: 10, loss: {alpha: 0.85}}
profiles:
  quick: {steps: 20}
  full: {steps: 2000, loss: {alpha: 0.5}}
variants:
  smooth: {loss: {smoothness: 0.1}}
"""


def test_spec_config_merges_profile_variant_and_seed(tmp_path):
    (tmp_path / "demo.yaml").write_text(SPEC)
    specs, probs = load_specs(tmp_path)
    assert probs == []
    cfg = specs["demo"].config_for("full", seed=2, variant="smooth")
    assert cfg == {"steps": 2000, "loss": {"alpha": 0.5, "smoothness": 0.1}, "seed": 2, "name": "demo-smooth-s2"}
    assert specs["demo"].config == {"steps": 10, "loss": {"alpha": 0.85}}  # base untouched
    with pytest.raises(KeyError, match="no profile 'huge'"):
        specs["demo"].config_for("huge", 0)


def test_unknown_field_and_name_mismatch_are_located(tmp_path):
    (tmp_path / "other.yaml").write_text(SPEC.replace("question:", "qestion:"))
    _specs, probs = load_specs(tmp_path)
    msgs = [str(p) for p in probs]
    assert any("other.yaml:3: qestion: unknown field 'qestion' (did you mean 'question'" in m for m in msgs), msgs


def test_links_both_ways(tmp_path):
    (tmp_path / "demo.yaml").write_text(SPEC)
    specs, _ = load_specs(tmp_path)
    specs.update(load_specs(ROOT / "experiments")[0])  # the taxonomy links the project's own specs
    tax = load_catalog(ROOT / "catalog").taxonomy.model_copy(deep=True)
    msgs = [str(p) for p in check_links(specs, tax)]
    assert any("losses.ssim.experiments: does not list 'demo'" in m for m in msgs)
    tax.losses["ssim"].experiments.append("demo")
    tax.losses["l1"].experiments.append("demo")
    assert check_links(specs, tax) == []
    tax.losses["census"].experiments.append("nope")
    assert any("unknown experiment 'nope'" in str(p) for p in check_links(specs, tax))


def test_merge_replaces_lists():
    assert merge({"a": [1], "b": {"c": 1}}, {"a": [2], "b": {"d": 2}}) == {"a": [2], "b": {"c": 1, "d": 2}}


def test_a_twin_and_its_config_must_exist(tmp_path):
    specs = load_specs(ROOT / "experiments")[0]
    tax = load_catalog(ROOT / "catalog").taxonomy
    assert check_links(specs, tax) == []
    reg = next(s for s in specs.values() if s.twin_config)  # the project's own specs use the field
    assert reg.twin_config in specs[reg.twin].variants
    specs[reg.name] = reg.model_copy(update={"twin_config": "warm_up"})
    msgs = [str(p) for p in check_links(specs, tax)]
    # the message names the file, the field and the configurations the twin has
    assert any(f"{reg.name}.yaml" in m and f"twin_config: unknown configuration of {reg.twin!r} 'warm_up'" in m
               and reg.twin_config in m for m in msgs), msgs
    specs[reg.name] = reg.model_copy(update={"twin": "nope", "twin_config": ""})
    assert any("twin: unknown experiment 'nope'" in str(p) for p in check_links(specs, tax))
    (tmp_path / "demo.yaml").write_text(SPEC.replace("config:", "twin_config: warm\nconfig:", 1))
    _s, probs = load_specs(tmp_path)
    assert any("demo.yaml" in str(p) and "set twin as well" in str(p) for p in probs), [str(p) for p in probs]
