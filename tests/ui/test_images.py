"""The full-size views: a file as a person sees it (16-bit scaled, not clipped to white; the workspace's pixel
limit), and the downsampling preview: each size as a network would see it, never a small image blown up and
called a bigger size."""

import numpy as np
from PIL import Image

from inspectors.config import ScanConfig
from ui import images

LIMIT = ScanConfig().max_pixel_bytes


def sixteen_bit_stripes(path, top=52171):
    values = np.zeros((40, 64), np.uint16)
    values[:, ::8] = top  # bright stripes on black
    values[:, 1::8] = top
    Image.fromarray(values).save(path)


def test_a_16_bit_file_is_seen_scaled_not_clipped_to_white(tmp_path):
    sixteen_bit_stripes(tmp_path / "x.png")
    view = images.open_for_display(tmp_path, "x.png", LIMIT, 200)
    seen = np.asarray(view.image)
    assert view.error is None and view.note == "" and seen.shape == (40, 64, 3)
    assert seen.min() == 0 and seen.max() == 203  # 52171 / 65535 of white, on black


def test_a_file_over_the_workspace_limit_is_not_opened_and_says_why(tmp_path):
    sixteen_bit_stripes(tmp_path / "x.png")
    view = images.open_for_display(tmp_path, "x.png", 64 * 40 * 2 - 1, 200)
    assert view.image is None and view.error.startswith("TooLargeError: header declares 64x40 I;16")


def test_browse_shows_a_16_bit_sample_at_full_size_not_blank(app, monkeypatch):
    import streamlit
    shown, original = [], streamlit.image

    def image(data, *args, **kwargs):  # what the page hands to Streamlit, before it becomes a PNG
        shown.append((np.asarray(data), kwargs.get("caption") or ""))
        return original(data, *args, **kwargs)
    monkeypatch.setattr(streamlit, "image", image)
    app.run()
    app.switch_page("pages/browse.py").run()
    app.text_input(key="browse_text").input("img_41368").run()  # sample_data's 16-bit stripes (20046..52171)
    app.radio(key="browse_view").set_value("Table").run()
    app.session_state["browse_table"] = {"selection": {"rows": [0], "columns": []}}
    app.run()
    assert not app.exception, app.exception
    full = [pixels for pixels, caption in shown if "as stored" in caption]
    assert len(full) == 1 and full[0].shape == (64, 73, 3)
    assert full[0].std() > 20 and full[0].min() < 100  # stripes, not a blank white square


def test_a_big_image_is_shown_at_every_size():
    versions = images.downsampled(Image.new("RGB", (640, 480)))
    assert [caption for caption, _ in versions] == ["224 px (224×168)", "128 px (128×96)", "64 px (64×48)",
                                                    "32 px (32×24)"]
    assert all(shown.size == (224, 168) for _, shown in versions)  # drawn at one size to compare


def test_a_small_image_comes_as_stored_and_only_smaller_sizes_follow():
    versions = images.downsampled(Image.new("RGB", (48, 40)))
    assert [caption for caption, _ in versions] == ["as stored, 48×40 px", "32 px (32×27)"]


def test_an_image_exactly_at_a_size_is_not_resized_to_it():
    versions = images.downsampled(Image.new("RGB", (64, 64)))
    assert [caption for caption, _ in versions] == ["as stored, 64×64 px", "32 px (32×32)"]
