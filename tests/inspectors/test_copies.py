"""copies.content_pairs: what makes an aligned pair a copy, on crops of a real photo."""

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_sample_images

from inspectors import alignment, copies
from inspectors.config import DuplicatesConfig

BOX = (200, 100, 296, 196)  # a textured window of china.jpg


def windows(photo: np.ndarray, copies_of_box: int) -> pd.DataFrame:
    """The thumbnail of BOX and re-encoded copies of it (a little noise each, as JPEG at another quality
    leaves), first in the table, then thumbnails of 64 px windows of the photo clear of BOX."""
    im = Image.fromarray(photo)

    def thumb(box):
        return np.asarray(im.resize((32, 32), Image.Resampling.LANCZOS, box=box), np.float32)

    clear = [(x, y) for x in range(0, 570, 70) for y in range(0, 360, 70)
             if x + 64 < BOX[0] - 10 or x > BOX[2] + 10 or y + 64 < BOX[1] - 10 or y > BOX[3] + 10]
    rng = np.random.default_rng(0)
    group = [thumb(BOX) + rng.normal(0, 1, (32, 32)) for _ in range(copies_of_box)]
    content = [np.clip(t, 0, 255).astype(np.uint8).tobytes()
               for t in [thumb(BOX), *group, *(thumb((x, y, x + 64, y + 64)) for x, y in clear)]]
    return pd.DataFrame({"content": content, "mean_r": 0.5, "mean_g": 0.5, "mean_b": 0.5})


def test_four_copies_the_hash_rule_confirms_stay_one_group_despite_the_crowd_rank():
    photo = np.asarray(Image.fromarray(load_sample_images().images[0]).convert("L"))
    nodes = windows(photo, copies_of_box=3)  # a group of 4: each one's 3rd best partner is a copy
    i, j = np.triu_indices(4, 1)
    pairs = copies.content_pairs(nodes, DuplicatesConfig(), also=lambda: (i, j, np.ones(len(i), bool)))
    found = {(min(a, b), max(a, b)) for a, b in pairs.loc[pairs["copy"], ["i", "j"]].itertuples(index=False)}
    assert found == set(zip(i.tolist(), j.tolist(), strict=True))


def test_the_quick_refinement_changes_no_verdict_nor_any_measure_a_verdict_reads(monkeypatch):
    photo = np.asarray(Image.fromarray(load_sample_images().images[0]).convert("L"))
    nodes = windows(photo, copies_of_box=2)
    config = DuplicatesConfig()
    quick = copies.content_pairs(nodes, config)
    monkeypatch.setattr(alignment, "QUICK_BELOW", None)
    full = copies.content_pairs(nodes, config)
    assert full["copy"].sum() == 3 and (quick["copy"] == full["copy"]).all()
    alike = copies.could_be_copies(full, config)
    pictures = np.unique(full.loc[alike, ["i", "j"]])
    reads = full["i"].isin(pictures) | full["j"].isin(pictures)
    measures = copies.ALIGNED + ["crowd"]
    pd.testing.assert_frame_equal(quick.loc[reads, measures], full.loc[reads, measures])
    assert (quick.loc[~reads, "detail"] != full.loc[~reads, "detail"]).any()  # the others did stop early
