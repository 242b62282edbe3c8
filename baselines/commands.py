"""The CLI's subcommands, past argument parsing: each prints a short report and returns the exit code."""

import json
from pathlib import Path

from inspectors import jobs
from inspectors.report import printable

from . import fit, recipe, runs, volume
from .train import Diverged, load_tensors, train


def job_folder(args, prepared, config) -> Path:
    """Where the command works and writes its status.json: for train and check their run folder (--out, else a
    new one in the workspace), for the others --job, else a new <workspace>/jobs/<time>-<command>/."""
    if args.command in ("train", "check"):
        if args.out:
            return Path(args.out)
        name = config.model if args.command == "train" else f"check-{config.model}"
        return runs.new_run_dir(prepared.workspace, name)
    return Path(args.job) if args.job else jobs.new_folder(prepared.workspace / jobs.JOBS, args.command)


def cmd_train(args, prepared, split, config, progress, say) -> int:
    folder = progress.folder
    t = load_tensors(prepared, split, config, progress=progress("decode"))
    progress.close()
    for path, reason in t.failed:
        say(f"skipped {path}: {reason}")
    say(f"training {config.model} at {t.size} px on {t.device}; run folder {folder}")
    try:
        result = train(t, config, folder, progress=progress("train"), own_status=False,
                       extra_config={"split": split.how, "notes": split.notes, "dataset": str(prepared.root)}).result
    except Diverged as exc:
        print(printable(f"error: {exc}", keep="\n"))
        progress.finish("failed", error=str(exc))
        return 1
    progress.close()
    progress.finish(result.state, result.message, result.to_dict())
    if args.json:
        print(json.dumps({**result.to_dict(), "run": str(folder)}, indent=1))
    else:
        say(f"{result.state} after {result.steps} steps: val loss {result.val_loss:.4f}, "
            f"val acc {result.val_acc:.3f}, train loss {result.train_loss:.4f}")
        if result.message:
            say(result.message)
        judged = fit.of_run(folder)
        say(f"fit: {judged['fit']}: {judged['why']}. Next: {judged['next']}")
    return 0


def cmd_check(args, prepared, split, config, progress, say) -> int:
    folder = progress.folder
    verdicts = recipe.run_checks(prepared, split, config, folder, progress=progress("train"),
                                 log=(lambda m: None) if args.json else say)
    progress.close()
    failed = [v for v in verdicts if not v.passed]
    passed = len(verdicts) - len(failed)
    progress.finish("finished", f"{passed} of {len(verdicts)} checks passed",
                    {"passed": passed, "checks": len(verdicts), "failed": [v.name for v in failed]})
    if args.json:
        print(json.dumps({"run": str(folder), "passed": not failed, "checks": [v.to_dict() for v in verdicts]},
                         indent=1))
    else:
        say("")
        say(report_card(verdicts))
        say(f"\nrun folder: {folder}")
    return 1 if failed else 0


def report_card(verdicts) -> str:
    lines = [f"Report card: {sum(v.passed for v in verdicts)}/{len(verdicts)} checks passed"]
    for v in verdicts:
        lines.append(f"  [{'PASS' if v.passed else 'FAIL'}] {v.title}")
        lines.append(f"         measured {v.measured}; expected {v.expected}")
        if not v.passed:
            lines.append(f"         what to do: {v.todo}")
    return "\n".join(lines)


def cmd_label_issues(args, prepared, split, config, progress, say) -> int:
    from . import label_issues
    run = lambda client=None: label_issues.find(prepared, config, folds=args.folds,  # noqa: E731
                                                progress=progress("folds"), log=say, workers=args.workers,
                                                client=client)
    if args.cluster:
        from inspectors import cluster  # dask only when asked for

        with cluster.connect(args.cluster) as client:
            result = run(client)
    else:
        result = run()
    written = label_issues.write(prepared.workspace, result, args.out)
    progress.close()
    found, facts = result.findings, result.facts
    progress.finish("finished", f"{len(found)} likely label issues among {facts['samples']} images",
                    {k: facts[k] for k in ("samples", "folds", "found", "oos_accuracy")})
    if args.json:
        print(json.dumps({**facts, "written": [str(p) for p in written]}, indent=1))
        return 0
    say(f"{len(found)} likely label issues among {facts['samples']} images "
        f"({facts['folds']}-fold out-of-sample accuracy {facts['oos_accuracy']:.3f})")
    note = volume.model_note(facts)
    if note:
        say(f"  {note}")
    if facts.get("candidates", 0) > len(found):
        say(f"  {facts['candidates']} images are suspected by the filter; the rest of them, and every other image, "
            "are ranked in predictions.csv (column rank_score, 1 = most suspicious)")
    if added := volume.added_note(facts):
        say(f"  {added}")
    if facts.get("unreliable"):
        say(f"  {facts['unreliable']} images not judged: the inspectors found the picture itself off "
            f"({', '.join(facts['unreliable_issues'])}); see predictions.csv, column unreliable")
    if facts.get("from_copies"):
        say(f"  {facts['from_copies']} of them are copies filed under another label than their twin's, whose label the "
            f"baseline believes less (the conflicting_labels findings)")
    for row in found.head(15).itertuples():
        say(f"  {row.score:.2f}  {row.path}: {row.detail}")
    say("written: " + ", ".join(str(p) for p in written))
    return 0


def cmd_tolerance(args, prepared, split, config, progress, say) -> int:
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    table = recipe.tolerance(prepared, split, config, sizes, progress=progress, log=say)
    progress.close()
    progress.finish("finished", result=table.to_dict("records"))
    if args.json:
        print(table.to_json(orient="records"))
    return 0


COMMANDS = {"train": cmd_train, "check": cmd_check, "label-issues": cmd_label_issues, "tolerance": cmd_tolerance}
