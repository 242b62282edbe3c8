import numpy as np
import pandas as pd

from inspectors import duplicates, hash_copies
from inspectors.config import DuplicatesConfig
from tests.inspectors.tables import appearance, content, samples


def rows_of(found, issue):
    part = found[found["issue"] == issue]
    return sorted(zip(part["path"], part["group"], strict=True))


def flip(value: int, bits) -> int:
    v = value & (2**64 - 1)
    for b in bits:
        v ^= 1 << int(b)
    return v - 2**64 if v >= 2**63 else v


def test_same_pixels_make_one_exact_group_named_after_its_representative():
    table = samples([{"path": "a.png", "pixel_hash": "x"}, {"path": "b.png", "pixel_hash": "x", "file_hash": "h9"},
                     {"path": "c.png", "pixel_hash": "x"}, {"path": "d.png"}])
    found = duplicates.inspect(table)
    got = rows_of(found, "exact_duplicate")
    assert [p for p, _ in got] == ["a.png", "b.png", "c.png"] and len({g for _, g in got}) == 1
    detail = dict(zip(found["path"], found["detail"], strict=True))
    assert detail["b.png"] == "same pixels as a.png (3 files)"
    assert set(found["issue"]) == {"exact_duplicate"}


def test_near_copies_need_the_hash_and_the_appearance_to_agree():
    h = 0x1234_5678_9ABC_DEF0
    look = appearance(7)
    thumb = content("a")
    table = samples([
        {"path": "a_orig.png", "phash": h, "appearance": look, "content": thumb},
        {"path": "b_copy.png", "phash": flip(h, [3, 40]), "appearance": look, "content": thumb},  # 2 bits: a copy
        {"path": "lookalike.png", "phash": flip(h, [5]), "appearance": appearance(8)},  # 1 bit, other look
        {"path": "far.png", "phash": flip(h, range(10)), "appearance": appearance(9)},  # other hash, other look
        {"path": "c_resized_stripes.png", "phash": flip(h, range(20, 27)), "appearance": look,  # pHash 7 bits off,
         "content": thumb},
    ])                                                                  # found by the appearance hash
    found = duplicates.inspect(table, DuplicatesConfig(radius=4))
    assert [p for p, _ in rows_of(found, "near_duplicate")] == ["a_orig.png", "b_copy.png", "c_resized_stripes.png"]
    detail = dict(zip(found["path"], found["detail"], strict=True))
    assert detail["b_copy.png"] == "copy of a_orig.png: re-encoded (3 files)"


HASHES_ONLY = DuplicatesConfig(content=False)  # the rule for tables scanned before content thumbnails


def test_alike_but_distinct_pictures_are_not_confirmed_as_copies():
    """Without content thumbnails: 28x28 glyphs of one digit share their pHash; only the appearance tells a
    copy (mean |difference| of the normalised vectors ~0.02-0.05) from a look-alike (>= 0.065)."""
    h = 0x1234_5678_9ABC_DEF0
    look = np.frombuffer(appearance(7), np.uint8).astype(int)
    rng = np.random.default_rng(3)

    def jitter(amplitude):  # +-5 grey levels: distance 0.035; +-12: 0.078
        return np.clip(look + rng.integers(-amplitude, amplitude + 1, 256), 0, 255).astype(np.uint8).tobytes()
    table = samples([{"path": "a.png", "phash": h, "appearance": look.astype(np.uint8).tobytes()},
                     {"path": "a_copy.png", "phash": flip(h, [1]), "appearance": jitter(5)},
                     {"path": "lookalike.png", "phash": flip(h, [2]), "appearance": jitter(12)}])
    found = duplicates.inspect(table, HASHES_ONLY)
    assert [p for p, _ in rows_of(found, "near_duplicate")] == ["a.png", "a_copy.png"]


def test_blank_images_never_pair_by_hash_alone():
    blank = appearance(0, blank=True)
    table = samples([{"path": f"blank{i}.png", "phash": 0, "contrast": 0.005, "appearance": blank} for i in range(5)])
    assert duplicates.inspect(table).empty


def test_groups_do_not_chain():
    # a - b - c - d - e confirmed neighbours in a line: no group may hold two non-neighbours
    i, j = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    centre = duplicates.group_without_chaining(5, i, j, np.arange(5))
    neighbours = {(a, b) for a, b in zip(i, j, strict=True)} | {(b, a) for a, b in zip(i, j, strict=True)}
    for c in set(centre[centre >= 0]):
        members = np.flatnonzero(centre == c)
        assert all(m == c or (m, c) in neighbours for m in members)
    assert sorted(len(np.flatnonzero(centre == c)) for c in set(centre[centre >= 0])) == [2, 3]


def test_copies_across_splits_leak_into_the_later_split_and_conflicting_labels_are_flagged():
    table = samples([
        {"path": "train/cat/a.png", "split": "train", "label": "cat", "pixel_hash": "x"},
        {"path": "test/cat/a.png", "split": "test", "label": "cat", "pixel_hash": "x"},
        {"path": "val/dog/a.png", "split": "val", "label": "dog", "pixel_hash": "x"},
        {"path": "train/cat/b.png", "split": "train", "label": "cat", "pixel_hash": "y"},
        {"path": "train/dog/b.png", "split": "train", "label": "dog", "pixel_hash": "y"},
    ])
    found = duplicates.inspect(table)
    assert [p for p, _ in rows_of(found, "split_leak")] == ["test/cat/a.png", "val/dog/a.png"]
    assert [p for p, _ in rows_of(found, "conflicting_labels")] == [
        "test/cat/a.png", "train/cat/a.png", "train/cat/b.png", "train/dog/b.png", "val/dog/a.png"]
    summary = duplicates.summarize(table, found)
    m = summary["leak_matrix"]
    assert m["train"]["test"] == 1 and m["train"]["val"] == 1 and m["val"]["test"] == 1 and m["train"]["train"] == 1
    assert summary["duplicate_groups"] == {"exact": 2, "near": 0}


def test_other_dataset_members_get_no_findings_but_make_leaks():
    table = samples([{"path": "other:x.png", "split": "other", "label": "", "pixel_hash": "x"},
                     {"path": "test/a.png", "split": "test", "pixel_hash": "x"}])
    found = duplicates.inspect(table)
    assert rows_of(found, "split_leak") == [("test/a.png", found["group"].iloc[0])]


def test_hash_index_agrees_with_brute_force():
    rng = np.random.default_rng(1)
    base = rng.integers(-(2**63), 2**63 - 1, size=3000, dtype=np.int64)
    planted = [flip(int(base[k]), rng.choice(64, size=k % 6, replace=False)) for k in range(300)]
    hashes = np.r_[base, np.array(planted, dtype=np.int64)]
    i, j, d = hash_copies.near_pairs(hashes, 4)
    u = hashes.view(np.uint64)
    dist = np.bitwise_count(u[:, None] ^ u[None, :])
    bi, bj = np.nonzero(np.triu(dist <= 4, k=1))
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(zip(bi.tolist(), bj.tolist(), strict=True))
    assert (d == dist[i, j]).all()


def test_a_crowd_of_identical_hashes_stays_linear_and_keeps_its_exact_neighbours():
    # 20,000 images with one hash (smooth gradients, say) would be 200M pairs; the crowd is windowed
    from inspectors.hash_copies import CROWDED_WINDOW, near_pairs

    hashes = np.zeros(20_000, dtype=np.int64)
    hashes[-1] = 0b111  # 3 bits away from the crowd
    i, j, d = near_pairs(hashes, radius=4)
    assert len(i) <= 20_000 * 5 * CROWDED_WINDOW
    assert len(i) >= 19_999  # every member still pairs with its neighbours
    assert (d <= 4).all()


def test_pairs_met_in_crowded_and_plain_blocks_come_once_in_order():
    # the three lowest blocks (bits 0-38) hold one value for all but a bit (crowded runs); pairs also meet higher
    rng = np.random.default_rng(4)
    high = rng.integers(0, 1 << 20, size=2500, dtype=np.int64) << 40
    hashes = high | np.where(np.arange(2500) % 7 == 0, 0b1, 0)  # a few a bit away in the crowded blocks
    i, j, d = hash_copies.near_pairs(hashes, 4)
    keys = i * len(hashes) + j
    assert (np.diff(keys) > 0).all() and (i < j).all()
    u = hashes.view(np.uint64)
    dist = np.bitwise_count(u[:, None] ^ u[None, :])
    assert (d == dist[i, j]).all() and (d <= 4).all()
    # every pair within the radius that agrees on a block beyond the crowded three is found
    layout = hash_copies.block_layout(4)
    agree = np.zeros_like(dist, bool)
    for shift, width in layout[3:]:
        part = (u >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        agree |= part[:, None] == part[None, :]
    bi, bj = np.nonzero(np.triu(agree & (dist <= 4), k=1))
    assert set(zip(bi.tolist(), bj.tolist(), strict=True)) <= set(zip(i.tolist(), j.tolist(), strict=True))


def _loose_tier_table(pair: tuple[np.ndarray, np.ndarray], others: list[np.ndarray]):
    """The pair shares a pHash (1 bit apart); every other picture hashes far away (never a candidate)."""
    h = 0x1234_5678_9ABC_DEF0
    rows = [{"path": "a.png", "phash": h, "appearance": pair[0].astype(np.uint8).tobytes()},
            {"path": "b.png", "phash": flip(h, [7]), "appearance": pair[1].astype(np.uint8).tobytes()}]
    rows += [{"path": f"other{k:03d}.png", "phash": flip(h, range(8 + k % 30, 30 + k % 30)),
              "appearance": v.astype(np.uint8).tobytes()} for k, v in enumerate(others)]
    return samples(rows)


def _pair_distance(a, b):
    app = hash_copies.normalised_appearance([a.astype(np.uint8).tobytes(), b.astype(np.uint8).tobytes()])
    return float(np.abs(app[0] - app[1]).mean())


def _near_paths(table):
    return [p for p, _ in rows_of(duplicates.inspect(table, HASHES_ONLY), "near_duplicate")]


def test_a_resampled_textured_copy_past_the_strict_line_is_confirmed_when_it_stands_apart():
    """Fine texture moves a lot under a slight crop or resize: such a copy measures past 0.06, but it is
    within what a half-pixel shift explains and far closer to its original than to anything else."""
    rng = np.random.default_rng(5)
    texture = rng.integers(0, 256, 256)
    copy = np.clip(texture + rng.integers(-16, 17, 256), 0, 255)
    assert 0.06 < _pair_distance(texture, copy) < 0.2
    table = _loose_tier_table((texture, copy), [rng.integers(0, 256, 256) for _ in range(80)])
    assert _near_paths(table) == ["a.png", "b.png"]
    assert _near_paths(table.iloc[:40]) == []  # 38 others: too few to show that the pair stands apart


def test_look_alikes_in_a_crowd_are_not_confirmed_past_the_strict_line():
    """Glyphs of one digit: the pair is as close as a resampled copy, but so is a crowd of others (here
    none of them a hash candidate of the pair, as look-alikes past the radius are)."""
    rng = np.random.default_rng(6)
    glyph = rng.integers(0, 256, 256)
    variants = [np.clip(glyph + rng.integers(-16, 17, 256), 0, 255).astype(np.uint8).tobytes() for _ in range(81)]
    appearance_column = pd.Series(variants)
    hashes = np.arange(81, dtype=np.int64) * 0x0F0F_0F0F_0F0F
    pair = np.array([0]), np.array([1])
    assert 0.06 < float(hash_copies.mean_abs_distance(hash_copies.normalised_appearance(variants[:2]),
                                                      np.array([0]), np.array([1]))[0]) < 0.2
    assert not hash_copies.confirmed(appearance_column, hashes, *pair, DuplicatesConfig())[0]
    assert hash_copies.confirmed(appearance_column, hashes, *pair, DuplicatesConfig(isolation_ratio=100))[0]


def test_a_difference_no_half_pixel_shift_explains_is_not_a_copy():
    """A smooth picture barely moves under resampling: the same two-tone picture with a small object
    added is another picture, however far the pair stands from the rest."""
    rng = np.random.default_rng(7)
    step = np.tile(np.where(np.arange(16) < 8, 40, 210), 16).reshape(16, 16)
    with_object = step.copy()
    with_object[3:6, 2:5] = 200
    step, with_object = step.ravel(), with_object.ravel()
    assert 0.06 < _pair_distance(step, with_object) < 0.2
    table = _loose_tier_table((step, with_object), [rng.integers(0, 256, 256) for _ in range(80)])
    assert _near_paths(table) == []


def test_each_picture_keeps_only_its_nearest_hash_partners_and_a_pair_counts_from_either_end():
    # six pictures, every pair a candidate, farther apart the farther their numbers (ties broken toward 0)
    i, j = (np.array(x, np.int64) for x in zip(*[(a, b) for a in range(6) for b in range(a + 1, 6)], strict=True))
    distance = 0.01 * (j - i) + 0.0001 * (i + j)
    keep = hash_copies.nearest_partners(i, j, distance, 1)
    # each picture's nearest is the one before it (0's is 1): the chain of neighbours, nothing else
    assert sorted(zip(i[keep].tolist(), j[keep].tolist(), strict=True)) == [(k, k + 1) for k in range(5)]
    keep = hash_copies.nearest_partners(i, j, distance, 2)
    assert sorted(zip(i[keep].tolist(), j[keep].tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4),
                                                                          (3, 5), (4, 5)]  # the ends reach two along
    # a far pair is kept when it is its other picture's only one
    keep = hash_copies.nearest_partners(np.r_[i, 0], np.r_[j, 6], np.r_[distance, 0.5], 1)
    assert keep[-1]
    assert not hash_copies.nearest_partners(i, j, distance, 0).any()


def test_a_crowd_within_the_hash_radius_is_not_aligned_pair_by_pair_and_its_copy_is_still_found():
    # 40 pictures of one layout, each with a texture of its own, all within the pHash radius and the appearance
    # limit of one another (hundreds of Fashion-MNIST's garments are); one of them copied
    from dataclasses import replace

    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    base = np.kron(rng.integers(60, 200, (4, 4)), np.ones((8, 8)))
    app = np.kron(rng.integers(40, 220, (4, 4)), np.ones((4, 4))).ravel()
    rows = [{"path": f"g{k:02d}.png", "phash": k % 3,
             "content": np.clip(base + 12 * gaussian_filter(rng.normal(0, 3, (32, 32)), 1), 0, 255).astype(
                 np.uint8).tobytes(),
             "appearance": np.clip(app + rng.normal(0, 5, 256), 0, 255).astype(np.uint8).tobytes()}
            for k in range(40)]
    rows.append({**rows[5], "path": "copy.png", "pixel_hash": "copy"})
    table = samples(rows)
    config = DuplicatesConfig()
    nodes = duplicates.pictures(table, config)
    i, j, _ = hash_copies.candidate_pairs(nodes["phash"].to_numpy(np.int64),
                                          hash_copies.appearance_hash(nodes["appearance"]), config.radius)
    near = hash_copies.appearance_distances(nodes["appearance"], i, j) <= config.loose_max_distance
    assert near.sum() == 41 * 40 // 2  # every pair is a hash candidate near enough to be aligned
    everything = duplicates._judged_pairs(nodes, replace(config, hash_partners=1_000))
    pairs = duplicates._judged_pairs(nodes, config)
    assert len(everything) >= 820 and len(pairs) < 0.6 * len(everything)
    assert pairs["copy"].sum() == everything["copy"].sum() == 1
    near_rows = rows_of(duplicates.inspect(table, config), "near_duplicate")
    assert [p for p, _ in near_rows] == ["copy.png", "g05.png"]


def test_the_compiled_appearance_distances_are_numpys_mean_absolute_and_rms_difference():
    rng = np.random.default_rng(3)
    app = rng.normal(0, 1, (50, 256)).astype(np.float32)
    i, j = rng.integers(0, 50, 3_000), rng.integers(0, 50, 3_000)
    got = hash_copies.mean_abs_distance(app, i, j, chunk=1_000)  # three chunks on the threads
    assert np.allclose(got, np.abs(app[i] - app[j]).mean(axis=1), atol=1e-6)
    assert hash_copies.mean_abs_distance(app, i[:0], j[:0]).shape == (0,)
    got = hash_copies.rms_distance(app, i, j, chunk=1_000)
    assert np.allclose(got, np.sqrt(((app[i] - app[j]) ** 2).mean(axis=1)), atol=1e-6)
