"""The benchmark as one PNG: grouped bars per metric, the product beside its baselines.

Top panel: every rate (0 to 1). Bottom: latency (p50 and p95, log scale, since a lexical baseline answers in
microseconds and a model-backed one in milliseconds) and answer length in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench import Benchmark, SystemRun
from eval.summary import METRICS, RATES, Metric

#: The product in a strong colour, baselines in quieter ones, always in the same order.
COLOURS = ("#1f5fbf", "#e08a2c", "#5aa469", "#9a7fbf", "#c44e52", "#8c8c8c")


def _bars(ax: Any, runs: Sequence[SystemRun], metrics: Sequence[Metric], rate: bool, labels: bool = True) -> None:
    width = 0.8 / len(runs)
    for j, run in enumerate(runs):
        xs = [i + (j - (len(runs) - 1) / 2) * width for i in range(len(metrics))]
        values = [run.metrics.get(m.key) for m in metrics]
        heights = [float(v) if v is not None else 0.0 for v in values]
        bars = ax.bar(xs, heights, width * 0.92, label=run.name, color=COLOURS[j % len(COLOURS)])
        if not labels:
            continue
        for bar, v in zip(bars, values, strict=True):
            text = "n/a" if v is None else (f"{v:.2f}" if rate else f"{v:.3g}")
            y = bar.get_height() if v is not None else (0.01 if rate else 1.0)
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, y),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=7,
                color="#444444" if v is None else "black",
            )
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels([m.label + (" ↓" if m.higher_is_better is False else "") for m in metrics], fontsize=9)


def draw(bench: Benchmark, path: str | Path) -> Path:
    """Draw the chart of ``bench`` into ``path`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")  # no display here, and none is needed
    import matplotlib.pyplot as plt

    runs = bench.runs
    fig = plt.figure(figsize=(14, 9), dpi=120, layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1.5, 1])
    top = fig.add_subplot(grid[0, :])
    _bars(top, runs, RATES, rate=True)
    top.set_ylim(0, 1.18)
    top.set_ylabel("share (higher is better unless ↓)")
    top.grid(axis="y", alpha=0.3)
    top.legend(ncols=len(runs), loc="upper center", fontsize=10, frameon=False)
    for label in top.get_xticklabels():
        label.set_rotation(15)
        label.set_horizontalalignment("right")

    by_key = {m.key: m for m in METRICS}
    latency = fig.add_subplot(grid[1, :2])
    _bars(latency, runs, [by_key["latency_p50_ms"], by_key["latency_p95_ms"]], rate=False)
    latency.set_yscale("log")
    latency.set_ylabel("milliseconds (log scale)")
    latency.set_title("latency per question", fontsize=10)
    latency.grid(axis="y", alpha=0.3)
    latency.margins(y=0.25)

    length = fig.add_subplot(grid[1, 2])
    _bars(length, runs, [by_key["answer_words"]], rate=False)
    length.set_ylabel("words")
    length.set_title("answer length", fontsize=10)
    length.grid(axis="y", alpha=0.3)
    length.margins(y=0.2)

    docs = ", ".join(Path(d).name for d in bench.docs)
    sets = ", ".join(Path(d).name for d in bench.datasets)
    fig.suptitle(f"{docs} · {sets} · {len(bench.examples)} questions", fontsize=12)
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
