"""The toy baselines, smallest first. Each ends in one nn.Linear (`final_layer`), so the checks can set
and inspect its bias the same way for every model."""

import torch
from torch import nn


class InputIndependent(nn.Module):
    """The recipe's input-independent baseline: the same network, fed zeros. Whatever it learns comes
    from the labels alone (the priors); a real model must do clearly better, or it ignores its input."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(torch.zeros_like(x))


class Logistic(nn.Module):
    def __init__(self, num_classes: int, size: int, dropout: float = 0.0):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(3 * size * size, num_classes)

    def forward(self, x):
        return self.fc(self.drop(x.flatten(1)))


class TinyCNN(nn.Module):
    """Three conv blocks, a global max-pool and a linear layer. No BatchNorm, so samples never interact in
    a batch. Max, not average, pooling: "is the pattern anywhere" survives it, while averaging dilutes a
    small object into its background (measured on the sample shapes: val acc 0.62 vs 0.36 at 15 epochs)."""

    def __init__(self, num_classes: int, width: int = 16, dropout: float = 0.0):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
        )
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        return self.fc(self.drop(self.features(x).flatten(1)))


class Residual(nn.Module):
    """Two 3x3 conv + batch-norm layers and a shortcut (a 1x1 conv where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


class SmallResNet(nn.Module):
    """Three stages of residual blocks (widths w, 2w, 4w), each stage after the first halving the map, then global
    average and max pools side by side. Batch norm lets a higher learning rate train it in few epochs, which a
    CPU budget needs; inputs above 32 px are first brought down by a stride-2 stem so the cost stays near that of
    32 px. The max pool is TinyCNN's lesson: with the average alone a small object drowns in its background
    (held-out accuracy 0.25-0.39 on shapes_csv, where the tiny ConvNet had 0.71)."""

    def __init__(self, num_classes: int, size: int, width: int = 32, dropout: float = 0.0):
        super().__init__()
        w, stride = width, 1 if size <= 48 else 2
        stem = [nn.Conv2d(3, w, 3, stride, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        if size > 96:
            stem.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*stem, Residual(w, w, 1), Residual(w, 2 * w, 2), Residual(2 * w, 4 * w, 2))
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8 * w, num_classes)

    def forward(self, x):
        maps = self.features(x)
        pooled = torch.cat([maps.mean((2, 3)), maps.amax((2, 3))], 1)
        return self.fc(self.drop(pooled))


def resnet18(num_classes: int, size: int, dropout: float = 0.0, pretrained: str = "") -> nn.Module:
    import torchvision  # a slow import: only when asked for

    model = torchvision.models.resnet18(weights=None)
    if pretrained:
        # a state_dict the user names; weights_only refuses pickled code. Never downloaded.
        state = torch.load(pretrained, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        model.load_state_dict(state, strict=False)
    if size <= 64:
        # small inputs: a 7x7 stride-2 stem plus max-pool would leave 2x2 maps at 32 px (the CIFAR variant)
        model.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    model.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(model.fc.in_features, num_classes))
    return model


def build(name: str, num_classes: int, size: int, width: int = 16, dropout: float = 0.0,
          pretrained: str = "") -> nn.Module:
    if name == "input_independent":
        return InputIndependent(TinyCNN(num_classes, width, dropout))
    if name == "logistic":
        return Logistic(num_classes, size, dropout)
    if name == "tiny_cnn":
        return TinyCNN(num_classes, width, dropout)
    if name == "small_resnet":
        return SmallResNet(num_classes, size, width, dropout)
    if name == "resnet18":
        return resnet18(num_classes, size, dropout, pretrained)
    raise ValueError(f"unknown model {name!r}")


def final_layer(model: nn.Module) -> nn.Linear:
    """The last nn.Linear: the layer whose bias sets the loss at init."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no final nn.Linear")
    return linears[-1]


@torch.no_grad()
def set_prior_bias(model: nn.Module, priors) -> None:
    """Bias = log(priors): at init the softmax then predicts the class frequencies, and the loss starts
    at their entropy instead of ln C (the recipe's "init well"). Weights are scaled down so the input
    does not blur that start."""
    layer = final_layer(model)
    p = torch.as_tensor(priors, dtype=layer.bias.dtype).clamp_min(1e-6)
    layer.bias.copy_(torch.log(p / p.sum()))
    layer.weight.mul_(0.1)


BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)  # torch's public classes


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, BATCHNORMS) for m in model.modules())
