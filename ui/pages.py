"""The app's pages, listed once: app.py's navigation, the Overview's links, each page's heading, the browser
tests and the dashboard benchmark read this table. No Streamlit here (the benchmark imports it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # the script pages/<name>.py, and the page's URL path (the first page's is the root)
    label: str  # in the sidebar
    title: str  # the page's heading (no icons: Streamlit fetches Material icons from a font server outside the
    # machine, and nothing may leave it)

    @property
    def file(self) -> str:
        return f"pages/{self.name}.py"


PAGES = (
    Page("overview", "Overview", "Overview"),
    Page("browse", "Browse", "Browse"),
    Page("duplicates", "Duplicates", "Duplicates and leaks"),
    Page("integrity", "Integrity", "Integrity"),
    Page("balance", "Balance", "Balance"),
    Page("sizes", "Sizes", "Sizes"),
    Page("quality", "Quality & outliers", "Quality and outliers"),
    Page("review", "Review & export", "Review and export"),
    Page("baselines", "Baselines", "Baselines"),
    Page("label_issues", "Label issues", "Label issues"),
    Page("human_baseline", "Human baseline", "Human baseline"),
)
PAGE = {page.name: page for page in PAGES}


def url_path(page: Page) -> str:
    """Where Streamlit serves the page: the default (first) page at the root, the others at their name."""
    return "" if page == PAGES[0] else page.name
