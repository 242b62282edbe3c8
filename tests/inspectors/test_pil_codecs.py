import io

import numpy as np
import pytest
from PIL import Image

from inspectors import pil_codecs
from tests.conftest import noise_image


def images():
    rng = np.random.default_rng(3)
    rgb = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
           for w, h in [(1, 1), (3, 700), (106, 80), (128, 128), (513, 257)]]
    return rgb + [im.convert("L") for im in rgb]


@pytest.fixture
def fresh_checks():
    """The one-time checks run again in the test, and again after it (they are cached per process)."""
    pil_codecs._raw_works.cache_clear()
    pil_codecs._jpeg_config.cache_clear()
    yield
    pil_codecs._raw_works.cache_clear()
    pil_codecs._jpeg_config.cache_clear()


def test_raw_bytes_are_tobytes_for_every_mode_it_takes_and_the_rest():
    assert pil_codecs._raw_works()
    for im in images():
        assert pil_codecs.raw_bytes(im) == im.tobytes()
        if im.mode == "RGB":
            assert pil_codecs.raw_bytes(im, "RGBX") == im.tobytes("raw", "RGBX")
    for mode in ("P", "RGBA", "I;16", "1", "CMYK"):  # not ours: Pillow's own call
        im = noise_image(37, 21).convert("RGB").convert(mode)
        assert pil_codecs.raw_bytes(im) == im.tobytes()


def test_raw_bytes_of_a_file_not_decoded_yet(tmp_path):
    noise_image(40, 30).convert("RGB").save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as im:
        got = pil_codecs.raw_bytes(im)
    with Image.open(tmp_path / "a.png") as im:
        assert got == im.tobytes()


def saved(im, quality):
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize("quality", [85, 50, 95])
def test_jpeg_bytes_are_what_save_writes(quality):
    assert pil_codecs._jpeg_config(quality) is not None  # the direct path is the one tested
    for im in images():
        assert pil_codecs.jpeg_bytes(im, quality) == saved(im, quality), (im.mode, im.size)
    assert Image.open(io.BytesIO(pil_codecs.jpeg_bytes(images()[2], quality))).size == (106, 80)


def test_a_pillow_whose_encoder_disagrees_gets_the_public_calls(fresh_checks, monkeypatch):
    def broken(*args):
        raise TypeError("an encoder that takes other arguments")
    monkeypatch.setattr(Image.core, "jpeg_encoder", broken, raising=False)
    monkeypatch.setattr(Image.core, "raw_encoder", broken, raising=False)
    monkeypatch.setattr(pil_codecs, "_direct_jpeg", lambda im, config: broken())
    monkeypatch.setattr(pil_codecs, "_direct_raw", lambda im, rawmode: broken())
    assert pil_codecs._jpeg_config(85) is None and not pil_codecs._raw_works()
    monkeypatch.undo()  # Pillow itself works again; the verdicts stay cached
    im = images()[2]
    assert pil_codecs.jpeg_bytes(im, 85) == saved(im, 85)
    assert pil_codecs.raw_bytes(im, "RGBX") == im.tobytes("raw", "RGBX")


def test_output_that_differs_from_save_turns_the_direct_path_off(fresh_checks, monkeypatch):
    monkeypatch.setattr(pil_codecs, "_direct_jpeg", lambda im, config: b"not what save writes")
    assert pil_codecs._jpeg_config(85) is None
