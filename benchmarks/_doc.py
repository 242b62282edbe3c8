"""Write one `## Section` of docs/benchmarks.md, leaving the other sections as they are."""

import os
import platform
import subprocess
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(heading: str, body: str, keep: str | None = None) -> None:
    """Replace the section titled `## heading` (or append it) with `body` (which starts with it).
    With `keep` (a subsection heading such as "### Notes"), hand-written text under it survives."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {heading}"), None)
    if start is None:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    kept = next((i for i in range(start, end) if keep and lines[i].strip() == keep), None)
    if kept is not None:
        body = body.rstrip("\n") + "\n\n" + "\n".join(lines[kept:end]).rstrip("\n") + "\n"
    after = "\n".join(lines[end:])
    DOC.write_text("\n".join(lines[:start]) + "\n" + body.rstrip("\n") + "\n" + ("\n" + after + "\n" if after else ""))


def machine() -> str:
    """Cores, CPU model, Python and the load average now: what a figure was measured on."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}; load average {load} (1/5/15 min)"


def commit() -> str:
    """The checkout's commit and the last commit that changed inspectors/ (the code measured)."""
    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=DOC.parent.parent, capture_output=True, text=True).stdout.strip()
    dirty = " with uncommitted changes to inspectors/" if git("status", "--porcelain", "inspectors") else ""
    last = git("log", "-1", "--format=%h", "--", "inspectors")
    return f"{git('rev-parse', '--short', 'HEAD')} (inspectors/ last changed in {last}){dirty}"
