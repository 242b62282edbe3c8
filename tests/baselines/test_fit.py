"""The fit verdict after a run: underfits, overfits or fits, in the recipe's words."""

import math

from baselines import fit

INIT = math.log(10)


def test_a_model_whose_losses_agree_underfits_and_is_told_to_grow():
    # the case: 62 % validation accuracy, train and validation loss close together
    judged = fit.verdict(train_loss=1.05, val_loss=1.08, val_acc=0.62, best_val_loss=1.08, best_step=900,
                         init_loss=INIT, majority=0.1)
    assert judged["fit"] == "underfits" and "Step 3" in judged["next"] and "62%" in judged["why"]


def test_a_model_that_learnt_little_underfits():
    judged = fit.verdict(1.9, 2.5, 0.3, 2.5, 100, INIT, 0.1)
    assert judged["fit"] == "underfits" and "of the loss at init" in judged["why"]


def test_a_rising_validation_loss_or_a_wide_gap_overfits():
    rising = fit.verdict(0.05, 0.9, 0.8, 0.6, 400, INIT, 0.1)
    wide = fit.verdict(0.1, 0.5, 0.85, 0.5, 900, INIT, 0.1)
    assert rising["fit"] == wide["fit"] == "overfits" and "step 400" in rising["why"] and "Step 4" in wide["next"]


def test_a_gap_without_a_rise_fits():
    judged = fit.verdict(0.4, 0.6, 0.8, 0.6, 900, INIT, 0.1)
    assert judged["fit"] == "fits" and "Step 5" in judged["next"]


def test_no_evaluation_is_no_verdict():
    assert fit.verdict(float("nan"), float("nan"), float("nan"), None, None, INIT, None)["fit"] == "unknown"


def test_a_sweep_whose_runs_underfit_says_so_with_the_next_step():
    under = fit.verdict(1.05, 1.08, 0.62, 1.08, 900, INIT, 0.1)
    fits = fit.verdict(0.4, 0.6, 0.8, 0.6, 900, INIT, 0.1)
    every = fit.sweep({16: under, 32: under})
    assert every["all"] and every["sizes"] == [16, 32] and every["text"].startswith("Every run of this sweep")
    assert "step 3 of the recipe" in every["next"]
    some = fit.sweep({64: fits, 16: under, 32: fits})
    assert not some["all"] and some["sizes"] == [16] and some["text"].startswith("1 of 3 runs")
    assert fit.sweep({16: fits}) is None and fit.sweep({}) is None
