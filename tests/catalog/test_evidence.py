"""Every loss tag carries its evidence: code, paper text or abstract; nothing else passes."""

from __future__ import annotations

from pathlib import Path

from sins.catalog import check_catalog, load_catalog
from sins.catalog.stats import compute_stats
from tests.conftest import paper_dict

REPO = "https://github.com/owner/method"


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_catalog(root)[1]]


def test_each_level_needs_its_evidence(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", code=REPO, losses={"l1": "code", "ssim": "paper"},
                                    evidence={"code": [f"{REPO}/blob/0a1b2c/loss.py#L10-L40"], "paper": ["Sec. 3.2, Eq. 4"]})])
    assert problems(root) == []
    path = root / "papers" / "smith2019learning.yaml"
    text = path.read_text()
    path.write_text(text.replace("ssim: paper", "ssim: abstract"))
    (msg,) = problems(root)
    assert "smith2019learning.yaml:" in msg and "losses.ssim: tagged 'abstract' but evidence.abstract gives no URL" in msg


def test_memory_is_not_evidence_and_the_message_names_the_valid_levels(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    lines = path.read_text().splitlines()
    n = next(i for i, l in enumerate(lines) if l.startswith("losses:")) + 1
    path.write_text(path.read_text().replace("ssim: paper", "ssim: memory"))
    (msg,) = problems(root)
    assert f"smith2019learning.yaml:{n}: losses.ssim: 'memory' is not evidence" in msg
    assert "family's usual objective are not evidence" in msg
    assert "code (the official training code's loss assembly" in msg and "paper (" in msg and "abstract (" in msg


def test_code_evidence_must_come_from_the_official_repository(make_catalog):
    root = make_catalog([paper_dict("smith2019learning", code=REPO, losses={"l1": "code"},
                                    evidence={"code": ["https://github.com/someone/reimplementation/blob/x/loss.py"]})])
    (msg,) = problems(root)
    assert "evidence.code[0]: https://github.com/someone/reimplementation/blob/x/loss.py is not in the official repository" in msg
    root2 = make_catalog([paper_dict("jones2020deep", losses={"l1": "code"},
                                     evidence={"code": [f"{REPO}/blob/x/loss.py"]})], name="cat2")
    (msg,) = problems(root2)
    assert "evidence.code: code evidence needs the official repository in the 'code' field" in msg


def test_a_paper_place_must_say_where(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("Sec. 3.1, Eq. 2", "the method part"))
    (msg,) = problems(root)
    assert "evidence.paper" in msg and "does not say where in the paper" in msg and "Sec. 3.2, Eq. 4" in msg


def test_old_formats_get_a_message_that_says_what_changed(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    text = path.read_text()
    old = (text.replace("supervision: mono-video\ninput: single-image\n", "setting: mono-video\n")
           .replace("losses: {l1: paper, ssim: paper, smoothness_edge_aware: paper}", "losses: [l1, ssim]"))
    path.write_text(old)
    msgs = problems(root)
    assert any("setting: the field 'setting' was split in two: 'supervision'" in m for m in msgs), msgs
    assert any("losses: losses is a mapping from each loss term to its evidence" in m for m in msgs), msgs


def test_a_paper_without_tags_must_say_why(make_catalog):
    root = make_catalog([paper_dict("smith2019learning")])
    path = root / "papers" / "smith2019learning.yaml"
    path.write_text(path.read_text().replace("losses: {l1: paper, ssim: paper, smoothness_edge_aware: paper}", "losses: {}"))
    (msg,) = problems(root)
    assert "losses: no loss term: tag at least one with its evidence, or say in evidence.unread why" in msg
    path.write_text(path.read_text().replace("evidence:\n", "evidence:\n  unread: the abstract names no loss; no text reachable\n"))
    assert problems(root) == []


def test_stats_count_the_tags_per_level(make_catalog):
    cat = load_catalog(make_catalog([
        paper_dict("aa2017one", code=REPO, losses={"l1": "code", "ssim": "code", "semantic": "abstract"},
                   evidence={"code": [f"{REPO}/blob/1/loss.py"], "abstract": "https://example.org/abs"}),
        paper_dict("bb2018two", title="Second", losses={"l1": "paper"}),
    ]))
    s = compute_stats(cat)
    assert s["evidence"] == {"code": 2, "paper": 1, "abstract": 1}
    assert s["evidence_by_loss"]["l1"] == {"code": 1, "paper": 1, "abstract": 0}


def test_the_real_catalog_has_evidence_for_every_tag():
    from tests.conftest import ROOT

    cat = load_catalog(ROOT / "catalog")
    for p in cat:
        assert p.losses or len(p.evidence.unread) > 40, p.key  # no tag: say why, in words
        assert not p.evidence_problems(), (p.key, p.evidence_problems())
        for u in p.evidence.code:
            assert "/blob/" in u or "/tree/" in u or "#L" in u, (p.key, u)  # a file, not the bare repository
        for place in p.evidence.paper:
            assert "migrated" not in place, (p.key, place)
