"""ui/plain.py: user text made inert for Streamlit Markdown and for Plotly's HTML-like text."""

import re

import pandas as pd
import pytest

from ui.plain import html, html_column, md

HOSTILE = ["![t](http://h/x.png)", "[click](http://h/y)", "<img src=http://h/z.png>", '<a href="http://h/a">a</a>',
           "**bold** _it_ `code` ~~s~~ $x^2$", ":red[boo] :material/home: :smile:", "# heading", "- item",
           "1. item", "a | b", "&lt;img&gt;", "back\\slash", "<http://h/auto>", "http://h/bare", "www.h.org",
           "a@h.org"]
MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!<>|~$:&@")


def unescaped(text: str) -> str:
    """What CommonMark shows for a text of only backslash escapes and plain characters."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


@pytest.mark.parametrize("value", HOSTILE)
def test_md_escapes_every_markdown_character_and_shows_the_text_as_it_is(value):
    out = md(value)
    assert unescaped(out) == value
    unescaped_special = re.findall(r"(?<!\\)([" + re.escape("".join(MARKDOWN_SPECIAL - {"\\"})) + "])", out)
    assert not unescaped_special, (value, out)


def test_md_turns_line_breaks_into_spaces_and_breaks_autolinks_and_icons():
    assert md("a\nb\r\n# c") == "a b \\# c"
    # escapes do not stop GitHub autolinks nor :material/...: icons; a word joiner (U+2060) inside them does
    assert md("http://h") == "http\\:\u2060//h" and md(":material/home:") == "\\:\u2060material/home\\:\u2060"
    assert md("www.h.org") == "www\u2060\\.h\\.org" and md("a@h") == "a\\@\u2060h"
    assert md(None) == "" and md(3) == "3"
    assert md("train/cat, dog 1") == "train/cat, dog 1"  # what Markdown leaves alone stays as it is


def test_html_escapes_tags_and_entities_for_plotly():
    assert html('<a href="http://h/a">a</a>') == '&lt;a href="http://h/a"&gt;a&lt;/a&gt;'
    assert html("&lt;b&gt;") == "&amp;lt;b&amp;gt;"
    assert html("circle") == "circle" and html(None) == ""
    assert html_column(pd.Series(["<b>x</b>", "y"])).tolist() == ["&lt;b&gt;x&lt;/b&gt;", "y"]
