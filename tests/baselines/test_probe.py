"""--backbone ARCH --weights FILE: a local state_dict in a torchvision architecture, frozen features, a k-fold
linear probe. The weights here are a randomly initialised resnet18's, saved by the test: nothing is downloaded."""

import json
import shutil

import numpy as np
import pytest
import torch
import torchvision

from baselines import probe
from baselines.__main__ import main


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory):
    torch.manual_seed(0)
    file = tmp_path_factory.mktemp("weights") / "resnet18.pt"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), file)
    return file


def test_label_issues_with_a_local_backbone_predicts_every_image_by_a_linear_probe(colours, resnet18_weights,
                                                                                    tmp_path, capsys):
    cache = tmp_path / "cache"
    shutil.copytree(colours.workspace.parent, cache)
    assert main(["label-issues", str(colours.root), "--cache", str(cache), "--folds", "2", "--backbone", "resnet18",
                 "--weights", str(resnet18_weights), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["config"]["backbone"] == "resnet18" and facts["config"]["pretrained"] == str(resnet18_weights)
    assert facts["samples"] == 48 and facts["oos_accuracy"] > 0.9  # colours: even random features separate them
    saved = np.load(cache / colours.workspace.name / "label_issues" / "probabilities.npz")
    assert np.allclose(saved["probs"].sum(1), 1, atol=1e-4)


def test_a_backbone_needs_weights_and_training_fine_tunes_resnet18_only(colours, resnet18_weights, capsys):
    root, cache = str(colours.root), str(colours.workspace.parent)
    assert main(["label-issues", root, "--cache", cache, "--backbone", "resnet18"]) == 2
    assert "needs --weights FILE" in capsys.readouterr().err
    assert main(["train", root, "--cache", cache, "--backbone", "mobilenet_v3_small", "--weights",
                 str(resnet18_weights)]) == 2
    assert "fine-tunes resnet18 only" in capsys.readouterr().err


def test_weights_that_do_not_fit_the_architecture_are_refused(resnet18_weights, tmp_path):
    with pytest.raises(ValueError, match="does not fit resnet34"):
        probe.load_backbone("resnet34", str(resnet18_weights))
    with pytest.raises(ValueError, match="not a torchvision classification architecture"):
        probe.load_backbone("resnet_9000", str(resnet18_weights))
    pickled = tmp_path / "code.pt"
    torch.save({"fc.weight": torch.zeros(2), "hook": probe.IMAGENET_MEAN.__class__}, pickled)  # a class: pickled code
    with pytest.raises(ValueError, match="cannot be read as a state_dict"):
        probe.load_backbone("resnet18", str(pickled))


def test_the_backbone_loses_its_head_and_gives_mirror_averaged_features(resnet18_weights):
    model = probe.load_backbone("resnet18", str(resnet18_weights))
    assert isinstance(model.fc, torch.nn.Identity)
    x = torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8)
    feats = probe.features(model, x)
    assert feats.shape == (3, 512)
    assert np.allclose(feats, probe.features(model, x.flip(3)), atol=1e-4)  # an image and its mirror: one answer


def test_the_linear_probe_predicts_each_fold_from_the_others_only():
    rng = np.random.default_rng(0)
    targets = np.repeat([0, 1, 2], 30)
    feats = rng.normal(size=(90, 8)) + np.eye(3, 8)[targets] * 4
    folds = np.tile(np.arange(3), 30)
    ok = np.ones(90, bool)
    ok[5] = False
    probs = probe.linear_probe(feats, targets, ok, folds, 3)
    assert (probs[ok].argmax(1) == targets[ok]).mean() > 0.95 and probs[5].sum() == 0
