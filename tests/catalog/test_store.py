"""Validation: every kind of bad input gets its own clear, located message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sins.catalog import CatalogError, check_catalog, load_catalog
from tests.conftest import ROOT, paper_dict


def problems_of(root: Path) -> list[str]:
    _cat, probs = check_catalog(root)
    return [str(p) for p in probs]


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / "papers" / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_the_real_catalog_is_valid():
    cat = load_catalog(ROOT / "catalog")
    assert len(cat) >= 1
    assert "godard2017unsupervised" in cat.papers


def test_taxonomy_defines_required_ids():
    cat = load_catalog(ROOT / "catalog")
    required_losses = {
        "l1", "l2", "ssim", "census", "ncc", "gradient", "feature_metric", "smoothness_edge_aware",
        "smoothness_2nd_order", "lr_consistency", "depth_consistency", "flow_consistency", "min_reprojection",
        "auto_mask", "explainability_mask", "occlusion_mask", "uncertainty", "proxy_supervision",
        "pose_supervision", "semantic", "adversarial",
    }
    assert required_losses <= cat.taxonomy.ids("losses")
    assert {"mono-video", "stereo-pairs", "stereo-video", "multi-camera", "multi-view", "other"} == cat.taxonomy.ids("supervision")
    assert {"single-image", "multi-frame", "stereo-pair", "multi-camera", "image-sparse-depth", "other"} == cat.taxonomy.ids("inputs")
    assert {"robust_penalty", "residual_clipping", "learned_weight", "instance_motion_mask", "perceptual"} <= cat.taxonomy.ids("losses")
    for term in cat.taxonomy.losses.values():
        assert term.description and term.name and term.family


def test_valid_generated_catalog(make_catalog):
    root = make_catalog([paper_dict("smith2019learning"), paper_dict("jones2020deep", title="Another Title Entirely")])
    cat = load_catalog(root)
    assert sorted(cat.papers) == ["jones2020deep", "smith2019learning"]


def test_yaml_syntax_error_has_line_and_column(make_catalog):
    root = make_catalog()
    write(root, "bad2019yaml.yaml", "key: bad2019yaml\ntitle: [unclosed\nyear: 2019\n")
    (msg,) = problems_of(root)
    assert msg.startswith(str(root / "papers" / "bad2019yaml.yaml") + ":") or "bad2019yaml.yaml:" in msg
    assert "YAML syntax error at column" in msg
    line = int(msg.split("bad2019yaml.yaml:")[1].split(":")[0])
    assert line in (2, 3)


def test_not_utf8_names_the_line(make_catalog):
    root = make_catalog()
    write(root, "latin2019one.yaml", "key: latin2019one\ntitle: Caf\xe9\n".encode("latin-1"))
    (msg,) = problems_of(root)
    assert "latin2019one.yaml:2:" in msg and "not UTF-8" in msg and "0xe9" in msg


def test_unknown_field_suggests_the_right_one(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("title:", "titel:"))
    msgs = problems_of(root)
    assert any("smith2019learning.yaml:2: titel: unknown field 'titel' (did you mean 'title'" in m for m in msgs), msgs
    assert any("missing required field 'title'" in m for m in msgs)


def test_missing_required_field(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text("\n".join(l for l in path.read_text().splitlines() if not l.startswith("summary:")) + "\n")
    (msg,) = problems_of(root)
    assert "summary: missing required field 'summary'" in msg


def test_unknown_loss_id_names_file_line_and_suggestion(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    text = path.read_text().replace("smoothness_edge_aware", "smoothnes_edge_aware")
    path.write_text(text)
    (msg,) = problems_of(root)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("losses:"))
    assert f"smith2019learning.yaml:{line}: losses.smoothnes_edge_aware: unknown loss term 'smoothnes_edge_aware' (did you mean 'smoothness_edge_aware'" in msg


def test_unknown_loss_term_points_at_its_own_line(make_catalog):
    root = make_catalog()
    d = paper_dict("smith2019learning")
    text = (
        "key: smith2019learning\ntitle: T\nauthors:\n  - A B\nyear: 2019\nvenue: arXiv\nurl: https://example.org/x\n"
        "supervision: mono-video\ninput: single-image\ndomains: [driving]\nlosses:\n  l1: abstract\n  censsus: abstract\n"
        "evidence:\n  abstract: https://example.org/x\nsummary: s\nprovenance:\n  sources: [https://example.org/x]\n"
    )
    assert d
    write(root, "smith2019learning.yaml", text)
    (msg,) = problems_of(root)
    assert "smith2019learning.yaml:13: losses.censsus: unknown loss term 'censsus' (did you mean 'census'" in msg


def test_unknown_supervision(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", supervision="mono-vido")])
    (msg,) = problems_of(root)
    assert "supervision: unknown training signal 'mono-vido' (did you mean 'mono-video'" in msg


def test_file_name_differs_from_key(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    (root / "papers" / "smith2019learning.yaml").rename(root / "papers" / "other2019name.yaml")
    (msg,) = problems_of(root)
    assert "other2019name.yaml:1: key: file name 'other2019name.yaml' differs from key 'smith2019learning'" in msg


def test_duplicate_key_in_two_files(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    sub = root / "papers" / "more"
    sub.mkdir()
    text = (root / "papers" / "smith2019learning.yaml").read_text().replace("number smith2019learning", "something else")
    (sub / "smith2019learning.yaml").write_text(text)
    msgs = problems_of(root)
    assert any("duplicate key 'smith2019learning' is already in" in m for m in msgs), msgs


def test_duplicate_yaml_mapping_key_in_one_file(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text() + "year: 2020\n")
    (msg,) = problems_of(root)
    assert "found duplicate key 'year'" in msg


def test_same_arxiv_id_in_two_files(make_catalog):
    root = make_catalog([
        paper_dict("smith2019learning", arxiv="1901.00001"),
        paper_dict("jones2020deep", title="Completely Different", arxiv="1901.00001"),
    ])
    msgs = problems_of(root)
    assert len(msgs) == 1 and "smith2019learning.yaml" in msgs[0]
    assert "the same arXiv id '1901.00001' is already in" in msgs[0] and "jones2020deep.yaml:" in msgs[0]


def test_same_doi_in_two_files_ignores_case(make_catalog):
    root = make_catalog([
        paper_dict("smith2019learning", doi="10.1109/CVPR.2019.00001"),
        paper_dict("jones2020deep", title="Completely Different", doi="10.1109/cvpr.2019.00001"),
    ])
    (msg,) = problems_of(root)
    assert "the same DOI '10.1109/cvpr.2019.00001' is already in" in msg


def test_near_identical_titles(make_catalog):
    root = make_catalog([
        paper_dict("smith2019learning", title="Unsupervised Learning of Depth and Ego-Motion from Video"),
        paper_dict("jones2020deep", title="Unsupervised learning of depth and ego motion from video."),
        paper_dict("brown2018other", title="A Title With Nothing In Common"),
    ])
    (msg,) = problems_of(root)
    assert "title: near-identical to the title of" in msg


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("arxiv", "arXiv:1609.03677", "malformed arXiv id 'arXiv:1609.03677'"),
        ("arxiv", "1609.367", "malformed arXiv id '1609.367'"),
        ("doi", "https://doi.org/10.1109/x", "malformed DOI"),
        ("doi", "11.1109/x", "malformed DOI"),
        ("url", "htp://example.org", "malformed URL"),
        ("code", "github.com/a/b", "malformed URL"),
        ("year", 1989, "year 1989 is outside 1990.."),
        ("year", dt.date.today().year + 2, "is outside 1990.."),
        ("authors", [], "the author list is empty"),
    ],
)
def test_malformed_values(make_catalog, field, value, expected):
    from ruamel.yaml import YAML

    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    y = YAML()
    data = y.load(path.read_text())
    data[field] = value
    with path.open("w") as fh:
        y.dump(data, fh)
    msgs = problems_of(root)
    assert len(msgs) == 1 and expected in msgs[0], msgs
    assert f"smith2019learning.yaml:" in msgs[0] and f": {field}" in msgs[0]


def test_unquoted_arxiv_id_stays_text(make_catalog):
    """`arxiv: 2010.10000` must not become the float 2010.1."""
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("url: https://example.org/paper\n", "arxiv: 2010.10000\nurl: https://example.org/paper\n"))
    cat = load_catalog(root)
    assert cat.papers["smith2019learning"].arxiv == "2010.10000"


def test_every_problem_in_one_run(make_catalog):
    root = make_catalog([
        paper_dict("smith2019learning", losses=["l1", "ssimm"]),
        paper_dict("jones2020deep", title="Other", input="stereo"),
    ])
    write(root, "broken2019yaml.yaml", "key: [\n")
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    assert len(exc.value.problems) == 3
    text = str(exc.value)
    assert "3 problems" in text and "ssimm" in text and "'stereo'" in text and "YAML syntax error" in text


def test_missing_catalog_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="catalog folder not found"):
        check_catalog(tmp_path / "nope")
