"""Queries return DataFrames and agree with a plain-Python reading of the facets."""

from __future__ import annotations

import pandas as pd
import pytest

from sins.catalog import UnknownIdError, filter_papers, load_catalog, parse_years
from tests.conftest import paper_dict


@pytest.fixture
def cat(make_catalog):
    return load_catalog(make_catalog([
        paper_dict("aa2017one", title="Stereo census network", losses=["census", "smoothness"], supervision="stereo-pairs", input="stereo-pair", year=2017, domains=["driving"], datasets=["kitti-stereo"], code="https://github.com/a/b"),
        paper_dict("bb2018two", title="Monocular video depth", losses=["l1", "ssim", "smoothness_edge_aware"], year=2018),
        paper_dict("cc2020three", title="Endoscopic depth with occlusion", losses=["l1", "ssim"], year=2020, domains=["medical"], datasets=["scared"], summary="Handles occlusion in surgery."),
        paper_dict("dd2021four", title="Census plus SSIM", losses=["ssim", "census"], year=2021, authors=["Zoe Occlusionson"]),
    ]))


def keys(df):
    return list(df["key"])


def test_frame_has_list_columns(cat):
    df = cat.frame()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert isinstance(df.loc[0, "losses"], list) and isinstance(df.loc[0, "authors"], list)
    assert {"key", "title", "year", "venue", "supervision", "input", "losses", "evidence", "arxiv"} <= set(df.columns)


def test_losses_all_versus_any(cat):
    assert keys(filter_papers(cat, losses=["ssim", "l1"])) == ["bb2018two", "cc2020three"]
    assert keys(filter_papers(cat, losses=["ssim", "census"], match="any")) == ["aa2017one", "bb2018two", "cc2020three", "dd2021four"]
    assert keys(filter_papers(cat, losses="ssim,census")) == ["dd2021four"]


def test_exclude_and_code(cat):
    assert keys(filter_papers(cat, exclude=["census"])) == ["bb2018two", "cc2020three"]
    assert keys(filter_papers(cat, has_code=True)) == ["aa2017one"]


def test_facets_and_years(cat):
    assert keys(filter_papers(cat, supervision="stereo-pairs", input="stereo-pair")) == ["aa2017one"]
    assert keys(filter_papers(cat, domain=["medical", "driving"], years=(2018, None))) == ["bb2018two", "cc2020three", "dd2021four"]
    assert keys(filter_papers(cat, dataset="scared")) == ["cc2020three"]
    assert keys(filter_papers(cat, years="2017-2018")) == ["aa2017one", "bb2018two"]
    assert keys(filter_papers(cat, years=(None, 2017))) == ["aa2017one"]


def test_text_search_is_case_insensitive_over_title_authors_summary(cat):
    assert keys(filter_papers(cat, text="OCCLUSION")) == ["cc2020three", "dd2021four"]
    assert keys(filter_papers(cat, text="occlusion surgery")) == ["cc2020three"]


def test_unknown_id_gives_did_you_mean(cat):
    with pytest.raises(UnknownIdError, match=r"unknown loss term 'censsus' \(did you mean 'census'"):
        filter_papers(cat, losses=["censsus"])
    with pytest.raises(UnknownIdError, match="unknown test-time input 'stereo'"):
        filter_papers(cat, input="stereo")
    with pytest.raises(ValueError, match="match must be"):
        filter_papers(cat, match="some")


@pytest.mark.parametrize("text,expected", [("2019", (2019, 2019)), ("2017-2020", (2017, 2020)), ("2018-", (2018, None)), ("-2018", (None, 2018)), (None, None)])
def test_parse_years(text, expected):
    assert parse_years(text) == expected


@pytest.mark.parametrize("text", ["20x", "2020-2017", "19", "2017-2018-2019", "-"])
def test_parse_years_rejects(text):
    with pytest.raises(ValueError, match="expected a year or a range"):
        parse_years(text)


def test_filter_sees_a_replaced_paper(cat):
    """The cached frame must not go stale when a paper is replaced (same number of papers)."""
    assert keys(filter_papers(cat, losses=["census"])) == ["aa2017one", "dd2021four"]
    p = cat.papers["bb2018two"]
    cat.papers["bb2018two"] = p.model_copy(update={"losses": {**p.losses, "census": "code"}})
    assert keys(filter_papers(cat, losses=["census"])) == ["aa2017one", "bb2018two", "dd2021four"]


def test_evidence_filter_counts_only_tags_backed_by_the_chosen_levels(make_catalog):
    cat = load_catalog(make_catalog([
        paper_dict("aa2017one", title="From code", code="https://github.com/a/b",
                   losses={"l1": "code", "min_reprojection": "code", "semantic": "abstract"},
                   evidence={"code": ["https://github.com/a/b/blob/abc123/loss.py#L3"], "abstract": "https://example.org/abs"}),
        paper_dict("bb2018two", title="From the text", losses={"l1": "paper", "min_reprojection": "paper"}),
        paper_dict("cc2020three", title="From the abstract", losses={"min_reprojection": "abstract"},
                   evidence={"abstract": "https://example.org/abs3"}),
    ]))
    assert keys(filter_papers(cat, losses=["min_reprojection"])) == ["aa2017one", "bb2018two", "cc2020three"]
    assert keys(filter_papers(cat, losses=["min_reprojection"], evidence="code")) == ["aa2017one"]
    assert keys(filter_papers(cat, losses=["min_reprojection"], evidence=["code", "paper"])) == ["aa2017one", "bb2018two"]
    assert keys(filter_papers(cat, losses=["semantic"], evidence="code,paper")) == []
    # exclusion drops a paper whatever the evidence behind the tag
    assert keys(filter_papers(cat, exclude=["semantic"], evidence="code")) == ["bb2018two", "cc2020three"]
    df = cat.frame()
    assert df.set_index("key").loc["aa2017one", "evidence"] == {"l1": "code", "min_reprojection": "code", "semantic": "abstract"}
    with pytest.raises(ValueError, match="unknown evidence level 'memory': use code, paper, abstract"):
        filter_papers(cat, losses=["l1"], evidence="memory")
