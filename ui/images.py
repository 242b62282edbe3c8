"""The few full-size views (detail, duplicates side by side, downsampling preview, the human baseline's sheet)
open one image here, through inspectors.imaging (the reader the scan and the trainer use); grids show the
scan's thumbnails."""

from pathlib import Path
from typing import NamedTuple

from PIL import Image

from inspectors import imaging, storage
from inspectors.dataset import source_path

DETAIL_PX = 1600  # the detail view: a screen's worth; the file itself may be far bigger


class FullView(NamedTuple):
    image: Image.Image | None  # as a person sees it, at most max_side px a side; None when it cannot be shown
    note: str  # how the view differs from the file's values (a 12-bit stretch), for its caption; or ""
    error: str | None  # why there is no image


def open_for_display(root: Path | str, path: str, max_pixel_bytes: int, max_side: int = DETAIL_PX) -> FullView:
    """One file of the dataset as a person sees it (EXIF orientation, the colour rule, 12-bit values stretched
    and said so), under the workspace's pixel limit, made from a reduced decode: never kept at full size."""
    try:
        url = storage.is_url(root) or storage.is_url(path)
        # an object is streamed (ranged reads as Pillow asks), never downloaded to disk
        with storage.open_object(storage.join_url(root, path), storage.storage_options()) if url else \
                imaging.open_file(source_path(root, path)) as f:
            image, note = imaging.open_for_display(f, max_pixel_bytes, max_side)
        return FullView(image, note, None)
    except Exception as exc:  # the page says why instead of failing
        return FullView(None, "", f"{type(exc).__name__}: {exc}")


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
