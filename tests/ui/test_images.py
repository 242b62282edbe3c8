"""The downsampling preview: each size as a network would see it, never a small image blown up and
called a bigger size."""

from PIL import Image

from ui import images


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
