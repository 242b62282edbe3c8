"""python -m baselines {train,check,label-issues,tolerance} DATASET ...

Report on stdout, progress bars on stderr (only on a terminal, or with --progress); the state, progress and
outcome in the command's status.json (inspectors/jobs.py). Exit codes: 0 done, 1 a check failed (check) or the
loss diverged (train), 2 usage error or nothing to train on, 4 no space left on the disk written to (what was
written stays valid), 130 interrupted.
"""

import argparse
import dataclasses
import json
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: spin-waiting threads starve shared cores

from inspectors import jobs  # noqa: E402
from inspectors.dataset import DatasetError, source  # noqa: E402
from inspectors.report import printable  # noqa: E402
from inspectors.workspace import NoSpaceError, ensure_outside  # noqa: E402

from . import data  # noqa: E402
from .config import AUGMENTATIONS, LABEL_ISSUE_DEFAULTS, MODELS, TrainConfig, config_from_dict, validate  # noqa: E402

JOB_COMMANDS = ("label-issues", "tolerance")  # no run folder of their own: their status goes to a job folder
EXIT_USAGE, EXIT_NO_SPACE = 2, 4  # as python -m inspectors: 1 means a check failed
DESCRIPTION = """Toy baselines that tell the truth (the recipe's "Baselines" step). DATASET is scanned first,
or its workspace reused (see `python -m inspectors scan --help`); only images that decode are used, and
the dataset is only ever read. Results go to the workspace's runs/ folder (or --out)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m baselines", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {"train": "train one baseline and write a run folder",
             "check": "run the recipe's sanity checks and print a report card (exit 1 if any fails)",
             "label-issues": "k-fold out-of-sample predictions -> likely mislabelled samples (findings.csv)",
             "tolerance": "train at several input sizes: how much downsampling the task tolerates"}
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("dataset", metavar="DATASET")
        p.add_argument("--labels", metavar="CSV", help="CSV manifest path,label[,split], e.g. the cleaned "
                       "manifest the dashboard exports")
        p.add_argument("--cache", metavar="DIR", help="cache root holding the workspaces (default: $INSPECTORS_CACHE "
                       "or ~/.cache/image-inspectors)")
        p.add_argument("--rescan", action="store_true", help="scan again even when the workspace has results")
        p.add_argument("--config", metavar="JSON", help="training settings from a run's config.json (its 'train' "
                       "part) or a plain JSON object; flags override it")
        p.add_argument("--model", choices=MODELS)
        p.add_argument("--epochs", type=int)
        p.add_argument("--max-steps", type=int, help="stop after this many steps (0 = epochs decide)")
        p.add_argument("--batch-size", type=int)
        p.add_argument("--lr", type=float)
        p.add_argument("--width", type=int, help="channels of tiny_cnn's first layer")
        p.add_argument("--input-size", type=int, help="side in px (default: from the scan's sizes)")
        p.add_argument("--dropout", type=float)
        p.add_argument("--weight-decay", type=float)
        p.add_argument("--augment", choices=AUGMENTATIONS)
        p.add_argument("--early-stopping", type=int, metavar="N", help="stop after N evaluations without a better "
                       "validation loss")
        p.add_argument("--seed", type=int)
        p.add_argument("--prior-bias", choices=["auto", "on", "off"])
        p.add_argument("--device", help="auto, cpu, cuda, cuda:1 ...")
        p.add_argument("--threads", type=int, help="CPU threads for torch (default 1)")
        p.add_argument("--backbone", metavar="ARCH", help="a torchvision architecture with --weights: label-issues "
                       "predicts with a linear probe on its frozen features (any classification architecture); train, "
                       "check and tolerance fine-tune it (resnet18)")
        p.add_argument("--weights", "--pretrained", dest="pretrained", metavar="FILE", help="a local state_dict for "
                       "--backbone (read with weights_only=True); nothing is ever downloaded")
        p.add_argument("--out", metavar="DIR", help="train/check: the run folder (default: a new one in the "
                       "workspace); label-issues: also write findings.csv here")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.add_argument("--progress", action="store_true", help="show progress bars even when stderr is not a terminal")
        if name == "label-issues":
            p.add_argument("--folds", type=int, default=0, help="cross-validation folds (default: 5, or 2 above "
                           "20,000 images)")
            p.add_argument("--workers", type=int, default=0, help="folds trained side by side, one process each "
                           "(default: one per core from 2,000 images on)")
            p.add_argument("--cluster", metavar="tcp://HOST:PORT|local:N", help="train the folds on a Dask cluster "
                           "(its workers must see the workspace's files)")
        if name == "tolerance":
            p.add_argument("--sizes", default="16,32,64", help="input sides to compare (default 16,32,64)")
        if name in JOB_COMMANDS:
            p.add_argument("--job", metavar="DIR", help="write this command's status.json here (default: a new "
                           "<workspace>/jobs/<time>-<command>/); train and check write theirs in the run folder")
    return parser


FLAGS = ("model", "epochs", "max_steps", "batch_size", "lr", "width", "input_size", "dropout", "weight_decay",
         "augment", "early_stopping", "seed", "prior_bias", "device", "threads", "pretrained", "backbone")


def train_config(args) -> TrainConfig:
    config = TrainConfig(**LABEL_ISSUE_DEFAULTS) if args.command == "label-issues" else TrainConfig()
    if args.config:
        values = json.loads(Path(args.config).read_text())
        config = config_from_dict(values.get("train", values))
    config = dataclasses.replace(config, **{k: getattr(args, k) for k in FLAGS if getattr(args, k) is not None})
    if config.backbone and args.command != "label-issues":  # training fine-tunes the one pretrained model it builds
        if config.backbone != "resnet18":
            raise ValueError(f"--backbone {config.backbone}: {args.command} fine-tunes resnet18 only; label-issues "
                             "takes any torchvision classification architecture")
        config = dataclasses.replace(config, model="resnet18", backbone="")
    validate(config)
    return config


class Progress:
    """A command's progress: its status file (inspectors.jobs) once it has a folder, and tqdm bars on stderr
    when asked for. progress(phase) is the update(done, total) of one phase."""

    def __init__(self, command: str, bars: bool):
        self.command, self.bars, self.bar, self.name, self.status = command, bars, None, None, None

    def attach(self, folder) -> None:
        """Write the status in `folder` from now on (once: a later call keeps the first folder)."""
        if self.status is None:
            self.status = jobs.Status(folder, self.command)

    @property
    def folder(self) -> Path | None:
        return self.status.folder if self.status else None

    def __call__(self, phase: str):
        def update(done, total):
            if self.status is not None:
                self.status.progress(phase, done, total)
            if self.bars:
                from tqdm import tqdm
                if self.name != phase:
                    self.close()
                    self.bar, self.name = tqdm(total=total, desc=phase, file=sys.stderr, dynamic_ncols=True), phase
                self.bar.total, self.bar.n = total, done
                self.bar.refresh()
        return update

    def close(self) -> None:
        if self.bar:
            self.bar.close()
            self.bar, self.name = None, None

    def finish(self, state: str, message: str = "", result=None, error: str | None = None) -> None:
        if self.status is not None and not self.status.ended:
            self.status.finish(state, message, result, error)

    def fail(self, message: str, code: int = 2) -> int:
        """Say why on stderr, record it, and give the exit code."""
        self.close()
        print(printable(f"error: {message}", keep="\n"), file=sys.stderr)
        self.finish("failed", error=message)
        return code


def stoppable() -> None:
    """The app starts these commands in a session of their own and stops them with SIGINT. A server started in
    the background by a non-interactive shell runs with SIGINT ignored, which its children inherit, so Stop did
    nothing. In a session of its own no terminal can send one: a SIGINT there is a deliberate stop."""
    if os.getsid(0) == os.getpid() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv=None) -> int:
    stoppable()
    args = build_parser().parse_args(argv)
    progress = Progress(args.command, args.progress or sys.stderr.isatty())
    try:
        given = args.job if args.command in JOB_COMMANDS else args.out  # the folder the app made for it
        refused = outside_problem(args)
        if refused:  # before anything is written: attach writes status.json
            return progress.fail(refused, EXIT_USAGE)
        if given:
            progress.attach(given)
        return run(args, progress)
    except NoSpaceError as exc:
        progress.close()
        print(printable(f"error: {exc}", keep="\n"), file=sys.stderr)
        try:
            progress.finish("failed", error=str(exc))
        except (NoSpaceError, OSError):  # the status lies on the same full disk: the message above is the record
            pass
        return EXIT_NO_SPACE
    except KeyboardInterrupt:
        progress.close()
        print("interrupted", file=sys.stderr)
        asked = progress.folder is not None and jobs.stop_requested(progress.folder)
        progress.finish("stopped", "stopped on request" if asked else "interrupted")
        return 130
    except Exception as exc:  # a bug: recorded, then its traceback as usual
        progress.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.close()


def outside_problem(args) -> str | None:
    """Why --out or --job cannot be used: a folder inside the dataset (nothing may write there, and the next
    scan would list the results as the dataset's files); None when they can."""
    root = source(args.dataset, args.labels)[0]
    for option, folder in (("--out", args.out), ("--job", getattr(args, "job", None))):
        try:
            if folder:
                ensure_outside(Path(folder), root, option, option)
        except ValueError as exc:
            return str(exc)
    return None


def run(args, progress: Progress) -> int:
    try:
        config = train_config(args)
    except (ValueError, OSError, json.JSONDecodeError) as exc:
        return progress.fail(str(exc))
    # names from the dataset reach the terminal escaped, never raw; --json stays exact
    say = (lambda m: None) if args.json else (lambda m="": print(printable(m, keep="\n")))
    try:
        prepared = data.prepare(args.dataset, args.labels, args.cache, args.rescan, progress=progress("scan"))
        progress.close()
        # label-issues predicts every image out of sample (k-fold): it needs no validation split
        split = None if args.command == "label-issues" else data.split(prepared.samples, config.seed,
                                                                         config.val_fraction)
    except (DatasetError, ValueError) as exc:
        return progress.fail(str(exc))
    if split:
        say(f"{len(split.classes)} classes; {len(split.train)} train / {len(split.val)} val images from {split.how}")
        for note in split.notes:
            say(f"note: {note}")
    from . import commands  # torch, a slow import, only past the argument checks
    progress.attach(commands.job_folder(args, prepared, config))
    try:
        return commands.COMMANDS[args.command](args, prepared, split, config, progress, say)
    except ValueError as exc:  # a dataset the command cannot work with: say why, no traceback
        return progress.fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
