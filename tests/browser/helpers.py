"""Small Playwright helpers for a Streamlit app: wait until it is idle, open a page, fail on an
exception box, take a screenshot of the whole page (Streamlit scrolls inside its own container, so
Playwright's full_page alone would only capture the viewport)."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect

from ui import pages

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"

# Generous: two shared cores, and a first render can take up to a minute.
TIMEOUT_MS = 60_000
FIRST_LOAD_TIMEOUT_MS = 150_000  # the first load scans the dataset

# (sidebar label, page title in the <h1>, URL path, screenshot name), from the app's one list of pages
PAGES = [(p.label, p.title, pages.url_path(p), p.name) for p in pages.PAGES]
TITLE = {label: title for label, title, _, _ in PAGES}

SERVER_START_TIMEOUT_S = 90

STATUS = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'
NO_DATASET = "Pick a dataset in the sidebar and press Scan."  # ui.widgets.need_dataset()


def wait_idle(page: Page, timeout: int = TIMEOUT_MS) -> None:
    """Idle: the "running" status widget is gone and stays gone a moment (a rerun can start just
    after an interaction, so one look is not enough)."""
    for _ in range(3):
        page.locator(STATUS).wait_for(state="detached", timeout=timeout)
        page.wait_for_timeout(300)
    page.locator(STATUS).wait_for(state="detached", timeout=timeout)


def heading(page: Page, title: str):
    return page.get_by_role("heading", name=title, level=1, exact=True)


def assert_no_exception(page: Page, where: str) -> None:
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        text = boxes.first.inner_text()[:2000]
        raise AssertionError(f"{where}: the page shows {boxes.count()} exception box(es); the first:\n{text}")


def wait_page(page: Page, title: str, timeout: int = TIMEOUT_MS) -> None:
    """Wait for the page title, then for the app to be idle; fail on an exception box. The title is
    checked last as well: when an exception stops the script, say so rather than time out."""
    try:
        # whichever comes first: the title, an exception box, or the app's "no dataset" notice
        expect(heading(page, title).or_(page.locator(EXCEPTION)).or_(page.get_by_text(NO_DATASET)).first
               ).to_be_visible(timeout=timeout)
        assert_no_exception(page, f"page {title!r}")
        expect(heading(page, title)).to_be_visible(timeout=1_000 if page.get_by_text(NO_DATASET).count() else timeout)
    except AssertionError as exc:
        if "exception box" in str(exc):
            raise
        assert_no_exception(page, f"page {title!r}")
        main = page.locator('[data-testid="stMain"]')
        shown = main.inner_text()[:800] if main.count() else "(no main area)"
        raise AssertionError(f"page title {title!r} never appeared; the main area shows:\n{shown}") from None
    wait_idle(page, timeout)
    assert_no_exception(page, f"page {title!r}")


def click_when_still(locator, still_ms: int = 250, timeout: int = TIMEOUT_MS) -> None:
    """Click once the element stops moving. An expander that has just opened lays out its content over a few
    frames (a radio's captions push what follows down): a button that moves between the press and the release
    gets no click, in a browser as for a person, and Playwright's own stability check can pass in between."""
    deadline = time.monotonic() + timeout / 1000
    last = None
    while (box := locator.bounding_box()) is None or box != last:
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} never stopped moving (last at {box})")
        last = box
        locator.page.wait_for_timeout(still_ms)
    locator.click()


def open_from_sidebar(page: Page, label: str) -> None:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name=label, exact=True).click()
    wait_page(page, TITLE[label])


def dataset_box(page: Page):
    return page.get_by_role("textbox", name="Folder, .csv manifest or URL")


def metric_value(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True))
    expect(metric).to_have_count(1)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def count_in(text: str, pattern: str) -> int:
    """The first number matched by `pattern` (one group) in text, thousands separators allowed."""
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not found in {text!r}"
    return int(found.group(1).replace(",", ""))


def _content_height(page: Page) -> int:
    return page.evaluate("""() => {
        const heights = [document.documentElement.scrollHeight];
        for (const sel of ['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]',
                           '[data-testid="stMainBlockContainer"]', '[data-testid="stSidebarContent"]']) {
            const el = document.querySelector(sel);
            if (el) heights.push(el.scrollHeight);
        }
        return Math.max(...heights);
    }""")


def full_page_screenshot(page: Page, name: str) -> Path:
    """Grow the viewport to the height of Streamlit's scrolling main area, shoot, restore. Charts and
    images lay out after the viewport grows, and can make the page taller: grow again until it holds."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 900}
    try:
        height = size["height"]
        for _ in range(4):
            wanted = min(max(size["height"], _content_height(page) + 40), 16_000)
            if wanted <= height:
                break
            height = wanted
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_timeout(800)  # let charts and images re-lay out at the new size
            wait_idle(page)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().decode().strip() == "ok"
    except OSError:
        return False


class Server:
    """`streamlit run app.py -- DATASET` from the repo root, its cache in INSPECTORS_CACHE, its output
    in a log file; stopped by PID (terminate, wait, then kill)."""

    def __init__(self, dataset: Path, cache: Path, log: Path):
        self.dataset, self.cache, self.log = dataset, cache, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, INSPECTORS_CACHE=str(cache), PYTHONUNBUFFERED="1")
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                 f"--server.port={self.port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
                 "--server.fileWatcherType=none", "--", str(dataset)],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not healthy(self.url):
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode} before it was healthy:\n"
                                   f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""
