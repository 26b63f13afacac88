"""The survey table and pages in headless Chromium, over a local HTTP server."""

from __future__ import annotations

import shutil

import bibtexparser
import pytest

from sins.catalog import filter_papers, load_catalog

from .conftest import HOSTILE_KEY, HOSTILE_TITLE, ROOT

pytestmark = pytest.mark.browser


def _open_survey(page, site_url, query=""):
    page.goto(site_url + "survey/" + query)
    page.wait_for_selector("#survey[data-ready='1']")
    return int(page.text_content("#survey-count"))


PERMALINKS = [
    ("", {}),
    ("?loss=l1,ssim", {"losses": ["l1", "ssim"]}),
    ("?loss=l1,ssim&match=any", {"losses": ["l1", "ssim"], "match": "any"}),
    ("?loss=ssim,census&match=any&supervision=mono-video,stereo-pairs", {"losses": ["ssim", "census"], "match": "any", "supervision": ["mono-video", "stereo-pairs"]}),
    ("?input=multi-frame,stereo-pair", {"input": ["multi-frame", "stereo-pair"]}),
    ("?supervision=mono-video&input=single-image", {"supervision": "mono-video", "input": "single-image"}),
    ("?loss=ssim&ev=code", {"losses": ["ssim"], "evidence": ["code"]}),
    ("?loss=ssim,census&match=any&ev=code,paper", {"losses": ["ssim", "census"], "match": "any", "evidence": ["code", "paper"]}),
    ("?loss=l1&ev=abstract&exclude=census", {"losses": ["l1"], "evidence": ["abstract"], "exclude": ["census"]}),
    ("?domain=medical", {"domain": ["medical"]}),
    ("?dataset=kitti&year=2017-2020", {"dataset": ["kitti"], "years": "2017-2020"}),
    ("?year=2018-", {"years": "2018-"}),
    ("?q=occlusion", {"text": "occlusion"}),
    ("?q=OCCLUSION%20aware", {"text": "OCCLUSION aware"}),
    ("?exclude=census&code=1", {"exclude": ["census"], "has_code": True}),
    ("?venue=cvpr&architecture=unet-cnn", {"venue": "cvpr", "architecture": ["unet-cnn"]}),
]


@pytest.mark.parametrize("query,kwargs", PERMALINKS)
def test_count_matches_filter_papers(page, site_url, test_catalog, query, kwargs):
    cat = load_catalog(test_catalog)
    assert _open_survey(page, site_url, query) == len(filter_papers(cat, **kwargs))
    assert page.locator("#survey-body tr").count() == len(filter_papers(cat, **kwargs))


def test_and_or_clicks_and_back_button(page, site_url, test_catalog):
    cat = load_catalog(test_catalog)
    total = _open_survey(page, site_url)
    page.click("#sum-loss")
    page.check("#f-loss-ssim")
    page.check("#f-loss-census")
    n_all = len(filter_papers(cat, losses=["ssim", "census"]))
    n_any = len(filter_papers(cat, losses=["ssim", "census"], match="any"))
    assert n_all < n_any
    page.wait_for_function(f"document.getElementById('survey-count').textContent === '{n_all}'")
    assert "loss=ssim,census" in page.url
    page.select_option("#f-match", "any")
    page.wait_for_function(f"document.getElementById('survey-count').textContent === '{n_any}'")
    assert "match=any" in page.url
    page.go_back()
    page.wait_for_function(f"document.getElementById('survey-count').textContent === '{n_all}'")
    assert page.input_value("#f-match") == "all"
    page.go_back()
    page.go_back()
    page.wait_for_function(f"document.getElementById('survey-count').textContent === '{total}'")
    assert not page.is_checked("#f-loss-ssim")


def test_unknown_values_are_ignored_with_notice(page, site_url, test_catalog):
    n = _open_survey(page, site_url, "?loss=nosuchloss,ssim&setting=bogus&match=maybe&year=abc")
    assert n == len(filter_papers(load_catalog(test_catalog), losses=["ssim"]))
    notice = page.text_content("#survey-notice")
    assert page.is_visible("#survey-notice") and "nosuchloss" in notice and "bogus" in notice


def _bib_keys(download) -> list[str]:
    lib = bibtexparser.parse_string(open(download.path(), encoding="utf-8").read())
    assert not lib.failed_blocks
    return sorted(e.key for e in lib.entries)


def test_bibtex_download_holds_filtered_keys(page, site_url, test_catalog):
    _open_survey(page, site_url, "?loss=l1&year=2017-")
    with page.expect_download() as dl:
        page.click("#bib-filtered")
    want = sorted(filter_papers(load_catalog(test_catalog), losses=["l1"], years="2017-")["key"])
    assert HOSTILE_KEY in want
    assert _bib_keys(dl.value) == want


def test_selected_export(page, site_url):
    _open_survey(page, site_url)
    page.locator("#survey-body input[type=checkbox]").nth(0).check()
    page.locator("#survey-body input[type=checkbox]").nth(2).check()
    assert page.text_content("#selected-count") == "2"
    with page.expect_download() as dl:
        page.click("#bib-selected")
    assert len(_bib_keys(dl.value)) == 2


def test_hostile_entry_is_text_everywhere(page, site_url):
    page.add_init_script("window.__pwned = 0; window.alert = function () { window.__pwned = 3; };")
    _open_survey(page, site_url, "?q=bold")
    assert page.text_content("#survey-count") == "1"
    assert page.locator("#survey-body a", has_text="<script>").count() == 1
    assert page.evaluate("window.__pwned") == 0
    assert page.locator("#survey-body img, #survey-body script").count() == 0
    page.goto(site_url + f"papers/{HOSTILE_KEY}/")
    assert page.text_content("article h1") == HOSTILE_TITLE
    assert "<b>Bad</b>" in page.text_content(".sins-authors")
    assert page.locator("article img, article iframe, article script, article strong:has-text('bold')").count() == 0
    assert page.evaluate("window.__pwned") == 0
    bib = page.text_content("article pre code")  # BibTeX (LaTeX-encoded by the catalog) shows as text
    assert bib.startswith("@") and HOSTILE_KEY in bib and "script" in bib
    page.goto(site_url + "taxonomy/losses/l1/")
    assert page.locator("article a", has_text="<script>").count() == 1
    assert page.evaluate("window.__pwned") == 0
    page.goto(site_url + "?q=pwned")  # search page load with the index
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") == 0


def test_no_request_leaves_the_host(page, site_url):
    for path in ["", "survey/?loss=ssim", f"papers/{HOSTILE_KEY}/", "stats/", "taxonomy/losses/ssim/", "experiments/", "method/"]:
        page.goto(site_url + path)
        page.wait_for_load_state("networkidle")
    assert page.requests
    outside = [u for u in page.requests if not (u.startswith(site_url) or u.startswith("blob:") or u.startswith("data:"))]
    assert outside == []


def test_keyboard_and_axe(page, site_url, built_site):
    from axe_playwright_python.sync_playwright import Axe

    _open_survey(page, site_url)
    # sort by title with the keyboard: focus the header button and press Enter
    page.focus("#survey-table th[data-col=title] button")
    page.keyboard.press("Enter")
    page.wait_for_function("location.search.indexOf('sort=title') >= 0")
    assert page.get_attribute("#survey-table th[data-col=title]", "aria-sort") == "ascending"
    titles = page.locator("#survey-body tr td:nth-child(2) a").all_text_contents()
    assert titles == sorted(titles, key=str.lower)
    # reach a facet checkbox with Tab and toggle it with Space
    page.focus("#f-q")
    page.keyboard.type("occlusion")
    page.keyboard.press("Tab")
    page.wait_for_function("location.search.indexOf('q=occlusion') >= 0")
    for path in ["survey/", "", f"papers/{HOSTILE_KEY}/", "taxonomy/losses/ssim/"]:
        page.goto(site_url + path)
        page.wait_for_load_state("networkidle")
        results = Axe().run(page)
        bad = [v for v in results.response["violations"] if v.get("impact") in ("critical", "serious")]
        assert bad == [], (path, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in bad])


def test_screenshots(page, site_url, built_site):
    _open_survey(page, site_url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(built_site / "screenshot-survey.png"), full_page=True)
    page.goto(site_url)
    page.screenshot(path=str(built_site / "screenshot-home.png"), full_page=True)
    assert (built_site / "screenshot-survey.png").stat().st_size > 10_000
    # a copy a person can look at after the run (build/ is git-ignored)
    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for name in ("screenshot-survey.png", "screenshot-home.png"):
        shutil.copy(built_site / name, shots / name)


def test_experiments_page_answers_the_five_claims(browser, results_site_url):
    """Each claim shows a measured status (the one in analysis/summary.json), with its figure loaded."""
    import json

    analysis = json.loads((ROOT / "experiments" / "results" / "analysis" / "summary.json").read_text())
    pg = browser.new_page()
    try:
        pg.goto(results_site_url + "experiments/")
        rows = pg.locator("#claims-table tbody tr")
        assert rows.count() == 5
        for i in range(5):
            status = rows.nth(i).locator(".sins-claim").text_content()
            assert status == analysis["claims"][str(i + 1)]["status"]
            assert status in {"confirmed", "not confirmed", "inconclusive"}
        for k, c in analysis["claims"].items():
            if c["figures"]:
                img = pg.locator(f"#claim-{k} ~ figure img").first
                img.scroll_into_view_if_needed()
                pg.wait_for_function("img => img.complete", arg=img.element_handle())
                assert img.evaluate("img => img.naturalWidth") > 0, f"claim {k}: figure did not load"
        # the verdict matrix lists every configuration (base and variants) of every experiment
        assert pg.locator("#matrix-table tbody tr").count() == len(analysis["matrix"])
        # every failed run is named
        failed = [f for p in (ROOT / "experiments" / "results").glob("*/summary.json") if p.parent.name != "analysis"
                  for f in json.loads(p.read_text()).get("failed_runs", [])]
        assert pg.locator("#failed-table tbody tr").count() == len(failed)
        for f in failed:
            assert pg.locator("#failed-table", has_text=f["reason"]).count() == 1
        # a category page shows its experiment's verdict and curves
        pg.goto(results_site_url + "taxonomy/losses/census/")
        assert pg.locator(".sins-verdict").count() >= 1
        img = pg.locator("figure img").first
        pg.wait_for_function("img => img.complete", arg=img.element_handle())
        assert img.evaluate("img => img.naturalWidth") > 0
    finally:
        pg.close()
