"""Bulk review in the app: keep one per duplicate group, then undo it; a filtered Browse view marked at once."""

from inspectors import review
from inspectors.workspace import workspace_dir


def on_page(app, shapes_copy, page):
    """The app on `page`; the workspace and its marks before the test touches them."""
    data, cache = shapes_copy
    ws = workspace_dir(data, None, cache)
    before = review.marks(ws)
    app.run()
    app.switch_page(page).run()
    return ws, before


def test_keep_one_per_group_marks_the_groups_and_undo_puts_it_back(app, shapes_copy):
    ws, before = on_page(app, shapes_copy, "pages/duplicates.py")
    app.button(key="dup_keep_one").click().run()
    assert not app.exception, app.exception
    marks = review.marks(ws)
    assert (marks["decision"] == "keep").sum() >= 1 and (marks["decision"] == "remove").sum() >= 1
    app.run()
    undo = [b for b in app.button if b.key == "dup_undo"]
    assert undo and "keep one per group" in undo[0].label
    undo[0].click().run()
    assert review.marks(ws).equals(before)  # exactly what was there before


def test_a_filtered_browse_view_is_marked_at_once_and_a_same_class_relabel_is_refused(app, shapes_copy):
    ws, before = on_page(app, shapes_copy, "pages/browse.py")
    app.multiselect(key="browse_label").select("circle").run()
    app.radio(key="browse_bulk_decision").set_value("relabel").run()
    app.selectbox(key="browse_bulk_label").set_value("circle").run()
    app.button(key="browse_bulk_apply").click().run()
    assert not app.exception, app.exception
    assert review.marks(ws).equals(before)  # every file of the view is a circle already: nothing to relabel
    app.radio(key="browse_bulk_decision").set_value("remove").run()
    app.button(key="browse_bulk_apply").click().run()
    marks = review.marks(ws)
    assert (marks["decision"] == "remove").sum() > 10
    review.undo_last(ws)
    assert review.marks(ws).equals(before)


def test_a_whole_gallery_page_is_selected_at_once_marked_and_cleared(app, shapes_copy):
    ws, before = on_page(app, shapes_copy, "pages/browse.py")
    app.button(key="browse_sel_all").click().run()
    assert not app.exception, app.exception
    ticked = [c for c in app.checkbox if c.key.startswith("browse_sel::")]
    assert len(ticked) == 40 and all(c.value for c in ticked)  # the first page, every one of it
    assert any(r.label == "Mark 40 selected as" for r in app.radio)
    app.radio(key="browse_sel_decision").set_value("keep").run()
    app.button(key="browse_sel_apply").click().run()
    page = [c.key.split("::", 1)[1] for c in ticked]
    marks = review.marks(ws).set_index("path")["decision"]
    try:
        assert all(marks.get(p) == "keep" for p in page)
        assert not any(c.value for c in app.checkbox if c.key.startswith("browse_sel::"))  # cleared once applied
        app.button(key="browse_sel_all").click().run()
        app.button(key="browse_sel_none").click().run()
        assert not any(c.value for c in app.checkbox if c.key.startswith("browse_sel::"))
    finally:
        for path in set(page) - set(before["path"]):
            review.clear_mark(ws, path)
    assert review.marks(ws)["path"].tolist() == before["path"].tolist()
