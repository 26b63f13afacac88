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
        out.append(d)
    out.append(dict(base, key=HOSTILE_KEY, title=HOSTILE_TITLE, year=2020, supervision="mono-video", input="single-image",
                    losses={"l1": "paper", "ssim": "paper"},
                    authors=["Eve <b>Bad</b> O'Hara"], summary='Summary with <iframe src="javascript:alert(1)"></iframe> & _under_ occlusion.'))
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
