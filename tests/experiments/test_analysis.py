"""The claims, each from its own evidence, on hand-made summaries with known answers."""
from __future__ import annotations

import json

import pytest

from sins.experiments import analysis as A


def cause(verdict="inconclusive", exists=True, p=None):
    p = p if p is not None else (0.001 if verdict == "diverges" else 0.5)
    return {"verdict": verdict, "exists": exists, "why": "x", "numbers": {"p_value": p}}


def res(name, verdict="inconclusive", gaps=(-0.01, -0.02, -0.01), arch=("unet-cnn",), domain="driving", task="stereo",
        causes=None, variants=None, terms=None, claims=(1,), twin="", twin_variant="", excess=(0.0, -0.1, 0.1)):
    nums = {"mean_excess": excess[0], "excess_low": excess[1], "excess_high": excess[2], "tolerance": 0.05,
            "p_value": 0.001 if verdict == "diverges" else 0.5,
            "successful_seeds": 3, "error_metric": "epe", "mean_final_loss": 0.1, "mean_final_error": 1.0}
    return {"name": name, "verdict": verdict, "numbers": nums, "oracle_gap": list(gaps), "architecture": list(arch),
            "domain": domain, "task": task, "tests": ["ssim"], "claims": list(claims), "profile": "quick",
            "per_cause": causes or {"specular": cause()}, "variants": variants or {},
            "synthesis_terms": terms if terms is not None else {"photometric": 1.0, "alpha": 0.85},
            "twin": twin, "twin_variant": twin_variant, "failed_runs": []}


def variant(verdict, causes=None, gaps=(-0.01, -0.02, -0.01), loss=None):
    r = res("v", verdict, gaps, causes=causes)
    return {"verdict": verdict, "numbers": r["numbers"], "oracle_gap": list(gaps), "per_cause": r["per_cause"],
            "overrides": {"loss": loss or {}}}


def test_claim1_uses_trained_networks_only():
    field = res("field_from_truth", "diverges", arch=("pixel-field",))
    net = res("monodepth_stereo", "consistent", causes={"specular": cause("consistent")})
    c = A.claim_divergence({"f": field, "m": net})
    assert c["status"] == "not confirmed"  # the pixel field's divergence restates claim 2 and does not count
    net2 = res("monodepth_stereo", "consistent", causes={"specular": cause("diverges")})
    c = A.claim_divergence({"m": net2})
    assert c["status"] == "confirmed" and "specular" in c["summary"]  # a regional divergence counts
    assert A.claim_divergence({"m": res("m", "inconclusive")})["status"] == "inconclusive"
    assert A.claim_divergence({})["status"] == "inconclusive"


def test_claim1_corrects_for_many_tests():
    """One weak divergence (p = 0.02) among 8 causes x 4 configurations could be chance: not enough."""
    many = {f"m{i}": res(f"m{i}", "inconclusive", causes={c: cause("diverges" if (i, c) == (0, "c0") else "inconclusive",
                                                                     p=0.02 if (i, c) == (0, "c0") else 0.5)
                                                          for c in ("c0", "c1", "c2", "c3", "c4", "c5", "c6")})
            for i in range(4)}
    c = A.claim_divergence(many)
    assert c["status"] == "inconclusive" and "could be chance" in c["summary"]
    strong = {**many, "m0": res("m0", "inconclusive", causes={"c0": cause("diverges", p=1e-5)})}
    assert A.claim_divergence(strong)["status"] == "confirmed"


def test_claim2_from_oracle_gap_intervals():
    c2 = lambda *rs: A.claim_oracle_gap({r["name"]: r for r in rs})["status"]  # noqa: E731
    assert c2(res("a", gaps=(0.03, 0.035, 0.04), arch=("pixel-field",))) == "confirmed"
    assert c2(res("a", gaps=(-0.03, -0.02, -0.04))) == "not confirmed"
    assert c2(res("a", gaps=(0.03, -0.02, 0.01))) == "inconclusive"


def test_claim3_is_stratified_scene_by_scene():
    def scene(spec_mis, clean_mis, n=100):
        return {"specular_pixels": n, "specular_misleading": spec_mis, "occluded_pixels": n, "occluded_misleading": 0.9,
                "textureless_pixels": 0, "repetitive_pixels": n, "repetitive_misleading": clean_mis + 0.1,
                "none_pixels": 1000, "none_misleading": clean_mis}
    rows = [scene(0.3 + 0.01 * k, 0.02 + 0.01 * k) for k in range(6)]
    d = A.cause_differences(rows)
    assert d["specular"]["scenes"] == 6 and d["specular"]["low"] > 0 and d["textureless"]["scenes"] == 0
    assert A.claim_causes(d)["status"] == "confirmed"
    rows = [scene(0.01, 0.05) for _ in range(6)]
    rows = [dict(r, occluded_misleading=0.01, repetitive_misleading=0.02) for r in rows]
    assert A.claim_causes(A.cause_differences(rows))["status"] == "not confirmed"
    mixed = [scene(0.3, 0.05) for _ in range(6)]
    mixed = [dict(r, repetitive_misleading=0.05 + (0.02 if k % 2 else -0.02)) for k, r in enumerate(mixed)]
    c = A.claim_causes(A.cause_differences(mixed))
    assert c["status"] == "inconclusive" and "specular" in c["summary"]


def test_claim4_compares_each_regulariser_with_its_twin():
    def sw(twin_verdict, reg_verdict):
        return {"smoothness_weights": res("smoothness_weights", reg_verdict, twin_variant="none", claims=(4,),
                                          variants={"none": variant(twin_verdict), "w1": variant(reg_verdict, loss={"smoothness": 1})})}

    assert A.claim_regularisers(sw("diverges", "diverges"))["status"] == "confirmed"
    assert A.claim_regularisers(sw("diverges", "consistent"))["status"] == "not confirmed"
    assert A.claim_regularisers(sw("consistent", "consistent"))["status"] == "inconclusive"
    twin = {"lr": res("lr", "consistent", twin="md", claims=(4,)), "md": res("md", "diverges")}
    c = A.claim_regularisers(twin)
    assert c["status"] == "not confirmed" and any(n["twin"] == "md" for n in c["numbers"])


def test_claim4_pairs_a_variant_with_its_own_twin_variant_where_the_spec_has_one():
    # base against `without`; `warm` against `warm_without` (the same change without the term), not against `without`
    r = res("ba", "diverges", twin_variant="without", claims=(4,),
            variants={"without": variant("consistent"), "warm": variant("consistent"),
                      "warm_without": variant("diverges")})
    c = A.claim_regularisers({"ba": r})
    pairs = {(n["regularised"], n["twin"]) for n in c["numbers"]}
    assert pairs == {("ba", "ba [without]"), ("ba [warm]", "ba [warm_without]")}
    assert c["status"] == "not confirmed"  # the warm-up's twin diverges and its regularised config is consistent
    # without its own twin a variant still pairs with the twin variant, and a name that merely ends in
    # `_without` (no `lone` configuration beside it) is a regularised configuration, not a twin
    r["variants"].pop("warm_without")
    r["variants"]["lone_without"] = variant("consistent")
    pairs = {(n["regularised"], n["twin"]) for n in A.claim_regularisers({"ba": r})["numbers"]}
    assert pairs == {("ba", "ba [without]"), ("ba [warm]", "ba [without]"), ("ba [lone_without]", "ba [without]")}


def test_claim4_pairs_a_variant_with_the_twin_specs_variant_of_the_same_name():
    reg = res("gc", "failed", twin="md", claims=(4,),
              variants={"warm": variant("diverges"), "only_here": variant("consistent")})
    md = res("md", "consistent", variants={"warm": variant("diverges")})
    c = A.claim_regularisers({"gc": reg, "md": md})
    pairs = {(n["regularised"], n["twin"]) for n in c["numbers"]}
    labels = {(x["experiment"], x["config"]): x["label"] for x in A.configurations({"gc": reg, "md": md})}
    assert pairs == {(labels[("gc", "base")], labels[("md", "base")]), (labels[("gc", "warm")], labels[("md", "warm")])}
    assert c["status"] == "confirmed"  # the twin's warm variant diverges and so does the regularised one's


def test_claim4_pairs_the_base_with_the_twin_config_where_the_spec_names_one():
    # the base carries a change (a warm-up) that the twin spec carries as a variant: base against that variant,
    # not against the twin's base; a variant still pairs with the twin's variant of its own name
    reg = res("gc", "consistent", twin="md", claims=(4,), variants={"power": variant("diverges")})
    reg["twin_config"] = "warm"
    md = res("md", "consistent", variants={"warm": variant("diverges"), "power": variant("diverges")})
    labels = {(x["experiment"], x["config"]): x["label"] for x in A.configurations({"gc": reg, "md": md})}
    c = A.claim_regularisers({"gc": reg, "md": md})
    pairs = {(n["regularised"], n["twin"]) for n in c["numbers"]}
    assert pairs == {(labels[("gc", "base")], labels[("md", "warm")]), (labels[("gc", "power")], labels[("md", "power")])}
    assert c["status"] == "not confirmed"  # the warm twin diverges and the regularised base is consistent
    reg.pop("twin_config")  # without it, the base pairs with the twin's base again
    pairs = {(n["regularised"], n["twin"]) for n in A.claim_regularisers({"gc": reg, "md": md})["numbers"]}
    assert (labels[("gc", "base")], labels[("md", "base")]) in pairs


def test_claim5_only_counts_the_common_objective():
    census = res("census_stereo", "consistent", arch=("correlation-2d",), terms={"census": 1.0},
                 variants={"ssim_l1": variant("diverges", loss={"photometric": 1.0, "census": 0.0})})
    street = res("monodepth_stereo", "diverges")
    c = A.claim_generality({"census_stereo": census, "monodepth_stereo": street})
    groups = {n["group"]: n for n in c["numbers"]}
    assert "architecture correlation-2d" in groups and groups["architecture correlation-2d"]["configurations"] == "census_stereo [ssim_l1]"
    assert c["status"] == "confirmed"
    indoor = res("monodepth_indoor", "consistent", domain="indoor", causes={"specular": cause("consistent")})
    c = A.claim_generality({"census_stereo": census, "monodepth_stereo": street, "monodepth_indoor": indoor})
    assert c["status"] == "not confirmed" and "domain indoor" in c["summary"]


def test_weight_ranking_compares_orders():
    v = {k: {**variant("consistent"), "numbers": {"mean_final_loss": l, "mean_final_error": e}} for k, l, e in
         [("a", 0.1, 3.0), ("b", 0.2, 2.0)]}
    r = res("sw", "consistent", variants=v)
    r["numbers"].update(mean_final_loss=0.3, mean_final_error=1.0)
    (item,) = A.weight_ranking({"sw": r})
    assert item["order_by_lsyn"] == ["a", "b", "base"] and item["order_by_error"] == ["base", "b", "a"]
    assert not item["same_order"] and item["spearman"] == pytest.approx(-1.0)


def test_cause_scenes_and_sweep_measure_and_the_driver_writes(tmp_path):
    rows = A.cause_scenes(per_domain=1, size=(24, 48), domains=("street",))
    assert rows[0]["none_pixels"] > 0 and 0 <= rows[0]["misleading"] <= 1
    sweep = A.aleatoric_sweep(scenes=1, size=(24, 48), domains=("street",), levels={"occluders": [0, 6]})
    assert [r["value"] for r in sweep] == [0, 6] and all(0 <= r["misleading"] <= 1 for r in sweep)
    (tmp_path / "e1").mkdir()
    (tmp_path / "e1" / "summary.json").write_text(json.dumps(res("e1", "diverges", gaps=(0.1, 0.12, 0.11))))
    a = A.analyse_all(tmp_path, sweep=False)
    assert a["claims"]["1"]["status"] == "confirmed" and a["claims"]["2"]["status"] == "confirmed"
    assert a["claims"]["3"]["status"] == "inconclusive"  # no cause scenes yet: said so, not guessed
    on_disk = json.loads((tmp_path / "analysis" / "summary.json").read_text())
    assert on_disk["experiments"] == ["e1"] and on_disk["claims"]["1"]["answer"]
    assert (tmp_path / "analysis" / "claim1.png").read_bytes().startswith(b"\x89PNG")


def test_claims_use_the_standard_results_once_there_are_any():
    quick = res("a")
    std = dict(res("b", "diverges"), profile="standard")
    kept, left = A.reference_results({"a": quick, "b": std})
    assert list(kept) == ["b"] and left == {"a": "quick"}
    kept, left = A.reference_results({"a": quick})
    assert list(kept) == ["a"] and left == {}  # no standard result yet: the quick ones are all there is
