"""The toy baselines: shapes, the input-independent twin, the final layer the checks rely on, prior bias."""

import numpy as np
import pytest
import torch
from torch import nn

from baselines import models


@pytest.mark.parametrize("name", ["input_independent", "logistic", "tiny_cnn"])
def test_every_model_maps_a_batch_to_one_logit_per_class(name):
    torch.manual_seed(0)
    model = models.build(name, num_classes=4, size=16, width=4)
    out = model(torch.randn(5, 3, 16, 16))
    assert out.shape == (5, 4) and out.dtype == torch.float32
    assert isinstance(models.final_layer(model), nn.Linear) and models.final_layer(model).out_features == 4


def test_the_input_independent_baseline_ignores_its_input():
    torch.manual_seed(0)
    model = models.build("input_independent", 3, 16, width=4)
    a, b = model(torch.randn(2, 3, 16, 16)), model(torch.randn(2, 3, 16, 16) * 100)
    assert torch.equal(a, b) and torch.equal(a[0], a[1])


def test_the_input_independent_baseline_is_the_tiny_cnn_fed_zeros():
    torch.manual_seed(0)
    twin = models.build("input_independent", 3, 16, width=4)
    assert isinstance(twin.net, models.TinyCNN)
    assert torch.equal(twin(torch.randn(1, 3, 16, 16)), twin.net(torch.zeros(1, 3, 16, 16)))


def test_the_tiny_cnn_has_no_batchnorm_and_resnet18_has():
    assert not models.has_batchnorm(models.build("tiny_cnn", 3, 16))
    resnet = models.build("resnet18", 3, 32)
    assert models.has_batchnorm(resnet)
    assert models.final_layer(resnet) is resnet.fc[1]
    assert resnet(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_resnet18_loads_a_local_state_dict_except_its_head(tmp_path):
    import torchvision
    torch.manual_seed(1)
    donor = torchvision.models.resnet18(weights=None)
    torch.save(donor.state_dict(), tmp_path / "weights.pt")
    model = models.build("resnet18", 5, 128, pretrained=str(tmp_path / "weights.pt"))
    assert torch.equal(model.layer3[0].conv1.weight, donor.layer3[0].conv1.weight)
    assert torch.equal(model.conv1.weight, donor.conv1.weight)  # 128 px keeps the ImageNet stem
    assert model.fc[1].out_features == 5


def test_dropout_is_wired_in():
    model = models.build("tiny_cnn", 3, 16, width=4, dropout=0.5)
    assert model.drop.p == 0.5
    assert models.build("logistic", 3, 16, dropout=0.25).drop.p == 0.25


def test_an_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="unknown model"):
        models.build("vgg", 3, 16)
    with pytest.raises(ValueError, match="no final nn.Linear"):
        models.final_layer(nn.Conv2d(3, 3, 1))


def test_set_prior_bias_makes_the_softmax_predict_the_priors():
    torch.manual_seed(0)
    model = models.build("tiny_cnn", 3, 16, width=4)
    weight = models.final_layer(model).weight.detach().clone()
    priors = np.array([0.7, 0.2, 0.1])
    models.set_prior_bias(model, priors)
    layer = models.final_layer(model)
    assert layer.bias.detach().numpy() == pytest.approx(np.log(priors), abs=1e-6)
    assert torch.allclose(layer.weight, weight * 0.1)
    with torch.no_grad():
        p = torch.softmax(model(torch.randn(64, 3, 16, 16)), 1).mean(0).numpy()
    assert p == pytest.approx(priors, abs=0.05)


def test_set_prior_bias_survives_an_empty_class():
    model = models.build("logistic", 3, 8)
    models.set_prior_bias(model, [0.5, 0.5, 0.0])
    assert torch.isfinite(model.fc.bias).all() and model.fc.bias[2] < -10
