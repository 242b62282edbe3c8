from ui import charts

PAIR = {"path_a": "a/[x](h:1).png", "path_b": "b/y.png", "line_distance": 1.0004, "copy": False,
        "binding": "crowd", "how": "mirrored"}


def test_a_pair_just_past_the_line_never_reads_as_on_it_and_says_why():
    caption = charts.pair_caption(PAIR)
    assert caption.startswith("**just over 1**, not a copy: look-alikes in the dataset agree nearly as well")
    assert charts.pair_caption({**PAIR, "line_distance": 1.003}).startswith("**1.003**")
    assert charts.pair_caption({**PAIR, "line_distance": 0.42, "copy": True}).startswith(
        "**0.42**, a copy (closest to the line on crowd)")


def test_pair_captions_show_paths_as_plain_text():
    assert "\\[x\\]\\(h" in charts.pair_caption(PAIR) and "](h" not in charts.pair_caption(PAIR)

