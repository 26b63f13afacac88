"""BibTeX out and in: facts survive, LaTeX is decoded, nothing is dropped silently."""

from __future__ import annotations

import string

import bibtexparser
from hypothesis import given, settings
from hypothesis import strategies as st

from sins.catalog import Paper, load_catalog
from sins.catalog.bibtex import Facts, export_bibtex, facts_to_bibtex, mark_existing, parse_bibtex
from tests.conftest import ROOT

_word = st.text(alphabet=st.sampled_from(string.ascii_letters + "éüöçñÅ"), min_size=1, max_size=10)
_title = st.lists(st.one_of(_word, st.sampled_from(["&", "100%", "-", "3D", "(v2)", "on", "#1", "x_y", "$"])), min_size=1, max_size=10).map(" ".join)
_name = st.lists(_word, min_size=2, max_size=3).map(" ".join)


@st.composite
def facts(draw):
    venue = draw(st.sampled_from(["CVPR 2019", "arXiv", "IEEE RA-L", "Medical Image Analysis", "NeurIPS 2020"]))
    return Facts(
        key="k" + draw(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6)) + "2019x",
        title=draw(_title), authors=draw(st.lists(_name, min_size=1, max_size=4)), year=draw(st.integers(1990, 2026)),
        venue=venue, arxiv=draw(st.none() | st.from_regex(r"\A[0-9]{4}\.[0-9]{5}\Z")) if venue != "arXiv" else "2101.00001",
        doi=draw(st.none() | st.from_regex(r"\A10\.[0-9]{4}/[a-z0-9.]{1,10}\Z")),
        url=draw(st.none() | st.just("https://example.org/p?a=1")),
    )


@settings(max_examples=80, deadline=None)
@given(f=facts())
def test_export_import_export_is_a_fixed_point(f):
    bib = facts_to_bibtex(f)
    report = parse_bibtex(bib)
    assert report.failed == [] and len(report.entries) == 1
    entry = report.entries[0]
    assert entry.problems == [] and entry.unmapped == {}
    assert entry.facts == f
    assert facts_to_bibtex(entry.facts) == bib


def test_real_catalog_exports_parseable_bibtex():
    cat = load_catalog(ROOT / "catalog")
    bib = export_bibtex(cat.papers.values())
    lib = bibtexparser.parse_string(bib)
    assert not lib.failed_blocks
    assert sorted(e.key for e in lib.entries) == sorted(cat.papers)
    back = {e.facts.key: e.facts for e in parse_bibtex(bib).entries}
    for key, paper in cat.papers.items():
        assert back[key] == Facts.of(paper)


def test_import_decodes_latex_maps_fields_and_reports_the_rest():
    bib = r"""
@inproceedings{godard2017unsupervised,
  title = {Unsupervised Monocular Depth Estimation with {Left-Right} Consistency},
  author = {Godard, Cl{\'e}ment and Mac Aodha, Oisin and Brostow, Gabriel J.},
  booktitle = {CVPR 2017}, year = {2017}, pages = {270--279}, publisher = {IEEE},
  url = {https://arxiv.org/abs/1609.03677v3}
}
@article{Weird Key,
  title = {Depth in the {\"O}sophagus}, author = {M{\"u}ller, J{\"o}rg}, journal = {IEEE TMI}, year = {2020},
  doi = {https://doi.org/10.1109/TMI.2020.1}
}
@misc{broken, title = {No year}, author = {A B}}
@article{cut, title = {x
"""
    report = parse_bibtex(bib, "refs.bib")
    first, second, third = report.entries
    assert first.facts.authors == ["Clément Godard", "Oisin Mac Aodha", "Gabriel J. Brostow"]
    assert first.facts.title == "Unsupervised Monocular Depth Estimation with Left-Right Consistency"
    assert first.facts.arxiv == "1609.03677" and first.facts.venue == "CVPR 2017"
    assert set(first.unmapped) == {"pages", "publisher"} and first.line == 2
    assert second.facts.key == "muller2020depth" and second.facts.title == "Depth in the Ösophagus"
    assert second.facts.doi == "10.1109/TMI.2020.1"
    assert any("year" in p for p in third.problems) and any("venue" in p for p in third.problems)
    assert len(report.failed) == 1 and report.failed[0][0] == 13 and "could not parse" in report.failed[0][1]


def test_existing_entries_are_reported_not_duplicated():
    p = Paper.model_validate({
        "key": "godard2017unsupervised", "title": "T", "authors": ["A B"], "year": 2017, "venue": "CVPR 2017",
        "arxiv": "1609.03677", "supervision": "stereo-pairs", "input": "single-image", "domains": ["driving"],
        "losses": {"l1": "abstract"}, "evidence": {"abstract": "https://arxiv.org/abs/1609.03677"}, "summary": "s",
        "provenance": {"sources": ["https://arxiv.org/abs/1609.03677"]},
    })
    bib = (
        "@misc{other2017key, title={T}, author={A B}, year={2017}, eprint={1609.03677}, archiveprefix={arXiv}}\n"
        "@misc{new2018one, title={U}, author={A B}, year={2018}, eprint={1801.00001}}\n"
        "@misc{new2018two, title={U again}, author={A B}, year={2018}, eprint={1801.00001}}\n"
    )
    report = parse_bibtex(bib)
    mark_existing(report, [p])
    assert "same arXiv id as 'godard2017unsupervised'" in report.entries[0].existing
    assert report.entries[1].existing is None
    assert "new2018one" in report.entries[2].existing
    assert [e.facts.key for e in report.new] == ["new2018one"]
