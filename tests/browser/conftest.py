"""Browser tests: one real `streamlit run app.py` server per session, on a copy of sample_data/shapes
with a private cache, driven by Playwright with the system chromium (never `playwright install`).

The app scans the dataset on its first load (that is part of what is tested). Set
BROWSER_TESTS_PRESCAN=1 to scan the copy from the test process before the server starts, to test
the pages on their own while the in-app scan is broken.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import helpers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 900}
PRESCAN = os.environ.get("BROWSER_TESTS_PRESCAN") == "1"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and not os.path.exists(CHROMIUM):
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


def _prescan(dataset: Path, cache: Path) -> None:
    from inspectors.config import Config
    from inspectors.dataset import load_dataset
    from inspectors.run import scan_and_inspect
    from inspectors.workspace import workspace_dir
    scan_and_inspect(load_dataset(dataset), Config(), workspace_dir(dataset, None, cache))
    # what the app's own scan leaves besides the reports: the dataset in the "Recent" list
    saved = os.environ.get("INSPECTORS_CACHE")
    os.environ["INSPECTORS_CACHE"] = str(cache)
    try:
        from ui import state
        state.remember(state.resolve(str(dataset), None))
    finally:
        if saved is None:
            os.environ.pop("INSPECTORS_CACHE")
        else:
            os.environ["INSPECTORS_CACHE"] = saved


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The session's server: started on a fresh copy and a fresh cache; `.workspace` is where the app
    writes its reports and review marks for that copy."""
    from inspectors.workspace import workspace_dir

    root = tmp_path_factory.mktemp("browser")
    dataset = root / "shapes"
    shutil.copytree(helpers.REPO / "sample_data" / "shapes", dataset, symlinks=True)
    cache = root / "cache"
    cache.mkdir()
    if PRESCAN:
        _prescan(dataset, cache)
    server = helpers.Server(dataset, cache, root / "streamlit.log")
    server.workspace = workspace_dir(dataset, None, cache)
    server.root = root
    yield from _serving(server)


@pytest.fixture
def fresh_server(app_server, first_load):
    """A second server on the same (already scanned) copy and cache, that no browser has visited yet."""
    server = helpers.Server(app_server.dataset, app_server.cache, app_server.root / f"streamlit-{time.time_ns()}.log")
    yield from _serving(server)


def _serving(server):
    """Yield the server once it answers its health check; stop it afterwards, whatever happened."""
    try:
        try:
            server.wait_healthy()
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(app_server):
    return app_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def first_load(app_server, browser):
    """The first visit to the new server, as a user does it: open the app, let it scan the dataset (a
    progress bar in the sidebar) until the Overview shows its "Files" metric, then click "Browse".
    Every test needs the scan; if it fails they all error with its message and the server log. What
    happens on Browse is only recorded here (test_first_load_scans_the_dataset judges it)."""
    expect.set_options(timeout=helpers.TIMEOUT_MS)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(helpers.TIMEOUT_MS)
    started = time.monotonic()
    try:
        page.goto(app_server.url + "/", wait_until="domcontentloaded")
        try:
            helpers.wait_page(page, "Overview", timeout=helpers.FIRST_LOAD_TIMEOUT_MS)
            helpers.metric_value(page, "Files")
        except AssertionError as exc:
            helpers.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(helpers.SCREENSHOTS / "first_load_failure.png"))
            raise AssertionError(f"the first load did not reach the Overview: {exc}\n\n--- streamlit log (tail) ---\n"
                                 f"{app_server.log_tail()}") from None
        seconds = time.monotonic() - started
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        browse_error = None
        box = helpers.dataset_box(page)
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Browse", exact=True).click()
        # stop at the first sign: the page is there, or the dataset box no longer names the dataset (then
        # the app is busy scanning whatever the box now says: closing the session below stops it)
        deadline = time.monotonic() + helpers.TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            if box.count() and box.input_value() != str(app_server.dataset):
                break
            if helpers.heading(page, "Browse").count():
                try:
                    helpers.wait_page(page, "Browse")
                except AssertionError as exc:
                    browse_error = str(exc)[:1500]
                break
            page.wait_for_timeout(250)
        else:
            browse_error = "Browse did not appear within the time limit"
        found = {"seconds": seconds, "sidebar": sidebar, "prescanned": PRESCAN, "browse_error": browse_error,
                 "browse_dataset_box": box.input_value() if box.count() else None,
                 "browse_sidebar": _picker_text(page)}
    finally:
        context.close()  # before the other tests: whatever this session set off should stop with it
    return found


def _picker_text(page) -> str:
    """The sidebar below the page links: the dataset picker, progress and workspace lines."""
    text = page.locator('[data-testid="stSidebarUserContent"]').inner_text()
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


@pytest.fixture
def app(first_load, page):
    """A fresh browser session (its own Streamlit session state) on the scanned app, at no page yet."""
    page.set_default_timeout(helpers.TIMEOUT_MS)
    page.set_default_navigation_timeout(helpers.TIMEOUT_MS)
    expect.set_options(timeout=helpers.TIMEOUT_MS)
    return page
