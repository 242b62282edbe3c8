"""A pretrained backbone the user has on disk: frozen features plus a k-fold linear probe (logistic regression).

`--backbone ARCH --weights FILE`: ARCH is a torchvision classification architecture, FILE a state_dict saved
with torch.save, read with torch.load(weights_only=True) (no pickled code runs). Nothing is ever downloaded:
torchvision builds the architecture with weights=None and the file fills it. The last linear layer (the head
the weights were trained for) is dropped; the features before it are what the probe sees. On a CPU this costs
one forward pass per image (two: it and its mirror, averaged) and seconds of logistic regression per fold."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # what torchvision's weights expect
MIN_SIDE = 64  # smaller inputs are enlarged: an ImageNet stem reduces 32 px to a 1x1 map before the last stage


def architectures() -> list[str]:
    """torchvision's classification architectures, by the names get_model takes."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def load_backbone(arch: str, weights: str) -> nn.Module:
    """The architecture with the file's weights, its last linear layer replaced by the identity. Raises
    ValueError for an unknown architecture or a file that does not fit it."""
    import torchvision

    if arch not in architectures():
        raise ValueError(f"backbone {arch!r}: not a torchvision classification architecture (e.g. resnet18, "
                         "resnet50, mobilenet_v3_small, efficientnet_b0, convnext_tiny)")
    model = torchvision.models.get_model(arch, weights=None)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # missing, not a state_dict, or pickled objects weights_only refuses
        raise ValueError(f"--weights {weights}: cannot be read as a state_dict ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    head = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    missing = [k for k in missing if not k.startswith(head + ".")]
    if missing or unexpected:
        raise ValueError(f"--weights {weights} does not fit {arch}: {len(missing)} weights missing "
                         f"({', '.join(missing[:3])}), {len(unexpected)} unexpected ({', '.join(unexpected[:3])})")
    parent, _, leaf = head.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, nn.Identity())
    return model.eval()


@torch.no_grad()
def features(model: nn.Module, x_uint8: torch.Tensor, batch: int = 128, progress=None) -> np.ndarray:
    """(N, D) float32 features of uint8 (N, 3, H, W) images, averaged with their mirror images'."""
    device = next(model.parameters()).device
    mean = torch.tensor(IMAGENET_MEAN, device=device)[None, :, None, None]
    std = torch.tensor(IMAGENET_STD, device=device)[None, :, None, None]
    out = []
    for i in range(0, len(x_uint8), batch):
        x = (x_uint8[i:i + batch].to(device).float() / 255 - mean) / std
        if x.shape[-1] < MIN_SIDE:
            x = F.interpolate(x, size=(MIN_SIDE, MIN_SIDE), mode="bilinear", align_corners=False)
        out.append(((model(x) + model(x.flip(3))) / 2).flatten(1).float().cpu())
        if progress:
            progress(min(i + batch, len(x_uint8)), len(x_uint8))
    return torch.cat(out).numpy() if out else np.zeros((0, 1), np.float32)


def linear_probe(feats: np.ndarray, targets: np.ndarray, ok: np.ndarray, folds: np.ndarray, classes: int,
                 seed: int = 0, log=lambda message: None) -> np.ndarray:
    """Held-out probabilities (N, classes) from a logistic regression per fold on standardised features (zeros
    where ok is False; a class absent from a fold's training part gets probability 0 there)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probs = np.zeros((len(targets), classes), dtype=np.float32)
    k = int(folds.max()) + 1
    for f in range(k):
        fit, held = np.flatnonzero((folds != f) & ok), np.flatnonzero((folds == f) & ok)
        if not len(held):
            continue
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed))
        clf.fit(feats[fit], targets[fit])
        probs[np.ix_(held, clf.classes_)] = clf.predict_proba(feats[held])
        accuracy = float((probs[held].argmax(1) == targets[held]).mean())
        log(f"fold {f + 1}/{k}: linear probe held-out accuracy {accuracy:.3f} on {len(held)} images")
    return probs
