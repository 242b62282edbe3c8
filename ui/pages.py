"""The app's pages, listed once: app.py's navigation, the Overview's links, each page's heading, the browser
tests and the dashboard benchmark read this table. No Streamlit here (the benchmark imports it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # the script views/<name>.py, and the page's URL path (the first page's is the root)
    label: str  # in the sidebar
    title: str  # the page's heading
    icon: str

    @property
    def file(self) -> str:
        return f"views/{self.name}.py"


PAGES = (
    Page("overview", "Overview", "Overview", ":material/dashboard:"),
    Page("browse", "Browse", "Browse", ":material/photo_library:"),
    Page("duplicates", "Duplicates", "Duplicates and leaks", ":material/content_copy:"),
    Page("integrity", "Integrity", "Integrity", ":material/broken_image:"),
    Page("balance", "Balance", "Balance", ":material/balance:"),
    Page("sizes", "Sizes", "Sizes", ":material/aspect_ratio:"),
    Page("quality", "Quality & outliers", "Quality and outliers", ":material/tune:"),
    Page("review", "Review & export", "Review and export", ":material/fact_check:"),
    Page("baselines", "Baselines", "Baselines", ":material/model_training:"),
    Page("label_issues", "Label issues", "Label issues", ":material/label_off:"),
    Page("human_baseline", "Human baseline", "Human baseline", ":material/person_check:"),
)
PAGE = {page.name: page for page in PAGES}


def url_path(page: Page) -> str:
    """Where Streamlit serves the page: the default (first) page at the root, the others at their name."""
    return "" if page == PAGES[0] else page.name
