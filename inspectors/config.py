"""Every default once, with its reason. Frozen: results carry the config that produced them."""

import dataclasses
import json
from dataclasses import dataclass, field

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
class Config:
    load: LoadConfig = field(default_factory=LoadConfig)
    scan: ScanConfig = field(default_factory=ScanConfig)


def config_to_dict(config: Config) -> dict:
    return dataclasses.asdict(config)


def config_from_dict(data: dict) -> Config:
    """Read back what config_to_dict wrote; unknown keys are an error so a typo is never ignored."""
    def build(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**kwargs)
    data = dict(data)
    return Config(load=build(LoadConfig, data.pop("load", {})), scan=build(ScanConfig, data.pop("scan", {})))


def load_config_file(path) -> Config:
    with open(path, encoding="utf-8") as f:
        return config_from_dict(json.load(f))
