"""Write one `## Section` of docs/benchmarks.md, leaving the other sections as they are."""

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
