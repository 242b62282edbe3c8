"""pil_codecs beyond its equality with plain Pillow (tests/inspectors/test_fast_paths.py): a file not decoded
yet, and the public calls taking over where this Pillow's encoders disagree."""

import pytest
from PIL import Image

from inspectors import imaging, pil_codecs
from tests.conftest import noise_image


@pytest.fixture
def fresh_checks():
    """The one-time checks run again in the test, and again after it (they are cached per process)."""
    pil_codecs.raw_works.cache_clear()
    pil_codecs.jpeg_config.cache_clear()
    yield
    pil_codecs.raw_works.cache_clear()
    pil_codecs.jpeg_config.cache_clear()


def test_raw_bytes_of_a_file_not_decoded_yet(tmp_path):
    noise_image(40, 30).convert("RGB").save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as im:
        got = pil_codecs.raw_bytes(im)
    with Image.open(tmp_path / "a.png") as im:
        assert got == im.tobytes()


def test_a_pillow_whose_encoder_disagrees_gets_the_public_calls(fresh_checks, monkeypatch):
    def broken(*args):
        raise TypeError("an encoder that takes other arguments")
    monkeypatch.setattr(Image.core, "jpeg_encoder", broken, raising=False)
    monkeypatch.setattr(Image.core, "raw_encoder", broken, raising=False)
    monkeypatch.setattr(pil_codecs, "direct_jpeg", lambda im, config: broken())
    monkeypatch.setattr(pil_codecs, "direct_raw", lambda im, rawmode: broken())
    assert pil_codecs.jpeg_config(85) is None and not pil_codecs.raw_works()
    monkeypatch.undo()  # Pillow itself works again; the verdicts stay cached
    im = noise_image(106, 80)
    assert pil_codecs.jpeg_bytes(im, 85) == imaging.plain_jpeg_bytes(im, 85)
    assert pil_codecs.raw_bytes(im, "RGBX") == im.tobytes("raw", "RGBX")


def test_output_that_differs_from_save_turns_the_direct_path_off(fresh_checks, monkeypatch):
    monkeypatch.setattr(pil_codecs, "direct_jpeg", lambda im, config: b"not what save writes")
    assert pil_codecs.jpeg_config(85) is None
