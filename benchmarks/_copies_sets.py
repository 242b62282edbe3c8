"""The copy benchmark's photo sets (copies32, copies256): base images cut from the real photos, planted copies
and planted hard negatives, with the truth of every image. A pure function of (spec, seed).

Base images are windows of the photos at random places and sizes, resized (antialiased) to the set's size;
near-blank windows are refused (CIFAR photos are rarely blank). Base windows of one photo share less than half
their area with each other, so no two base images are copies and their many same-photo look-alikes are hard
negatives by nature. When the photos are full at that limit (sets far larger than the default), the limit
rises to 0.65 and then 0.8: still no copies, but ambiguous pairs, which the score leaves out. copies256 (windows
of 200 px or more) needs 0.65 at its default size.
"""

import json
import math
from dataclasses import dataclass, replace

import _copies_edits as E
import _real_photos
import numpy as np
import pandas as pd
from _copies_truth import COPY, IS_COPY, IS_NEGATIVE, NEGATIVE, overlap, overlaps
from PIL import Image

VERSION = 1  # bump on any change to what build() makes: cached sets carry it in their folder name
BASE_LIMITS = (NEGATIVE, 0.65, COPY)  # the base windows' largest overlap with each other, raised only when full
MIN_STD, MIN_EDGES = 10.0, 4.0  # grey std and edge energy (0-255, at 32 px) below which a window is blank
SINGLES = ("shift_edge", "shift_black", "shift_recrop", "crop", "zoom_out", "hue", "saturation", "tone", "jpeg",
           "rescale", "mirror", "rotation")
PAIRS = ("shift_recrop+hue", "shift_edge+tone", "shift_black+jpeg", "crop+tone", "crop+saturation", "crop+jpeg",
         "zoom_out+hue", "mirror+shift_recrop", "mirror+crop", "rescale+tone", "jpeg+rescale", "rotation+tone")
NEGATIVES = ("neighbour", "burst_moved", "burst_local", "lookalike_photo", "lookalike_class")
LEAK_SHARE = 0.7  # planted pairs with the original in train and the copy in test; the rest are both in test


@dataclass(frozen=True)
class Spec:
    name: str
    images: int  # base images
    out_side: tuple  # (lo, hi) of the longer side on disk
    aspect: tuple  # (lo, hi) of width / height
    window: tuple  # (lo, hi) of the window's shorter side in the photo
    shift: tuple  # (lo, hi) shift as a fraction of the side
    rescale: tuple  # (lo, hi) of the shrink factor of a rescaled copy
    singles: int  # copies per single edit kind
    pairs: int  # copies per pair of edits
    negatives: int  # hard negatives per kind
    exact: int  # byte-identical copies
    quality: tuple = (90, 95)
    test_share: float = 1 / 6  # CIFAR: 10,000 of 60,000 in test
    base_limits: tuple = BASE_LIMITS


COPIES32 = Spec("copies32", 10_000, (32, 32), (1.0, 1.0), (32, 260), (1 / 32, 4 / 32), (0.5, 0.75),
                singles=50, pairs=20, negatives=40, exact=20)
# Windows of >= 200 px: the photos hold ~235 at overlap < 0.5, so this set allows 0.65 (ambiguous pairs) at once,
# and puts more in test to have originals for the within-test copies.
COPIES256 = Spec("copies256", 450, (256, 600), (0.75, 1.34), (200, 700), (0.01, 0.04), (0.5, 0.75),
                 singles=12, pairs=6, negatives=10, exact=6, test_share=0.3, base_limits=(NEGATIVE, 0.65))


def _shape(rng, spec: Spec, name: str):
    """(window width, window height, (out width, out height)) for a new image of the photo, or None."""
    h, w = _real_photos.photo(name).shape[:2]
    aspect = math.exp(rng.uniform(math.log(spec.aspect[0]), math.log(spec.aspect[1])))
    wide, tall = max(aspect, 1.0), max(1 / aspect, 1.0)
    top = min(spec.window[1], w / wide, h / tall)
    if top < spec.window[0]:
        return None
    short = math.exp(rng.uniform(math.log(spec.window[0]), math.log(top)))
    side = int(rng.integers(spec.out_side[0], spec.out_side[1] + 1))
    out = (side, max(1, round(side / aspect))) if aspect >= 1 else (max(1, round(side * aspect)), side)
    return short * wide, short * tall, out


def _quality(rng, spec: Spec) -> int:
    return int(rng.integers(spec.quality[0], spec.quality[1] + 1))


def not_blank(case: E.Case) -> bool:
    std, edges = E.grey_stats(case.pixels)
    return std >= MIN_STD and edges >= MIN_EDGES


def random_case(rng, spec: Spec, name: str, shape=None) -> E.Case | None:
    """A non-blank image at a random place of the photo (of a given shape, else a random one)."""
    shape = shape or _shape(rng, spec, name)
    if shape is None:
        return None
    ww, wh, out = shape
    h, w = _real_photos.photo(name).shape[:2]
    x, y = rng.uniform(0, w - ww), rng.uniform(0, h - wh)
    case = E.cut(name, (x, y, x + ww, y + wh), out, _quality(rng, spec))
    return case if not_blank(case) else None


def base_images(rng, spec: Spec, count: int, attempts: int = 60) -> list[E.Case]:
    """`count` base images spread over the photos, no two of one photo overlapping by spec.base_limits[0] or
    more (then by the next limit, once every photo is full)."""
    names = [n for n in _real_photos.names() if _shape(np.random.default_rng(0), replace(spec, aspect=(1, 1)), n)]
    windows = {n: np.empty((64, 4)) for n in names}  # grown by doubling; the first used[n] rows are taken
    used = dict.fromkeys(names, 0)
    out = []
    for limit in spec.base_limits:
        open_names = list(names)
        while open_names and len(out) < count:
            name = open_names[int(rng.integers(len(open_names)))]
            for _ in range(attempts):
                shape = _shape(rng, spec, name)
                if shape is None:
                    continue
                h, w = _real_photos.photo(name).shape[:2]
                x, y = rng.uniform(0, w - shape[0]), rng.uniform(0, h - shape[1])
                window = (x, y, x + shape[0], y + shape[1])
                if used[name] and overlaps(window, windows[name][:used[name]]).max() >= limit:
                    continue
                case = E.cut(name, window, shape[2], _quality(rng, spec))
                if not_blank(case):
                    if used[name] == len(windows[name]):
                        windows[name] = np.vstack([windows[name], np.empty_like(windows[name])])
                    windows[name][used[name]] = window
                    used[name] += 1
                    out.append(case)
                    break
            else:
                open_names.remove(name)
        if len(out) == count:
            return out
    raise ValueError(f"{spec.name}: the photos hold only {len(out)} images, {count} asked")


def _pick(rng, free: list[int], splits: list[str], train: bool, photos: list[str]) -> int:
    """A base image not used yet, in train (else in test): a photo drawn uniformly first, so that planted
    images spread evenly over the photos instead of following the large ones; then its first free image."""
    wanted = [i for i in free if (splits[i] == "train") == train] or free
    if not wanted:
        raise ValueError("not enough base images for the planted copies and negatives")
    names = sorted({photos[i] for i in wanted})
    name = names[int(rng.integers(len(names)))]
    return next(i for i in wanted if photos[i] == name)


def _copy_jobs(spec: Spec) -> list[tuple[str, ...]]:
    return ([("exact",)] * spec.exact + [(k,) for k in SINGLES for _ in range(spec.singles)]
            + [tuple(p.split("+")) for p in PAIRS for _ in range(spec.pairs)])


def plant_copies(rng, spec: Spec, base: list[E.Case], splits: list[str], free: list[int]) -> list[dict]:
    """One record per planted copy: its case, its kind, its original's index, its split. Originals come from
    `free` (base indices, used up); a tenth of them get a second copy of another kind."""
    colour = {n: _real_photos.is_colour(n) for n in _real_photos.names()}
    planted, reused, photos = [], [], [c.photo for c in base]
    jobs = _copy_jobs(spec)
    for n in rng.permutation(len(jobs)):
        job = jobs[n]
        leak = rng.random() < LEAK_SHARE
        for _ in range(50):
            if reused and rng.random() < 0.1:
                original = reused.pop(int(rng.integers(len(reused))))
            else:
                original = _pick(rng, free, splits, leak, photos)
            if set(job) & E.COLOUR_EDITS and not colour[base[original].photo]:
                continue
            src = base[original]
            copy = replace(src, quality=_quality(rng, spec), params={}) if job != ("exact",) else src
            copy = E.apply(rng, copy, job, spec) if job != ("exact",) else copy
            if copy is None or overlap(copy.window, src.window) < COPY or not not_blank(copy):
                continue
            if original in free:
                free.remove(original)
                reused.append(original)
            planted.append({"case": copy, "kind": "+".join(job), "original": original, "split": "test"})
            break
    return planted


def _moved(rng, spec: Spec, src: E.Case, target: tuple) -> E.Case | None:
    """The same-size window moved so that it shares a `target` share (lo, hi) of its area with the original."""
    t = float(rng.uniform(*target))
    u = float(rng.uniform(0, 1))
    fx, fy = 1 - t ** u, 1 - t ** (1 - u)  # (1 - fx)(1 - fy) = t
    x0, y0, x1, y1 = src.window
    dx, dy = fx * (x1 - x0) * rng.choice([-1, 1]), fy * (y1 - y0) * rng.choice([-1, 1])
    window = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
    if not E.inside(src.photo, window):
        return None
    case = E.cut(src.photo, window, src.size, _quality(rng, spec))
    return case if not_blank(case) else None


def _burst_local(rng, spec: Spec, src: E.Case) -> E.Case | None:
    """The same window with 20-40 % of it (a soft-edged rectangle) replaced by another part of the photo."""
    w, h = src.size
    area = float(rng.uniform(0.2, 0.4))
    rw = min(w, round(w * area ** float(rng.uniform(0.3, 0.7))))
    rh = min(h, round(w * h * area / rw))
    left, top = int(rng.integers(0, w - rw + 1)), int(rng.integers(0, h - rh + 1))
    donor = _moved(rng, spec, src, (0.0, 0.05))
    if donor is None:
        return None
    mask = np.zeros((h, w), np.uint8)
    mask[top:top + rh, left:left + rw] = 255
    soft = np.asarray(E.blur_mask(mask, max(w, h) / 64), np.float32)[..., None] / 255
    pixels = np.round(src.pixels * (1 - soft) + donor.pixels * soft).astype(np.uint8)
    before, after = (np.asarray(Image.fromarray(p[top:top + rh, left:left + rw]).convert("L")
                                .resize((4, 4), E.BOX), np.float32) for p in (src.pixels, pixels))
    if np.abs(before - after).mean() < 20:  # a change a person sees, not texture swapped for like texture
        return None
    return replace(src, pixels=pixels, quality=_quality(rng, spec),
                   params={"replaced": [left, top, rw, rh], "donor": [round(v, 1) for v in donor.window]})


def _descriptor(case: E.Case) -> np.ndarray:
    g = np.asarray(Image.fromarray(case.pixels).convert("L").resize((16, 16), E.BOX), np.float32).ravel()
    return (g - g.mean()) / max(float(g.std()), 1.0)


def _lookalike(rng, spec: Spec, src: E.Case, names: list[str], candidates: int = 40) -> E.Case | None:
    """Of `candidates` random windows of these photos sharing < 10 % with the original, the most alike (grey)."""
    if not names:
        return None
    want, best, best_d = _descriptor(src), None, np.inf
    for _ in range(candidates):
        ww, wh = src.window[2] - src.window[0], src.window[3] - src.window[1]
        name = names[int(rng.integers(len(names)))]
        h, w = _real_photos.photo(name).shape[:2]
        if ww > w or wh > h:
            continue
        case = random_case(rng, spec, name, (ww, wh, src.size))
        if case is None or (case.photo == src.photo and overlap(case.window, src.window) >= 0.1):
            continue
        d = float(np.square(_descriptor(case) - want).mean())
        if d < best_d:
            best, best_d = case, d
    return best


def plant_negatives(rng, spec: Spec, base: list[E.Case], splits: list[str], free: list[int]) -> list[dict]:
    """Hard negatives, each paired with a reference image it must not be grouped with."""
    cls = _real_photos.PHOTOS
    planted, photos = [], [c.photo for c in base]
    for kind in [k for k in NEGATIVES for _ in range(spec.negatives)]:
        leak = rng.random() < LEAK_SHARE
        for _ in range(200):
            ref = _pick(rng, free, splits, leak, photos)
            src = base[ref]
            if kind == "neighbour":
                case = _moved(rng, spec, src, (0.1, 0.4))
            elif kind == "burst_moved":
                case = _moved(rng, spec, src, (0.4, 0.5))
            elif kind == "burst_local":
                case = _burst_local(rng, spec, src)
            elif kind == "lookalike_photo":
                case = _lookalike(rng, spec, src, [src.photo])
            else:
                case = _lookalike(rng, spec, src, [n for n in cls if n != src.photo and cls[n][0] == cls[src.photo][0]])
            if case is None:
                continue
            free.remove(ref)
            planted.append({"case": case, "kind": kind, "original": ref, "split": "test",
                            "changed": kind == "burst_local"})
            break
    return planted


def build(spec: Spec, seed: int) -> tuple[list[tuple[str, bytes]], pd.DataFrame]:
    """Every file of the set (path, bytes) and the truth table, one row per file."""
    rng = np.random.default_rng([seed, 1])
    base = base_images(rng, spec, spec.images)
    splits = ["test" if rng.random() < spec.test_share else "train" for _ in base]
    free = [int(i) for i in rng.permutation(len(base))]
    copies = plant_copies(np.random.default_rng([seed, 2]), spec, base, splits, free)
    negatives = plant_negatives(np.random.default_rng([seed, 3]), spec, base, splits, free)
    records = [{"case": c, "kind": "base", "original": None, "split": s} for c, s in zip(base, splits, strict=True)]
    records += copies + negatives
    ids = np.random.default_rng([seed, 4]).permutation(len(records))
    paths = [f"{r['split']}/{_real_photos.PHOTOS[r['case'].photo][0]}/{ids[n]:06d}.jpg" for n, r in enumerate(records)]
    data = [E.jpeg_bytes(r["case"].pixels, r["case"].quality) for r in records[:len(base)]]
    for r in records[len(base):]:
        same = r["kind"] == "exact"
        data.append(data[r["original"]] if same else E.jpeg_bytes(r["case"].pixels, r["case"].quality))
    rows = []
    for n, r in enumerate(records):
        c = r["case"]
        rows.append({"path": paths[n], "split": r["split"], "label": _real_photos.PHOTOS[c.photo][0],
                     "photo": c.photo, "group": _real_photos.PHOTOS[c.photo][1],
                     **dict(zip(("x0", "y0", "x1", "y1"), (round(v, 3) for v in c.window), strict=True)),
                     "width": c.size[0], "height": c.size[1], "quality": c.quality, "mirrored": c.mirrored,
                     "changed": bool(r.get("changed", False)), "kind": r["kind"],
                     "role": "base" if r["original"] is None else "negative" if r["kind"] in NEGATIVES else "copy",
                     "original": "" if r["original"] is None else paths[r["original"]],
                     "params": json.dumps(c.params, sort_keys=True)})
    truth = pd.DataFrame(rows)
    truth["source"], truth["source_key"], truth["near_source"] = "", "", ""
    return list(zip(paths, data, strict=True)), truth


def check(truth: pd.DataFrame) -> None:
    """Every planted copy is a copy of its original by the truth's own rule, every hard negative is not."""
    from _copies_truth import pair_label
    by_path = truth.set_index("path", drop=False)
    for _, r in truth[truth["role"] != "base"].iterrows():
        got = pair_label(r, by_path.loc[r["original"]])
        want = IS_COPY if r["role"] == "copy" else IS_NEGATIVE
        if got != want:
            raise AssertionError(f"{r['path']} ({r['kind']}) is {got} of {r['original']}, planted as {want}")
