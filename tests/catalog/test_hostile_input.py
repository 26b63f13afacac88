"""Catalog input that cannot hurt: alias bombs, huge values, odd keys, huge files."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from sins.catalog import check_catalog
from sins.catalog.yamlio import MAX_FILE_BYTES
from sins.cli import app
from tests.conftest import paper_dict

BOMB = """key: bomb2019yaml
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
title: *h
"""


def messages(root: Path) -> list[str]:
    return [str(p) for p in check_catalog(root)[1]]


def test_anchors_and_aliases_are_refused_before_anything_is_built(make_catalog):
    root = make_catalog()
    (root / "papers" / "bomb2019yaml.yaml").write_text(BOMB)
    t0 = time.perf_counter()
    (msg,) = messages(root)
    assert time.perf_counter() - t0 < 5
    assert "bomb2019yaml.yaml:2: YAML anchor &a at column 4: anchors and aliases are not allowed" in msg
    assert len(msg) < 400


def test_a_lone_alias_is_refused_too(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("summary: A test paper.", "summary: *undefined"))
    (msg,) = messages(root)
    assert "YAML alias *undefined" in msg


def test_text_with_ampersands_and_stars_is_still_fine(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", title="Depth & Motion: *the* R&D of *nets*",
                                    summary="Uses &amp; and * freely; a*b & c.")])
    assert messages(root) == []


def test_every_quoted_value_is_cut_to_a_readable_length(make_catalog):
    huge = "x" * 50_000
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("supervision: mono-video", f"supervision: {huge}")
                    .replace("year: 2019", f"year: {huge}").replace("venue: CVPR 2019", f"venue: CVPR 2019\n{'k' * 1000}: 1"))
    msgs = messages(root)
    assert msgs and all(len(m) < 1500 for m in msgs), [len(m) for m in msgs]
    assert any("more characters" in m for m in msgs)


def test_a_file_larger_than_the_limit_is_refused_with_its_size(make_catalog):
    root = make_catalog()
    big = root / "papers" / "big2019file.yaml"
    big.write_text("key: big2019file\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 10))
    (msg,) = messages(root)
    size = big.stat().st_size
    assert f"file is {size:,} bytes, larger than the {MAX_FILE_BYTES:,} bytes" in msg


def test_add_accepts_only_a_key_of_the_catalog_form(make_catalog, tmp_path):
    root = make_catalog()
    runner = CliRunner()
    for bad in ("../../evil2019x", "/tmp/evil2019x", "Evil2019", "evil", "a2019/b", "a2019\x00b", "."):
        r = runner.invoke(app, ["catalog", "add", "--key", bad, "--title", "T", "--author", "A B", "--year", "2019",
                                "--catalog", str(root)])
        assert r.exit_code == 2, (bad, r.output)
        assert "malformed key" in r.output
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["taxonomy.yaml"]
    assert not list(tmp_path.parent.glob("evil*")) and not Path("/tmp/evil2019x.yaml").exists()
    r = runner.invoke(app, ["catalog", "add", "--key", "good2019key", "--title", "T", "--author", "A B", "--year", "2019",
                            "--loss", "ssim=paper", "--evidence-paper", "Sec. 2", "--catalog", str(root)])
    assert r.exit_code == 0, r.output
    assert (root / "papers" / "good2019key.yaml").is_file()


def test_add_refuses_a_loss_without_its_evidence_level(make_catalog):
    root = make_catalog()
    r = CliRunner().invoke(app, ["catalog", "add", "--key", "good2019key", "--title", "T", "--author", "A B",
                                 "--year", "2019", "--loss", "ssim", "--catalog", str(root)])
    assert r.exit_code == 2 and "write ID=LEVEL, e.g. ssim=code" in r.output
