"""The inspector contract, written down: what each inspector module declares, and the registry run.py walks.

An inspector is a pure function over the samples table (no I/O). Its module ends with one `INSPECTOR =
Inspector(...)` naming it, the samples columns it reads, its `inspect` and `summarize`, its section of
config.Config, whether it compares datasets, and the shared intermediates it takes. A new inspector is one
module plus one line in run.INSPECTORS.

A shared intermediate (`Shared`) is a result several inspectors read, computed once per run from the samples
table and the settings of one config section, and passed to each inspector that lists it in `uses`, by its
name as a keyword argument: quality's blur rule reads the outlier judgement that the outlier inspector
reports from, so both see the same `outliers.*` settings and the k-nearest-neighbour search runs once.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from .config import Config

SECTIONS = tuple(f.name for f in dataclasses.fields(Config))


@dataclass(frozen=True)
class Shared:
    name: str  # the keyword argument it is passed as
    section: str  # the Config section whose settings compute it
    compute: Callable  # (samples, section settings) -> the value


@dataclass(frozen=True)
class Inspector:
    name: str  # its key in the registry, its entry in summary["inspector_seconds"]
    needs: tuple  # samples columns it reads: inspect fails naming the missing ones
    inspect: Callable  # (samples, section settings or None, **shared) -> findings table
    summarize: Callable | None = None  # (samples, its findings, section settings or None) -> dict for summary.json
    section: str | None = None  # its section of config.Config (None: it has no settings)
    cross_dataset: bool = False  # with --against, the other dataset joins its table as split "other"
    uses: tuple = ()  # Shared intermediates, computed over this dataset's own samples

    def __post_init__(self):
        for section in [self.section, *(s.section for s in self.uses)]:
            if section is not None and section not in SECTIONS:
                raise ValueError(f"inspector {self.name!r}: no config section {section!r} (sections: {SECTIONS})")
        if self.cross_dataset and self.uses:
            raise ValueError(f"inspector {self.name!r}: shared intermediates are computed over this dataset alone, "
                             f"so a cross-dataset inspector cannot take them")

    def settings(self, config: Config):
        """Its section of the config, or None."""
        return getattr(config, self.section) if self.section else None


def registry(*inspectors: Inspector) -> dict[str, Inspector]:
    """{name: inspector}, in the order given (the order run() calls them); a name given twice is an error."""
    out = {}
    for inspector in inspectors:
        if inspector.name in out:
            raise ValueError(f"inspector {inspector.name!r} is registered twice")
        out[inspector.name] = inspector
    return out


class SharedValues:
    """The shared intermediates of one run: each computed the first time an inspector asks for it."""

    def __init__(self, samples, config: Config):
        self.samples, self.config, self.values = samples, config, {}

    def for_inspector(self, inspector: Inspector) -> dict:
        for shared in inspector.uses:
            if shared.name not in self.values:
                self.values[shared.name] = shared.compute(self.samples, getattr(self.config, shared.section))
        return {shared.name: self.values[shared.name] for shared in inspector.uses}
