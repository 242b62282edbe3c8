"""Text from the user's data (labels, paths, class, folder and split names, notes, error messages quoting file
names) shown as plain text. Streamlit renders Markdown in st.markdown, st.caption, st.info/warning/error/
success, st.toast, widget labels, help tooltips, progress texts, expander and tab titles: a label such as
`![t](http://host/x.png)` would make the browser fetch that URL. Plotly renders HTML (`<a href>`, `<b>`,
`<br>`) in titles, tick labels, legends and hover text. Every piece of user text goes through md() (inside
Streamlit Markdown) or html() (inside a Plotly figure) on its way to the page; st.dataframe cells, st.text,
st.code and widget options never interpret their text and need neither."""

import html as _html
import re

import pandas as pd

# CommonMark lets a backslash escape any ASCII punctuation, and then shows it as itself. Escaped here: what
# makes links and images ([ ] ( ) !), emphasis, code and strikethrough (* _ ` ~), headings, lists, quotes and
# tables (# + - . > |), HTML and entities (< > &), Streamlit's :color[...] directives (:), LaTeX ($),
# directive attributes ({ }), <autolinks> and e-mail addresses (: @), and the backslash itself
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$:&@])")
_BREAKS = re.compile(r"[\r\n\t\x0b\x0c]+")
# Escapes do not stop GitHub's autolinks (http://x.org, www.x.org, a@b.org become links whatever the backslashes)
# nor Streamlit's :material/name: icons: a word joiner (U+2060: invisible, no width) after each colon and @ and
# inside www. breaks those patterns. Only such text carries one (a path copied from a caption rarely does).
_JOINER = "\u2060"
_LINK_STARTS = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)


def md(value) -> str:
    """`value` as text that Streamlit Markdown shows exactly as it is (line breaks become spaces, so a
    label cannot start a heading, a list or a code block either)."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINK_STARTS.sub(_JOINER, text))


def html(value) -> str:
    """`value` as text that Plotly shows exactly as it is: its HTML-like tags and entities escaped."""
    return _html.escape("" if value is None else str(value), quote=False)


def html_column(values: pd.Series) -> pd.Series:
    """html() over a column (labels, split names) before it becomes categories, ticks, legends or hover text."""
    return values.map(html)
