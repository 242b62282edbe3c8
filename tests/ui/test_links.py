"""The URL holds the view: the dataset (by workspace id), the open sample, a page's filters; one click on a
thumbnail opens the sample in a dialog with previous / next."""

import pytest

from inspectors.workspace import workspace_dir
from tests.ui.conftest import REPO
from ui import links
from ui.plain import md


def fresh_app(cache, monkeypatch, **query):
    """A new browser session (nothing in session_state) opening the app at a URL with these parameters."""
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("INSPECTORS_CACHE", str(cache))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def param(at, key) -> list:
    value = at.query_params.get(key, [])
    return list(value) if isinstance(value, (list, tuple)) else [value]


def caption_with(at, text):
    return [str(c.value) for c in at.caption if text in str(c.value)]


def test_a_link_opens_its_dataset_and_browse_filter_without_the_command_line(shapes_copy, monkeypatch):
    data, cache = shapes_copy
    ws = workspace_dir(data, None, cache).name
    at = fresh_app(cache, monkeypatch, ws=ws, browse_issue=["corrupt"])
    at.switch_page("pages/browse.py").run()
    assert not at.exception, at.exception
    assert at.session_state["dataset_path"] == str(data)
    assert caption_with(at, "files match")[0].startswith("24 of 1,217")  # the link's filter, applied
    assert param(at, "ws") == [ws] and param(at, "browse_issue") == ["corrupt"]
    assert caption_with(at, "Dataset:")  # every page names its dataset


@pytest.mark.parametrize("bad", ["../etc", "no-such-workspace", "a/b", ""])
def test_a_link_to_an_unknown_workspace_never_reads_a_path_from_it(shapes_copy, bad, tmp_path):
    assert links.workspace_of_link(bad, tmp_path) is None
    data, cache = shapes_copy
    assert links.workspace_of_link(workspace_dir(data, None, cache).name, cache)["path"] == str(data)


def test_a_link_to_a_workspace_this_server_lacks_says_so(shapes_copy, monkeypatch):
    data, cache = shapes_copy
    at = fresh_app(cache, monkeypatch, ws="dataset-000000000000")
    at.run()
    assert not at.exception, at.exception
    assert any("does not know" in str(w.value) for w in at.warning)


def test_a_stale_link_filter_is_dropped_not_an_error(shapes_copy, monkeypatch):
    data, cache = shapes_copy
    at = fresh_app(cache, monkeypatch, ws=workspace_dir(data, None, cache).name, browse_label=["no_such_class"],
                   browse_sort="no_such_column", browse_page="999")
    at.switch_page("pages/browse.py").run()
    assert not at.exception, at.exception
    assert caption_with(at, "files match")[0].startswith("1,217 of 1,217")


def test_open_under_a_thumbnail_shows_the_sample_and_next_moves_on(app):
    app.run()
    app.switch_page("pages/browse.py").run()
    opens = [b for b in app.button if str(b.key).startswith("browse_sel::open::")]
    assert len(opens) == 40  # one per thumbnail of the first gallery page
    first, second = (str(b.key).removeprefix("browse_sel::open::") for b in opens[:2])
    opens[0].click().run()
    assert not app.exception, app.exception
    assert param(app, "open") == [first] and any(md(first) in str(s.value) for s in app.subheader)
    app.button(key="open_next").click().run()
    assert param(app, "open") == [second] and any(md(second) in str(s.value) for s in app.subheader)
    assert app.button(key="open_previous").disabled is False


def test_values_round_trip_through_the_url():
    for kind, value in ((list, ["a", "b"]), (str, "x"), (bool, True), (bool, False), (int, 3)):
        encoded = links.encode(kind, value)
        assert links.decode(kind, encoded if isinstance(encoded, list) else [encoded]) == value


def test_browse_sorts_by_an_issues_score_and_hides_the_scans_bookkeeping(app):
    app.run()
    app.switch_page("pages/browse.py").run()
    options = app.selectbox(key="browse_sort").options
    assert "score: blurry" in options and "score: outlier" in options
    assert "pixel hash" not in options and "lum p01" not in options  # until asked for
    app.selectbox(key="browse_sort").set_value("score: blurry").run()
    assert not app.exception, app.exception
    assert any("blurry 1" in str(c.value) or "blurry 0." in str(c.value) for c in app.caption)  # the sorted value
    app.toggle(key="browse_internal").set_value(True).run()
    assert "pixel hash" in app.selectbox(key="browse_sort").options
