"""Site benchmarks: build time for the real catalog and generated ones, and facet-click latency in Chromium.

    .venv/bin/python benchmarks/site.py [--sizes 1000,10000] [--no-browser]

Targets: real catalog under 30 s, 10,000 papers under 120 s (2 cores); facet click to updated
table under 100 ms on 10,000 papers. Printed side by side, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = "depth stereo monocular self supervised occlusion learning network video endoscopic synthesis warping consistency".split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 9)))


def make_catalog(folder: Path, n: int, seed: int = 0) -> Path:
    from sins.catalog import Paper, load_catalog, save_paper

    tax = load_catalog(ROOT / "catalog").taxonomy
    rng = random.Random(seed)
    shutil.copy(ROOT / "catalog" / "taxonomy.yaml", folder / "taxonomy.yaml")
    (folder / "papers").mkdir()
    ids = {g: sorted(tax.group(g)) for g in ("losses", "settings", "architectures", "domains", "datasets")}
    for i in range(n):
        year = rng.randint(2016, 2025)
        p = Paper(
            key=f"author{i}{year}gen", title=" ".join(rng.choices(WORDS, k=3) + [_word(rng) for _ in range(4)]).capitalize(),
            authors=[f"Author {i}", f"Coauthor {rng.randint(0, 999)}"], year=year, venue=rng.choice(["CVPR", "ICCV", "arXiv", "MICCAI"]) + f" {year}",
            url=f"https://example.org/p{i}", code=f"https://github.com/x/p{i}" if rng.random() < 0.4 else None,
            setting=rng.choice(ids["settings"]), domains=rng.sample(ids["domains"], 1), architecture=rng.sample(ids["architectures"], 2),
            losses=rng.sample(ids["losses"], rng.randint(2, 5)), datasets=rng.sample(ids["datasets"], 2),
            summary=" ".join(rng.choices(WORDS, k=20)) + ".",
            provenance={"sources": [f"https://example.org/p{i}"], "annotation": ["abstract"]},
        )
        save_paper(p, folder)
    return folder


def time_build(catalog: Path, out: Path) -> float:
    from sins.site import build_site

    t = time.perf_counter()
    build_site(out, catalog, ROOT / "experiments" / "results")
    return time.perf_counter() - t


CLICK_JS = """async (sel) => {
  const cb = document.querySelector(sel);
  const t0 = performance.now();
  cb.click();                     // change event -> filter -> render, synchronously
  const t1 = performance.now();
  void document.getElementById("survey-body").getBoundingClientRect().height;  // force style + layout
  const t2 = performance.now();
  return [t1 - t0, t2 - t0];
}"""


def time_clicks(site: Path, repeats: int = 5) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/survey/")
            page.wait_for_selector("#survey[data-ready='1']")
            page.click("#sum-loss")
            sync, paint = [], []
            for i in range(repeats):
                for sel in ("#f-loss-ssim", "#f-loss-l1"):
                    a, c = page.evaluate(CLICK_JS, sel)
                    sync.append(a); paint.append(c)
            b.close()
    finally:
        server.shutdown()
    return statistics.median(sync), statistics.median(paint)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows.append(("real catalog", len(list((ROOT / "catalog" / "papers").glob("*.yaml"))), time_build(ROOT / "catalog", tmp / "real"), 30.0, None))
        for n in [int(x) for x in args.sizes.split(",") if x]:
            (tmp / f"cat{n}").mkdir()
            cat = make_catalog(tmp / f"cat{n}", n)
            secs = time_build(cat, tmp / f"site{n}")
            click = time_clicks(tmp / f"site{n}") if not args.no_browser and Path("/usr/bin/chromium").exists() else None
            rows.append((f"generated {n}", n, secs, 120.0 if n >= 10000 else None, click))
    print(f"{'catalog':<16}{'papers':>8}{'build s':>10}{'target s':>10}{'click ms (js / +layout)':>28}")
    for name, n, secs, target, click in rows:
        c = f"{click[0]:.1f} / {click[1]:.1f}" if click else "-"
        print(f"{name:<16}{n:>8}{secs:>10.1f}{(f'{target:.0f}' if target else '-'):>10}{c:>28}")


if __name__ == "__main__":
    main()
