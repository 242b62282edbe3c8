"""Baselines for the pages: launch `python -m baselines` in the background, find its folders again after a
reload, and turn the files it writes into tables for the charts.

Never imports torch (5-8 s): the trainer runs in its own process, and the pages read what it writes
(json, jsonl, csv, png). Every function below that takes tables and returns a table is pure; the page
only draws what they return.
"""

import base64
import io
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from baselines import runs

REPO = Path(__file__).resolve().parents[1]
JOB_FILE = "job.json"  # in the folder a launch made: the command line, pid, start time, exit code
LOG_FILE = "log.txt"  # the process's stdout and stderr
JOBS = "jobs"  # <workspace>/jobs/<stamp>-<command>/: label-issues and tolerance (they have no run folder)
LABEL_ISSUES = "label_issues"
TOLERANCE_FILE = "tolerance.json"
HUMAN_FILE = "human_baseline.json"
FLAGS = {"model": "--model", "width": "--width", "input_size": "--input-size", "epochs": "--epochs",
         "max_steps": "--max-steps", "batch_size": "--batch-size", "seed": "--seed", "lr": "--lr",
         "dropout": "--dropout", "weight_decay": "--weight-decay", "augment": "--augment",
         "early_stopping": "--early-stopping", "sizes": "--sizes", "folds": "--folds"}
KNOBS = ("model", "width", "input_size", "epochs", "max_steps", "batch_size", "lr", "dropout", "weight_decay",
         "augment", "early_stopping", "seed")  # what the compare table looks at, in this order
FINISHED = ("finished", "failed", "stopped")


# ---- launching and following a background process ----------------------------------------------------------

def command_line(command: str, dataset, labels, knobs: dict, out=None) -> list[str]:
    args = [sys.executable, "-m", "baselines", command, str(dataset)]
    if labels:
        args += ["--labels", str(labels)]
    for name, value in knobs.items():
        if value is not None and value != "":
            args += [FLAGS[name], str(value)]
    if command in ("label-issues", "tolerance"):
        args.append("--progress")  # their only progress report is the bar, written to the log
    return args + (["--out", str(out)] if out else [])


def new_job_dir(workspace: Path, command: str) -> Path:
    folder = Path(workspace) / JOBS
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        job = folder / (f"{stamp}-{command}" if n == 0 else f"{stamp}-{command}-{n}")
        try:
            job.mkdir()
            return job
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a job folder under {folder}")


def launch(ds, command: str, knobs: dict | None = None) -> Path:
    """Start `python -m baselines COMMAND` for the dataset in its own session (it outlives reruns, reloads and
    the browser tab) and return its folder: the run folder for train/check (created first, so the page
    can attach at once), else a job folder. Its output goes to log.txt there."""
    knobs = dict(knobs or {})
    if command in ("train", "check"):
        model = knobs.get("model") or "tiny_cnn"
        folder = runs.new_run_dir(ds.workspace, model if command == "train" else f"check-{model}")
        out = folder
    else:
        folder, out = new_job_dir(ds.workspace, command), None
    dataset = Path(os.path.expanduser(ds.path)).resolve()
    labels = Path(os.path.expanduser(ds.labels)).resolve() if ds.labels else None
    args = command_line(command, dataset, labels, knobs, out)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1",
               INSPECTORS_CACHE=str(Path(ds.workspace).parent),  # the same workspace as the app's
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(folder / LOG_FILE, "wb") as log:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    runs.write_json(folder, JOB_FILE, {"command": command, "args": args[1:], "knobs": knobs, "pid": proc.pid,
                                       "started": time.time()})
    return folder


def _reap(folder: Path, job: dict) -> tuple[dict, bool]:
    """(job, whether its process still runs). A child of this server that ended is reaped here (no zombie) and
    its exit code kept in job.json; another process (the server restarted since) is looked up by pid."""
    pid = job.get("pid")
    if not pid or "exit_code" in job:
        return job, False
    try:
        done, code = os.waitpid(int(pid), os.WNOHANG)
    except ChildProcessError:  # not our child, or reaped by another session a moment ago
        job = runs.read_json(folder, JOB_FILE, job) or job
        return job, "exit_code" not in job and runs.pid_alive(pid)
    if done == 0:  # still running (its main thread may already be a zombie while other threads exit)
        return job, True
    job = {**job, "exit_code": os.waitstatus_to_exitcode(code), "ended": time.time()}
    runs.write_json(folder, JOB_FILE, job)
    return job, False


def job_status(folder: Path) -> dict:
    """state (starting, running, finished, failed, stopped), step, total_steps, message, command. The process
    decides "running"; once it is gone, status.json (written by the trainer) or the exit code says how it ended."""
    folder = Path(folder)
    job, alive = _reap(folder, runs.read_json(folder, JOB_FILE, {}) or {})
    trainer = runs.status(folder) if (folder / "status.json").exists() else {}
    out = {"command": job.get("command", "train"), "step": trainer.get("step", 0),
           "total_steps": trainer.get("total_steps", 0), "message": trainer.get("message", ""),
           "exit_code": job.get("exit_code"), "started": job.get("started") or trainer.get("started")}
    if alive:
        out["state"] = "running" if trainer or job.get("command") not in ("train", "check") else "starting"
        return out
    code = job.get("exit_code")
    if not job:  # a run folder the CLI wrote on its own
        out["state"] = trainer.get("state", "starting")
    elif code is None:  # not this server's child (it restarted since): judge by what the process wrote
        wrote = output_written(folder, job)
        out["state"] = trainer["state"] if trainer.get("state") in FINISHED and job.get("command") != "check" \
            else "finished" if wrote else "stopped"
        out["message"] = out["message"] or ("" if wrote else "the process is gone")
    elif code == 0 or (job.get("command") == "check" and code == 1):  # check: exit 1 = a check failed
        out["state"] = trainer["state"] if trainer.get("state") in FINISHED and job.get("command") == "train" \
            else "finished"
    elif code in (130, -signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL):
        out["state"], out["message"] = "stopped", out["message"] or "stopped on request"
    else:
        out["state"] = "failed"
        out["message"] = last_line(log_text(folder)) or f"the process ended (exit code {code})"
    return out


def output_written(folder: Path, job: dict) -> bool:
    """Whether a job's result file exists and is newer than the job (for a process that is no longer ours)."""
    workspace = folder.parent.parent
    target = {"train": folder / "result.json", "check": folder / "checks.json",
              "label-issues": workspace / LABEL_ISSUES / "facts.json",
              "tolerance": workspace / TOLERANCE_FILE}.get(job.get("command", "train"))
    try:
        return target is not None and target.stat().st_mtime >= job.get("started", 0) - 1
    except OSError:
        return False


def stop(folder: Path) -> None:
    """train: ask the loop to stop (it writes its state and exits); anything else: interrupt its process group."""
    folder = Path(folder)
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    if job.get("command", "train") == "train":
        runs.request_stop(folder)
        return
    runs.request_stop(folder)
    if job.get("pid") and "exit_code" not in job and runs.pid_alive(job["pid"]):
        try:
            os.killpg(int(job["pid"]), signal.SIGINT)  # its own session: the group is the CLI and what it started
        except ProcessLookupError:
            pass


def log_text(folder: Path, limit: int = 20_000) -> str:
    try:
        with open(Path(folder) / LOG_FILE, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def readable_log(text: str) -> str:
    """A log as a terminal shows it: of each line redrawn with carriage returns (progress bars), the last."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")).strip()


def last_line(text: str) -> str:
    lines = [line for line in readable_log(text).splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


BAR = re.compile(r"^(?P<name>[\w -]+):\s+\d+%\|.*?\|\s*(?P<done>\d+)/(?P<total>\d+)")


def bar_progress(text: str) -> tuple[float | None, str]:
    """(fraction done, phase) from the last progress bar in a log, (None, last line) when there is none."""
    for line in reversed(readable_log(text).splitlines()):
        found = BAR.match(line.strip())
        if found and int(found["total"]):
            return min(1.0, int(found["done"]) / int(found["total"])), found["name"].strip()
    return None, last_line(text)


def jobs(workspace: Path, command: str) -> list[Path]:
    """Job folders of one command, newest first."""
    return sorted((Path(workspace) / JOBS).glob(f"*-{command}*"), reverse=True)


def run_folders(workspace: Path) -> list[Path]:
    """Run folders, newest first."""
    return sorted((p for p in (Path(workspace) / runs.RUNS).glob("*") if p.is_dir()), reverse=True)


def run_kind(folder: Path) -> str:
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    if job.get("command"):
        return job["command"]
    return (runs.read_json(folder, "config.json", {}) or {}).get("kind", "train")


def current_run(workspace: Path, kinds=("train",), remembered: str | None = None) -> Path | None:
    """The run a page shows: the one this session launched or picked, else the newest still running, else
    the newest (so a reload re-attaches to what is training)."""
    folders = [f for f in run_folders(workspace) if run_kind(f) in kinds]
    if remembered and any(f.name == remembered for f in folders):
        return Path(workspace) / runs.RUNS / remembered
    for f in folders:
        if job_status(f)["state"] in ("starting", "running"):
            return f
    return folders[0] if folders else None


def fraction_done(status: dict) -> float:
    total = status.get("total_steps") or 0
    return min(1.0, status.get("step", 0) / total) if total else 0.0


# ---- tables for the charts -----------------------------------------------------------------------------------

def smooth(values: pd.Series, span: int = 20) -> pd.Series:
    """An exponential moving average: per-step losses are noisy; the trend is what a person reads."""
    return values.ewm(span=span, adjust=False).mean() if len(values) else values


def fixed_batch_heatmap(fixed: dict, predictions: list[dict]) -> pd.DataFrame:
    """Rows = the fixed images ("#1 circle"), columns = evaluation steps, values = probability of the true class."""
    classes, labels = fixed.get("classes", []), fixed.get("labels", [])
    index = {c: i for i, c in enumerate(classes)}
    rows = [f"#{i + 1} {label}" for i, label in enumerate(labels)]
    columns = {}
    for record in predictions:
        probs = record["probs"]
        columns[record["step"]] = [probs[i][index[label]] if i < len(probs) and label in index else np.nan
                                   for i, label in enumerate(labels)]
    return pd.DataFrame(columns, index=rows, dtype=float).rename_axis(index="image", columns="step")


def latest_probabilities(fixed: dict, predictions: list[dict], top: int = 3) -> list[dict]:
    """Per fixed image at the latest evaluation: path, label, step, the `top` classes (class, p, true) and the
    true class's p (also when it is not among them), and whether the top class is right."""
    if not predictions:
        return []
    last = predictions[-1]
    classes = fixed.get("classes", [])
    out = []
    for i, (path, label) in enumerate(zip(fixed.get("paths", []), fixed.get("labels", []), strict=False)):
        if i >= len(last["probs"]):
            break
        p = np.asarray(last["probs"][i], dtype=float)
        order = np.argsort(-p, kind="stable")[:top]
        bars = [{"class": classes[k], "p": float(p[k]), "true": classes[k] == label} for k in order]
        p_true = float(p[classes.index(label)]) if label in classes else float("nan")
        out.append({"path": path, "label": label, "step": last["step"], "bars": bars, "p_true": p_true,
                    "correct": bool(bars and bars[0]["true"])})
    return out


def run_summary(folder: Path) -> dict:
    """A run's knobs and its final numbers: the last evaluation (also while it runs), else result.json."""
    folder = Path(folder)
    config = runs.read_json(folder, "config.json", {}) or {}
    knobs = {k: v for k, v in (config.get("train") or {}).items() if k in KNOBS}
    if config.get("input_size"):
        knobs["input_size"] = config["input_size"]  # the size it trained at (0 in the knobs = chosen from the scan)
    _, evals = runs.metrics(folder)
    result = runs.read_json(folder, "result.json", {}) or {}
    last = evals.iloc[-1].to_dict() if len(evals) else {}
    train_loss = last.get("train_loss", result.get("train_loss"))
    val_loss, val_acc = last.get("val_loss", result.get("val_loss")), last.get("val_acc", result.get("val_acc"))
    best = evals.loc[evals["val_loss"].idxmin()] if len(evals) else None
    return {"run": folder.name, "state": job_status(folder)["state"], "steps": int(last.get("step", 0) or 0),
            **knobs, "train_loss": _number(train_loss), "val_loss": _number(val_loss), "val_acc": _number(val_acc),
            "gap": _number(val_loss) - _number(train_loss),
            "best_val_loss": _number(best["val_loss"]) if best is not None else float("nan"),
            "best_step": int(best["step"]) if best is not None else None}


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out if math.isfinite(out) else float("nan")


def compare_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per run: the knobs whose values differ between the runs (all of them when only one run),
    then steps, final train loss, val loss, val acc, the gap (val - train loss) and the best val loss."""
    if not summaries:
        return pd.DataFrame()
    table = pd.DataFrame(summaries)
    knobs = [k for k in KNOBS if k in table.columns]
    differ = [k for k in knobs if len(summaries) == 1 or table[k].astype(str).nunique() > 1]
    numbers = ["steps", "train_loss", "val_loss", "val_acc", "gap", "best_val_loss", "best_step"]
    return table[["run", "state"] + differ + numbers].reset_index(drop=True)


def run_names(summaries: list[dict]) -> dict:
    """{run: a name for chart legends: the run id and the knobs that differ, e.g. "... (dropout 0.5)"}."""
    table = compare_table(summaries)
    knobs = [c for c in table.columns if c in KNOBS] if len(table) > 1 else []
    names = {}
    for row in table.to_dict("records"):
        differ = ", ".join(f"{k.replace('_', ' ')} {row[k]}" for k in knobs)
        names[row["run"]] = row["run"] + (f" ({differ})" if differ else "")
    return names


def chance_accuracy(summary: dict, split: str = "val") -> float | None:
    """Accuracy of always answering the split's most frequent class (summary.json's class counts)."""
    counts = (summary.get("class_counts") or {}).get(split) or {}
    total = sum(counts.values())
    return max(counts.values()) / total if total else None


def compare_curves(folders: list[Path]) -> pd.DataFrame:
    """Long table for overlaid curves: run, epoch, step, curve ("train loss" / "val loss" / "val acc"), value.
    Train loss is the loop's running mean at each evaluation, so both losses share the x points."""
    parts = []
    for folder in folders:
        _, evals = runs.metrics(folder)
        if evals.empty:
            continue
        for column, curve in (("train_loss", "train loss"), ("val_loss", "val loss"), ("val_acc", "val acc")):
            part = evals[["step", "epoch", column]].rename(columns={column: "value"}).dropna()
            parts.append(part.assign(run=Path(folder).name, curve=curve))
    if not parts:
        return pd.DataFrame(columns=["run", "epoch", "step", "curve", "value"])
    return pd.concat(parts, ignore_index=True)[["run", "epoch", "step", "curve", "value"]]


def list_trained(workspace: Path, kinds=("train", "check", "tolerance")) -> pd.DataFrame:
    """Runs that trained a model, newest first: run, kind, model, state, val_acc and a label for pickers."""
    rows = []
    for folder in run_folders(workspace):
        kind = run_kind(folder)
        if kind not in kinds:
            continue
        s = run_summary(folder)
        acc = f" · val acc {s['val_acc']:.0%}" if s["val_acc"] == s["val_acc"] else ""
        model = s.get("model") or ""
        rows.append({"run": folder.name, "kind": kind, "model": model, "state": s["state"], "val_acc": s["val_acc"],
                     "label": f"{folder.name} ({kind}, {s['state']}{acc})"})
    return pd.DataFrame(rows, columns=["run", "kind", "model", "state", "val_acc", "label"])


def verdicts_table(checks: list[dict]) -> pd.DataFrame:
    columns = ["passed", "title", "measured", "expected", "explanation", "todo"]
    return pd.DataFrame([{c: v.get(c) for c in columns} for v in checks or []], columns=columns)


def what_enters_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(file image, network image) pairs the `what enters` check saved, in order."""
    pairs = []
    for file_png in sorted((Path(folder) / "what_enters").glob("*_file.png")):
        network = file_png.with_name(file_png.name.replace("_file.png", "_network.png"))
        if network.exists():
            pairs.append((file_png, network))
    return pairs


def tolerance_frame(workspace: Path) -> tuple[str, pd.DataFrame]:
    """(model, rows: input_size, val_acc, val_loss, train_loss, run) from the workspace's tolerance.json."""
    found = runs.read_json(workspace, TOLERANCE_FILE, {}) or {}
    table = pd.DataFrame(found.get("rows", []), columns=["input_size", "val_acc", "val_loss", "train_loss", "run"])
    return found.get("model", ""), table.sort_values("input_size").reset_index(drop=True)


def data_uri(data: bytes | None) -> str | None:
    """Image bytes as a data: URI (st.column_config.ImageColumn does not show local files)."""
    if not data:
        return None
    mime = ("image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/webp" if data[8:12] == b"WEBP"
            else "image/gif" if data[:4] == b"GIF8" else "image/jpeg")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def fit_width(image, side: int) -> int:
    """Width to show an image (bytes or a PIL image) at so that neither side exceeds `side` px: a very tall
    image must not stretch a grid cell to ten times its width."""
    try:
        w, h = image.size if isinstance(image, Image.Image) else Image.open(io.BytesIO(image)).size
    except Exception:  # not an image we can measure: the plain width
        return side
    return max(8, round(side * min(1.0, w / h))) if w and h else side
