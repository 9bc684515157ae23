"""A benchmark as a terminal table, ``report.md``, ``results.json`` and ``chart.png`` in an output folder."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench import Benchmark, SystemRun
from eval.metrics import Scored
from eval.summary import METRICS, Metric
from rag.text import fold

HIT_RULE = (
    "A retrieved passage is a **hit** when it contains a whole evidence passage, or when at least half of the "
    "retrieved passage lies inside one (the rule for datasets such as LlamaIndex's, whose reference contexts are "
    "whole pages, longer than any chunk). A citation **supports** the answer when its span overlaps an evidence "
    "passage by at least one character."
)
NOTES = (
    "Rates are shares of the questions they are about: retrieval, key-fact and citation figures over the "
    "answerable questions (citation precision over the citations given to them); abstention recall over the "
    "unanswerable ones; abstention precision over the questions a system declined. Key-fact recall is the mean "
    "share of a question's key facts (any accepted variant, case-insensitive) found in its answer; an abstention "
    "scores 0. n/a means the dataset cannot measure it (no key facts, no unanswerable questions, or no "
    "abstentions). Latency is `timings_ms.total` of the answer object, measured in this run on this machine: "
    "compare systems within a run, not across runs. Baselines answer with their top passage, cite it whole and "
    "take follow-ups as typed (no condensing)."
)


def fmt(value: float | int | None, metric: Metric | None = None) -> str:
    """A figure as shown in tables: rates with three decimals, milliseconds and words with one, n/a for None."""
    if value is None:
        return "n/a"
    if metric is not None and metric.rate:
        return f"{value:.3f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _best(metric: Metric, runs: Sequence[SystemRun]) -> float | None:
    values = [v for r in runs if isinstance(v := r.metrics.get(metric.key), int | float)]
    if not values or metric.higher_is_better is None:
        return None
    return max(values) if metric.higher_is_better else min(values)


def terminal_table(bench: Benchmark) -> str:
    """The metrics (rows) of every system (columns) as aligned plain text."""
    names = [r.name for r in bench.runs]
    rows = [["metric", *names]]
    rows += [[m.label, *(fmt(r.metrics.get(m.key), m) for r in bench.runs)] for m in METRICS]
    widths = [max(len(row[i]) for row in rows) for i in range(len(names) + 1)]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))

    lines = [line(rows[0]), "-" * sum(w + 2 for w in widths), *(line(row) for row in rows[1:])]
    return "\n".join(lines)


def _handled(r: Scored) -> bool:
    """A question is handled when an answerable one is answered with every key fact (or, without key facts,
    with a hit in retrieval) and an unanswerable one is declined."""
    if not r.example.answerable:
        return r.answer.abstained
    if r.answer.abstained:
        return False
    return r.all_facts if r.example.key_facts else r.hit_rank is not None


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], numbers: bool = True) -> list[str]:
    align = ["---", *(("---:" if numbers else "---") for _ in header[1:])]
    return [f"| {' | '.join(header)} |", f"| {' | '.join(align)} |", *(f"| {' | '.join(r)} |" for r in rows)]


def results_table(bench: Benchmark, keys: Sequence[str] | None = None) -> list[str]:
    """The figures of every run as a Markdown table (only the metrics named in ``keys``, when given), the
    best of each row in bold."""
    rows = []
    for m in (m for m in METRICS if keys is None or m.key in keys):
        best = _best(m, bench.runs)
        cells = []
        for r in bench.runs:
            v = r.metrics.get(m.key)
            text = fmt(v, m)
            cells.append(f"**{text}**" if v is not None and v == best and len(bench.runs) > 1 else text)
        rows.append([m.label + (" ↓" if m.higher_is_better is False else ""), *cells])
    return _md_table(["metric", *(r.name for r in bench.runs)], rows)


def by_type(bench: Benchmark) -> list[str]:
    """Handled questions per question type and run, as a Markdown table."""
    types = sorted({ex.type for ex in bench.examples})
    rows = []
    for t in types:
        picked = [i for i, ex in enumerate(bench.examples) if ex.type == t]
        cells = []
        for run in bench.runs:
            ok = sum(_handled(run.scored[i]) for i in picked)
            cells.append(f"{ok}/{len(picked)}")
        rows.append([t, *cells])
    return _md_table(["type", *(r.name for r in bench.runs)], rows)


def _misses(run: SystemRun, limit: int = 40) -> list[str]:
    lines = []
    for r in run.scored:
        if _handled(r):
            continue
        ex = r.example
        if not ex.answerable:
            why = "answered an unanswerable question"
        elif r.answer.abstained:
            why = "declined" + (" (evidence not retrieved)" if r.hit_rank is None else "")
        elif ex.key_facts:
            text = fold(r.answer.answer)
            lost = [fact[0] for fact in ex.key_facts if not any(fold(v) in text for v in fact)]
            why = "missed " + ", ".join(f"“{f}”" for f in lost) + ("" if r.hit_rank else " (evidence not retrieved)")
        else:
            why = "evidence not retrieved"
        answer = " ".join(r.answer.answer.split())
        answer = answer if len(answer) <= 140 else answer[:139] + "…"
        lines.append(f"- `{ex.id}` ({ex.type}) {ex.question} — {why}. Answer: {answer}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"- … and {len(lines) - limit} more (see results.json)"]
    return lines or ["- none"]


def markdown(bench: Benchmark, chart: str | None = "chart.png") -> str:
    """The report as Markdown."""
    s = bench.settings
    n_follow = sum(bool(ex.history) for ex in bench.examples)
    product = bench.runs[0]
    out = [
        "# Benchmark",
        "",
        f"- documents: {', '.join(f'`{Path(d).name}`' for d in bench.docs)}",
        f"- questions: {', '.join(f'`{Path(d).name}`' for d in bench.datasets)} — {len(bench.examples)} "
        f"({product.metrics['answerable']} answerable, {product.metrics['unanswerable']} unanswerable, "
        f"{n_follow} follow-ups)",
        f"- product: backend `{s.backend}`, k={s.k}, chunks {s.chunk_size}/{s.chunk_overlap}, "
        f"model `{s.embedding_model}`, abstain threshold {s.abstain_threshold}",
        f"- run: {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, {platform.machine()}",
        "",
        "## Results",
        "",
        "Best value per row in bold; ↓ marks rows where lower is better.",
        "",
        *results_table(bench),
        "",
    ]
    if chart:
        out += [f"![metrics by system]({chart})", ""]
    if bench.missing_evidence:
        out += [
            f"Warning: the evidence of {len(bench.missing_evidence)} answerable questions is not all verbatim in "
            f"the documents ({', '.join(bench.missing_evidence[:10])}"
            f"{', …' if len(bench.missing_evidence) > 10 else ''}); they can only miss.",
            "",
        ]
    out += ["## How to read it", "", HIT_RULE, "", NOTES, ""]
    out += [*_md_table(["metric", "definition"], [[m.label, m.definition] for m in METRICS], False), ""]
    out += ["## Systems", ""]
    keys = list(dict.fromkeys(k for r in bench.runs for k in r.config))
    out += _md_table(
        ["system", *keys], [[r.name, *(str(r.config.get(k, "")) for k in keys)] for r in bench.runs], False
    )
    out += ["", "## Handled questions by type", ""]
    out += [
        "An answerable question is handled when its answer has every key fact (or, without key facts, when the "
        "evidence was retrieved); an unanswerable one when the system declines.",
        "",
        *by_type(bench),
        "",
        f"## Questions the {product.name} did not handle",
        "",
        *_misses(product),
        "",
        *_pages(product),
    ]
    return "\n".join(out)


def _cited(r: Scored) -> str:
    return "; ".join(f"{c.source}, p. {c.page}" if c.page else c.source for c in r.answer.citations)


def _pages(run: SystemRun, limit: int = 30) -> list[str]:
    """For paged documents (PDF): where each answer's citations are, by page."""
    paged = [r for r in run.scored if any(c.page for c in r.answer.citations)]
    if not paged:
        return []
    rows = [[f"`{r.example.id}`", " ".join(r.example.question.split())[:80], _cited(r)] for r in paged[:limit]]
    return [
        "## Citations by page",
        "",
        f"{len(paged)} of {sum(not r.answer.abstained for r in run.scored)} answers cite a page of a paged document.",
        "",
        *_md_table(["question", "asked", "cited"], rows, False),
        "",
    ]


def results_json(bench: Benchmark) -> dict[str, Any]:
    """Everything measured, per system and per question."""
    s = bench.settings
    return {
        "datasets": bench.datasets,
        "docs": bench.docs,
        "settings": {
            "backend": s.backend,
            "k": s.k,
            "chunk_size": s.chunk_size,
            "chunk_overlap": s.chunk_overlap,
            "embedding_model": s.embedding_model,
            "abstain_threshold": s.abstain_threshold,
            "collection": s.collection,
        },
        "hit_rule": HIT_RULE.replace("**", ""),
        "missing_evidence": bench.missing_evidence,
        "systems": {r.name: {"config": r.config, "metrics": r.metrics} for r in bench.runs},
        "questions": [
            {
                "id": ex.id,
                "type": ex.type,
                "question": ex.question,
                "answerable": ex.answerable,
                "systems": {
                    run.name: {
                        "answer": run.scored[i].answer.answer,
                        "abstained": run.scored[i].answer.abstained,
                        "hit_rank": run.scored[i].hit_rank,
                        "key_fact_recall": run.scored[i].fact_recall if ex.key_facts else None,
                        "citations": len(run.scored[i].answer.citations),
                        "cited": [
                            {"source": c.source, "start": c.start, "end": c.end, "page": c.page}
                            for c in run.scored[i].answer.citations
                        ],
                        "citations_supported": run.scored[i].citations_supported,
                        "total_ms": run.scored[i].answer.timings_ms.get("total"),
                        "handled": _handled(run.scored[i]),
                    }
                    for run in bench.runs
                },
            }
            for i, ex in enumerate(bench.examples)
        ],
    }


def write(bench: Benchmark, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``results.json`` and ``chart.png`` into ``out_dir`` (created if missing)."""
    from eval.chart import draw

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"report": folder / "report.md", "results": folder / "results.json", "chart": folder / "chart.png"}
    draw(bench, paths["chart"])
    paths["report"].write_text(markdown(bench, paths["chart"].name), encoding="utf-8")
    paths["results"].write_text(json.dumps(results_json(bench), ensure_ascii=False, indent=2), encoding="utf-8")
    return paths
