"""The dashboard in a real browser: every page renders without an exception box, filters change what
is shown, a duplicate group shows its members, and a review mark is applied, exported and survives a
reload. Screenshots of every page go to test-output/screenshots/ (gitignored) for a human to look at.

Run: .venv/bin/python -m pytest tests/browser -q -m browser
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import helpers
from tests.browser.helpers import PAGES, wait_idle, wait_page

pytestmark = pytest.mark.browser


def test_first_load_scans_the_dataset(first_load, app_server):
    """The app scanned the copy itself (or found the pre-scan), says so in the sidebar, and the first
    page the user then opens still works on that dataset."""
    if not first_load["prescanned"]:
        assert re.search(r"[\d,]+ files in [\d.]+ s", first_load["sidebar"]), first_load["sidebar"]
    assert app_server.workspace.name in first_load["sidebar"].replace("\n", ""), first_load["sidebar"]
    assert (app_server.workspace / "summary.json").exists()
    assert first_load["browse_dataset_box"] == str(app_server.dataset), (
        f"after the first load, clicking Browse changed the dataset box to {first_load['browse_dataset_box']!r} "
        f"(the app then works on that folder); sidebar:\n{first_load['browse_sidebar']}")
    assert first_load["browse_error"] is None, f"Browse, right after the first load: {first_load['browse_error']}"


def test_every_page_renders_without_an_exception(app, app_server):
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    problems = []
    for label, title, path, shot in PAGES:
        helpers.open_from_sidebar(app, label)
        expect(app).to_have_url(re.compile(rf"/{re.escape(path)}(\?ws=[^&]+)?$"))  # the URL names the dataset
        # the sidebar keeps the dataset picked on the command line on every page
        box = helpers.dataset_box(app)
        if box.input_value() != str(app_server.dataset):
            problems.append(f"{label}: the dataset box reads {box.input_value()!r}, not {str(app_server.dataset)!r}")
        helpers.full_page_screenshot(app, shot)
        helpers.assert_no_exception(app, f"page {title!r} after the screenshot")
    assert not problems, "\n".join(problems)


def test_every_page_opens_from_its_own_url(fresh_server, browser):
    """A bookmark, or the tab that reconnects after the server restarts, opens a page other than the
    first: it shows that page with its data, also as the new server's very first visit."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(helpers.TIMEOUT_MS)
    failures = []
    try:
        # the new server's first visit is /browse; two more pages as bookmarks (a full reload each)
        for _, title, path, _ in [p for p in PAGES if p[2] in ("browse", "duplicates", "review")]:
            page.goto(f"{fresh_server.url}/{path}", wait_until="domcontentloaded")
            try:
                wait_page(page, title)
            except AssertionError as exc:
                lines = str(exc).splitlines()
                failures.append(f"/{path}: {' '.join(lines[:3])}")
                continue
            # inside the frame, also when the server reached the page through its discovery of pages/
            listed = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
            if [x.strip() for x in listed] != [label for label, _, _, _ in PAGES]:
                failures.append(f"/{path}: the sidebar lists {listed} (each page once, in order, expected)")
            if page.locator('[data-testid="stSidebarNav"]').count() != 1:
                failures.append(f"/{path}: {page.locator('[data-testid=stSidebarNav]').count()} navigations")
            if helpers.dataset_box(page).input_value() != str(fresh_server.dataset):
                failures.append(f"/{path}: the dataset box reads {helpers.dataset_box(page).input_value()!r}")
    finally:
        context.close()
    assert not failures, "\n".join(failures)


def test_browse_issue_filter_narrows_the_files(app):
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    helpers.open_from_sidebar(app, "Browse")
    caption = app.get_by_text(re.compile(r"^[\d,]+ of [\d,]+ files match$"))
    expect(caption).to_be_visible()
    before = caption.inner_text()
    shown, total = helpers.count_in(before, r"^([\d,]+) of"), helpers.count_in(before, r"of ([\d,]+) files")
    assert shown == total > 0, before

    app.get_by_role("combobox", name="Issue").click()
    app.get_by_role("option", name="corrupt", exact=True).click()
    app.keyboard.press("Escape")
    expect(caption).not_to_have_text(before)
    wait_idle(app)
    helpers.assert_no_exception(app, "Browse, filtered on corrupt")
    after = caption.inner_text()
    narrowed = helpers.count_in(after, r"^([\d,]+) of")
    assert 0 < narrowed < total, after
    assert helpers.count_in(after, r"of ([\d,]+) files") == total, after
    # every card shown now carries the issue in its caption
    expect(app.get_by_text(re.compile(r"· .*\bcorrupt\b")).first).to_be_visible()


def test_duplicates_shows_the_members_of_a_group(app):
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    helpers.open_from_sidebar(app, "Duplicates")
    header = app.get_by_text(re.compile(r"^Group \S+ — \d+ files$"))
    expect(header).to_be_visible()
    first = header.inner_text()
    images = app.locator('.st-key-dup_group_members [data-testid="stImage"] img')  # not the example pairs below
    expect(images.first).to_be_visible()
    assert images.count() == helpers.count_in(first, r"— (\d+) files") >= 2, first

    # click the third row of the groups table (a canvas grid: click by position, read its accessible rows)
    table = app.locator('[data-testid="stDataFrame"]').filter(has_text="conflicting").last
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    row = 2
    clicked_group = table.locator('[role="row"]').nth(row + 1).locator('[role="gridcell"]').first.inner_text()
    app.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)
    expect(header).not_to_have_text(first)
    wait_idle(app)
    helpers.assert_no_exception(app, "Duplicates after picking a group")
    now = header.inner_text()
    assert clicked_group.strip() in now, (clicked_group, now)
    members = helpers.count_in(now, r"— (\d+) files")
    expect(images).to_have_count(members)
    for i in range(members):  # real thumbnails, not broken images
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), f"member image {i} is broken"


def test_a_remove_mark_is_exported_and_survives_a_reload(app, app_server):
    from inspectors import review

    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    helpers.open_from_sidebar(app, "Browse")
    expect(app.get_by_role("radio", name="Gallery")).to_be_checked()
    ticks = app.get_by_role("checkbox", name="select")
    expect(ticks.first).to_be_attached()
    # the input is visually hidden behind its label: click the label
    app.locator('[data-testid="stCheckbox"]').filter(has=ticks.first).first.locator("label").first.click()
    apply = app.get_by_role("button", name="Apply")
    expect(apply).to_be_visible()
    wait_idle(app)
    expect(app.get_by_text("Mark it as")).to_be_visible()
    decision = app.locator('[data-testid="stRadio"]').filter(has_text="Mark it as")
    decision.get_by_text("remove", exact=True).click()
    wait_idle(app)
    apply.click()
    wait_idle(app)
    helpers.assert_no_exception(app, "Browse after Apply")
    expect(apply).to_be_hidden()  # the selection is cleared once the mark is committed
    expect(ticks.first).not_to_be_checked()
    marks = review.marks(app_server.workspace)
    assert list(marks["decision"]) == ["remove"], marks

    helpers.open_from_sidebar(app, "Review & export")
    assert helpers.metric_value(app, "remove") == "1"
    assert helpers.metric_value(app, "keep") == "0"
    expect(app.get_by_role("button", name="Download cleaned manifest (CSV)")).to_be_visible()
    expect(app.get_by_text(marks["path"].iloc[0], exact=True).first).to_be_attached()

    app.reload(wait_until="domcontentloaded")
    wait_page(app, "Review and export")
    assert helpers.metric_value(app, "remove") == "1"
