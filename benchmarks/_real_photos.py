"""The real photos that ship inside scikit-image and scikit-learn, as RGB uint8 arrays, for the copy benchmarks.

Only photos bundled in the wheels: nothing is downloaded. Checked with scikit-image 0.26.0 and scikit-learn
1.9.1: the `skimage.data` photos below load offline; brain, cells3d, eagle, human_mitosis, kidney, lily,
nickel_solidification, palisades_of_vogt, protein_transport, skin and vortex need pooch and a download, so
they are not used. `cat` is `chelsea` again; colorwheel, logo, checkerboard, binary_blobs, horse and
shepp_logan_phantom are drawn, not photographed (the digits benchmark uses some of them as outliers).

Each photo has a class (what a CIFAR-like set would file it under: crops of one photo are same-class
look-alikes, and photos of one kind of scene are too) and a group: `tuning` photos are the ones a detector may
be looked at and tuned on; `held_out` photos are scored separately, as the check that it generalises. The
lists are fixed: moving a photo between them after seeing results would defeat the split.
"""

from functools import cache

import numpy as np

# name -> (class, group). Classes are kinds of scene, so two photos of one class look alike on purpose.
PHOTOS = {
    "astronaut": ("portrait", "tuning"),
    "camera": ("portrait", "held_out"),
    "chelsea": ("animal", "tuning"),
    "coffee": ("drink", "tuning"),
    "rocket": ("vehicle", "tuning"),
    "motorcycle": ("vehicle", "held_out"),
    "brick": ("texture", "tuning"),
    "grass": ("texture", "tuning"),
    "gravel": ("texture", "held_out"),
    "moon": ("astronomy", "tuning"),
    "hubble_deep_field": ("astronomy", "held_out"),
    "immunohistochemistry": ("microscopy", "tuning"),
    "cell": ("microscopy", "held_out"),
    "retina": ("microscopy", "held_out"),
    "page": ("document", "tuning"),
    "text": ("document", "held_out"),
    "coins": ("object", "tuning"),
    "clock": ("object", "held_out"),
    "china": ("scenery", "tuning"),
    "flower": ("scenery", "held_out"),
}
CLASSES = sorted({cls for cls, _ in PHOTOS.values()})


def _load(name: str) -> np.ndarray:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image
        return load_sample_image(f"{name}.jpg")
    import skimage.data
    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]  # the left view only: the right one is the same scene
    return getattr(skimage.data, name)()


@cache
def photo(name: str) -> np.ndarray:
    """The photo as an RGB uint8 array (grey photos get three equal channels), read-only."""
    img = np.asarray(_load(name))
    if img.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., :3])
    img.setflags(write=False)
    return img


def is_colour(name: str) -> bool:
    """Whether the photo has colour at all (a hue or saturation edit changes nothing on a grey one)."""
    img = photo(name).astype(np.int16)
    return bool(np.abs(img[..., 0] - img[..., 1]).mean() + np.abs(img[..., 1] - img[..., 2]).mean() > 2)


def names(group: str | None = None) -> list[str]:
    """Photo names, all of them or those of one group (`tuning`, `held_out`), in a fixed order."""
    return [n for n, (_, g) in PHOTOS.items() if group in (None, g)]
