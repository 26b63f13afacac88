"""The `sins` command: output formats, exit codes and messages a user sees."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import bibtexparser
import pytest
from typer.testing import CliRunner

from sins.catalog import filter_papers, load_catalog
from sins.cli import app
from tests.conftest import ROOT, paper_dict

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def cat_dir(make_catalog):
    return make_catalog([
        paper_dict("aa2017one", title="Stereo census network", losses=["census", "ssim"], supervision="stereo-pairs", input="stereo-pair", year=2017, arxiv="1701.00001"),
        paper_dict("bb2018two", title="Monocular video depth", losses=["l1", "ssim", "smoothness_edge_aware"], year=2018),
        paper_dict("cc2020three", title="Edge aware only", losses=["smoothness_edge_aware", "l1"], year=2020, domains=["medical"]),
    ])


def test_help_on_every_command():
    for args in (["--help"], ["papers", "--help"], ["catalog", "--help"], ["catalog", "validate", "--help"], ["catalog", "stats", "--help"],
                 ["catalog", "add", "--help"], ["catalog", "import-bib", "--help"], ["catalog", "export-bib", "--help"]):
        r = run(*args)
        assert r.exit_code == 0 and "Usage" in r.output, args


def test_papers_csv_and_and_or(cat_dir):
    r = run("papers", "--loss", "ssim", "--loss", "smoothness_edge_aware", "--format", "csv", "--catalog", cat_dir)
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [x["key"] for x in rows] == ["bb2018two"]
    assert {"key", "title", "year", "venue", "supervision", "input", "losses", "evidence", "arxiv"} <= set(rows[0])
    r = run("papers", "--loss", "ssim", "--loss", "smoothness_edge_aware", "--any", "--format", "csv", "--catalog", cat_dir)
    assert [x["key"] for x in csv.DictReader(io.StringIO(r.stdout))] == ["aa2017one", "bb2018two", "cc2020three"]
    assert rows[0]["evidence"] == "l1=paper;ssim=paper;smoothness_edge_aware=paper"
    r = run("papers", "--loss", "ssim", "--evidence", "code", "--format", "csv", "--catalog", cat_dir)
    assert r.exit_code == 0 and list(csv.DictReader(io.StringIO(r.stdout))) == []
    r = run("papers", "--loss", "ssim", "--evidence", "memory", "--catalog", cat_dir)
    assert r.exit_code == 2 and "unknown evidence level 'memory'" in r.output


def test_papers_json_and_bib(cat_dir):
    r = run("papers", "--input", "stereo-pair", "--format", "json", "--catalog", cat_dir)
    data = json.loads(r.stdout)
    assert [d["key"] for d in data] == ["aa2017one"] and data[0]["arxiv"] == "1701.00001" and data[0]["losses"] == ["census", "ssim"]
    r = run("papers", "--year", "2018-", "--format", "bib", "--catalog", cat_dir)
    lib = bibtexparser.parse_string(r.stdout)
    assert sorted(e.key for e in lib.entries) == ["bb2018two", "cc2020three"]


def test_papers_table(cat_dir):
    r = run("papers", "--domain", "medical", "--catalog", cat_dir)
    assert r.exit_code == 0 and "cc2020three" in r.stdout and "1 paper" in r.stdout


def test_malformed_year_exits_2_with_accepted_forms(cat_dir):
    r = run("papers", "--year", "20x", "--catalog", cat_dir)
    assert r.exit_code == 2
    assert "'2019', '2017-2020', '2018-'" in r.output


def test_unknown_loss_exits_2_with_suggestion(cat_dir):
    r = run("papers", "--loss", "censsus", "--catalog", cat_dir)
    assert r.exit_code == 2 and "did you mean 'census'" in r.output


def test_validate_misspelt_loss_exits_1_with_file_line_suggestion(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", root)
    path = root / "papers" / "godard2017unsupervised.yaml"
    text = path.read_text().replace("smoothness_edge_aware", "smoothnes_edge_aware")
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("losses:"))
    r = run("catalog", "validate", root)
    assert r.exit_code == 1
    assert f"godard2017unsupervised.yaml:{line}: losses.smoothnes_edge_aware: unknown loss term 'smoothnes_edge_aware' (did you mean 'smoothness_edge_aware'" in r.output


def test_validate_real_catalog_ok():
    r = run("catalog", "validate", ROOT / "catalog")
    assert r.exit_code == 0 and "valid" in r.output


def test_stats_json_agrees_with_filters(cat_dir):
    r = run("catalog", "stats", "--format", "json", "--catalog", cat_dir)
    s = json.loads(r.stdout)
    assert s["total"] == 3 and s["losses"]["ssim"] == 2 and s["by_input"]["stereo-pair"] == 1 and s["by_supervision"]["stereo-pairs"] == 1
    assert s["cooccurrence"]["l1"]["smoothness_edge_aware"] == 2
    assert s["by_year"]["2018"]["mono-video"] == 1
    cat = load_catalog(cat_dir)
    for loss, n in s["losses"].items():
        assert n == len(filter_papers(cat, losses=[loss]))
    r = run("catalog", "stats", "--catalog", cat_dir)
    assert r.exit_code == 0 and "Papers per year and training signal" in r.stdout


def test_add_scaffolds_a_file_then_validate_lists_what_to_fill(cat_dir):
    r = run("catalog", "add", "--title", "A New Paper", "--author", "Ann Smith", "--author", "Bo Li", "--year", "2022",
            "--venue", "arXiv", "--arxiv", "2201.00001", "--loss", "ssim=abstract", "--catalog", cat_dir)
    assert r.exit_code == 0, r.output
    path = cat_dir / "papers" / "smith2022new.yaml"
    assert path.exists()
    r = run("catalog", "validate", cat_dir)
    assert r.exit_code == 1 and "smith2022new.yaml" in r.output and "summary" in r.output
    r = run("catalog", "add", "--title", "X", "--author", "A B", "--year", "2022", "--loss", "ssimm=code", "--catalog", cat_dir)
    assert r.exit_code == 2 and "did you mean 'ssim'" in r.output


def test_import_bib_writes_drafts_and_reports(cat_dir, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@inproceedings{new2019paper, title={A {New} Paper}, author={Smith, Ann}, booktitle={ICCV 2019}, year={2019}, pages={1--9}}\n"
        "@misc{dup, title={Stereo census network}, author={A B}, year={2017}, eprint={1701.00001}}\n"
        "@article{bad, title={x}, author={A B}}\n"
    )
    r = run("catalog", "import-bib", bib, "--catalog", cat_dir)
    assert r.exit_code == 1  # one entry could not be imported
    assert "refs.bib:1: new2019paper: fields not mapped to the catalog (kept out, listed here): pages" in r.output
    assert "refs.bib:2: dup: already in the catalog (same arXiv id as 'aa2017one')" in r.output
    assert "refs.bib:3: bad: not imported" in r.output
    draft = (cat_dir / "papers" / "new2019paper.yaml").read_text()
    assert "title: A New Paper" in draft and "Ann Smith" in draft


def test_export_bib_to_file(cat_dir, tmp_path):
    out = tmp_path / "x.bib"
    r = run("catalog", "export-bib", "--loss", "l1", "-o", out, "--catalog", cat_dir)
    assert r.exit_code == 0
    assert sorted(e.key for e in bibtexparser.parse_string(out.read_text()).entries) == ["bb2018two", "cc2020three"]


def test_console_script_runs(cat_dir):
    r = subprocess.run([sys.executable, "-m", "sins.cli", "papers", "--loss", "census", "--format", "json", "--catalog", str(cat_dir)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["key"] == "aa2017one"


def test_committed_json_schema_is_current():
    r = run("catalog", "schema")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == json.loads((ROOT / "catalog" / "paper.schema.json").read_text())
    assert "losses" in json.loads(r.stdout)["properties"]
