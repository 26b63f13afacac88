"""Shared fixtures: small catalogs written into a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = ROOT / "catalog" / "taxonomy.yaml"


def paper_dict(key: str = "smith2019learning", **over) -> dict:
    data = {
        "key": key,
        "title": f"Learning Depth from Synthesis number {key}",
        "authors": ["Ann Smith", "Bo Li"],
        "year": 2019,
        "venue": "CVPR 2019",
        "arxiv": None,
        "doi": None,
        "url": "https://example.org/paper",
        "code": None,
        "supervision": "mono-video",
        "input": "single-image",
        "domains": ["driving"],
        "architecture": ["unet-cnn", "pose-cnn"],
        "losses": {"l1": "paper", "ssim": "paper", "smoothness_edge_aware": "paper"},
        "evidence": {"paper": ["Sec. 3.1, Eq. 2"]},
        "datasets": ["kitti"],
        "summary": "A test paper.",
        "provenance": {"sources": ["https://example.org/paper"]},
    }
    if isinstance(over.get("losses"), list):  # a plain list of ids: each tag rests on the paper's text
        over["losses"] = {t: "paper" for t in over["losses"]}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def make_catalog(tmp_path):
    """make_catalog([paper dicts]) -> catalog folder written canonically."""
    from sins.catalog import Paper, save_paper

    def make(papers=(), name="catalog") -> Path:
        root = tmp_path / name
        (root / "papers").mkdir(parents=True)
        shutil.copy(TAXONOMY, root / "taxonomy.yaml")
        for p in papers:
            save_paper(Paper.model_validate(p), root)
        return root

    return make
