"""Does the data pipeline keep the model busy? The training loop on the sample data against the same
model trained on synthetic tensors already on the device (the model-only ceiling), in one run.

    python benchmarks/training.py [--device auto|cpu|cuda] [--models tiny_cnn,resnet18] [--batch-size N]
                                  [--steps N] [--runs 3]

Reports, per model: the first epoch (building the uint8 tensor cache from the files) separately; the
steady-state loop's images/s and its share of time spent preparing batches (data wait); model-only
images/s; and loop / model-only. Bars: data wait <= 20% of step time on CPU (tiny ConvNet); on a GPU the
loop >= 50% of model-only throughput."""

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from baselines import data  # noqa: E402
from baselines.config import TrainConfig  # noqa: E402
from baselines.data import tensor_cache  # noqa: E402
from baselines.train import build_model, load_tensors, pick_device, train  # noqa: E402
from benchmarks._doc import write_section  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def model_only(t, config, steps: int) -> float:
    """Images/s of forward + backward + Adam step on random tensors already on the device."""
    model, _ = build_model(t, config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    x = torch.randn(config.batch_size, 3, t.size, t.size, device=t.device)
    y = torch.randint(0, len(t.classes), (config.batch_size,), device=t.device)
    for i in range(steps + 5):
        if i == 5:  # warm-up steps excluded (allocator, cudnn autotune)
            sync(t.device)
            started = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(t.device)
    return steps * config.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", default="tiny_cnn")
    parser.add_argument("--batch-size", type=int, default=0, help="default: 32 on CPU, 256 on a GPU")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dataset", default=str(ROOT / "sample_data/shapes"))
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    device = pick_device(args.device)
    torch.set_num_threads(1)
    batch = args.batch_size or (256 if device.type == "cuda" else 32)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        prepared = data.prepare(args.dataset, cache=cache)
        split = data.split(prepared.samples)
        base = TrainConfig(device=str(device), batch_size=batch, max_steps=args.steps, epochs=10_000)
        size = data.choose_input_size(prepared.samples)
        started = time.perf_counter()
        rows_all = data.usable(prepared.samples)
        tensor_cache(prepared, rows_all, size)
        first_epoch = time.perf_counter() - started
        for name in args.models.split(","):
            config = dataclasses.replace(base, model=name)
            t = load_tensors(prepared, split, config)
            loop, wait, ceiling = [], [], []
            for _ in range(args.runs):
                result = train(t, config, None).result  # images/s counts training steps only, not the evaluations
                loop.append(result.images_per_s)
                wait.append(result.data_wait_fraction)
                ceiling.append(model_only(t, config, min(args.steps, 100)))
            rows.append({"model": name, "loop": statistics.median(loop), "wait": statistics.median(wait),
                         "ceiling": statistics.median(ceiling)})
            print(rows[-1], flush=True)
    n = len(rows_all)
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda" else
               f"CPU, 1 torch thread, {os.cpu_count()} shared cores ({platform.machine()})")
    body = [f"`python benchmarks/training.py --device {args.device} --models {args.models} --steps {args.steps} "
            f"--runs {args.runs}` on {machine}; batch {batch}, input {size} px, sample_data/shapes; medians of "
            f"{args.runs} runs. Loop images/s: the training loop's steps (batch indexing, normalisation, forward, "
            "backward, Adam) after the first step, evaluations excluded.", "",
            f"First epoch (decode {n} files into the uint8 cache, threads): {first_epoch:.1f} s, "
            f"{n / first_epoch:.0f} images/s.", "",
            "| model | loop images/s | data wait (share of step time) | model-only images/s | loop / model-only |",
            "|---|---|---|---|---|"]
    for r in rows:
        body.append(f"| {r['model']} | {r['loop']:.0f} | {r['wait']:.1%} | {r['ceiling']:.0f} | "
                    f"{r['loop'] / r['ceiling']:.2f} |")
    print("\n".join(body))
    if not args.no_doc:
        heading = f"Training throughput ({device.type})"
        write_section(heading, f"## {heading}\n\n" + "\n".join(body) + "\n", keep="### Notes")


if __name__ == "__main__":
    main()
