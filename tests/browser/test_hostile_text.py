"""User text attacks the app in a real browser: class names, labels, split and file names that are Markdown
images and links and HTML tags pointing at a beacon server on 127.0.0.1 (tests/hostile/hostile_text.py).
Every page is opened (Baselines' tabs clicked, charts hovered): the beacon must count zero requests, no link
may point at it, and no page may show an exception or throw one. Screenshots go to
test-output/screenshots/hostile_*.png.

Run: .venv/bin/python -m pytest tests/browser/test_hostile_text.py -q
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from inspectors import review
from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.scan import read_samples
from inspectors.workspace import workspace_dir
from tests.browser import helpers
from tests.browser.helpers import PAGES, wait_page
from tests.hostile.hostile_text import hostile_dataset, hostile_labels, hostile_results
from ui import labels

pytestmark = pytest.mark.browser


GIF = bytes.fromhex("47494638396101000100000000002c00000000010001000002003b")  # 1x1, what a tracker serves


class Beacon:
    """An HTTP server on 127.0.0.1 that answers everything with a 1x1 GIF and remembers each request."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                hits.append(self.path)
                body = GIF
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """(server, beacon) on the hostile dataset, scanned beforehand, with runs, label issues, a relabel mark
    and a scored human sheet in its workspace."""
    beacon = Beacon()
    root = tmp_path_factory.mktemp("hostile_browser")
    manifest = hostile_dataset(root / "ds", beacon.url)
    cache = root / "cache"
    listing = load_dataset(manifest)
    workspace = workspace_dir(listing.root, listing.labels_csv, cache)
    scan_and_inspect(listing, Config(), workspace)
    samples = read_samples(workspace)
    hostile_results(workspace, samples, beacon.url)
    review.set_mark(workspace, samples["path"].iloc[0], "relabel", hostile_labels(beacon.url)[2])
    pool = labels.candidates(samples)
    sheet = labels.draw_sheet(pool, 6, seed=0)
    truth = dict(zip(pool["path"], pool["label"], strict=True))
    labels.save_sheet(workspace, labels.answer_sheet(sheet, {p: truth[p] for p in sheet["paths"][:3]}))
    server = helpers.Server(manifest, cache, root / "streamlit.log")
    try:
        server.wait_healthy()
        yield server, beacon
    finally:
        server.stop()
        beacon.close()


LINKS_TO = """host => [...document.querySelectorAll('a, img, image, iframe, source, link')].map(e =>
    e.getAttribute('href') || e.getAttribute('xlink:href') || e.getAttribute('src') || '').filter(
    u => u.startsWith(host))"""


def hover_charts(page, most: int = 6) -> None:
    """Hover the visible Plotly charts: their hover text is drawn only then."""
    for chart in [c for c in page.locator(".js-plotly-plot").all() if c.is_visible()][:most]:
        chart.scroll_into_view_if_needed()
        chart.hover()
        page.wait_for_timeout(200)


def test_no_page_fetches_or_links_what_user_text_names(hostile_server, browser):
    server, beacon = hostile_server
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(helpers.TIMEOUT_MS)
    expect.set_options(timeout=helpers.TIMEOUT_MS)
    thrown = []
    page.on("pageerror", lambda error: thrown.append(str(error)))
    problems = []
    try:
        page.goto(server.url + "/", wait_until="domcontentloaded")
        wait_page(page, "Overview", timeout=helpers.FIRST_LOAD_TIMEOUT_MS)
        for label, title, _, shot in PAGES:
            helpers.open_from_sidebar(page, label)
            hover_charts(page)
            if label == "Baselines":
                for tab in ("Sanity checks", "Compare runs", "Train and watch"):
                    page.get_by_role("tab", name=tab).click()
                    helpers.wait_idle(page)
                    hover_charts(page)
            helpers.full_page_screenshot(page, f"hostile_{shot}")
            helpers.assert_no_exception(page, f"page {title!r}")
            linked = page.evaluate(LINKS_TO, beacon.url)
            if linked:
                problems.append(f"{title}: elements point at the beacon: {linked[:3]}")
        page.wait_for_timeout(1000)  # a late image load would still reach the beacon
    finally:
        context.close()
    assert not beacon.hits, f"the browser fetched what user text named: {beacon.hits}"
    assert not problems, "\n".join(problems)
    assert not thrown, f"the page threw: {thrown[:3]}"
