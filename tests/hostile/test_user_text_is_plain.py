"""User text is shown as plain text on every page: labels, paths, class, folder and split names, details and
error messages quoting them reach Streamlit Markdown only escaped (no Markdown image or link, no HTML tag), and
Plotly figures only HTML-escaped. The dataset and its run results: tests/hostile/hostile_text.py. The browser
test (tests/browser/test_hostile_text.py) checks what a real browser then fetches: nothing."""

import json
import re

import pytest

from inspectors import review
from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.scan import read_samples
from inspectors.workspace import workspace_dir
from tests.hostile.hostile_text import HOSTILE_SPLIT, hostile_dataset, hostile_labels, hostile_results
from tests.ui.conftest import REPO
from ui import labels
from ui.plain import html, md

HOST = "http://127.0.0.1:9"
PAGES = ["pages/overview.py", "pages/browse.py", "pages/duplicates.py", "pages/integrity.py", "pages/balance.py",
         "pages/sizes.py", "pages/quality.py", "pages/review.py", "pages/baselines.py", "pages/label_issues.py",
         "pages/human_baseline.py"]
# What would make Markdown fetch, link or format: `](` of an image or link, a tag, a bare URL's `://`, and the
# hostile names' bold, Streamlit directive and LaTeX; each preceded by no backslash (md() escapes all of them)
UNESCAPED = re.compile(r"(?<!\\)\]\(|(?<!\\)<(?:img|a|b)\b|://|(?<!\\)\*\*b|(?<!\\):red\[c|(?<!\\)\$x")
# protos whose text is shown as it is (no Markdown): checked for nothing; Plotly is checked on its own
PLAIN_PROTOS = {"Text", "Code", "Arrow", "Json", "PlotlyChart"}
PLAIN_FIELDS = {"options", "default", "value", "raw_value", "raw_values", "url", "id", "form_id", "placeholder",
                "deploy_params", "set_value"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(dataset manifest, cache root) scanned once, with runs, label issues, a relabel mark and a scored human
    sheet written in its workspace."""
    root = tmp_path_factory.mktemp("hostile")
    manifest = hostile_dataset(root / "ds", HOST)
    cache = root / "cache"
    listing = load_dataset(manifest)
    workspace = workspace_dir(listing.root, listing.labels_csv, cache)
    scan_and_inspect(listing, Config(), workspace)
    samples = read_samples(workspace)
    hostile_results(workspace, samples, HOST)
    review.set_mark(workspace, samples["path"].iloc[0], "relabel", hostile_labels(HOST)[2])
    pool = labels.candidates(samples)
    sheet = labels.draw_sheet(pool, 6, seed=0)
    truth = dict(zip(pool["path"], pool["label"], strict=True))
    labels.save_sheet(workspace, labels.answer_sheet(sheet, {p: truth[p] for p in sheet["paths"][:3]}))
    return manifest, cache, workspace


@pytest.fixture
def app(hostile, monkeypatch):
    from streamlit.testing.v1 import AppTest
    manifest, cache, _ = hostile
    monkeypatch.setenv("INSPECTORS_CACHE", str(cache))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["dataset_path"] = str(manifest)
    at.session_state["labels_path"] = ""
    return at


def nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def strings(message, path=""):
    """(field path, text) of every string field of a proto message, nested messages included."""
    for field, value in message.ListFields():
        if field.name in PLAIN_FIELDS:
            continue
        single = isinstance(value, str | bytes) or hasattr(value, "ListFields") or not hasattr(value, "__iter__")
        items = [value] if single else list(value)
        for item in items:
            if isinstance(item, str):
                yield f"{path}{field.name}", item
            elif hasattr(item, "ListFields"):
                yield from strings(item, f"{path}{field.name}.")


def rendered(at) -> tuple[list[tuple[str, str, str]], list[str]]:
    """([(element type, field, text) of every Markdown-rendered string], [Plotly figure specs])."""
    markdown, figures = [], []
    for node in nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        kind = type(proto).__name__
        if kind == "PlotlyChart":
            figures.append(proto.spec)
        if kind in PLAIN_PROTOS:
            continue
        markdown += [(kind, field, text) for field, text in strings(proto)]
    return markdown, figures


def problems(at, page: str) -> list[str]:
    assert not at.exception, f"{page}: {at.exception}"
    markdown, figures = rendered(at)
    found = [f"{page}: {kind}.{field}: {text[:160]!r}" for kind, field, text in markdown if UNESCAPED.search(text)]
    for spec in figures:
        raw = re.findall(r"<(?:img|a|b)\b[^>]{0,60}", figure_text(spec))
        found += [f"{page}: a Plotly figure holds {tag!r}" for tag in raw]
    return found


def figure_text(spec: str) -> str:
    """Every string in a figure's JSON (titles, ticks, legend names, hover templates, data), one per line."""
    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            for item in value.values() if isinstance(value, dict) else value:
                yield from walk(item)
    return "\n".join(walk(json.loads(spec)))


def test_every_page_shows_user_text_escaped(app):
    bad, seen = [], []
    app.run()
    for page in PAGES:
        app.switch_page(page).run()
        bad += problems(app, page)
        seen += [text for _, _, text in rendered(app)[0]]
    assert not bad, "\n".join(bad)
    shown = "\n".join(seen)
    for label in hostile_labels(HOST):  # each label is on the pages, escaped
        assert md(label) in shown, label


def test_the_charts_show_class_and_split_names_as_text(app):
    app.run()
    figures = rendered(app)[1]
    app.switch_page("pages/balance.py").run()
    figures += rendered(app)[1]
    joined = "\n".join(figure_text(spec) for spec in figures)
    assert html(hostile_labels(HOST)[3]) in joined and html(HOSTILE_SPLIT) in joined
    assert "<a href" not in joined and "<img" not in joined and "<b>" not in joined


def test_a_sample_a_group_a_flagged_image_and_an_unanswered_sheet_show_text_escaped(app, hostile):
    _, _, workspace = hostile
    bad = []
    app.run()
    app.switch_page("pages/browse.py").run()
    app.radio(key="browse_view").set_value("Table").run()
    app.session_state["browse_table"] = {"selection": {"rows": [0], "columns": []}}
    app.run()
    bad += problems(app, "browse, a sample opened")
    assert any(md(p) in text for p in ("![t](x)", "[click](y)") for _, _, text in rendered(app)[0])
    app.switch_page("pages/quality.py").run()
    app.radio(key="quality_issue").set_value("low_information").run()
    bad += problems(app, "quality, near-blank")
    app.switch_page("pages/duplicates.py").run()
    bad += problems(app, "duplicates, the first group")
    scored = labels.load_sheet(workspace)
    labels.save_sheet(workspace, {**scored, "answers": {}, "submitted": None})
    try:
        app.switch_page("pages/human_baseline.py").run()
        bad += problems(app, "human baseline, a sheet to answer")
    finally:
        labels.save_sheet(workspace, scored)
    assert not bad, "\n".join(bad)
