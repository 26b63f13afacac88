"""Catalog load + validate and filter times on generated catalogs.

Goals (2-core machine): 10,000 papers load and validate in at most 3 s, a
filter takes at most 50 ms, and time grows linearly from 1,000 to 10,000
papers (the near-duplicate title check is the usual quadratic trap).

Run: .venv/bin/python benchmarks/catalog.py [--sizes 1000 2000 5000 10000]
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import tempfile
import time
from pathlib import Path

from sins.catalog import Paper, check_catalog, filter_papers, save_paper

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("depth stereo monocular self supervised unsupervised learning network video occlusion aware "
         "photometric loss synthesis view pose motion geometry consistency attention transformer edge "
         "endoscopy surgical scene flow robust uncertainty feature metric semantic adversarial").split()
LOSSES = ["l1", "ssim", "census", "smoothness_edge_aware", "min_reprojection", "auto_mask", "lr_consistency", "uncertainty"]


def generate(root: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    (root / "papers").mkdir(parents=True)
    shutil.copy(ROOT / "catalog" / "taxonomy.yaml", root / "taxonomy.yaml")
    for i in range(n):
        year = rng.randint(2016, 2025)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))) + f" {i}"
        save_paper(Paper.model_validate({
            "key": f"author{i}{year}paper", "title": title.capitalize(),
            "authors": [f"Author{rng.randint(0, 999)} Name{j}" for j in range(rng.randint(1, 6))],
            "year": year, "venue": rng.choice(["CVPR", "ICCV", "arXiv", "MICCAI"]) + f" {year}",
            "arxiv": f"{year % 100:02d}{rng.randint(1, 12):02d}.{i:05d}",
            "setting": rng.choice(["mono-video", "mono-stereo", "stereo-matching"]),
            "domains": [rng.choice(["driving", "indoor", "medical"])], "architecture": ["unet-cnn"],
            "losses": rng.sample(LOSSES, rng.randint(1, 5)), "datasets": ["kitti"],
            "summary": "Generated paper for the benchmark.",
            "provenance": {"sources": ["https://example.org/x"], "annotation": ["abstract"]},
        }), root)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"{'papers':>7} {'load+validate s':>16} {'per 1k papers s':>16} {'filter ms':>10}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            root = Path(tmp) / f"c{n}"
            generate(root, n)
            holder = {}

            def load():
                cat, probs = check_catalog(root)
                assert not probs, probs[:3]
                holder["cat"] = cat

            t_load = best_of(load, args.repeat)
            cat = holder["cat"]
            filter_papers(cat, losses=["ssim"])  # builds the frame once, as a session would
            t_filter = best_of(lambda: filter_papers(cat, losses=["ssim", "census"], match="any", setting="mono-video",
                                                     domain="driving", years=(2018, 2022), text="occlusion"), args.repeat * 3)
            rows.append((n, t_load, t_filter))
            print(f"{n:>7} {t_load:>16.2f} {t_load / n * 1000:>16.3f} {t_filter * 1000:>10.1f}")
    (n0, t0, _), (n1, t1, f1) = rows[0], rows[-1]
    growth = (t1 / t0) / (n1 / n0)
    print(f"growth {n0}->{n1}: time x{t1 / t0:.1f} for papers x{n1 / n0:.0f} (ratio {growth:.2f}; 1.0 is linear, "
          f"{n1 / n0:.0f} would be quadratic)")
    print(f"goals: load+validate {n1} papers <= 3 s: {'met' if t1 <= 3 else 'NOT met'} ({t1:.2f} s); "
          f"filter <= 50 ms: {'met' if f1 <= 0.05 else 'NOT met'} ({f1 * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
