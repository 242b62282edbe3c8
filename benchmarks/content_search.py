#!/usr/bin/env python
"""Content search at scale: the copy search's join (inspectors.vector_join) on 1,000,000 search vectors made
from real photos: build and search time, peak memory, recall against exact search; then the inspector's
whole search (content.candidates: both indexes, 9 windows a picture) on the first --pattern pictures.

    python benchmarks/content_search.py [--n 1000000] [--pattern 100000] [--sample 2000] [--seed S] [--no-doc]

Vectors: 32x32 grey thumbnails (uint8, like the scan's `content` column) cut from the photos of
benchmarks/_real_photos.py: each photo is downscaled to a ladder of sizes (short side 48 to 384 px, 6 % apart),
N/4 base windows are drawn at random (photo, size, position), and each thumbnail is a base window moved by up
to 3 px, taken one rung up or down the ladder (a ~6 % zoom) or not, with a random gain, offset and gamma, a
little noise and, one time in 20, mirrored. So there are many distinct but alike thumbnails (about four per
base window, plus the look-alikes of textured photos), as in a set with copies. Each thumbnail becomes its
search vector exactly as the scan makes it (content.search_vectors of the blurred thumbnail).

Measured, in this order, in one process (peak RSS is the process's high-water mark, getrusage ru_maxrss, after
each step): the cells built as the inspector builds them (vector_join.Cells: k-means cells beyond EXACT_ROWS
rows); every vector's k best distinct partners above the inspector's floor (vector_join.best_partners, k =
`neighbours`, floor `min_similarity`, in the inspector's chunks); recall against exact search for --sample
random queries (the share of the exact k best partners above the floor that the join returns, and of those
with a similarity >= 0.9, what copies look like); then content.candidates on the first --pattern pictures.
The table goes to stdout and to the "## Content search at scale" section of docs/benchmarks.md.
"""

import argparse
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import _doc  # noqa: E402
import _real_photos  # noqa: E402

from inspectors import content, vector_join  # noqa: E402
from inspectors.config import DuplicatesConfig  # noqa: E402

HEADING, NOTES = "Content search at scale", "### Notes"
SEED = 20_261_215
SIDE = content.SIDE
COPY_SIMILARITY = 0.9
LADDER = (48, 384, 1.06)  # the photos' short side: from, to, step
CHUNK = 10_000  # thumbnails made at once: the generator's memory stays small beside the index's


def ladder(grey: np.ndarray) -> list[np.ndarray]:
    """The photo downscaled (antialiased) so that its short side runs from LADDER[0] to LADDER[1] px."""
    short = min(grey.shape)
    lo, hi, step = LADDER
    sides = lo * step ** np.arange(int(np.log(min(hi, short) / lo) / np.log(step)) + 1)
    img = Image.fromarray(grey)
    return [np.asarray(img.resize((round(grey.shape[1] * s / short), round(grey.shape[0] * s / short)),
                                  Image.Resampling.BOX if s < short else Image.Resampling.BICUBIC)) for s in sides]


class Photos:
    """Every rung of every photo's ladder in one flat uint8 buffer, so windows are cut with one gather."""

    def __init__(self):
        rungs, self.photo = [], []
        for p, name in enumerate(_real_photos.names()):
            rgb = _real_photos.photo(name).astype(np.float32)
            grey = (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).round().astype(np.uint8)
            for rung in ladder(grey):
                rungs.append(rung)
                self.photo.append(p)
        self.photo = np.array(self.photo)
        self.h = np.array([r.shape[0] for r in rungs])
        self.w = np.array([r.shape[1] for r in rungs])
        self.start = np.r_[0, np.cumsum(self.h * self.w)[:-1]]
        self.buffer = np.concatenate([r.ravel() for r in rungs])
        self.rung = np.arange(len(rungs))

    def same_photo_rung(self, rung: np.ndarray, step: np.ndarray) -> np.ndarray:
        """The rung `step` up or down from `rung` on the same photo's ladder (clipped to its ends)."""
        want = np.clip(rung + step, 0, len(self.photo) - 1)
        return np.where(self.photo[want] == self.photo[rung], want, rung)

    def windows(self, rung: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(n, 32, 32) uint8: the SIDE x SIDE windows with top-left corners (x, y) of the given rungs."""
        offs = np.arange(SIDE)
        at = (self.start[rung] + y * self.w[rung])[:, None, None] + x[:, None, None] \
            + offs[None, :, None] * self.w[rung][:, None, None] + offs[None, None, :]
        return self.buffer[at]


def thumbnails(photos: Photos, n: int, seed: int):
    """Yield (n_chunk, 32, 32) uint8 thumbnails, n in all: variants of n/4 random base windows."""
    rng = np.random.default_rng(seed)
    bases = max(1, n // 4)
    weight = (photos.h - SIDE + 1) * (photos.w - SIDE + 1)
    b_rung = rng.choice(len(weight), bases, p=weight / weight.sum())
    b_cx = rng.uniform(SIDE / 2, photos.w[b_rung] - SIDE / 2) / photos.w[b_rung]  # centre, as a share of the rung
    b_cy = rng.uniform(SIDE / 2, photos.h[b_rung] - SIDE / 2) / photos.h[b_rung]
    for lo in range(0, n, CHUNK):
        m = min(CHUNK, n - lo)
        base = rng.integers(0, bases, m)
        rung = photos.same_photo_rung(b_rung[base], rng.integers(-1, 2, m))
        x = np.clip(np.round(b_cx[base] * photos.w[rung] - SIDE / 2).astype(int) + rng.integers(-3, 4, m),
                    0, photos.w[rung] - SIDE)
        y = np.clip(np.round(b_cy[base] * photos.h[rung] - SIDE / 2).astype(int) + rng.integers(-3, 4, m),
                    0, photos.h[rung] - SIDE)
        g = photos.windows(rung, x, y).astype(np.float32) / 255
        gamma = np.exp(rng.uniform(np.log(0.8), np.log(1.25), m)).astype(np.float32)[:, None, None]
        gain = rng.uniform(0.8, 1.2, m).astype(np.float32)[:, None, None]
        offset = rng.uniform(-0.08, 0.08, m).astype(np.float32)[:, None, None]
        g = (g ** gamma * gain + offset) * 255 + rng.normal(0, 1.5, g.shape).astype(np.float32)
        flip = rng.random(m) < 0.05
        g[flip] = g[flip][:, :, ::-1]
        yield np.clip(g.round(), 0, 255).astype(np.uint8)


def search_vectors(thumbs: np.ndarray) -> np.ndarray:
    """The scan's search vectors of uint8 thumbnails (content.greys, blur, central window)."""
    return content.search_vectors(content.blur(thumbs.astype(np.float32), content.SEARCH_BLUR))


def exact_partners(vectors: np.ndarray, sample: np.ndarray, k: int, floor: float) -> list[set]:
    """Each sampled vector's k best other rows at `floor` or above, by brute force."""
    out = []
    for lo in range(0, len(sample), 256):
        sims = vectors[sample[lo:lo + 256]] @ vectors.T
        sims[np.arange(len(sims)), sample[lo:lo + 256]] = -2
        top = np.argpartition(-sims, k, axis=1)[:, :k]  # a full sort of a million a row is minutes
        out += [set(row[sims[r, row] >= floor].tolist()) for r, row in enumerate(top)]
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args) -> list[str]:
    config = DuplicatesConfig()
    k, floor = config.neighbours, config.min_similarity
    loads, steps = [_doc.machine()], []

    def step(label: str, start: float, detail: str = "") -> None:
        steps.append((label, time.perf_counter() - start, peak_mb(), detail))
        print(f"{label}: {steps[-1][1]:.1f} s, peak RSS {steps[-1][2]:,.0f} MB {detail}", flush=True)

    t = time.perf_counter()
    photos = Photos()
    vectors = np.empty((args.n, content.SEARCH_CELLS ** 2), np.float32)
    pattern = np.empty((min(args.pattern, args.n), SIDE, SIDE), np.uint8)
    at = 0
    for thumbs in thumbnails(photos, args.n, args.seed):
        vectors[at:at + len(thumbs)] = search_vectors(thumbs)
        if at < len(pattern):
            pattern[at:at + len(thumbs)] = thumbs[:len(pattern) - at]
        at += len(thumbs)
    step("make the vectors (not the search's cost)", t, f"{len(photos.photo)} rungs of {len(_real_photos.names())} "
         f"photos, {photos.buffer.nbytes / 2**20:.0f} MB")
    del photos

    t = time.perf_counter()
    cells = vector_join.Cells(vectors, cells=int(2 * np.sqrt(args.n)), training_rows=content.TRAINING_ROWS,
                              exact_rows=content.EXACT_ROWS, threads=content.threads())
    step("build vector_join.Cells", t, f"{cells.cells:,} cells, {content.TRAINING_ROWS} training rows a cell")

    t = time.perf_counter()
    found = {}
    for lo in range(0, args.n, content.QUERY_CHUNK):
        who = np.arange(lo, min(lo + content.QUERY_CHUNK, args.n))
        q, row, _ = vector_join.best_partners(cells, vectors[who], who, args.n, k, floor, content.PROBES,
                                              content.PER_BLOCK)
        for owner, partner in zip(who[q].tolist(), row.tolist(), strict=True):
            found.setdefault(owner, set()).add(partner)
    pairs = sum(len(v) for v in found.values())
    step(f"every vector's {k} best partners above {floor}", t, f"{pairs:,} pairs, probes {content.PROBES}")

    rng = np.random.default_rng(args.seed + 1)
    sample = np.sort(rng.choice(args.n, min(args.sample, args.n), replace=False))
    t = time.perf_counter()
    exact = exact_partners(vectors, sample, k, floor)
    step(f"exact search for {len(sample):,} sampled queries (not the search's cost)", t)
    close = [{r for r in e if float(vectors[r] @ vectors[s]) >= COPY_SIMILARITY} for e, s in zip(exact, sample,
                                                                                                  strict=True)]
    got = [found.get(int(s), set()) for s in sample]
    top, top_found = sum(map(len, exact)), sum(len(e & g) for e, g in zip(exact, got, strict=True))
    near, near_found = sum(map(len, close)), sum(len(c & g) for c, g in zip(close, got, strict=True))
    del cells, vectors, found

    t = time.perf_counter()
    g = pattern.astype(np.float32)
    both = content.candidates(content.Search(g, config.mirrored), k, floor, config.min_spectrum_similarity)
    step(f"content.candidates for {len(pattern):,} pictures (both indexes, mirror images)", t,
         f"{len(both.i):,} candidate pairs")
    loads.append(_doc.machine())

    return [f"## {HEADING}", "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{' '.join(args.argv)}` on `inspectors/` at "
            f"{_doc.commit()}: the copy search's join (`vector_join.Cells` and `best_partners`, as "
            f"`content.Search` runs them) on {args.n:,} 64-d search vectors made from real photos (see the docstring "
            f"of `benchmarks/content_search.py`), one process, {content.threads()} threads. Peak RSS is the "
            "process's high-water mark after each step (it includes the vectors, 256 MB a million, and the "
            "generator's photo buffer).", "",
            "| step | time | peak RSS so far | detail |", "|---|---:|---:|---|",
            *[f"| {label} | {s:.1f} s | {mb:,.0f} MB | {detail} |" for label, s, mb, detail in steps], "",
            f"- **search cost, {args.n:,} vectors:** build + every vector's partners = "
            f"{steps[1][1] + steps[2][1]:.1f} s, peak RSS {steps[2][2]:,.0f} MB (goal: < 60 s, < 4 GB).",
            f"- **recall against exact search** ({len(sample):,} random queries, brute force): "
            f"{top_found / max(top, 1):.4f} of the exact {k} best partners above {floor} ({top_found:,} of {top:,}); "
            f"{near_found / max(near, 1):.4f} of those with similarity >= {COPY_SIMILARITY} "
            f"({near_found:,} of {near:,}).",
            f"- **the inspector's whole search** on {len(pattern):,} pictures (9 moved windows a picture in the "
            f"window index, the spectrum index, mirror images): {steps[-1][1]:.1f} s.",
            "", "Machine before and after:", *[f"- {line}" for line in loads], ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="vectors indexed (default 1,000,000)")
    ap.add_argument("--pattern", type=int, default=100_000,
                    help="pictures run through the inspector's whole search (content.candidates)")
    ap.add_argument("--sample", type=int, default=2_000, help="queries checked against exact search")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    args.argv = ["python", "benchmarks/content_search.py", *sys.argv[1:]]
    lines = run(args)
    print("\n".join(lines))
    if not args.no_doc:
        _doc.write_section(HEADING, "\n".join(lines), keep=NOTES)
        print(f"wrote the {HEADING} section of {_doc.DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
