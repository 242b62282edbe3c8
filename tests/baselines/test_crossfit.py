import numpy as np
import pandas as pd
import torch

from baselines import crossfit
from baselines.config import TrainConfig
from baselines.crossfit import assign_folds, crop_flip, cross_fit, duplicate_groups, epochs_for


def test_folds_keep_every_duplicate_group_whole_and_stay_stratified():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 3, 300)
    groups = np.full(300, "", dtype=object)
    for g in range(40):  # 40 groups of 2-5 copies each, some mixing labels (conflicting copies)
        members = rng.choice(300, int(rng.integers(2, 6)), replace=False)
        groups[members] = f"G{g}"
    for seed in range(3):
        folds = assign_folds(targets, 5, seed, groups)
        for g in set(groups) - {""}:
            assert len(set(folds[groups == g])) == 1, g
        for c in range(3):
            counts = np.bincount(folds[targets == c], minlength=5)
            assert counts.max() - counts.min() <= 5  # the largest group holds 5
    assert (assign_folds(targets, 5, 1, groups) == assign_folds(targets, 5, 1, groups)).all()


def test_duplicate_groups_merge_groups_that_share_a_picture():
    findings = pd.DataFrame({
        "path": ["a.png", "b.png", "b.png", "c.png", "d.png", "e.png", "f.png"],
        "issue": ["exact_duplicate", "exact_duplicate", "near_duplicate", "near_duplicate", "dark",
                  "conflicting_labels", "conflicting_labels"],
        "group": ["E1", "E1", "N7", "N7", "", "C3", "C3"], "score": 1.0, "detail": ""})
    out = duplicate_groups(findings, ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png", "z.png"])
    assert out[0] == out[1] == out[2] != "" and out[4] == out[5] != "" and out[0] != out[4]
    assert out[3] == "" and out[6] == ""


def test_epochs_fit_the_pass_budget_unless_given():
    assert epochs_for(TrainConfig(epochs=7), 10_000, 5) == 7
    auto = TrainConfig(epochs=0)
    assert epochs_for(auto, 10_000, 5) == crossfit.PASS_BUDGET // 40_000
    assert epochs_for(auto, 100, 5) == crossfit.MAX_EPOCHS and epochs_for(auto, 10**6, 5) == crossfit.MIN_EPOCHS
    assert epochs_for(auto, 10**6, 5, "cuda") == crossfit.MAX_EPOCHS


def test_crop_flip_shifts_and_mirrors_without_changing_the_shape():
    x = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16)
    out = crop_flip(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    again = crop_flip(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    outs = [crop_flip(x, torch.Generator().manual_seed(s)) for s in range(8)]
    assert any(not torch.equal(o, x) for o in outs)


def test_a_killed_run_resumes_at_the_fold_it_was_in(tmp_path, monkeypatch):
    torch.manual_seed(0)
    x = torch.randint(0, 255, (40, 3, 8, 8), dtype=torch.uint8)
    targets = np.repeat([0, 1], 20)
    folds = assign_folds(targets, 4, 0)
    ok = np.ones(40, bool)
    config = TrainConfig(model="tiny_cnn", width=4, batch_size=8, lr=1e-3, augment="none")
    trained = []
    real = crossfit.fit_fold

    def counting(x_fit, *args, **kwargs):
        trained.append(len(x_fit))
        if len(trained) == 3:
            raise KeyboardInterrupt  # killed while the third fold trains
        return real(x_fit, *args, **kwargs)

    monkeypatch.setattr(crossfit, "fit_fold", counting)
    try:
        cross_fit(x, targets, ok, folds, 2, config, 1, tmp_path / "folds")
    except KeyboardInterrupt:
        pass
    assert sorted(p.name for p in (tmp_path / "folds").iterdir()) == ["fold_0.npy", "fold_1.npy"]
    trained.clear()
    monkeypatch.setattr(crossfit, "fit_fold", real)
    fresh = []
    monkeypatch.setattr(crossfit, "fit_fold", lambda x_fit, *a, **k: fresh.append(1) or real(x_fit, *a, **k))
    probs = cross_fit(x, targets, ok, folds, 2, config, 1, tmp_path / "folds")
    assert len(fresh) == 2  # folds 2 and 3 only
    assert np.allclose(probs.sum(1), 1, atol=1e-5)


def test_folds_in_worker_processes_give_the_in_process_probabilities(colours, tmp_path):
    # the same folds, seeds and settings: two spawned workers (one fold each) match one process, to float noise
    from baselines import fold_jobs
    from baselines.data import tensor_cache, usable

    rows = usable(colours.samples)
    images, ok, _ = tensor_cache(colours, rows, 16)
    targets = rows["label"].map({c: i for i, c in enumerate(sorted(rows["label"].unique()))}).to_numpy().copy()
    folds = assign_folds(targets, 2, 0)
    config = TrainConfig(model="tiny_cnn", width=4, batch_size=8, lr=1e-2, augment="flip_crop", max_steps=6)
    torch.set_num_threads(1)
    here = cross_fit(torch.from_numpy(np.array(images)), targets, ok, folds, 3, config, 2)
    there = fold_jobs.run_folds(images.filename, targets, ok, folds, 3, config, 2, tmp_path / "folds", workers=2)
    assert sorted(p.name for p in (tmp_path / "folds").iterdir()) == ["fold_0.npy", "fold_1.npy"]
    assert np.allclose(here, there, atol=1e-4)


def test_folds_on_a_dask_cluster_are_saved_and_give_every_image_a_prediction(colours, tmp_path):
    distributed = __import__("pytest").importorskip("distributed")
    from baselines import fold_jobs
    from baselines.data import tensor_cache, usable

    rows = usable(colours.samples)
    images, ok, _ = tensor_cache(colours, rows, 16)
    targets = rows["label"].map({c: i for i, c in enumerate(sorted(rows["label"].unique()))}).to_numpy().copy()
    folds = assign_folds(targets, 2, 0)
    config = TrainConfig(model="tiny_cnn", width=4, batch_size=8, lr=1e-2, augment="none", max_steps=4)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        probs = fold_jobs.run_folds(images.filename, targets, ok, folds, 3, config, 1, tmp_path / "folds", 2,
                                    client=client)
    assert sorted(p.name for p in (tmp_path / "folds").iterdir()) == ["fold_0.npy", "fold_1.npy"]
    assert np.allclose(probs[ok].sum(1), 1, atol=1e-5)


def test_the_kept_epoch_comes_after_the_learning_rate_peak(monkeypatch):
    # the slice's loss at its lowest on the first epoch judged, as on a small set where a warm-up epoch can beat
    # every later one by chance: while the learning rate still rises no epoch is kept
    calls = []

    def slice_predictions(model, x, mean, std, mirror=True):
        calls.append(len(x))
        right = 0.9 if len(calls) == 1 else 0.5
        return torch.full((len(x), 2), 1 - right).scatter_(1, torch.zeros(len(x), 1, dtype=torch.long), right)

    monkeypatch.setattr(crossfit, "predict", slice_predictions)
    x = torch.randint(0, 255, (100, 3, 8, 8), dtype=torch.uint8)
    y = torch.zeros(100, dtype=torch.long)
    config = TrainConfig(model="tiny_cnn", width=4, epochs=10, batch_size=32, lr=3e-3, augment="none")
    _, _, _, best = crossfit.fit_fold(x, y, 2, config, 10, seed=0)
    assert best == int(crossfit.WARM_SHARE * 10) + 1  # the first epoch past the peak, judged best of all
