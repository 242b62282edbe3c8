"""The few full-size views (detail, downsampling preview) open one image here; grids never do."""

from pathlib import Path

from PIL import Image, ImageOps

from inspectors.config import ScanConfig
from inspectors.dataset import source_path
from inspectors.features import _check_declared_size as check_declared_size  # the scan's own rule


def open_for_display(root: Path, path: str, max_side: int = 1600) -> tuple[Image.Image | None, str | None]:
    """(image as a person sees it, with EXIF orientation applied and at most max_side px) or (None, reason)."""
    try:
        with Image.open(source_path(root, path)) as im:
            check_declared_size(im, ScanConfig().max_pixel_bytes)  # never decode a bomb for display
            im.draft("RGB", (max_side, max_side))
            im = ImageOps.exif_transpose(im)
            im.thumbnail((max_side, max_side))
            return im.convert("RGB") if im.mode not in ("RGB", "L") else im.copy(), None
    except Exception as exc:  # the page says why instead of failing
        return None, f"{type(exc).__name__}: {exc}"


def downsampled(image: Image.Image, sides=(224, 128, 64, 32)) -> list[tuple[str, Image.Image]]:
    """(caption, picture) of the image squeezed to each side (longest side) smaller than it is, as a
    network at that input size would see it; each is shown back at sides[0] px with square pixels so
    the loss of detail is visible. An image already smaller than a side is never blown up and called
    that size: it comes first, "as stored", and only the smaller sides follow."""
    longest = max(image.size)
    display = sides[0]

    def shown(im):
        scale = display / max(im.size)
        return im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                         Image.Resampling.NEAREST)
    out = [] if longest > sides[0] else [(f"as stored, {image.width}×{image.height} px", shown(image))]
    for side in sides:
        if side >= longest:
            continue
        small = image.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        out.append((f"{side} px ({small.width}×{small.height})", shown(small)))
    return out
