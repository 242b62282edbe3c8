"""Every page renders on the scanned sample data without an exception and shows the expected numbers."""

import pandas as pd
import pytest

from inspectors import review
from inspectors.workspace import workspace_dir
from tests.ui.conftest import REPO
from ui import pages

PAGES = ["pages/overview.py", "pages/browse.py", "pages/duplicates.py", "pages/integrity.py", "pages/balance.py",
         "pages/sizes.py", "pages/quality.py", "pages/review.py"]


def texts(at):
    return " ".join(str(e.value) for kind in ("markdown", "caption", "subheader", "title", "info", "success",
                                              "warning") for e in getattr(at, kind))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title[0].value == pages.PAGE[page.removeprefix("pages/").removesuffix(".py")].title


@pytest.mark.parametrize("page", [p.file for p in pages.PAGES])
def test_a_page_reached_by_folder_discovery_renders_once_inside_the_frame(app, page):
    """AppTest runs every page through Streamlit's discovery of pages/ (as a fresh server's first run does):
    the page still gets the sidebar's dataset picker, is drawn once, and names its dataset."""
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == [pages.PAGE[page.removeprefix("pages/").removesuffix(".py")].title]
    assert [t.label for t in app.sidebar.text_input][:1] == ["Folder, .csv manifest or URL"]
    assert sum(c.value.startswith("Dataset: ") for c in app.caption) == 1


def test_every_listed_page_has_its_script_and_the_first_is_served_at_the_root():
    scripts = sorted(f"pages/{p.name}" for p in (REPO / "pages").glob("*.py"))
    assert sorted(page.file for page in pages.PAGES) == scripts
    assert [pages.url_path(p) for p in pages.PAGES[:2]] == ["", "browse"]


def test_overview_shows_counts_and_the_checklist(app):
    app.run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Files"] == "1,217"
    assert "No copies leak across splits" in texts(app)


def test_browse_filters_change_what_is_shown(app, shapes_copy):
    app.run()
    app.switch_page("pages/browse.py").run()
    before = [c.value for c in app.caption if "files match" in str(c.value)][0]
    app.multiselect(key="browse_issue").select("corrupt").run()
    after = [c.value for c in app.caption if "files match" in str(c.value)][0]
    assert before.startswith("1,217 of 1,217") and after.startswith("24 of 1,217")


def test_integrity_lists_the_broken_files(app):
    app.run()
    app.switch_page("pages/integrity.py").run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Broken files"] == "24" and metrics["Unsupported files"] == "22"


def test_review_marks_persist_and_shape_the_manifest(app, shapes_copy):
    data, cache = shapes_copy
    ws = workspace_dir(data, None, cache)
    review.set_mark(ws, "train/circle/" + next((data / "train" / "circle").glob("*.jpg")).name, "remove")
    app.run()
    app.switch_page("pages/review.py").run()
    assert {m.label: m.value for m in app.metric}["remove"] == "1"
    assert not app.exception
    marks = review.marks(ws)
    assert list(marks["decision"]) == ["remove"]
    review.clear_mark(ws, marks["path"].iloc[0])
    assert review.marks(ws).empty and isinstance(marks, pd.DataFrame)


def test_a_wrong_path_gets_a_message_not_a_traceback(app):
    app.session_state["dataset_path"] = "/no/such/folder"
    app.run()
    assert not app.exception
    assert any("no such file or folder" in e.value for e in app.sidebar.error)


def test_browse_opens_a_sample_with_its_findings_and_copies(app):
    app.run()
    app.switch_page("pages/browse.py").run()
    app.multiselect(key="browse_issue").select("exact_duplicate").run()
    app.radio(key="browse_view").set_value("Table").run()
    app.session_state["browse_table"] = {"selection": {"rows": [0], "columns": []}}
    app.run()
    assert not app.exception, app.exception
    assert any("Its copies" in str(m.value) for m in app.markdown)


def test_duplicates_shows_where_the_line_falls_with_pairs_either_side(app):
    app.run()
    app.switch_page("pages/duplicates.py").run()  # the page waits for its background distances (AppTest: 120 s)
    assert not app.exception, app.exception
    assert "Measuring the distances" not in texts(app)  # the wait's note is gone once they are drawn
    shown = texts(app)
    assert "Where is the line?" in shown and "Just inside the line" in shown and "Just outside" in shown
    assert "1 is the line." in shown and "duplicates.crowd_ratio=0.4" in shown
    assert "not a copy: " in shown and "a copy (closest to the line on " in shown  # captions: verdict and why
    assert any(chart.proto.spec for chart in app.get("plotly_chart"))


def test_duplicates_waits_at_its_end_for_distances_still_being_measured(app, monkeypatch):
    from ui import state

    measured, asked = state.pair_distances, []

    def slow(ds, wait_s=0.0):  # not ready the first two times the page asks
        asked.append(wait_s)
        return None if len(asked) <= 2 else measured(ds, wait_s)

    app.run()
    monkeypatch.setattr(state, "pair_distances", slow)
    app.switch_page("pages/duplicates.py").run()
    assert not app.exception, app.exception
    assert len(asked) == 3 and all(wait > 0 for wait in asked)  # it waited in one run of the app, not polled
    shown = texts(app)
    assert "Just inside the line" in shown and "Measuring the distances" not in shown


def test_duplicates_says_in_place_when_measuring_the_distances_failed(app, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from ui import state

    def broken(ds, wait_s=0.0):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    app.run()
    monkeypatch.setattr(state, "pair_distances", broken)
    app.switch_page("pages/duplicates.py").run()
    assert not app.exception, app.exception
    errors = " ".join(str(e.value) for e in app.error)
    assert "near pairs failed (BrokenProcessPool" in errors and "terminated abruptly). The groups above" in errors
    assert "Duplicate groups" in " ".join(str(m.label) for m in app.metric)  # the rest of the page is there


def test_the_scans_own_pair_distances_are_read_without_starting_a_process(shapes_copy, monkeypatch):
    from concurrent.futures import Future

    from inspectors.config import Config
    from ui import state

    data, cache = shapes_copy  # scanned by scan_and_inspect with a workspace: it saved its pair distances
    monkeypatch.setattr(state, "ProcessPoolExecutor", None)  # starting a process would fail
    result = Future()
    state._start_pair_distances(str(workspace_dir(data, None, cache)), Config().duplicates, result)
    assert result.done() and not result.exception() and len(result.result().pairs)


def test_issue_names_are_shown_as_words(app):
    app.run()  # the overview's findings per issue
    issues = [df.value for df in app.dataframe if "issue" in df.value.columns]
    assert issues and all("_" not in name for df in issues for name in df["issue"])


def test_the_sidebar_widgets_keep_their_identity_from_the_first_run_on(app):
    """The first run takes Streamlit's discovery path (pages/ beside app.py), later ones may not: the Scan
    button must be the same widget in both, or the first click on it is lost."""
    app.run()
    first = [(b.label, b.id) for b in app.sidebar.button]
    app.run()
    assert [(b.label, b.id) for b in app.sidebar.button] == first
    app.switch_page("pages/browse.py").run()
    assert [(b.label, b.id) for b in app.sidebar.button] == first
