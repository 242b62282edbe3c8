"""Image-dataset inspectors: pure Python over the samples table (no streamlit, no torch).

INSPECTORS is the registry `run.py` walks: one module per inspector, each with
`inspect(samples, config) -> findings` and optionally `summarize(samples, findings, config) -> dict`.
A new inspector is one module plus one line here; its config section in config.Config has its name.
"""

from . import balance, duplicates, integrity, outliers, quality, sizes


def _registry(*entries) -> dict:
    registry = {}
    for name, module in entries:
        if name in registry:
            raise ValueError(f"inspector {name!r} is registered twice")
        registry[name] = module
    return registry


INSPECTORS = _registry(
    ("integrity", integrity),
    ("duplicates", duplicates),
    ("balance", balance),
    ("sizes", sizes),
    ("quality", quality),
    ("outliers", outliers),
)
