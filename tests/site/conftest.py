"""A small test catalog (real papers plus a hostile one), built once per session, served over HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_TITLE = 'Depth <script>window.__pwned=1</script> "><img src=x onerror="window.__pwned=2"> **bold** [x](javascript:alert(1))'
HOSTILE_KEY = "evil2020depth"
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


#: a leaderboard's protocol shared by several test papers, and numbers for each (abs_rel, a1)
LB_ROW = {"benchmark": "kitti-eigen", "split": "eigen", "ground_truth": "original", "resolution": "640x192", "cap": 80,
          "median_scaling": True, "supervision": "M", "source": "https://example.org/paper", "where": "Table 1"}
LB_NUMBERS = {"beta2017video": [(0.141, 0.818)], "gamma2018census": [(0.128, 0.845), (0.119, 0.862)],
              "delta2019both": [(0.128, 0.850)], "eps2021med": [(0.106, 0.881)], HOSTILE_KEY: [(0.111, 0.870)]}


def _results(key: str) -> list[dict]:
    rows = [dict(LB_ROW, model=f"{key} variant {i}", metrics={"abs_rel": a, "a1": d, "a2": 0.95, "a3": 0.98})
            for i, (a, d) in enumerate(LB_NUMBERS.get(key, []))]
    if key == HOSTILE_KEY:
        rows[0]["model"] = '<img src=x onerror="window.__pwned=3"> Ours'
    if key == "gamma2018census":  # another protocol: its own page, never in the shared one
        rows.append(dict(LB_ROW, resolution="1024x320", model="high resolution", metrics={"abs_rel": 0.101}))
    if key == "alpha2016stereo":
        rows.append(dict(LB_ROW, benchmark="kitti-2015", split="test", ground_truth="dataset", resolution=None, cap=None,
                         median_scaling=None, supervision="S", region="all", metrics={"d1_all": 0.0921}))
    return rows


def _papers():
    base = {
        "authors": ["Ann Smith", "Bo Li"], "venue": "CVPR 2019", "url": "https://example.org/paper",
        "domains": ["driving"], "architecture": ["unet-cnn"], "datasets": ["kitti"],
        "provenance": {"sources": ["https://example.org/paper"]},
        "evidence": {"paper": ["Sec. 3, Eq. 2"], "abstract": "https://example.org/abstract"},
    }
    # (key, year, supervision, input, {loss: evidence level}, summary, code)
    spec = [
        ("alpha2016stereo", 2016, "stereo-pairs", "stereo-pair", {"l1": "paper", "ssim": "abstract"}, "Occlusion aware stereo.", None),
        ("beta2017video", 2017, "mono-video", "single-image", {"l1": "code", "ssim": "code", "smoothness_edge_aware": "code"},
         "Video depth.", "https://github.com/a/b"),
        ("gamma2018census", 2018, "mono-video", "multi-frame", {"census": "paper", "smoothness_edge_aware": "abstract"},
         "Census for occlusion handling.", None),
        ("delta2019both", 2019, "stereo-pairs", "single-image", {"ssim": "code", "census": "paper"}, "Both terms, medical.",
         "https://github.com/c/d"),
        ("eps2021med", 2021, "mono-video", "single-image", {"l1": "abstract"}, "Endoscopy occlusion.", None),
    ]
    out = []
    for key, year, supervision, input_, losses, summary, code in spec:
        d = dict(base, key=key, title=f"Paper {key}", year=year, supervision=supervision, input=input_, losses=losses,
                 summary=summary)
        if code:
            d["code"] = code
            d["evidence"] = dict(base["evidence"], code=[f"{code}/blob/0123abcd/train.py#L10-L30"])
        if key == "delta2019both":
            d["domains"] = ["medical"]
        if _results(key):
            d["results"] = _results(key)
        out.append(d)
    out.append(dict(base, key=HOSTILE_KEY, title=HOSTILE_TITLE, year=2020, supervision="mono-video", input="single-image",
                    losses={"l1": "paper", "ssim": "paper"},
                    authors=["Eve <b>Bad</b> O'Hara"], summary='Summary with <iframe src="javascript:alert(1)"></iframe> & _under_ occlusion.',
                    results=_results(HOSTILE_KEY)))
    return out


@pytest.fixture(scope="session")
def test_catalog(tmp_path_factory) -> Path:
    from sins.catalog import Paper, save_paper

    root = tmp_path_factory.mktemp("catalog")
    shutil.copy(ROOT / "catalog" / "taxonomy.yaml", root / "taxonomy.yaml")
    (root / "papers").mkdir()
    for d in _papers():
        save_paper(Paper.model_validate(d), root)
    return root


@pytest.fixture(scope="session")
def built_site(test_catalog, tmp_path_factory) -> Path:
    from sins.site import build_site

    out = tmp_path_factory.mktemp("site")
    build_site(out, test_catalog, tmp_path_factory.mktemp("no-results"))
    return out


@pytest.fixture(scope="session")
def site_url(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site_url):
    """A fresh page that records every request it makes."""
    ctx = browser.new_context(accept_downloads=True)
    pg = ctx.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def results_site_url(test_catalog, tmp_path_factory):
    """The test catalog with the project's committed experiment results, served over HTTP."""
    from sins.site import build_site

    out = tmp_path_factory.mktemp("site-results")
    build_site(out, test_catalog, ROOT / "experiments" / "results")
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
