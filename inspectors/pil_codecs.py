"""The scan's own Pillow calls: the DCT-scaled JPEG decode, and Pillow's raw and JPEG encoders called directly
for the few small images every scanned file makes. Nothing here imports numpy at import time: the scan
benchmark's decode floor runs `draft_for_work` in workers that must carry no more than Pillow.

`Image.tobytes()` and `Image.save(..., "JPEG")` spend most of their time, on a 100 px image, in Python:
argument handling, plugin dispatch and a loop over output blocks, and a JPEG file costs the scan three raw
copies and one JPEG thumbnail (docs/benchmarks.md, "Pillow's encoders called directly"). These functions call the
same C encoders with the same arguments and return the same bytes. Each path is checked once against the
public call, on probe images; if a Pillow version disagrees or lacks the internals, the public call is used.
"""

import functools
import io
import math

from PIL import Image


def draft_for_work(im: Image.Image, work_side: int) -> None:
    """For a JPEG, DCT scaling (Image.draft): decode at 1/2..1/8 size, the long side never below work_side. It
    still entropy-decodes every block, so damaged data fails as in a full decode. Other formats: nothing."""
    if im.format != "JPEG":
        return
    scale = work_side / max(im.size)
    if scale < 1:
        im.draft(im.mode if im.mode in ("L", "RGB") else "RGB",
                 (math.ceil(im.size[0] * scale), math.ceil(im.size[1] * scale)))


_RAW_BYTES_PER_PIXEL = {("L", "L"): 1, ("RGB", "RGB"): 3, ("RGB", "RGBX"): 4}


def direct_raw(im: Image.Image, rawmode: str) -> bytes:
    """Pillow's raw encoder called directly, for the pairs of _RAW_BYTES_PER_PIXEL (raw_bytes checks it first)."""
    encoder = Image.core.raw_encoder(im.mode, rawmode)
    try:
        encoder.setimage(im.im, (0, 0, *im.size))
        # a buffer the size of the whole output: one encode call returns it all (Pillow loops over 64 KB blocks)
        _, status, data = encoder.encode(max(1, im.size[0] * im.size[1] * _RAW_BYTES_PER_PIXEL[im.mode, rawmode]))
    finally:
        encoder.cleanup()
    if status != 1:  # 1: done; anything else and the public call says what went wrong, or finishes the job
        return im.tobytes("raw", rawmode)
    return data


def direct_jpeg(im: Image.Image, config: tuple) -> bytes:
    """Pillow's JPEG encoder called directly with save's arguments (jpeg_config), for an RGB image."""
    encoder = Image.core.jpeg_encoder("RGB", "RGB", *config)
    parts = []
    try:
        encoder.setimage(im.im, (0, 0, *im.size))
        while True:
            _, status, data = encoder.encode(1 << 16)
            parts.append(data)
            if status:
                break
    finally:
        encoder.cleanup()
    if status < 0:
        raise OSError(f"encoder error {status} when writing a JPEG thumbnail")
    return b"".join(parts)


def _probes() -> list[Image.Image]:
    import numpy as np  # only for the one-time checks (see the module's docstring)

    rng = np.random.default_rng(7)
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
              for w, h in [(1, 1), (17, 5), (128, 96), (96, 128), (300, 301)]]
    return images + [im.convert("L") for im in images]


@functools.cache
def raw_works() -> bool:
    """Whether direct_raw gives tobytes' bytes on the probes with this Pillow (checked once per process)."""
    try:
        return all(direct_raw(im, rawmode) == im.tobytes("raw", rawmode)
                   for im in _probes() for (mode, rawmode) in _RAW_BYTES_PER_PIXEL if im.mode == mode)
    except Exception:
        return False


def raw_bytes(im: Image.Image, rawmode: str | None = None) -> bytes:
    """im.tobytes("raw", rawmode), for L and RGB images (RGBX too for RGB); other modes take the public call."""
    rawmode = rawmode or im.mode
    if (im.mode, rawmode) in _RAW_BYTES_PER_PIXEL and raw_works():
        if getattr(im, "tile", None):  # a file not decoded yet: tobytes would load it first
            im.load()
        return direct_raw(im, rawmode)
    return im.tobytes("raw", rawmode)


@functools.cache
def jpeg_config(quality: int) -> tuple | None:
    """The encoder arguments Image.save(..., "JPEG", quality=quality) uses for a plain RGB image, or None
    where calling the encoder with them does not give save's bytes."""
    try:
        probe = Image.new("RGB", (1, 1))
        probe.save(io.BytesIO(), "JPEG", quality=quality)
        config = tuple(probe.encoderconfig)
        for im in _probes():
            if im.mode == "RGB":
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=quality)
                if direct_jpeg(im, config) != buf.getvalue():
                    return None
        return config
    except Exception:
        return None


def jpeg_bytes(im: Image.Image, quality: int) -> bytes:
    """The bytes of im.save(buf, "JPEG", quality=quality), for an RGB image without metadata."""
    config = jpeg_config(quality) if im.mode == "RGB" and not getattr(im, "tile", None) else None
    if config is None:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        return buf.getvalue()
    return direct_jpeg(im, config)
