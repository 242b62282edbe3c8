""""What enters the net": the exact tensors of a batch, decoded back to images and set beside the files
they came from, reopened as a person sees them (inspectors.imaging's display path, the reader the app uses).
Differences a person would miss in the code show up here: EXIF orientation ignored, RGB/BGR swapped, inputs
not scaled as the model expects, a network path that reads a file otherwise than a person sees it."""

import numpy as np
import torch
from PIL import Image, ImageOps

from inspectors import imaging
from inspectors.dataset import source_path

from .checks import Verdict
from .data import Prepared
from .train import Tensors, augment, normalise

MATCH = 0.08  # mean |difference| in [0, 1] at 8x8: resampling differences measure < 0.03, a real mix-up > 0.15
ORIENTATIONS = {  # what a file looks like when its EXIF orientation was ignored, as seen from the correct view
    "rotated 90°": Image.Transpose.ROTATE_90, "rotated 180°": Image.Transpose.ROTATE_180,
    "rotated 270°": Image.Transpose.ROTATE_270, "mirrored": Image.Transpose.FLIP_LEFT_RIGHT,
    "flipped": Image.Transpose.FLIP_TOP_BOTTOM, "transposed": Image.Transpose.TRANSPOSE,
    "transversed": Image.Transpose.TRANSVERSE,
}


def network_batch(t: Tensors, idx: torch.Tensor, augment_kind: str = "none", seed: int = 0) -> torch.Tensor:
    """Exactly what the training loop feeds the model for these indices."""
    gen = torch.Generator().manual_seed(seed)
    return augment(normalise(t.x_train[idx], t.mean, t.std), augment_kind, gen)


def to_images(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
    """Network input back to uint8 (N, H, W, 3) images: undo the standardisation, nothing else."""
    pixels = (x.detach().cpu() * std.cpu()[None, :, None, None] + mean.cpu()[None, :, None, None]).clamp(0, 1)
    return (pixels * 255).round().byte().permute(0, 2, 3, 1).numpy()


def reference_image(path, size: int, max_pixel_bytes: int) -> np.ndarray:
    """The file as a person sees it (imaging.open_for_display, unstretched: EXIF applied, the colour rule), fitted
    to size x size by a different code path (ImageOps.fit) than the training pipeline, so one bug cannot hide
    in both."""
    with imaging.open_file(path) as f:
        image, _ = imaging.open_for_display(f, max_pixel_bytes, max_side=4 * size, stretch=False)
    return np.asarray(ImageOps.fit(image, (size, size), Image.Resampling.BILINEAR))


def _small(a: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((8, 8), Image.Resampling.BOX), dtype=np.float64) / 255


def diagnose(tensor_img: np.ndarray, file_img: np.ndarray) -> tuple[float, str]:
    """(mean |difference| at 8x8, "" or what the difference looks like)."""
    t, f = _small(tensor_img), _small(file_img)
    diff = float(np.abs(t - f).mean())
    if diff <= MATCH:
        return diff, ""
    candidates = {"RGB/BGR channels swapped": float(np.abs(t - f[..., ::-1]).mean())}
    for name, op in ORIENTATIONS.items():
        turned = np.asarray(Image.fromarray(file_img).transpose(op).resize(tensor_img.shape[1::-1]))
        candidates[f"EXIF orientation ignored ({name})"] = float(np.abs(t - _small(turned)).mean())
    ratio = (t.mean() + 1e-3) / (f.mean() + 1e-3)
    candidates[f"scaled wrongly (brightness ×{ratio:.2f})"] = float(np.abs(t / ratio - f).mean())
    best = min(candidates, key=candidates.get)
    if candidates[best] <= MATCH and candidates[best] < diff / 2:
        return diff, best
    return diff, "differs from the file"


def what_enters(t: Tensors, prepared: Prepared, n: int = 8, augment_kind: str = "none", seed: int = 0):
    """Verdict plus [(file image, network image)] for the first n training images of a seeded batch."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(t.y_train), generator=gen)[:n].to(t.device)
    fed = network_batch(t, idx, augment_kind, seed)
    plain = network_batch(t, idx)  # compared unaugmented: flips and crops are meant to differ
    images, rows = [], []
    for k, (i, tensor_img) in enumerate(zip(idx.tolist(), to_images(plain, t.mean, t.std), strict=True)):
        path = t.train_paths[i]
        try:
            file_img = reference_image(source_path(prepared.root, path), t.size, prepared.max_pixel_bytes)
            diff, flag = diagnose(tensor_img, file_img)
        except Exception as exc:  # the file changed since it was cached: say so, do not fail the report
            file_img, diff, flag = np.zeros_like(tensor_img), float("nan"), f"cannot reopen: {exc}"
        images.append((file_img, to_images(fed[k:k + 1], t.mean, t.std)[0]))
        rows.append({"path": path, "label": t.classes[int(t.y_train[i])], "difference": round(diff, 4), "flag": flag})
    x = fed.detach().float().cpu()
    stats = {"shape": list(fed.shape), "dtype": str(fed.dtype).replace("torch.", ""),
             "channel_mean": [round(v, 3) for v in x.mean(dim=(0, 2, 3)).tolist()],
             "channel_std": [round(v, 3) for v in x.std(dim=(0, 2, 3)).tolist()],
             "min": round(float(x.min()), 3), "max": round(float(x.max()), 3),
             "normalise_mean": [round(v, 4) for v in t.mean.tolist()],
             "normalise_std": [round(v, 4) for v in t.std.tolist()]}
    problems = [f"{r['path']}: {r['flag']}" for r in rows if r["flag"]]
    mean_ok = all(abs(m) <= 1.5 for m in stats["channel_mean"]) and all(0.2 <= s <= 5 for s in stats["channel_std"])
    if not mean_ok:  # first: a batch-level cause explains the per-image differences listed after it
        problems.insert(0, "the batch is not standardised (per-channel mean far from 0 or std far from 1)")
    return Verdict(
        "what_enters", "What enters the network matches the files", not problems,
        f"{sum(not r['flag'] for r in rows)}/{len(rows)} images match; channel mean {stats['channel_mean']}, "
        f"std {stats['channel_std']}",
        f"every image within {MATCH} of its file; standardised channels",
        "The exact tensors fed to the model, decoded back, must look like the files a person sees.",
        "Fix the decode path: read files through inspectors.imaging (EXIF orientation, the colour rule), keep "
        "RGB order, scale to [0, 1] once and standardise with the train mean/std."
        + (" Found: " + "; ".join(problems[:5]) if problems else ""),
        {"samples": rows, "stats": stats, "augment": augment_kind}), images
