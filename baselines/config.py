"""Every training default once, with its reason (the recipe's "Baselines" section). The whole config is
written into each run folder, so a result always carries what produced it."""

import dataclasses
import json
from dataclasses import dataclass

MODELS = ("input_independent", "logistic", "tiny_cnn", "small_resnet", "resnet18")
AUGMENTATIONS = ("none", "flip", "flip_crop")


@dataclass(frozen=True)
class TrainConfig:
    model: str = "tiny_cnn"  # small enough to train in seconds on a CPU; big enough to beat the zero-input baseline
    width: int = 16  # channels of the first conv layer (tiny_cnn doubles it twice); the "overfit" knob
    input_size: int = 0  # 0 = chosen from the scan's sizes (the median short side, rounded down; capped, see data.py)
    epochs: int = 15  # enough for the curves to separate, short on a CPU (docs/benchmarks.md, "Training throughput")
    max_steps: int = 0  # 0 = epochs decide; > 0 stops earlier (smoke runs, the checks)
    batch_size: int = 32  # small datasets: more, noisier steps learn faster per epoch than big batches
    lr: float = 3e-4  # the recipe: Adam at 3e-4 is forgiving; no schedule until the baseline works
    weight_decay: float = 0.0  # regularisers are off until the model overfits (recipe: overfit, then regularize)
    dropout: float = 0.0
    augment: str = "none"  # none | flip | flip_crop; off by default so the data seen is the data scanned
    early_stopping: int = 0  # stop after this many evaluations without a better validation loss; 0 = off
    seed: int = 0  # fixed: two runs of one config give identical curves (checked by `reproducible`)
    prior_bias: str = "auto"  # auto | on | off: final-layer bias = log(class priors) when classes are imbalanced
    imbalance_ratio: float = 3.0  # "imbalanced" for prior_bias=auto: the largest class >= 3x the smallest
    val_fraction: float = 0.2  # a seeded, stratified split when the dataset has no val split
    evals_per_epoch: int = 2  # full validation set at each evaluation: curves with a few points per epoch
    fixed_batch: int = 16  # validation images whose predictions are recorded at every evaluation
    max_cache_mb: int = 4096  # the uint8 tensor cache; beyond this the data is subsampled (said in the run log)
    device: str = "auto"  # auto = cuda when available, else cpu
    threads: int = 1  # CPU threads for torch: on shared cores OpenMP spin-waiting makes 2 threads slower than 1
    pretrained: str = ""  # --weights: a local state_dict file (resnet18, or the backbone); nothing is ever downloaded
    backbone: str = ""  # label-issues: a torchvision architecture whose frozen features feed a k-fold linear probe
    input_independent_margin: float = 0.15  # the real model's val loss must be >= 15% below the zero-input one


# Label-issue hunting wants a good out-of-sample predictor more than a textbook baseline: a small ResNet with batch
# norm, trained under a one-cycle schedule (AdamW, lr peaking at 3e-3) on flipped and shifted images, for as many
# epochs as the CPU budget allows (epochs=0: baselines/crossfit.py). label_issues.py adds the input side nearest
# the images' (64 px for 62 px images, where training's never-upscale rule gives 32), early stopping on a slice of
# each fold's training images and mirror-averaged held-out predictions. Measured in docs/benchmarks.md.
LABEL_ISSUE_DEFAULTS = {"model": "small_resnet", "width": 16, "epochs": 0, "batch_size": 64, "lr": 3e-3,
                        "weight_decay": 0.01, "augment": "flip_crop"}


def config_to_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)


def config_from_dict(values: dict) -> TrainConfig:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
    config = TrainConfig(**values)
    validate(config)
    return config


def validate(config: TrainConfig) -> None:
    if config.model not in MODELS:
        raise ValueError(f"model {config.model!r}: choose one of {', '.join(MODELS)}")
    if config.augment not in AUGMENTATIONS:
        raise ValueError(f"augment {config.augment!r}: choose one of {', '.join(AUGMENTATIONS)}")
    if config.prior_bias not in ("auto", "on", "off"):
        raise ValueError(f"prior_bias {config.prior_bias!r}: choose auto, on or off")
    if config.batch_size < 1 or config.epochs < 0 or config.max_steps < 0 or config.lr < 0:
        raise ValueError("batch_size must be >= 1; epochs, max_steps and lr must be >= 0")
    if config.backbone and not config.pretrained:
        raise ValueError(f"--backbone {config.backbone} needs --weights FILE: a local state_dict (nothing is ever "
                         "downloaded)")
    if config.input_size and not 8 <= config.input_size <= 512:
        raise ValueError(f"input_size {config.input_size}: choose 8-512 px (0 = from the scan)")


def load(path) -> TrainConfig:
    with open(path) as f:
        return config_from_dict(json.load(f))
