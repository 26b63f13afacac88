"""Reported benchmark results: validation with file:line and ranges, protocols as keys, queries, the CLI."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from typer.testing import CliRunner

from sins.catalog import check_catalog, load_catalog
from sins.catalog.results import (ResultRow, filter_results, loss_term_comparison, protocol_id, protocols,
                                  results_frame)
from sins.cli import app
from tests.conftest import ROOT, paper_dict

runner = CliRunner()


def row(**over) -> dict:
    d = {"benchmark": "kitti-eigen", "split": "eigen", "ground_truth": "original", "resolution": "640x192", "cap": 80,
         "median_scaling": True, "supervision": "M", "metrics": {"abs_rel": 0.115, "sq_rel": 0.903, "rmse": 4.863,
                                                                 "rmse_log": 0.193, "a1": 0.877, "a2": 0.959, "a3": 0.981},
         "source": "https://github.com/owner/repo/blob/0123abc/README.md", "where": "README, results table"}
    d.update(over)
    return d


# --------------------------------------------------------------------------- the committed data


def test_every_committed_row_has_a_source_and_a_place():
    cat = load_catalog(ROOT / "catalog")
    df = results_frame(cat.papers.values())
    assert len(df) > 0
    assert df["source"].str.match(r"^https?://").all()
    assert (df["where"].str.len() > 0).all()
    # a floor, so that rows are not lost silently (the target is 60 papers; see catalog/README.md)
    assert df[df["benchmark"] == "kitti-eigen"]["key"].nunique() >= 35
    assert df[df["benchmark"] == "kitti-2015"]["key"].nunique() >= 2


def test_committed_numbers_come_from_the_paper_or_its_official_repository():
    """A row's source is the paper (arXiv, its DOI, its venue page) or a repository the paper's entry names as
    the authors' own (its code field, or its provenance when the repository holds no training code)."""
    cat = load_catalog(ROOT / "catalog")

    def repo(url: str) -> str:
        parts = url.lower().split("/")
        return "/".join(parts[:5]) if "github.com" in url else url.lower()

    for p in cat.papers.values():
        own = {repo(u) for u in [p.code, *p.provenance.sources] if u and "github.com" in u}
        for r in p.results:
            paper_page = (p.arxiv and p.arxiv in r.source) or (p.doi and p.doi.lower() in r.source.lower()) \
                or "openaccess.thecvf.com" in r.source or "ecva.net" in r.source
            assert paper_page or repo(r.source) in own, (p.key, r.source)


# --------------------------------------------------------------------------- validation


def problems_of(root) -> list[str]:
    return [str(p) for p in check_catalog(root)[1]]


def line_of(path, text: str, nth: int = 1) -> int:
    seen = 0
    for i, ln in enumerate(path.read_text().splitlines(), 1):
        if text in ln:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError(text)


def test_a_valid_row_loads(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", results=[row()])])
    (r,) = load_catalog(root).papers["smith2019learning"].results
    assert r.metrics["abs_rel"] == 0.115 and r.cap == 80


@pytest.mark.parametrize("edit,expected", [
    (("abs_rel: 0.115", "abs_rel: 1.15"), "results[0].metrics: abs_rel 1.15 is outside the valid range (0, 1)"),
    (("abs_rel: 0.115", "abs_rel: 0"), "abs_rel 0 is outside the valid range (0, 1)"),
    (("a1: 0.877", "a1: 87.7"), "a1 87.7 is outside the valid range [0, 1] (write 0.877, not 87.7)"),
    (("a2: 0.959", "a2: 0.5"), "the deltas must not decrease (a1 <= a2 <= a3), got 0.877, 0.5, 0.981"),
    (("rmse: 4.863", "rmse: -4.863"), "rmse -4.863 must be positive"),
    (("abs_rel: 0.115", "epe: 1.2"), "epe is not a depth metric of kitti-eigen (valid: abs_rel, sq_rel"),
])
def test_malformed_metrics_name_file_line_and_the_valid_range(make_catalog, edit, expected):
    root = make_catalog([paper_dict("smith2019learning", results=[row()])])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace(*edit))
    (msg,) = problems_of(root)
    assert f"smith2019learning.yaml:{line_of(path, 'metrics:')}: " in msg, msg
    assert expected in msg, msg


def test_a_row_without_a_source_is_refused(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", results=[row()])])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text("".join(ln for ln in path.read_text().splitlines(keepends=True) if "source:" not in ln))
    (msg,) = problems_of(root)
    assert f"smith2019learning.yaml:{line_of(path, '- benchmark:')}: results[0].source: missing required field 'source'" in msg
    assert "URL" in msg


@pytest.mark.parametrize("field,value,expected", [
    ("source", "README of the repo", "the source must be the URL of the page the numbers were read from"),
    ("split", "test", "'test' is not a KITTI Eigen split: use eigen"),
    ("resolution", "640*192", "write width x height, e.g. '640x192'"),
    ("supervision", "mono", "results[0].supervision"),
    ("benchmark", "kitti-2077", "results[0].benchmark"),
    ("cap", -80, "results[0].cap"),
])
def test_malformed_protocol_fields(make_catalog, field, value, expected):
    root = make_catalog([paper_dict("smith2019learning", results=[row()])])
    path = root / "papers" / "smith2019learning.yaml"
    text = path.read_text()
    old = next(ln for ln in text.splitlines() if ln.lstrip(" -").startswith(f"{field}:") and ln.startswith("  "))
    path.write_text(text.replace(old, old.split(f"{field}:")[0] + f"{field}: {json.dumps(value)}", 1))
    msgs = problems_of(root)
    assert any(f"smith2019learning.yaml:{line_of(path, f'{field}:', 2 if field == 'supervision' else 1)}:" in m
               and expected in m for m in msgs), msgs


def test_stereo_rates_are_fractions():
    with pytest.raises(ValueError, match=r"d1_all 4.55 is outside the valid range \[0, 1\] \(write 0.0455"):
        ResultRow.model_validate(row(benchmark="kitti-2015", split="test", ground_truth="dataset", supervision="S",
                                     region="all", metrics={"d1_all": 4.55}))


# --------------------------------------------------------------------------- protocols


def test_the_protocol_is_part_of_the_key():
    a = ResultRow.model_validate(row())
    assert protocol_id(a) == protocol_id(ResultRow.model_validate(row(model="another row")))
    for over in ({"cap": 50}, {"median_scaling": False}, {"median_scaling": None}, {"resolution": "1024x320"},
                 {"supervision": "MS"}, {"ground_truth": "improved", "split": "eigen_benchmark"},
                 {"test_time_refinement": True}, {"post_processing": True}, {"resolution": None}):
        b = ResultRow.model_validate(row(**over))
        assert protocol_id(b) != protocol_id(a), over
        assert b.protocol_key() != a.protocol_key()
    assert "not stated" in dict(ResultRow.model_validate(row(cap=None)).protocol_table())["depth cap"]


@pytest.fixture
def res_catalog(make_catalog):
    def p(key, year, losses, abs_rel, sup="M", **over):
        return paper_dict(key, title=f"Paper {key}", year=year, losses=losses,
                          results=[row(supervision=sup, metrics={"abs_rel": abs_rel, "a1": 1 - abs_rel * 1.1,
                                                                  "a2": 0.96, "a3": 0.98}, **over)])
    return make_catalog([
        p("a2019one", 2019, ["l1", "ssim", "min_reprojection"], 0.115),
        p("b2019two", 2019, ["l1", "ssim"], 0.130),
        p("c2019three", 2019, ["l1", "ssim", "min_reprojection"], 0.112),
        p("d2019four", 2019, ["l1", "ssim"], 0.128, sup="MS"),
        p("e2020five", 2020, ["l1", "ssim", "min_reprojection"], 0.105),
        p("f2020six", 2020, ["l1"], 0.125),
        paper_dict("g2021seven", title="Paper g2021seven", year=2021, losses=["l1", "min_reprojection"],
                   results=[row(metrics={"abs_rel": 0.101, "a1": 0.89}), row(resolution="1024x320", metrics={"abs_rel": 0.099}),
                            row(benchmark="kitti-2015", split="test", ground_truth="dataset", supervision="S", region="all",
                                cap=None, median_scaling=None, resolution=None, metrics={"d1_all": 0.0455})]),
    ])


def test_filter_results_applies_catalog_filters_and_sorts(res_catalog):
    cat = load_catalog(res_catalog)
    df = filter_results(cat, benchmark="kitti-eigen", losses=["min_reprojection"], supervision="M", sort="abs_rel")
    assert list(df["key"]) == ["g2021seven", "g2021seven", "e2020five", "c2019three", "a2019one"]
    assert list(df["abs_rel"]) == sorted(df["abs_rel"])
    pid = protocol_id(ResultRow.model_validate(row()))
    df = filter_results(cat, protocol=pid, sort="a1")
    assert set(df["protocol_id"]) == {pid} and "g2021seven" in set(df["key"])
    assert list(df["a1"]) == sorted(df["a1"], reverse=True)  # higher is better for the deltas
    # the paper's vocabulary and the row's are both accepted
    assert set(filter_results(cat, supervision="MS")["key"]) == {"d2019four"}
    assert len(filter_results(cat, supervision="mono-video")) == 9
    assert set(filter_results(cat, benchmark="kitti-2015")["key"]) == {"g2021seven"}
    assert math.isnan(filter_results(cat, benchmark="kitti-2015")["abs_rel"].iloc[0])
    with pytest.raises(Exception, match="benchmark"):
        filter_results(cat, benchmark="kitti-2077")
    with pytest.raises(Exception, match="sort column"):
        filter_results(cat, sort="accuracy")
    assert [p["rows"] for p in protocols(filter_results(cat))] == [1, 6, 1, 1]


def test_loss_term_comparison_is_year_matched_and_counts_papers(res_catalog):
    cat = load_catalog(res_catalog)
    c = loss_term_comparison(cat, min_papers=2)
    assert "Observational" in c["caveat"]
    (proto,) = c["protocols"]  # only the shared protocol has 2 + 2 papers
    assert proto["papers"] == 6
    mr = next(t for t in proto["terms"] if t["term"] == "min_reprojection")
    # 2019-2020 bin: with = a, c, e, g? no: g is 2021 (bin 2020-2021); years // 2 -> 2019: 1009, 2020: 1010, 2021: 1010
    # bin 1009 (2018-2019): with a .115, c .112 (median .1135), without b .130 (d is MS: another protocol)
    # bin 1010 (2020-2021): with e .105, g .101 (median .103), without f .125
    expected = ((0.1135 - 0.130) * 1 + (0.103 - 0.125) * 1) / 2
    assert mr["difference"] == pytest.approx(expected)
    assert (mr["papers_with"], mr["papers_without"], mr["years"]) == (4, 2, 2)
    assert all(t["papers_with"] >= 2 and t["papers_without"] >= 2 for t in proto["terms"])
    assert c["left_out"] == []


def test_papers_tagged_from_an_abstract_stay_out_of_the_comparison(res_catalog):
    path = res_catalog / "papers" / "f2020six.yaml"
    path.write_text(path.read_text().replace("l1: paper", "l1: abstract").replace("evidence:\n", "evidence:\n  abstract: https://example.org/abs\n", 1))
    cat = load_catalog(res_catalog)
    assert cat.papers["f2020six"].losses == {"l1": "abstract"}
    c = loss_term_comparison(cat, min_papers=2)
    assert c["left_out"] == ["f2020six"]
    # without f2020six, 2020-2021 has no paper without min_reprojection, and 2018-2019 only one (b2019two)
    (proto,) = c["protocols"]
    assert proto["papers"] == 5 and not any(t["term"] == "min_reprojection" for t in proto["terms"])


# --------------------------------------------------------------------------- the command


def test_cli_results_json_equals_filter_results(res_catalog):
    r = runner.invoke(app, ["results", "--benchmark", "kitti-eigen", "--loss", "min_reprojection", "--supervision", "M",
                            "--sort", "abs_rel", "--format", "json", "--catalog", str(res_catalog)])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    df = filter_results(load_catalog(res_catalog), benchmark="kitti-eigen", losses=["min_reprojection"], supervision="M",
                        sort="abs_rel")
    assert [(g["key"], g["abs_rel"], g["protocol_id"]) for g in got] == list(zip(df["key"], df["abs_rel"], df["protocol_id"]))


def test_cli_results_csv_table_and_compare(res_catalog):
    r = runner.invoke(app, ["results", "-b", "kitti-2015", "--format", "csv", "--catalog", str(res_catalog)])
    assert r.exit_code == 0, r.output
    (rec,) = list(csv.DictReader(io.StringIO(r.output)))
    assert rec["key"] == "g2021seven" and float(rec["d1_all"]) == 0.0455 and rec["source"].startswith("https://")
    r = runner.invoke(app, ["results", "--loss", "census", "--catalog", str(res_catalog)])
    assert r.exit_code == 0 and "0 result rows" in r.output
    r = runner.invoke(app, ["results", "--compare", "--format", "json", "--catalog", str(res_catalog)])
    assert r.exit_code == 0 and json.loads(r.output)["metric"] == "abs_rel"
    r = runner.invoke(app, ["results", "--compare", "--catalog", str(res_catalog)])
    assert r.exit_code == 0 and "Observational" in r.output


@pytest.mark.parametrize("args,expected", [
    (["--benchmark", "kitti-2077"], "kitti-2077"),
    (["--sort", "accuracy"], "accuracy"),
    (["--format", "bib"], "--format bib is for papers"),
    (["--compare", "--metric", "speed"], "--metric 'speed'"),
])
def test_cli_results_bad_arguments(res_catalog, args, expected):
    r = runner.invoke(app, ["results", *args, "--catalog", str(res_catalog)])
    assert r.exit_code == 2
    assert expected in r.output
