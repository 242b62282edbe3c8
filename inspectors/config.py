"""Every default once, with its reason. Frozen: results carry the config that produced them."""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
)


@dataclass(frozen=True)
class LoadConfig:
    layout: str = "auto"  # auto | folders | csv; auto picks csv when DATASET is a .csv or --labels is given
    path_column: str = "path"  # CSV manifests name their columns; these are the common names
    label_column: str = "label"
    split_column: str = "split"  # optional in the CSV
    extensions: tuple = IMAGE_EXTENSIONS  # matched case-insensitively; anything else in a class folder is unsupported


@dataclass(frozen=True)
class ScanConfig:
    workers: int = 0  # 0 = one worker process per core; decoding is CPU-bound and scales ~linearly
    max_pixel_bytes: int = 256 * 2**20  # 256 MB of decoded pixels: a 8k x 8k RGBA photo fits, a bomb header does not
    file_timeout_s: float = 30.0  # a healthy file decodes in milliseconds; 30 s only catches hangs, even on a busy disk
    thumb_side: int = 128  # gallery thumbnails: enough to judge content, ~3 KB each as JPEG
    thumb_quality: int = 85  # JPEG quality of thumbnails: no visible artefacts at 128 px
    work_side: int = 128  # statistics and hashes are computed at this scale, so every image is measured alike
    chunk_size: int = 32  # files per task sent to a worker: amortises IPC for 32x32 PNGs, small enough to balance
    commit_every: int = 512  # rows per cache commit: a kill loses at most this much work


@dataclass(frozen=True)
class DuplicatesConfig:
    radius: int = 4  # pHash bits: planted re-encoded/resized copies measured at 0-4 (docs/benchmarks.md)
    confirm_max_distance: float = 0.06  # mean |difference| of the normalised 16x16 appearance vectors, in stds:
    # planted copies (re-encoded, resized, re-exposed, noised) measure <= 0.055 on the sample sets and 5 more seeds,
    # distinct look-alikes within the pHash radius >= 0.065 (28x28 glyphs of one digit are alike by nature)
    min_contrast: float = 0.03  # near-blank images have noise for a hash: they pair only by exact pixels
    # Between the two limits a pair is a copy only if the distance is what a slight crop/resize of its finer
    # picture explains AND the pair stands apart from the rest of the dataset (hash_copies.confirmed). Planted
    # copies of textured photos (cropped 1-3 %, resized 90-97 %) measure up to 0.166; distinct look-alikes
    # within the radius 0.065 and up, and they fail one of the two tests (docs/benchmarks.md, "Planted copies")
    loose_max_distance: float = 0.2
    shift_tolerance: float = 1.0  # distance / the finer picture's half-pixel shift sensitivity: copies <= 0.91,
    # distinct photo pairs >= 1.15 on the planted photo set
    isolation_ratio: float = 0.45  # pair RMS distance / nearest non-candidate's: planted copies <= 0.41 but one
    # (0.46, the one miss); crowds of look-alikes (glyphs) >= 0.5
    reference_sample: int = 2000  # pictures (a fixed sample) the isolation is measured against
    min_reference: int = 50  # fewer pictures to compare with than this: isolation is not shown, no loosening
    # Content-level copies (copies.py): shifted, cropped, zoomed, recoloured or mirrored copies, which the hashes
    # above miss, found on the 32x32 grey thumbnails by a nearest-neighbour search and confirmed once aligned.
    content: bool = True  # False: hashes only, as before
    mirrored: bool = True  # a mirror image is a copy; False where left and right differ (digits, text)
    neighbours: int = 3  # search partners kept per picture: a copy ranks among the first; a crowd fills them all
    # (4 found a little less on every benchmark set, with a little more precision, and aligned 30 % more pairs:
    # docs/benchmarks.md, "Content-level copies: scan speed", Session 16)
    hash_partners: int = 8  # hash candidates kept per picture (its nearest by appearance), besides those the hash
    # rule confirms: a crowd of look-alikes within the radius (one garment's silhouette, hundreds of times) is not
    # aligned pair by pair; 8 finds the same copies on the benchmarks (docs/benchmarks.md, Fashion-MNIST)
    min_similarity: float = 0.8  # search vectors' cosine: planted copies measure 0.88+ (5th percentile)
    min_spectrum_similarity: float = 0.9  # the spectrum search's: on the 60,000 set it keeps 78k of 244k pairs;
    # copies32 and digits32 lose no copy (the copies it drops, the window search finds)
    min_layout: float = 0.9  # aligned, lightly blurred pictures correlate at least this much...
    min_detail: float = 0.9  # ...their band-pass (the detail) this much: smooth pictures that share a blob or two
    # reach 0.85-0.88 at some zoom and shift (docs/benchmarks.md, "Content-level copies")
    min_detail_alone: float = 0.85  # ...or this much where the pair stands out from its crowd alone_crowd_ratio as
    alone_crowd_ratio: float = 0.2  # far (or no look-alike came near): a zoom-out with a colour turn, a rotation
    # between the coarse angles, a rescale of fine texture. On the planted 20,000 the pairs this would add measure
    # 0.25-0.34 of their crowd (docs/benchmarks.md, "Content-level copies")
    max_worst_block: float = 0.6  # ...and no 8x8 block differs by more (RMS, in stds): copies differ evenly
    crowd_rank: int = 3  # its crowd: how well its 3rd best aligned partner agrees (its copies may be 1st, 2nd)
    crowd_ratio: float = 0.35  # a copy disagrees (1 - detail) at most 0.35x as much as its crowd level does
    max_recolour: float = 0.25  # mean colours this far apart (L1 of R, G, B less grey) is a recoloured pair...
    recoloured_crowd_ratio: float = 0.1  # ...which, moved as well, must stand out this far
    max_recolour_mirrored: float = 0.1  # a mirror image must, from this colour change on: on the planted 20,000
    # 7 of the 11 false pairs were other smooth pictures mirrored, their colours 0.1-0.24 apart; copies32's
    # mirrored copies keep their colours (docs/benchmarks.md, "Content-level copies")
    vouched_crowd_ratio: float = 0.4  # pairs the hash rule above confirms need only stand out from their crowd


@dataclass(frozen=True)
class BalanceConfig:
    rare_fraction: float = 0.25  # a class with <= 25% of the median class count is "imbalanced"
    shortcut_min_accuracy: float = 0.90  # a file property (size, format, ...) singling out a class this well
    shortcut_min_accuracy_statistic: float = 0.97  # image statistics can be real signal: a higher bar
    shortcut_min_class: int = 10  # smaller classes: too few images to tell a shortcut from chance
    shortcut_max_rows: int = 50_000  # a subsample is enough to tell whether a property predicts the label


@dataclass(frozen=True)
class SizesConfig:
    size_factor: float = 2.2  # 2.2x off the median (geometric-mean side): catches a 12 px icon among 28 px glyphs
    aspect_factor: float = 2.0  # an aspect ratio 2x away from the median one is odd
    robust_z: float = 5.0  # ...or farther than 5 robust stds, when the dataset's own spread is wider


@dataclass(frozen=True)
class QualityConfig:
    dark_p99: float = 0.25  # dark: even the brightest 1% of pixels are below 25% grey (under-exposed)
    light_p01: float = 0.80  # light: even the darkest 1% of pixels are above 80% grey (washed out)
    blur_z: float = 3.5  # blurry: edge energy this many robust stds below the image's own class
    blur_min_drop: float = 2.0  # ...and at least e^2 (7x) below the class median, so a tight class is not noise
    blur_min_side: int = 16  # a 6x12 icon or a 7 px strip has no room for edges or a scene: such images are
    # never called blurry, dark or light (their geometry is the finding: odd_size, odd_aspect_ratio)
    blur_max_stretch: float = 2.0  # aspect ratio this many times off its class's: the square sharpness grid
    # stretches it that much more than its class, which blurs it by itself: not judged
    low_info_contrast: float = 0.04  # near-blank: grey std under 4% of the room between the mean and black/white
    # (measured: flat fields with a trace of noise <= 0.011; under-exposed or washed-out photos >= 0.12)
    odd_mode_max_share: float = 0.10  # a mode family held by under 10% of the images, unlike the majority


@dataclass(frozen=True)
class OutliersConfig:
    k: int = 10  # an image needs k look-alikes to be typical; a kind of picture with fewer is a set of outliers
    reference_size: int = 5_000  # kNN against a random reference sample keeps 100k+ rows fast (k of 5,000 = 0.2%)
    max_distance: float = 1.7  # k-th neighbour farther than this, in robust stds of the four descriptors...
    max_distance_smooth_aside: float = 1.35  # ...and still farther than this when less-than-typical detail is not
    # counted (blur is quality's finding): an outlier. Measured on the three sample sets (docs/benchmarks.md):
    # planted outliers >= 1.86 / 1.50, every other image at least 6% below one of the two limits
    min_side: int = 16  # a 6x12 icon has too few pixels for texture or colour statistics: never an outlier
    # floors of the robust std per descriptor: a smaller difference is not a difference in kind, so a set of
    # near-identical images (glyphs) does not turn every small variation into a far distance
    floor_colour_entropy: float = 1.0  # bits: twice the colours (one bit) is the same kind of picture
    floor_edge_energy: float = 1.0  # log units: e^1 = 2.7x more or less edge energy, e.g. a softer JPEG
    floor_tone_balance: float = 0.15  # of the tonal range: a somewhat bigger or smaller object on its background
    floor_contrast: float = 0.06  # grey std: an exposure tweak
    # The second opinion (outliers.unlike_class): what the picture shows, against its own class. Distance: 1 -
    # cosine similarity of the blurred grey thumbnails, the best over shifts of up to 4 px (content.py's search).
    class_k: int = 5  # an image needs k alike members of its class. Fewer than `k`: a class is one thing drawn
    # many ways, and its members' k-th nearest grows fast with k, hiding strays among the variants (digits: at
    # k=10 a planted face sits 4.1 robust stds out and a normal digit up to 3.7; at k=5, 5.5 against 3.8)
    min_class_size: int = 30  # a smaller class gives no reliable idea of how far its members typically are
    class_max_z: float = 4.5  # limit: the class's median k-th distance times e^(z x its robust spread), on log
    # distances (they are skewed: a few members are always far). Measured: normal digits <= 3.8, normal photo
    # crops <= 3.1, planted outliers >= 5.5 (the digits32 and copies32 benchmark sets)
    class_min_spread: float = 0.25  # floor of that spread (log units): a class of near-identical pictures
    # (rendered glyphs) does not turn a slightly different member into a far one
    class_min_distance: float = 0.25  # and never closer than this (similarity 0.75): normal digits' k-th nearest
    # is within 0.17, planted outliers' beyond 0.32


@dataclass(frozen=True)
class Config:
    load: LoadConfig = field(default_factory=LoadConfig)
    scan: ScanConfig = field(default_factory=ScanConfig)
    duplicates: DuplicatesConfig = field(default_factory=DuplicatesConfig)
    balance: BalanceConfig = field(default_factory=BalanceConfig)
    sizes: SizesConfig = field(default_factory=SizesConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    outliers: OutliersConfig = field(default_factory=OutliersConfig)


SECTION_TYPES = {"load": LoadConfig, "scan": ScanConfig, "duplicates": DuplicatesConfig, "balance": BalanceConfig,
                 "sizes": SizesConfig, "quality": QualityConfig, "outliers": OutliersConfig}


def config_to_dict(config: Config) -> dict:
    return dataclasses.asdict(config)


RETIRED = {"duplicates": {"crowd_neighbours"}}  # settings an older version wrote and no longer has: ignored


def config_from_dict(data: dict) -> Config:
    """Read back what config_to_dict wrote; unknown keys are an error so a typo is never ignored (the RETIRED
    ones, which a workspace of an older version holds, are dropped)."""
    def build(cls, values, retired=frozenset()):
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k not in retired}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**kwargs)
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    unknown = set(data) - set(sections)
    if unknown:
        raise ValueError(f"unknown config sections: {sorted(unknown)}")
    return Config(**{name: build(SECTION_TYPES[name], data.get(name, {}), RETIRED.get(name, frozenset()))
                      for name in sections})


def load_config_file(path) -> Config:
    with open(path, encoding="utf-8") as f:
        return config_from_dict(json.load(f))


CONFIG_FILE = "config.json"  # in a workspace: the settings of its last scan


def workspace_config(folder) -> Config:
    """A workspace's settings: its config.json (what its last scan used, `--set` and `--config` included) when
    there is one, else the defaults. The app's Scan button and the baselines' re-scan start from it, so they
    never undo settings given on the command line. A damaged file is a ValueError naming it."""
    path = Path(folder) / CONFIG_FILE
    try:
        return load_config_file(path)
    except FileNotFoundError:
        return Config()
    except (OSError, ValueError, TypeError) as exc:  # not JSON, or not our settings
        raise ValueError(f"{path}: unreadable settings ({exc}); delete it to scan with the defaults") from None


def changed_settings(config: Config) -> dict:
    """{"section.key": value} of every setting that differs from its default, in the order of Config."""
    default = config_to_dict(Config())
    return {f"{section}.{key}": value for section, values in config_to_dict(config).items()
            for key, value in values.items() if value != default[section][key]}
