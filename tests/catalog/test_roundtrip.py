"""Saving is canonical: load + save of an unchanged catalog rewrites no byte."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sins.catalog import Paper, dump_paper, load_catalog, save_catalog
from sins.catalog.store import read_paper
from tests.conftest import ROOT, paper_dict

_text = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " -:,.'()&?!éüøçñ—\"#%@*[]{}|>"),
    min_size=1, max_size=80,
).map(lambda s: " ".join(s.split())).filter(bool)
_ids = lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True)  # noqa: E731


@st.composite
def papers(draw):
    year = draw(st.integers(1990, 2026))
    key = "a" + draw(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)) + str(year) + draw(st.text(alphabet=string.ascii_lowercase, max_size=6))
    return Paper.model_validate(paper_dict(
        key,
        title=draw(_text),
        authors=draw(st.lists(_text, min_size=1, max_size=5)),
        year=year,
        venue=draw(st.sampled_from(["CVPR 2019", "arXiv", "IEEE RA-L", "MICCAI 2020: workshop"])),
        arxiv=draw(st.none() | st.from_regex(r"\A[0-9]{4}\.[0-9]{5}\Z")),
        doi=draw(st.none() | st.from_regex(r"\A10\.[0-9]{4}/[A-Za-z0-9.\-]{1,12}\Z")),
        supervision=draw(st.sampled_from(["mono-video", "stereo-pairs", "other"])),
        input=draw(st.sampled_from(["single-image", "multi-frame", "stereo-pair"])),
        losses=draw(st.dictionaries(st.sampled_from(["l1", "ssim", "census", "auto_mask", "smoothness_edge_aware"]),
                                    st.sampled_from(["code", "paper", "abstract"]), min_size=1, max_size=4)),
        code="https://github.com/o/r",
        evidence={"code": ["https://github.com/o/r/blob/0123abc/loss.py#L10-L20"], "paper": ["Sec. 3, Eq. 1"],
                  "abstract": "https://example.org/abs", "notes": draw(st.sampled_from(["", "read twice"]))},
        datasets=draw(st.lists(st.sampled_from(["kitti", "scared"]), unique=True, max_size=2)),
        summary=draw(_text),
        provenance={"sources": ["https://example.org/a"],
                    "checked": draw(st.none() | st.dates()), "notes": draw(st.sampled_from(["", "checked twice"]))},
    ))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paper=papers())
def test_dump_load_dump_is_byte_identical(tmp_path_factory, paper):
    root = tmp_path_factory.mktemp("cat")
    (root / "papers").mkdir()
    text = dump_paper(paper)
    path = root / "papers" / f"{paper.key}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, _lines, probs = read_paper(path, None)
    assert probs == [] and loaded == paper
    assert dump_paper(loaded) == text


def test_saving_the_real_catalog_changes_no_byte(tmp_path):
    import shutil

    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", root)
    before = {p: p.read_bytes() for p in (root / "papers").glob("*.yaml")}
    changed = save_catalog(load_catalog(root))
    assert changed == []
    assert {p: p.read_bytes() for p in (root / "papers").glob("*.yaml")} == before


def test_words_that_yaml_1_1_reads_as_booleans_stay_text():
    from sins.catalog.yamlio import dump_ordered, parse

    data = {"title": "No", "authors": ["NO", "Yes", "On", "null", "Ann Lee"], "venue": "off"}
    text = dump_ordered(data, ["authors"])
    assert "'NO'" in text and "Ann Lee" in text and "'Ann Lee'" not in text
    loaded, probs = parse(text, "t.yaml")
    assert probs == [] and loaded == data
