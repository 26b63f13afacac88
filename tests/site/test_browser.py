"""The survey table and pages in headless Chromium, over a local HTTP server."""

from __future__ import annotations

import json
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
    ("?text=occlusion", {"text": "occlusion"}),
    ("?text=OCCLUSION%20aware", {"text": "OCCLUSION aware"}),
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
    _open_survey(page, site_url, "?text=bold")
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
    titles = page.locator("#survey-body tr td:nth-child(2) a.sins-title").all_text_contents()
    assert titles == sorted(titles, key=str.lower)
    # type into the search box and leave it with Tab: the filter lands in the URL
    page.focus("#f-text")
    page.keyboard.type("occlusion")
    page.keyboard.press("Tab")
    page.wait_for_function("location.search.indexOf('text=occlusion') >= 0")
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


def test_verdicts_trained_again_from_nothing_are_listed_and_linked(browser, results_site_url):
    """The Experiments page lists every configuration whose verdict changed when the seeds benchmark trained it again
    (counted here from benchmarks/results/seeds.json, newest call per experiment); a loss page's mark beside such a
    verdict leads to the rerun section of the experiment's page."""
    import json

    calls = json.loads((ROOT / "benchmarks" / "results" / "seeds.json").read_text())["from_scratch"]
    newest: dict[str, tuple[str, dict]] = {}
    for call in calls.values():
        for name, e in call["experiments"].items():
            if name not in newest or call["date"] > newest[name][0]:
                newest[name] = (call["date"], e["verdicts"])
    committed = {p.parent.name for p in (ROOT / "experiments" / "results").glob("*/summary.json")}
    changed = sorted((n, c) for n, (_d, v) in newest.items() if n in committed for c, (a, b) in v.items() if a != b)
    pg = browser.new_page()
    try:
        pg.goto(results_site_url + "experiments/")
        rows = pg.locator("#reruns-table tbody tr")
        shown = sorted((rows.nth(i).locator("td").nth(0).text_content(), rows.nth(i).locator("td").nth(1).text_content())
                       for i in range(rows.count()))
        assert shown == changed
        base = [n for n, c in changed if c == "base"]
        if not base:
            return
        name = base[0]
        tests = json.loads((ROOT / "experiments" / "results" / name / "summary.json").read_text())["tests"]
        pg.goto(results_site_url + f"taxonomy/losses/{tests[0]}/")
        link = pg.locator(f'a[href$="experiments/{name}/#reruns"]')
        assert link.count() == 1 and link.text_content().startswith("trained again:")
        link.click()
        pg.wait_for_url(f"**/experiments/{name}/#reruns")
        heading = pg.locator("#reruns")
        assert heading.text_content().startswith("Trained again from nothing")
        assert heading.evaluate("h => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")
    finally:
        pg.close()


def test_method_page_lists_the_pose_learning_of_every_video_configuration(browser, results_site_url):
    """The pose table is generated from the committed summaries: one row per configuration with pose metrics, each
    linking to its experiment's page; the convergence table has a row per experiment with committed run records."""
    import json

    expected = 0
    for p in (ROOT / "experiments" / "results").glob("*/summary.json"):
        s = json.loads(p.read_text())
        confs = [s.get("per_seed") or []] + [v.get("per_seed") or [] for v in (s.get("variants") or {}).values()]
        expected += sum(any(r.get("final_pose_t_cos") is not None for r in c) for c in confs)
    assert expected > 0
    pg = browser.new_page()
    try:
        pg.goto(results_site_url + "method/")
        with_records = [p.parent.name for p in (ROOT / "experiments" / "results").glob("*/runs") if any(p.glob("*.json.gz"))]
        conv = pg.locator("xpath=//h2[@id='convergence']/following::table[1]")
        assert conv.locator("tbody tr").count() == len(with_records) > 0
        table = pg.locator("xpath=//h3[@id='pose-learning']/following::table[1]")
        assert table.locator("tbody tr").count() == expected
        link = table.locator("tbody tr a").first
        name = link.text_content()
        link.click()
        pg.wait_for_load_state()
        assert pg.url.rstrip("/").endswith(f"experiments/{name}")
        assert pg.locator("h1").first.text_content().strip() != ""
    finally:
        pg.close()


# --------------------------------------------------------------------------- the survey as a research tool


def _count(page) -> int:
    return int(page.text_content("#survey-count"))


def _wait_count(page, n: int) -> None:
    page.wait_for_function(f"document.getElementById('survey-count').textContent === '{n}'")


def test_text_permalink_does_not_open_the_theme_search(page, site_url, test_catalog):
    cat = load_catalog(test_catalog)
    n = _open_survey(page, site_url, "?text=occlusion")
    assert n == len(filter_papers(cat, text="occlusion"))
    assert not page.is_checked("#__search")  # the theme's search dialog stays closed
    page.click("#sum-loss")
    page.check("#f-loss-ssim")  # clicks reach the table
    _wait_count(page, len(filter_papers(cat, text="occlusion", losses=["ssim"])))


def test_selection_is_kept_in_the_url_across_reload_new_tab_and_back(browser, page, site_url):
    _open_survey(page, site_url)
    boxes = page.locator("#survey-body input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.wait_for_function("location.search.indexOf('sel=') >= 0")
    url = page.url
    page.reload()
    page.wait_for_selector("#survey[data-ready='1']")
    assert page.text_content("#selected-count") == "2" and page.locator("#survey-body input:checked").count() == 2
    other = browser.new_page()
    try:
        other.goto(url)
        other.wait_for_selector("#survey[data-ready='1']")
        assert other.text_content("#selected-count") == "2"
    finally:
        other.close()
    # scroll down, open a paper, come back: the selection and the scroll position are there
    page.set_viewport_size({"width": 1280, "height": 500})
    page.evaluate("window.scrollTo(0, 400)")
    page.wait_for_timeout(100)
    before = page.evaluate("window.scrollY")
    page.locator("#survey-body a.sins-title").nth(3).click()
    page.wait_for_load_state()
    page.go_back()
    page.wait_for_selector("#survey[data-ready='1']")
    page.wait_for_timeout(200)
    assert page.text_content("#selected-count") == "2"
    assert abs(page.evaluate("window.scrollY") - before) < 60


def test_select_all_shown_and_downloads_of_the_selection(page, site_url, test_catalog):
    import csv
    import json

    cat = load_catalog(test_catalog)
    _open_survey(page, site_url, "?loss=l1")
    page.click("#select-shown")
    want = sorted(filter_papers(cat, losses=["l1"])["key"])
    assert page.text_content("#selected-count") == str(len(want))
    with page.expect_download() as dl:
        page.click("#csv-selected")
    rows = list(csv.DictReader(open(dl.value.path(), encoding="utf-8")))
    assert sorted(r["key"] for r in rows) == want and {"title", "losses", "evidence"} <= set(rows[0])
    with page.expect_download() as dl:
        page.click("#json-filtered")
    data = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert sorted(d["key"] for d in data) == want
    page.click("#select-none")
    assert page.text_content("#selected-count") == "0" and page.is_disabled("#bib-selected")


def test_contradictory_and_malformed_filters_are_warned(page, site_url, test_catalog):
    assert _open_survey(page, site_url, "?loss=ssim&exclude=ssim") == 0
    assert page.is_visible("#survey-warning") and "both required and excluded" in page.text_content("#survey-warning")
    total = len(load_catalog(test_catalog).papers)
    _open_survey(page, site_url, "?year=2018-")
    page.fill("#f-year", "20")
    page.wait_for_function("!document.getElementById('survey-warning').hidden")
    assert "is not a year or a range" in page.text_content("#survey-warning")
    assert page.get_attribute("#f-year", "aria-invalid") == "true"
    _wait_count(page, total)  # the years filter is off, and says so, instead of silently keeping 2018-


def test_facet_counts_follow_the_filter_and_zero_options_are_dimmed(page, site_url, test_catalog):
    cat = load_catalog(test_catalog)
    _open_survey(page, site_url, "?domain=medical")
    page.click("#sum-loss")
    for loss in ("l1", "ssim", "census"):
        label = page.locator(f"#f-loss-{loss}").locator("xpath=..")
        n = int(label.locator(".sins-count").text_content())
        assert n == len(filter_papers(cat, domain="medical", losses=[loss])), loss
    zero = page.locator("#survey-facets label.sins-zero")
    assert zero.count() > 0
    colour = zero.first.evaluate("e => getComputedStyle(e).color")
    assert colour != page.locator("#survey-facets label:not(.sins-zero)").first.evaluate("e => getComputedStyle(e).color")


def test_tag_chips_include_on_click_and_exclude_on_shift_click(page, site_url, test_catalog):
    cat = load_catalog(test_catalog)
    total = _open_survey(page, site_url)
    page.locator("#survey-body button.sins-chip[data-facet=loss][data-id=census]").first.click()
    _wait_count(page, len(filter_papers(cat, losses=["census"])))
    assert "loss=census" in page.url
    page.locator("#survey-active button", has_text="census").click()  # one-click removal
    _wait_count(page, total)
    page.locator("#survey-body button.sins-chip[data-facet=loss][data-id=census]").first.click(modifiers=["Shift"])
    _wait_count(page, len(filter_papers(cat, exclude=["census"])))
    assert "exclude=census" in page.url and page.locator("#survey-active button", has_text="not census").count() == 1


def test_layout_fits_without_sideways_scrolling_and_reads_on_a_phone(browser, site_url):
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        _open_survey(pg, site_url)
        assert pg.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        heights = pg.evaluate("Array.from(document.querySelectorAll('#survey-body tr')).map(r => r.getBoundingClientRect().height)")
        assert max(heights) < 170, heights  # compact rows: several per screen
        ids = pg.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
        # the facet headers carry no pencil icon, and the text inputs have a visible border
        assert pg.evaluate("getComputedStyle(document.querySelector('#sum-loss'), '::before').content") in ("none", "normal", "")
        for sel in ("#f-year", "#f-venue", "#f-text"):
            assert pg.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{sel}')).borderTopWidth)") >= 1, sel
        assert pg.input_value("#f-year") == "" and pg.get_attribute("#f-year", "placeholder").startswith("e.g.")
    finally:
        pg.close()
    ph = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        _open_survey(ph, site_url)
        assert ph.evaluate("document.scrollingElement.scrollWidth <= innerWidth + 1")
        assert ph.evaluate("document.querySelector('#survey-body tr').getBoundingClientRect().top") < 420
    finally:
        ph.close()


def test_loss_page_links_to_the_filtered_survey(page, site_url, test_catalog):
    page.goto(site_url + "taxonomy/losses/census/")
    assert page.locator("table.sins-year-bars tbody tr").count() >= 1  # papers per year
    page.click("a:has-text('These papers in the survey table')")
    page.wait_for_selector("#survey[data-ready='1']")
    assert _count(page) == len(filter_papers(load_catalog(test_catalog), losses=["census"]))


def test_new_since_page_and_atom_feed(page, site_url, built_site):
    import xml.etree.ElementTree as ET

    page.goto(site_url + "changes/")
    assert page.locator("article h1").text_content().startswith("New since")
    feed = ET.parse(built_site / "feed.xml").getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.find("{http://www.w3.org/2005/Atom}title") is not None


def test_experiments_page_reads_as_a_report(browser, results_site_url):
    import re

    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        pg.goto(results_site_url + "experiments/")
        toc = {t.strip() for t in pg.locator("nav.md-nav--secondary a").all_text_contents()}  # the theme repeats it for phones
        assert sum(1 for t in toc if t.startswith("Claim")) == 5, toc
        srcs = pg.evaluate("Array.from(document.querySelectorAll('article img')).map(i => i.getAttribute('src'))")
        assert len(srcs) == len(set(srcs)), "a figure is shown twice"
        for cap in pg.locator("article figcaption").all_text_contents():
            assert not re.fullmatch(r"[\w./-]+\.png", cap.strip()) and len(cap) > 40, cap
        text = pg.locator("article").text_content()
        assert "seeds_loss_fell_error_rose" not in text and not re.search(r"\bmean_[a-z_]+\b", text)
        # statuses use one neutral scale: 'confirmed' is not painted as an alarm and 'not confirmed' not as good news
        conf = pg.locator(".sins-claim-confirmed").first
        if conf.count():
            assert conf.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgb(253, 226, 225)", "rgb(223, 243, 224)")
        assert pg.locator("ul.sins-legend li").count() >= 4
        first = pg.locator("#experiments-table a").first
        first.click()
        pg.wait_for_load_state()
        assert pg.locator("article h1").count() == 1 and pg.locator("article figure img").count() >= 1
    finally:
        pg.close()


VIEWS = [("home", ""), ("survey", "survey/"), ("paper", f"papers/{HOSTILE_KEY}/"), ("term", "taxonomy/losses/ssim/"),
         ("experiments", "experiments/"), ("leaderboards", "leaderboards/"), ("leaderboard", None)]


def test_screenshots_at_desktop_and_phone_sizes(browser, results_site_url):
    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for w, h in ((1400, 1000), (390, 844)):
        pg = browser.new_page(viewport={"width": w, "height": h})
        try:
            for name, path in VIEWS:
                pg.goto(results_site_url + (path if path is not None else _leaderboard_path()))
                pg.wait_for_load_state("networkidle")
                out = shots / f"{name}-{w}x{h}.png"
                pg.screenshot(path=str(out))
                assert out.stat().st_size > 5_000
        finally:
            pg.close()


def test_axe_on_the_experiments_pages(browser, results_site_url):
    from axe_playwright_python.sync_playwright import Axe

    pg = browser.new_page()
    try:
        for path in ["experiments/", "experiments/monodepth_stereo/", "stats/", "changes/", "leaderboards/",
                     _leaderboard_path()]:
            pg.goto(results_site_url + path)
            pg.wait_for_load_state("networkidle")
            bad = [v for v in Axe().run(pg).response["violations"] if v.get("impact") in ("critical", "serious")]
            assert bad == [], (path, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in bad])
    finally:
        pg.close()


# --------------------------------------------------------------------------- leaderboards


def _leaderboard_path() -> str:
    from sins.catalog.results import ResultRow, protocol_id

    from .conftest import LB_ROW

    return f"leaderboards/kitti-eigen/{protocol_id(ResultRow.model_validate(dict(LB_ROW, metrics={'abs_rel': 0.1})))}/"


def _leaderboard_rows(page) -> list[tuple[str, float]]:
    """(paper key, AbsRel) of every row shown, in order."""
    while page.is_visible("#survey-more"):
        page.click("#survey-more")
    out = []
    for tr in page.locator("#survey-body tr").all():
        href = tr.locator("a.sins-title").get_attribute("href")
        out.append((href.rstrip("/").rsplit("/", 1)[1], float(tr.locator("td[data-label=AbsRel]").get_attribute("data-value"))))
    return out


LEADERBOARD_FILTERS = [
    ("", []),
    ("?loss=ssim", ["--loss", "ssim"]),
    ("?loss=census,l1&match=any", ["--loss", "census", "--loss", "l1", "--any"]),
    ("?exclude=census", ["--exclude", "census"]),
    ("?loss=ssim&ev=code", ["--loss", "ssim", "--evidence", "code"]),
    ("?domain=medical", ["--domain", "medical"]),
    ("?year=2018-2020", ["--year", "2018-2020"]),
    ("?code=1", ["--code"]),
    ("?text=occlusion", ["--text", "occlusion"]),
    ("?sort=-abs_rel", ["--sort", "abs_rel"]),
]


@pytest.mark.parametrize("query,args", LEADERBOARD_FILTERS)
def test_leaderboard_rows_equal_sins_results_for_the_same_filter(page, site_url, test_catalog, query, args):
    from typer.testing import CliRunner

    from sins.cli import app

    path = _leaderboard_path()
    pid = path.rstrip("/").rsplit("/", 1)[1]
    page.goto(site_url + path + query)
    page.wait_for_selector("#survey[data-ready='1']")
    shown = _leaderboard_rows(page)
    sort = [] if "--sort" in args else ["--sort", "abs_rel"]
    r = CliRunner().invoke(app, ["results", "--protocol", pid, *sort, *args, "--format", "json", "--catalog", str(test_catalog)])
    assert r.exit_code == 0, r.output
    expected = [(x["key"], x["abs_rel"]) for x in json.loads(r.output)]
    if query == "?sort=-abs_rel":  # the page's reversed order: the CLI's, read backwards (ties keep their order)
        assert [a for _k, a in shown] == sorted((a for _k, a in expected), reverse=True)
        assert sorted(shown) == sorted(expected)
    else:
        assert shown == expected
    assert int(page.text_content("#survey-count")) == len(expected)


def test_leaderboard_rows_link_their_source_sort_by_a_metric_and_stay_text(page, site_url):
    page.goto(site_url + _leaderboard_path())
    page.wait_for_selector("#survey[data-ready='1']")
    # every row of the shared protocol, and only those (the 1024x320 row has its own page)
    models = page.locator("#survey-body .sins-meta").all_text_contents()
    assert len(models) == 6 and not any("high resolution" in m for m in models)
    # the hostile model name is text; nothing ran
    assert any('<img src=x onerror="window.__pwned=3"> Ours' in m for m in models)
    assert page.evaluate("window.__pwned") is None
    # the source is one click away
    hrefs = page.locator("#survey-body .sins-meta a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert set(hrefs) == {"https://example.org/paper"}
    # sorting by delta < 1.25 puts the highest first (higher is better)
    page.click("#survey-table th[data-col=a1] button")
    page.wait_for_function("location.search.indexOf('sort=a1') >= 0")
    a1 = [float(v) for v in page.locator("td[data-label='δ<1.25']").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert a1 == sorted(a1, reverse=True)
    # the protocol is spelled out, and the other protocol links from the index
    proto = page.text_content("p.sins-protocol")
    assert "640x192" in proto and "80 m" in proto and "not stated" in proto  # refinement and post-processing unstated
    page.goto(site_url + "leaderboards/")
    links = page.locator("article a[href*='kitti-eigen/']").all_text_contents()
    assert any("1024x320" in t for t in links) and any("640x192" in t for t in links)
    page.goto(site_url + "papers/gamma2018census/")
    assert page.locator("#paper-results tbody tr").count() == 3
    assert page.locator("#paper-results a[href*='leaderboards/kitti-eigen/']").count() == 3


def test_leaderboard_downloads_hold_the_filtered_rows(page, site_url):
    page.goto(site_url + _leaderboard_path() + "?loss=census")
    page.wait_for_selector("#survey[data-ready='1']")
    with page.expect_download() as d:
        page.click("#json-filtered")
    got = json.loads(open(d.value.path(), encoding="utf-8").read())
    assert sorted((g["key"], g["abs_rel"]) for g in got) == [("delta2019both", 0.128), ("gamma2018census", 0.119),
                                                              ("gamma2018census", 0.128)]
    assert all(g["source"] == "https://example.org/paper" and g["protocol_id"] for g in got)
    with page.expect_download() as d:
        page.click("#bib-filtered")
    assert sorted(_bib_keys(d.value)) == ["delta2019both", "gamma2018census"]  # one entry per paper


def test_figures_are_sharp_at_their_displayed_size(browser, results_site_url):
    """Every figure has at least as many pixels as it is shown with (no upscaled raster), on the stats, the
    experiments and an experiment's own page."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        for path in ["stats/", "experiments/", "experiments/smoothness_weights/"]:
            pg.goto(results_site_url + path)
            pg.wait_for_load_state("networkidle")
            imgs = pg.evaluate("""async () => {
                const imgs = Array.from(document.querySelectorAll('article img'));
                imgs.forEach(i => { i.loading = 'eager'; });
                await Promise.all(imgs.map(i => i.decode().catch(() => null)));
                return imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.getBoundingClientRect().width]);
            }""")
            assert imgs, path
            for src, natural, shown in imgs:
                assert natural > 0 and natural >= shown - 1, (path, src, natural, shown)
    finally:
        pg.close()
