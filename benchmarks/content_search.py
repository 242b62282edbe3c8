#!/usr/bin/env python
"""Content search at scale: the copy search's nearest-neighbour index (inspectors.content.Index) on 1,000,000
search vectors made from real photos: build and query time, peak memory, recall against exact search.

    python benchmarks/content_search.py [--n 1000000] [--pattern 20000] [--sample 2000] [--seed S] [--no-doc]

Vectors: 32x32 grey thumbnails (uint8, like the scan's `content` column) cut from the photos of
benchmarks/_real_photos.py: each photo is downscaled to a ladder of sizes (short side 48 to 384 px, 6 % apart),
N/4 base windows are drawn at random (photo, size, position), and each thumbnail is a base window moved by up
to 3 px, taken one rung up or down the ladder (a ~6 % zoom) or not, with a random gain, offset and gamma, a
little noise and, one time in 20, mirrored. So there are many distinct but alike thumbnails (about four per
base window, plus the look-alikes of textured photos), as in a set with copies. Each thumbnail becomes its
search vector exactly as the scan makes it (content.search_vectors of the blurred thumbnail).

Measured, in this order, in one process (peak RSS is the process's high-water mark, getrusage ru_maxrss, after
each step): the index built as the inspector builds it (content.Index: IVF-flat beyond EXACT_ROWS pictures);
one query per vector, k = 13 (a picture's 12 partners and itself); the inspector's full query pattern
(content.Search.partners: 9 shifted windows and the mirror image's 9, so 18 queries a picture, with its
bookkeeping) for the first --pattern pictures against the whole index, extrapolated linearly to all N; then
recall against exact search (faiss.IndexFlatIP) for --sample random queries: the share of the exact 12 nearest
others that the index returns, and of those among them with a similarity >= 0.9 (what copies look like).
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

from inspectors import content  # noqa: E402

HEADING, NOTES = "Content search at scale", "### Notes"
SEED = 20_261_215
SIDE = content.SIDE
K = 13  # what the inspector asks for: k + 1 with k = 12 partners
PARTNERS = K - 1
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


def recall(exact: np.ndarray, exact_sims: np.ndarray, found: np.ndarray, query: np.ndarray,
           partners: int = PARTNERS, copy_similarity: float = COPY_SIMILARITY) -> dict:
    """Share of each query's exact `partners` nearest others (rows of `exact`, best first, the query's own
    row `query` left out) that `found` holds in the same query's row; and of those with a similarity of at
    least `copy_similarity`. Counts too, so a share of nothing reads as such."""
    others = exact != query[:, None]
    rank = np.cumsum(others, axis=1)
    wanted = others & (rank <= partners) & (exact >= 0)
    hit = np.array([np.isin(e, f) for e, f in zip(exact, found, strict=True)]) & wanted
    close = wanted & (exact_sims >= copy_similarity)
    return {"top": int(wanted.sum()), "top_found": int(hit.sum()),
            "close": int(close.sum()), "close_found": int((hit & close).sum()),
            "queries_with_close": int(close.any(axis=1).sum())}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class WindowSearch(content.Search):
    """content.Search's window half on vectors already indexed: its partners() is the inspector's own query
    pattern, run for the pictures whose blurred thumbnails it holds (the first ones of the index)."""

    def __init__(self, blurred: np.ndarray, index: content.Index):
        self.blurred, self.index, self.mirror = blurred, index, True
        self.offsets = np.array([(dx, dy) for dy in content.SEARCH_SHIFTS for dx in content.SEARCH_SHIFTS])


def run(args) -> list[str]:
    import faiss

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
    step("make the vectors (not the index's cost)", t, f"{len(photos.photo)} rungs of {len(_real_photos.names())} "
         f"photos, {photos.buffer.nbytes / 2**20:.0f} MB")

    t = time.perf_counter()
    index = content.Index(vectors)
    kind = "exact (IndexFlatIP)" if index.ivf is None else \
        f"IVF-flat, {index.ivf.nlist:,} lists, nprobe {index.ivf.nprobe}"
    step("build content.Index", t, kind)

    t = time.perf_counter()
    sims, rows = index.nearest(vectors, K)
    step(f"query every vector once, k = {K}", t, f"{args.n:,} queries")

    t = time.perf_counter()
    blurred = np.concatenate([content.blur(pattern[lo:lo + CHUNK].astype(np.float32), content.SEARCH_BLUR)
                              for lo in range(0, len(pattern), CHUNK)])
    found = WindowSearch(blurred, index).partners(PARTNERS)
    pattern_s = time.perf_counter() - t
    step(f"Search.partners for {len(pattern):,} pictures (18 queries each)", t, f"{len(found.i):,} partner rows")
    del blurred, found

    rng = np.random.default_rng(args.seed + 1)
    sample = np.sort(rng.choice(args.n, min(args.sample, args.n), replace=False))
    t = time.perf_counter()
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    exact_sims, exact_rows = exact.search(vectors[sample], K + 8)  # a few spare: ties and the query itself
    step(f"exact search for {len(sample):,} sampled queries (not the index's cost)", t)
    r = recall(exact_rows, exact_sims, rows[sample], sample)
    loads.append(_doc.machine())

    n_pattern = len(pattern)
    extrapolated = pattern_s * args.n / n_pattern
    lines = [f"## {HEADING}", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{' '.join(args.argv)}` on `inspectors/` at "
             f"{_doc.commit()}: the copy search's index (`content.Index`, {kind}) on {args.n:,} 64-d search vectors "
             "made from real photos (see the docstring of `benchmarks/content_search.py`), one process, "
             f"{content.threads()} faiss threads. Peak RSS is the process's high-water mark after each step "
             "(it includes the vectors, 256 MB a million, and the generator's photo buffer).", "",
             "| step | time | peak RSS so far | detail |", "|---|---:|---:|---|",
             *[f"| {label} | {s:.1f} s | {mb:,.0f} MB | {detail} |" for label, s, mb, detail in steps], "",
             f"- **index cost, {args.n:,} vectors:** build + one query each (k = {K}) = "
             f"{steps[1][1] + steps[2][1]:.1f} s, peak RSS {steps[2][2]:,.0f} MB (goal: < 60 s, < 4 GB).",
             f"- **the inspector's full query pattern** (18 queries a picture, `Search.partners`' bookkeeping "
             f"included): {pattern_s:.1f} s measured for {n_pattern:,} pictures against the {args.n:,}-vector "
             f"index; *extrapolated* linearly to all {args.n:,} pictures: ~{extrapolated:.0f} s "
             f"(~{extrapolated / 60:.1f} min), plus the build. Not measured at full size.",
             f"- **recall against exact search** ({len(sample):,} random queries, faiss.IndexFlatIP): "
             f"{r['top_found'] / max(r['top'], 1):.4f} of the exact {PARTNERS} nearest others "
             f"({r['top_found']:,} of {r['top']:,}); {r['close_found'] / max(r['close'], 1):.4f} of those with "
             f"similarity >= {COPY_SIMILARITY} ({r['close_found']:,} of {r['close']:,}, in "
             f"{r['queries_with_close']:,} of the queries).",
             "", "Machine before and after:", *[f"- {line}" for line in loads], ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="vectors indexed (default 1,000,000)")
    ap.add_argument("--pattern", type=int, default=20_000,
                    help="pictures run through Search.partners, then extrapolated to --n")
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
