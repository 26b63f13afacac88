"""Page generation without a browser."""

from __future__ import annotations

import html
import json
import re

import pytest

from sins.site import esc, load_results

from .conftest import HOSTILE_KEY


def test_esc_neutralises_html_and_markdown():
    out = esc('<script>"x" **b** [l](u) & _i_')
    for bad in "<>\"*[]()_":
        assert bad not in out
    assert "&lt;script&gt;" in out and "&amp;" in out


def test_load_results_is_tolerant(tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "summary.json").write_text(json.dumps({"title": "T", "tests": ["ssim"], "verdict": "diverges", "figures": "nope"}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    (tmp_path / "empty").mkdir()
    res = load_results(tmp_path)
    assert list(res) == ["good"]
    assert res["good"]["tests"] == ["ssim"] and res["good"]["figures"] == [] and res["good"]["numbers"] == {}
    assert load_results(tmp_path / "missing") == {}


def test_built_pages(built_site, test_catalog):
    from sins.catalog import load_catalog

    cat = load_catalog(test_catalog)
    for key in cat.papers:
        assert (built_site / "papers" / key / "index.html").is_file()
    for tid in cat.taxonomy.losses:
        assert (built_site / "taxonomy" / "losses" / tid / "index.html").is_file()
    ssim = (built_site / "taxonomy" / "losses" / "ssim" / "index.html").read_text()
    assert "Not yet tested" in ssim and "<math" in ssim
    assert "No results yet" in (built_site / "experiments" / "index.html").read_text()
    assert (built_site / "stats" / "by_year.png").stat().st_size > 1000
    home = (built_site / "index.html").read_text()
    assert f"<strong>{len(cat.papers)}</strong> papers" in home
    data = json.loads((built_site / "assets" / "catalog.json").read_text())
    assert sorted(p["key"] for p in data["papers"]) == sorted(cat.papers)
    beta = next(p for p in data["papers"] if p["key"] == "beta2017video")
    assert beta["evidence"] == {"l1": "code", "ssim": "code", "smoothness_edge_aware": "code"}
    assert beta["supervision"] == "mono-video" and beta["input"] == "single-image"


def test_pages_show_the_evidence_of_each_tag(built_site):
    page = (built_site / "papers" / "beta2017video" / "index.html").read_text()
    assert 'class="sins-ev sins-ev-code"' in page and "official code" in page
    assert 'href="https://github.com/a/b/blob/0123abcd/train.py#L10-L30"' in page
    assert "Training signal" in page and "time input" in page
    alpha = (built_site / "papers" / "alpha2016stereo" / "index.html").read_text()
    assert "sins-ev-paper" in alpha and "sins-ev-abstract" in alpha and "Sec. 3, Eq. 2" in alpha
    term = (built_site / "taxonomy" / "losses" / "ssim" / "index.html").read_text()
    assert "2 official code, 1 paper text, 1 abstract only" in term
    assert 'href="../../../survey/?loss=ssim"' in term
    multi = (built_site / "taxonomy" / "inputs" / "multi-frame" / "index.html").read_text()
    assert "Paper gamma2018census" in multi


def test_hostile_strings_are_escaped_in_html(built_site):
    boards = sorted((built_site / "leaderboards" / "kitti-eigen").glob("*/index.html"))
    assert len(boards) == 2  # the shared protocol and gamma2018census's 1024x320 row
    for f in [built_site / "papers" / HOSTILE_KEY / "index.html", built_site / "taxonomy" / "losses" / "l1" / "index.html",
              built_site / "search" / "search_index.json", *boards]:
        text = f.read_text()
        assert "<script>window.__pwned" not in text and "<img src=x" not in text and "<iframe" not in text, f
    # no external resources in any page
    for f in built_site.rglob("*.html"):
        text = f.read_text()
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, f


def test_experiment_results_show_verdicts(test_catalog, tmp_path):
    from sins.site import build_site

    res = tmp_path / "results" / "ssim-probe"
    res.mkdir(parents=True)
    (res / "fig.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (res / "summary.json").write_text(json.dumps({"name": "ssim-probe", "title": "SSIM probe", "tests": ["ssim"], "verdict": "diverges",
                                                  "command": "sins run ssim-probe", "figures": ["fig.png", "../../escape.png"], "numbers": {"epe": 1.5},
                                                  "variants": {"warm_up": {"verdict": "consistent", "overrides": {"loss": {"l1": 1.0}}}}}))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results")
    exp = html.unescape((out / "experiments" / "index.html").read_text())
    assert "diverges" in exp and 'href="../experiments/ssim-probe/"' in exp
    one = html.unescape((out / "experiments" / "ssim-probe" / "index.html").read_text())
    assert "sins run ssim-probe" in one and "diverges" in one and 'src="fig.png"' in one
    assert (out / "experiments" / "ssim-probe" / "fig.png").is_file()
    assert not (out / "escape.png").exists() and not list(out.rglob("escape.png"))
    for page in (out / "taxonomy" / "losses" / "ssim" / "index.html", out / "papers" / "delta2019both" / "index.html"):
        text = html.unescape(page.read_text())  # the global verdict, then each variant's
        assert re.search(r">diverges</span> \(variants: <code>warm_up</code> <span[^>]*>consistent</span>\)", text), page


def test_a_verdict_trained_again_from_nothing_is_shown_beside_the_committed_one(test_catalog, tmp_path):
    from sins.site import build_site

    res = tmp_path / "results" / "ssim-probe"
    res.mkdir(parents=True)
    (res / "summary.json").write_text(json.dumps({"name": "ssim-probe", "title": "SSIM probe", "tests": ["ssim"], "verdict": "consistent",
                                                  "profile": "standard", "variants": {"warm_up": {"verdict": "diverges"}}}))
    calls = {"from_scratch": {"ssim-probe,other": {
        "date": "2026-12-04", "commit": "abc1234", "machine": "CPU X", "jobs": 2, "wall_s": 60.0, "projected_s": 55.0,
        "experiments": {"ssim-probe": {"runs": 10, "records_compared": 10, "max_abs_diff": 0.5, "max_final_rel_diff": 0.25,
                                       "verdicts": {"base": ["inconclusive", "consistent"], "warm_up": ["diverges", "diverges"]},
                                       "per_cause": {"base": {"occluded": ["diverges", "inconclusive"], "specular": ["consistent", "consistent"]}}},
                        "other": {"runs": 5, "records_compared": 5, "max_abs_diff": 0.0, "max_final_rel_diff": 0.0,
                                  "verdicts": {"base": ["consistent", "consistent"]}}}}}}
    reruns = tmp_path / "seeds.json"
    reruns.write_text(json.dumps(calls))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results", reruns=reruns)
    one = " ".join(html.unescape((out / "experiments" / "ssim-probe" / "index.html").read_text()).split())
    assert 'id="reruns"' in one and "--from-scratch ssim-probe" in one and "largest relative change of a run's final error: 25%" in one
    rows = re.findall(r"<tr><td>(base|warm_up)</td>(.*?)</tr>", one.split('id="reruns"')[1].split("Per cause (the newest")[0])
    assert [r[0] for r in rows] == ["base", "warm_up"]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", rows[0][1])]
    assert cells[:6] == ["inconclusive", "consistent", "consistent", "no", "2026-12-04", "abc1234"]
    assert "yes" in re.sub(r"<[^>]+>", " ", rows[1][1]).split()
    causes = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row)]
              for row in re.findall(r"<tr>(<td>base</td><td>(?:occluded|specular)</td>.*?)</tr>", one)]
    assert causes == [["base", "occluded", "diverges", "inconclusive", "no", "2026-12-04"],
                      ["base", "specular", "consistent", "consistent", "yes", "2026-12-04"]]
    exp = " ".join(html.unescape((out / "experiments" / "index.html").read_text()).split())
    # 'other' has no committed result here: only the experiments on the site are counted
    assert "1 of 2 configurations kept their global verdict" in exp.replace("<strong>", "").replace("</strong>", "")
    assert "(1 experiment): 1 of 2 verdicts inside a cause mask kept" in exp.replace("<strong>", "").replace("</strong>", "")
    table = exp.split('id="reruns-table"')[1].split("</table>")[0]
    assert "ssim-probe" in table and "warm_up" not in table
    for page in (out / "taxonomy" / "losses" / "ssim" / "index.html", out / "papers" / "delta2019both" / "index.html"):
        text = html.unescape(page.read_text())
        assert re.search(r'href="[./]*experiments/ssim-probe/#reruns"[^>]*>trained again: <span[^>]*>inconclusive</span>', text), page
    # another results folder shows no rerun unless one is named; a broken file is an error that names it
    plain = build_site(tmp_path / "plain", test_catalog, tmp_path / "results")
    assert 'id="reruns"' not in (plain / "experiments" / "ssim-probe" / "index.html").read_text()
    reruns.write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(str(reruns)) + ": not valid JSON"):
        build_site(tmp_path / "broken", test_catalog, tmp_path / "results", reruns=reruns)


def test_mixed_profiles_say_which_results_are_the_reference(test_catalog, tmp_path):
    from sins.site import build_site

    for name, profile in (("ssim-probe", "standard"), ("l1-probe", "quick")):
        res = tmp_path / "results" / name
        res.mkdir(parents=True)
        (res / "summary.json").write_text(json.dumps({"name": name, "title": name, "tests": ["ssim"], "verdict": "consistent",
                                                      "profile": profile, "seeds": [0, 1, 2, 3, 4], "heldout_scenes": 16,
                                                      "command": f"sins experiments run {name} --profile {profile}"}))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results")
    exp = html.unescape((out / "experiments" / "index.html").read_text())
    assert "1 of 2 experiments show the standard profile's reference results" in " ".join(exp.split()).replace("<strong>", "").replace("</strong>", "")
    assert "The others (l1-probe) still show the" in exp and "sins experiments run --profile standard" in exp
    table = exp.split('id="experiments-table"')[1].split("</table>")[0]
    assert "<td>standard</td>" in table and "<td>quick</td>" in table


def test_a_result_trained_in_bfloat16_says_so(test_catalog, tmp_path):
    """A summary whose runs trained in mixed precision names it on its page and in the index; a float32 one does
    not (its summary has no precision field)."""
    from sins.site import build_site

    for name, precision in (("ssim-probe", "bfloat16"), ("l1-probe", None)):
        res = tmp_path / "results" / name
        res.mkdir(parents=True)
        body = {"name": name, "title": name, "tests": ["ssim"], "verdict": "consistent", "profile": "standard",
                "seeds": [0, 1, 2, 3, 4], "heldout_scenes": 16, "command": f"sins experiments run {name} --profile standard"}
        (res / "summary.json").write_text(json.dumps({**body, **({"precision": precision} if precision else {})}))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results")
    page = " ".join(html.unescape((out / "experiments" / "ssim-probe" / "index.html").read_text()).split())
    assert "profile standard (trained in bfloat16 mixed precision), seeds" in page
    assert "mixed precision" not in (out / "experiments" / "l1-probe" / "index.html").read_text()
    table = html.unescape((out / "experiments" / "index.html").read_text()).split('id="experiments-table"')[1]
    assert "<td>standard, bfloat16</td>" in table and "<td>standard</td>" in table


def test_a_real_pair_case_study_shows_its_numbers_and_no_verdict(test_catalog, tmp_path):
    from sins.experiments.runner import case_study_reason
    from sins.site import build_site

    res = tmp_path / "results" / "pair-probe"
    res.mkdir(parents=True)
    pull = {"start": [3.0, 3.2, 3.1], "selected": [3.1, 3.3, 3.2], "final": [3.4, 3.5, 3.3], "pull_mean": 0.3,
            "pull_low": 0.1, "pull_high": 0.5, "pulled_away": None, "seeds": 3}
    (res / "summary.json").write_text(json.dumps({
        "name": "pair-probe", "title": "Pair probe", "tests": ["ssim"], "verdict": "not judged", "profile": "standard",
        "case_study": case_study_reason(1), "reason": case_study_reason(1), "seeds": [0, 1, 2], "heldout_scenes": 1,
        "numbers": {"mean_excess": 0.25}, "finetune": {"pretrain_steps": 4, "global": pull, "per_cause": {}}}))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results")
    one = " ".join(html.unescape((out / "experiments" / "pair-probe" / "index.html").read_text()).split())
    assert "Verdict: <span" in one and ">not judged</span> — one real pair: 1 held-out region" in one
    assert "Case study on one real pair" in one and "1 held-out region of one pair" in one and "0.25" in one
    assert "The measured numbers (no verdict)" in one and "The numbers behind the verdict" not in one
    row = one.split("<td>global</td>")[1].split("</tr>")[0]
    assert "not judged" in row and ">yes<" not in row  # an interval over seeds on one pair decides nothing
    exp = " ".join(html.unescape((out / "experiments" / "index.html").read_text()).split())
    assert "Real data, one pair:" in exp and 'href="../experiments/pair-probe/"' in exp


def test_seed_table_has_a_row_per_run_of_every_configuration(test_catalog, tmp_path):
    from sins.site import build_site

    res = tmp_path / "results" / "pose-probe"
    res.mkdir(parents=True)

    def seed(err, cos):
        return {"best_error": err, "final_error": err, "final_pose_t_cos": cos, "failed": ""}

    (res / "summary.json").write_text(json.dumps({
        "name": "pose-probe", "title": "Pose probe", "tests": ["ssim"], "verdict": "inconclusive", "profile": "standard",
        "seeds": [0, 1], "heldout_scenes": 16, "per_seed": [seed(0.41, 0.996), seed(1.23, 0.133)],
        "variants": {"without_mask": {"verdict": "inconclusive", "overrides": {"loss": {"auto_mask": False}},
                                      "per_seed": [seed(0.45, 0.9971), seed(0.46, 0.9962)]}}}))
    import gzip

    (res / "runs").mkdir()  # one committed record: its row gets the share of its loss fall in the last quarter
    hist = [{"heldout_lsyn_trained": v} for v in (1.0, 0.6, 0.5, 0.45, 0.2)]
    (res / "runs" / "without_mask-s1.json.gz").write_bytes(gzip.compress(json.dumps({"history": hist}).encode()))
    out = build_site(tmp_path / "out", test_catalog, tmp_path / "results")
    one = " ".join(html.unescape((out / "experiments" / "pose-probe" / "index.html").read_text()).split())
    table = one.split('id="each-seed"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 4 and "configuration" in table
    assert [r.split("<td>")[1].split("</td>")[0] for r in rows] == ["base", "base", "without_mask", "without_mask"]
    assert "0.133" in rows[1] and "0.9962" in rows[3] and "translation cosine" in table
    assert "L_syn fall in the last quarter" in table
    cells = [[c.split("</td>")[0] for c in r.split("<td>")[1:]] for r in rows]
    assert any(c.startswith("0.31") for c in cells[3]), cells[3]  # (0.45 - 0.2) / 0.8 = 0.3125
    assert not any(c.startswith("0.31") for r in cells[:3] for c in r)  # no record, no share


def test_bibtex_block_keeps_its_lines(built_site, test_catalog):
    from sins.catalog import load_catalog
    from sins.catalog.bibtex import paper_to_bibtex

    page = (built_site / "papers" / "alpha2016stereo" / "index.html").read_text()
    code = page.split('<code id="bib-alpha2016stereo">')[1].split("</code>")[0]
    assert html.unescape(code).strip() == paper_to_bibtex(load_catalog(test_catalog).papers["alpha2016stereo"]).strip()


def test_leaderboard_pages_and_their_data(built_site, test_catalog):
    import json

    from sins.catalog import load_catalog
    from sins.catalog.results import filter_results

    data = json.loads((built_site / "assets" / "results.json").read_text())
    df = filter_results(load_catalog(test_catalog))
    assert [(r["key"], r["protocol_id"]) for r in data["rows"]] == list(zip(df["key"], df["protocol_id"]))
    assert all(r["source"].startswith("https://") and r["metrics"] for r in data["rows"])
    index = (built_site / "leaderboards" / "index.html").read_text()
    assert "KITTI 2015 stereo" in index and "What the loss terms buy" in index and "Observational" in index
    # without JavaScript the table is still there, sorted by AbsRel, the hostile model name as text
    pid = df[df["key"] == "eps2021med"]["protocol_id"].iloc[0]
    board = (built_site / "leaderboards" / "kitti-eigen" / pid / "index.html").read_text()
    noscript = board.split("<noscript>")[1].split("</noscript>")[0]
    assert noscript.index("Paper eps2021med") < noscript.index("Paper beta2017video")
    assert "&lt;img src=x onerror=" in noscript and "example.org/paper" in noscript


def test_method_page_table_of_where_the_causes_exist(tmp_path):
    from sins.site.generate import cause_existence_table

    assert "No analysis is committed yet" in cause_existence_table(tmp_path)
    a = tmp_path / "analysis"
    a.mkdir()
    rows = [{"domain": "street", "size": [96, 192], "occluded_pixels": 184.32}, {"domain": "indoor", "size": [96, 192],
                                                                                 "occluded_pixels": 552.96}]
    diffs = {"occluded": {"scenes": 2, "mean_difference": 0.85, "low": 0.8, "high": 0.9, "mean_cause_misleading": 0.87,
                          "mean_clean_misleading": 0.013}}
    (a / "summary.json").write_text(json.dumps({"cause_scenes": rows, "cause_differences": diffs}))
    text = cause_existence_table(tmp_path)
    assert "Measured on 2 procedural scenes at 96 x 192 pixels" in text and "in 2 domains" in text
    assert "| occluded | 2 | 2.0% | 87.0% | 1.3% | +0.850 [+0.800, +0.900] |" in text


def test_method_page_table_of_pose_learning_is_computed_from_the_summaries(tmp_path):
    from sins.experiments.evaluation import pose_learnt
    from sins.site.generate import pose_learning_table

    assert "No committed result measures a pose network" in pose_learning_table(tmp_path)
    assert pose_learnt(0.96, 0.6) is True and pose_learnt(0.99, 0.3) is False and pose_learnt(0.5, 0.9) is False
    assert pose_learnt(None, 0.8) is None and pose_learnt(float("nan"), 0.8) is None

    def seed(cos, ratio, err, failed=""):
        return {"final_pose_t_cos": cos, "final_pose_t_ratio": ratio, "final_error": err, "baseline_error": 0.58,
                "failed": failed}

    video = {"profile": "standard", "seeds": [0, 1, 2, 3, 4],
             "per_seed": [seed(0.996, 0.78, 0.43), seed(0.997, 0.83, 0.42), seed(0.13, 0.15, 1.24),
                          seed(0.96, 0.27, 1.19), seed(0.96, 0.19, 1.13, "best error not 10% below a constant's")],
             "variants": {"without_auto_mask": {"per_seed": [seed(0.99, 0.7, 0.45)] * 4 + [seed(-0.89, 0.44, 1.12)]}}}
    stereo = {"profile": "standard", "per_seed": [{"final_error": 1.2, "failed": ""}]}
    for name, summary in (("vid", video), ("st", stereo)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(summary))
    from sins.experiments.runner import keep_record

    # the starting cosines come from the committed run records (step 0); a run without one is left out of them
    for run, start in (("base-s0", 0.8), ("base-s1", 0.7), ("base-s2", 0.04), ("base-s3", 0.6), ("without_auto_mask-s4", -0.3)):
        keep_record(tmp_path / "vid" / "runs" / f"{run}.json.gz",
                    {"history": [{"step": 0, "pose_t_cos": start}, {"step": 40, "pose_t_cos": 0.9}]})
    text = pose_learning_table(tmp_path)
    assert "| [vid](experiments/vid.md) | base | standard | 0–1 | 2–4 | 0.13 to 1.00 | 0.15 to 0.83 | 0.42 to 0.43 | " \
           "1.13 to 1.24 | 0.58 | 4 | 0.70 to 0.80 | 0.04 to 0.60 |" in text
    assert "| [vid](experiments/vid.md) | without_auto_mask | standard | 0–3 | 4 | -0.89 to 0.99 | 0.44 to 0.70 | 0.45 | " \
           "1.12 | 0.58 | — | — | -0.30 |" in text
    assert "Over the 5 runs with a committed record" in text
    assert "cosine of at least 0.5 to the true one learnt the motion in 2 of 3 runs; those that started below it, in 0 of 2" in text
    assert "[st]" not in text  # a stereo experiment has no pose network
    assert "cosine of at least 0.95" in text and "at least 0.5 of its length" in text


def test_method_page_convergence_table_reads_the_committed_run_records(tmp_path):
    import gzip

    from sins.site.generate import convergence_table, late_fall

    assert late_fall([1.0, 0.5, 0.3, 0.25, 0.2]) == pytest.approx((0.25 - 0.2) / 0.8)  # 3/4 of 4 steps: index 3
    assert late_fall([1.0, 1.1, 1.2, 1.3]) is None  # never fell: a failed run
    assert late_fall([1.0, 0.5]) is None  # too short to say
    assert "No run records are committed yet" in convergence_table(tmp_path)

    def record(path, lsyn, err):
        hist = [{"step": 100 * i, "heldout_lsyn_trained": a, "epe": b} for i, (a, b) in enumerate(zip(lsyn, err))]
        path.write_bytes(gzip.compress(json.dumps({"history": hist}).encode()))

    runs = tmp_path / "exp" / "runs"
    runs.mkdir(parents=True)
    (tmp_path / "exp" / "summary.json").write_text(json.dumps({  # the table reads the records of the summary's runs
        "profile": "standard", "seeds": [0, 1, 2], "per_seed": [{"failed": ""}] * 3, "numbers": {"error_metric": "epe"}}))
    record(runs / "base-s0.json.gz", [1.0, 0.4, 0.3, 0.3, 0.3], [5.0, 3.0, 2.0, 2.0, 2.0])  # flat at the end
    record(runs / "base-s1.json.gz", [1.0, 0.8, 0.6, 0.5, 0.2], [5.0, 4.0, 3.0, 2.0, 1.0])  # still falling
    record(runs / "base-s2.json.gz", [1.0, 1.2, 1.3, 1.4, 1.5], [5.0, 5.0, 5.0, 5.0, 5.0])  # never fell: left out
    text = convergence_table(tmp_path)
    # s0: 0 of 0.7; s1: 0.3 of 0.8 = 37.5% (a hair below, in floats); median of the two 18.7%; errors 0 and 1/4
    assert "| [exp](experiments/exp.md) | standard | 2 | 18.7% | 37.5% | +12.5% | 1: base-s1 |" in text
    # an experiment none of whose runs fell below its start keeps its row, which says so
    dead = tmp_path / "dead" / "runs"
    dead.mkdir(parents=True)
    (tmp_path / "dead" / "summary.json").write_text(json.dumps({
        "profile": "standard", "seeds": [0, 1], "per_seed": [{"failed": "x"}] * 2, "numbers": {"error_metric": "epe"}}))
    for s in (0, 1):
        record(dead / f"base-s{s}.json.gz", [1.0, 1.2, 1.3, 1.4, 1.5], [5.0] * 5)
    text = convergence_table(tmp_path)
    assert "| [dead](experiments/dead.md) | standard | 0 of 2 (no run's synthesis loss fell below its start) |" in text
    assert "| [exp](experiments/exp.md) | standard | 2 |" in text
