"""The cross-experiment analyses and the claim rules, on hand-made summaries with known answers."""
from __future__ import annotations

import json

import pytest

from sins.experiments import analysis as A


def res(name, verdict, gaps, claims=(1,), domain="driving", arch=("unet-cnn",), variants=None, lsyn=0.1, err=1.0):
    nums = {"mean_final_error": err, "mean_final_lsyn": lsyn, "mean_best_error": err, "mean_gap": 0.1,
            "mean_relative_gap": 0.1, "final_error_sd": 0.01, "mean_spearman": 0.5, "error_metric": "epe"}
    return {"name": name, "verdict": verdict, "oracle_gap": list(gaps), "claims": list(claims), "domain": domain,
            "architecture": list(arch), "tests": ["ssim"], "numbers": nums, "variants": variants or {}}


def test_evidence():
    assert A.evidence("diverges", [-1, -1, -1]) == "evidence"
    assert A.evidence("inconclusive", [0.1, 0.2, 0.1]) == "evidence"
    assert A.evidence("consistent", [-0.1, 0.0, -0.2]) == "absent"
    assert A.evidence("consistent", [0.1, -0.1, -0.2]) == "unclear"


def test_claim_divergence_rules():
    assert A.claim_divergence({"a": res("a", "diverges", [-1] * 3), "b": res("b", "consistent", [-1] * 3)})["status"] == "confirmed"
    assert A.claim_divergence({"a": res("a", "consistent", [-1] * 3)})["status"] == "not confirmed"
    assert A.claim_divergence({"a": res("a", "inconclusive", [-1] * 3)})["status"] == "inconclusive"
    assert A.claim_divergence({})["status"] == "inconclusive"
    # experiments that do not test claim 1 do not count
    assert A.claim_divergence({"a": res("a", "diverges", [1] * 3, claims=(5,))})["status"] == "inconclusive"


def test_claim_oracle_gap_rules():
    c2 = lambda *rs: A.claim_oracle_gap({r["name"]: r for r in rs})["status"]  # noqa: E731
    assert c2(res("a", "consistent", [0.1, 0.2, 0.3], claims=(2,))) == "confirmed"
    assert c2(res("a", "consistent", [-0.1, -0.2, -0.3], claims=(2,))) == "not confirmed"
    assert c2(res("a", "consistent", [0.1, -0.2, -0.3], claims=(2,))) == "inconclusive"


def test_claim_causes_rules():
    table = lambda sp, oc: {"none": {"pixels": 1000, "share": 0.8, "misleading": 0.05},  # noqa: E731
                            "specular": {"pixels": 50, "share": 0.04, "misleading": sp},
                            "occluded": {"pixels": 80, "share": 0.06, "misleading": oc},
                            "shadow": {"pixels": 80, "share": 0.06, "misleading": 0.0}}
    assert A.claim_causes(table(0.3, 0.6))["status"] == "confirmed"  # shadow is not one of the paper's causes
    assert A.claim_causes(table(0.01, 0.02))["status"] == "not confirmed"
    assert A.claim_causes(table(0.3, 0.02))["status"] == "inconclusive"


def test_claim_regularisers_rules():
    def sw(base_verdict, base_gaps, reg_verdict, reg_gaps):
        v = {"none": {"verdict": base_verdict, "oracle_gap": base_gaps, "overrides": {"loss": {"smoothness": 0}},
                      "numbers": res("x", "x", [])["numbers"]},
             "w1": {"verdict": reg_verdict, "oracle_gap": reg_gaps, "overrides": {"loss": {"smoothness": 1}},
                    "numbers": res("x", "x", [])["numbers"]}}
        return {"smoothness_weights": res("smoothness_weights", reg_verdict, reg_gaps, claims=(4,), variants=v)}

    assert A.claim_regularisers(sw("diverges", [-1] * 3, "diverges", [-1] * 3))["status"] == "confirmed"
    assert A.claim_regularisers(sw("diverges", [-1] * 3, "consistent", [-1] * 3))["status"] == "not confirmed"
    assert A.claim_regularisers(sw("consistent", [-1] * 3, "consistent", [-1] * 3))["status"] == "inconclusive"


def test_claim_generality_rules():
    rs = [res("a", "diverges", [-1] * 3, claims=(5,), domain="driving"),
          res("b", "inconclusive", [1] * 3, claims=(5,), domain="medical", arch=("cost-volume-3d",))]
    assert A.claim_generality({r["name"]: r for r in rs})["status"] == "confirmed"
    rs.append(res("c", "consistent", [-1] * 3, claims=(1,), domain="indoor"))  # pooled: any experiment counts
    out = A.claim_generality({r["name"]: r for r in rs})
    assert out["status"] == "not confirmed" and "domain indoor" in out["summary"]
    rs[-1] = res("c", "inconclusive", [-1, 1, -1], domain="indoor")
    assert A.claim_generality({r["name"]: r for r in rs})["status"] == "inconclusive"


def test_weight_ranking_compares_orders():
    v = {k: {"verdict": "consistent", "oracle_gap": [], "numbers": res("x", "x", [], lsyn=l, err=e)["numbers"]}
         for k, l, e in [("a", 0.1, 3.0), ("b", 0.2, 2.0)]}
    r = res("sw", "consistent", [], variants=v, lsyn=0.3, err=1.0)
    (item,) = A.weight_ranking({"sw": r})
    assert item["order_by_lsyn"] == ["a", "b", "base"] and item["order_by_error"] == ["base", "b", "a"]
    assert not item["same_order"] and item["spearman"] == pytest.approx(-1.0)


def test_sweep_measures_and_writes(tmp_path):
    rows = A.aleatoric_sweep(scenes=1, size=(24, 48), domains=("street",), levels={"occluders": [0, 6]})
    assert [r["value"] for r in rows] == [0, 6]
    for r in rows:
        assert 0 <= r["misleading"] <= 1 and r["oracle_gap"] >= -1e-6 and r["epe"] >= 0
        assert r["pixels"]["none"] > 0
    table = A.cause_table(rows)
    assert 0 < table["none"]["share"] <= 1 and table["occluded"]["pixels"] > 0  # 6 occluders occlude something
    assert all(0 <= v["misleading"] <= 1 for v in table.values() if v["pixels"])
    (tmp_path / "e1").mkdir()
    (tmp_path / "e1" / "summary.json").write_text(json.dumps(res("e1", "diverges", [0.1] * 3, claims=(1, 2, 5))))
    a = A.analyse_all(tmp_path, sweep=False)
    assert a["claims"]["1"]["status"] == "confirmed" and a["claims"]["2"]["status"] == "confirmed"
    assert a["claims"]["3"]["status"] == "inconclusive"  # no sweep yet: said so, not guessed
    assert json.loads((tmp_path / "analysis" / "summary.json").read_text())["experiments"] == ["e1"]
