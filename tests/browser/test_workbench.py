"""The reviewer's workbench in a real browser: one click on a thumbnail opens the sample in a dialog, the arrow
keys move through the grid, and the URL keeps the dataset, the filters and the open sample across a reload."""

import re

from playwright.sync_api import expect

from tests.browser import helpers
from tests.browser.helpers import wait_idle, wait_page

DIALOG = '[data-testid="stDialog"]'


def test_a_click_opens_the_sample_the_arrows_move_and_a_reload_keeps_the_view(app):
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    helpers.open_from_sidebar(app, "Browse")
    app.get_by_role("combobox", name="Issue").click()
    app.get_by_role("option", name="corrupt", exact=True).click()
    app.keyboard.press("Escape")
    caption = app.get_by_text(re.compile(r"^[\d,]+ of [\d,]+ files match$"))
    expect(caption).to_have_text(re.compile(r"^24 of "))
    wait_idle(app)
    assert "browse_issue=corrupt" in app.url and "ws=" in app.url, app.url

    opens = app.locator('[data-testid="stMain"] [data-testid="stButton"] button').filter(has_text=re.compile("^Open$"))
    opens.first.click()
    dialog = app.locator(DIALOG)
    expect(dialog).to_be_visible()
    wait_idle(app)
    helpers.assert_no_exception(app, "the sample dialog")
    where = dialog.get_by_text(re.compile(r"^1 of \d+ in the grid"))
    expect(where).to_be_visible()
    first = dialog.get_by_role("heading", level=3).first.inner_text()
    app.keyboard.press("ArrowRight")
    expect(dialog.get_by_text(re.compile(r"^2 of \d+ in the grid"))).to_be_visible()
    wait_idle(app)
    second = dialog.get_by_role("heading", level=3).first.inner_text()
    helpers.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.screenshot(path=str(helpers.SCREENSHOTS / "browse_sample_dialog.png"))
    assert second != first and "open=" in app.url, (first, second, app.url)

    app.reload(wait_until="domcontentloaded")  # a reload (or the link, shared) keeps dataset, filter and sample
    wait_page(app, "Browse")
    expect(app.locator(DIALOG)).to_be_visible()
    expect(app.locator(DIALOG).get_by_role("heading", level=3).first).to_have_text(second)
    app.keyboard.press("Escape")
    expect(app.locator(DIALOG)).to_have_count(0)
    expect(caption).to_have_text(re.compile(r"^24 of "))
    helpers.assert_no_exception(app, "Browse after the reload")


def test_the_checklist_opens_the_filtered_view(app):
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    row = app.locator('[data-testid="stHorizontalBlock"]').filter(has_text="Every file reads")
    row.get_by_role("link", name="Open →").click()
    wait_page(app, "Browse")
    caption = app.get_by_text(re.compile(r"^[\d,]+ of [\d,]+ files match$"))
    expect(caption).not_to_have_text(re.compile(r"^([\d,]+) of \1 files"))  # narrowed, not everything
    helpers.assert_no_exception(app, "Browse from the checklist")


def test_nothing_leaves_the_machine_over_a_visit_of_every_page(app):
    from urllib.parse import urlparse

    outside = []
    app.on("request", lambda r: outside.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
           and urlparse(r.url).hostname not in ("127.0.0.1", "localhost") else None)
    app.goto("/", wait_until="domcontentloaded")
    wait_page(app, "Overview")
    for label, *_ in helpers.PAGES:
        helpers.open_from_sidebar(app, label)
    assert not outside, outside[:10]


def test_keep_one_per_group_then_undo(app, app_server):
    from inspectors import review

    app.goto("/duplicates", wait_until="domcontentloaded")
    wait_page(app, "Duplicates and leaks")
    before = review.marks(app_server.workspace)
    app.get_by_text(re.compile(r"^Keep one file of each of these")).click()
    helpers.click_when_still(app.get_by_role("button", name="Mark them"))  # the expander opening moves it
    undo = app.get_by_role("button", name=re.compile(r"^Undo: keep one per group"))
    expect(undo).to_be_visible()
    wait_idle(app)
    marked = review.marks(app_server.workspace)
    assert (marked["decision"] == "remove").sum() > (before["decision"] == "remove").sum()
    undo.click()
    expect(undo).to_have_count(0)
    wait_idle(app)
    helpers.assert_no_exception(app, "Duplicates after the undo")
    assert review.marks(app_server.workspace).equals(before)
