"""Metadata look-ups over real HTTP against a local server that serves recorded answers
in the arXiv Atom and Crossref JSON formats (no mock objects)."""

from __future__ import annotations

import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from sins.catalog import load_catalog
from sins.catalog.enrich import Client, LookupFailed, lookup, proposed_changes
from sins.cli import app
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data"


class Recorded(BaseHTTPRequestHandler):
    """Serves files by arXiv id / DOI; special ids misbehave on purpose."""

    hits: dict[str, int] = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, code, body=b"", ctype="application/atom+xml", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server API
        url = urlparse(self.path)
        key = parse_qs(url.query).get("id_list", [url.path.rsplit("/works/", 1)[-1]])[0]
        n = Recorded.hits[key] = Recorded.hits.get(key, 0) + 1
        if key == "1609.03677":
            return self._send(200, (DATA / "arxiv_1609.03677.atom").read_bytes())
        if key == "1609.99999":
            return self._send(200, (DATA / "arxiv_missing.atom").read_bytes())
        if key == "10.1109/CVPR.2017.699":
            return self._send(200, (DATA / "crossref_cvpr2017.json").read_bytes(), "application/json")
        if key == "ratelimited":  # 429 once, then fine
            if n == 1:
                return self._send(429, b"slow down", "text/plain", [("Retry-After", "1")])
            return self._send(200, (DATA / "arxiv_1609.03677.atom").read_bytes())
        if key == "flaky":  # 500 twice, then fine
            if n <= 2:
                return self._send(500, b"oops", "text/plain")
            return self._send(200, (DATA / "arxiv_1609.03677.atom").read_bytes())
        if key == "broken":
            return self._send(500, b"down", "text/plain")
        if key == "slow":
            time.sleep(1.0)
            return self._send(200, (DATA / "arxiv_1609.03677.atom").read_bytes())
        if key == "malformed":
            return self._send(200, b"<feed><entry><title>unclosed</feed>")
        return self._send(404, b'{"status":"error"}', "application/json")


@pytest.fixture
def server():
    Recorded.hits = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def client(server, tmp_path, **kw):
    opts = dict(arxiv_api=f"{server}/api/query", crossref_api=f"{server}/works", cache=tmp_path / "http",
                min_interval=0.0, backoff=0.05, timeout=5.0)
    opts.update(kw)
    return Client(**opts)


def test_arxiv_then_crossref(server, tmp_path):
    meta = lookup(arxiv="1609.03677", client=client(server, tmp_path))
    assert meta.title == "Unsupervised Monocular Depth Estimation with Left-Right Consistency"
    assert meta.doi == "10.1109/CVPR.2017.699" and meta.year == 2017 and meta.arxiv == "1609.03677"
    assert meta.venue.startswith("2017 IEEE Conference on Computer Vision")
    assert meta.sources == ["https://arxiv.org/abs/1609.03677", "https://doi.org/10.1109/CVPR.2017.699"]


def test_arxiv_only_keeps_preprint_facts(server, tmp_path):
    meta = client(server, tmp_path).arxiv("1609.03677")
    assert meta.authors == ["Clément Godard", "Oisin Mac Aodha", "Gabriel J. Brostow"] and meta.year == 2016


def test_cache_avoids_a_second_request(server, tmp_path):
    c = client(server, tmp_path)
    c.arxiv("1609.03677")
    c.arxiv("1609.03677")
    assert Recorded.hits["1609.03677"] == 1


def test_429_honours_retry_after(server, tmp_path):
    t = time.monotonic()
    meta = client(server, tmp_path).arxiv("ratelimited")
    assert meta.title.startswith("Unsupervised") and Recorded.hits["ratelimited"] == 2
    assert time.monotonic() - t >= 0.9


def test_500_is_retried_with_backoff(server, tmp_path):
    assert client(server, tmp_path, retries=3).arxiv("flaky").year == 2016
    assert Recorded.hits["flaky"] == 3


def test_persistent_500_gives_up_clearly(server, tmp_path):
    with pytest.raises(LookupFailed, match=r"answered HTTP 500 after 3 tries.*Nothing was changed"):
        client(server, tmp_path, retries=2).arxiv("broken")


def test_timeout_is_reported(server, tmp_path):
    with pytest.raises(LookupFailed, match=r"did not answer within 0.2 s \(2 tries\)"):
        client(server, tmp_path, timeout=0.2, retries=1).arxiv("slow")


def test_malformed_xml(server, tmp_path):
    with pytest.raises(LookupFailed, match="not valid Atom XML"):
        client(server, tmp_path).arxiv("malformed")


def test_paper_that_does_not_exist(server, tmp_path):
    with pytest.raises(LookupFailed, match="arXiv has no paper '1609.99999'"):
        client(server, tmp_path).arxiv("1609.99999")
    with pytest.raises(LookupFailed, match="Crossref has no DOI '10.9999/nothing'"):
        client(server, tmp_path).crossref("10.9999/nothing")


def test_offline_message(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = Client(arxiv_api=f"http://127.0.0.1:{port}/api/query", cache=None, min_interval=0, timeout=2)
    with pytest.raises(LookupFailed, match=r"cannot reach 127.0.0.1:\d+ \(are you offline\?\)"):
        c.arxiv("1609.03677")


def test_rate_limit_spaces_calls(server, tmp_path):
    c = client(server, tmp_path, cache=None, min_interval=0.3)
    t = time.monotonic()
    c.arxiv("1609.03677")
    c.arxiv("1609.03677")
    c.arxiv("1609.03677")
    assert time.monotonic() - t >= 0.6


def test_enrich_command_shows_diff_and_writes_only_with_write(server, tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", root)
    path = root / "papers" / "godard2017unsupervised.yaml"
    path.write_text(path.read_text().replace("with Left-Right Consistency", "with Left Right Consistency"))
    before = path.read_bytes()
    args = ["catalog", "enrich", "godard2017unsupervised", "--catalog", str(root), "--arxiv-api", f"{server}/api/query",
            "--crossref-api", f"{server}/works", "--cache", str(tmp_path / "http"), "--min-interval", "0"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "-title: Unsupervised Monocular Depth Estimation with Left Right Consistency" in r.output
    assert "+title: Unsupervised Monocular Depth Estimation with Left-Right Consistency" in r.output
    assert "run again with --write" in r.output
    assert path.read_bytes() == before
    r = CliRunner().invoke(app, args + ["--write"])
    assert r.exit_code == 0
    assert load_catalog(root).papers["godard2017unsupervised"].title.endswith("Left-Right Consistency")


def test_proposed_changes_keep_the_venue_year_for_arxiv_only_answers(server, tmp_path):
    cat = load_catalog(ROOT / "catalog")
    paper = cat.papers["godard2017unsupervised"]
    meta = client(server, tmp_path).arxiv("1609.03677")  # preprint: 2016
    assert "year" not in proposed_changes(paper, meta)


def test_add_with_arxiv_looks_up_the_facts(server, tmp_path, make_catalog):
    root = make_catalog()
    r = CliRunner().invoke(app, ["catalog", "add", "--arxiv", "1609.03677", "--catalog", str(root), "--arxiv-api", f"{server}/api/query",
                                 "--crossref-api", f"{server}/works", "--cache", str(tmp_path / "http"), "--min-interval", "0"])
    assert r.exit_code == 0, r.output
    text = (root / "papers" / "godard2017unsupervised.yaml").read_text()
    assert "Oisin Mac Aodha" in text and "10.1109/CVPR.2017.699" in text and "year: 2017" in text
