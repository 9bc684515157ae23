"""Calibrate the extractive answerer's abstention threshold on a labelled question set.

For every question it records the best candidate sentence's score, the share of the question's weight the
document has no word for, and whether a hard check already vetoed an answer; then it sweeps the threshold
(and the weight of unknown words) and picks the setting that abstains on the most unanswerable questions
while abstaining on at most ``--max-false`` of the answerable ones, breaking ties by key-fact recall.

    python -m eval.calibrate [--dataset eval/datasets/article.jsonl] [--store DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass

from eval.dataset import ARTICLE_SET, load_dataset
from eval.metrics import key_fact_recall
from index import BUNDLED_ARTICLE
from rag.answerers.extractive import ExtractiveAnswerer
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import index_with


@dataclass(frozen=True)
class Observation:
    """What the answerer saw for one question."""

    answerable: bool
    vetoed: bool
    top: float | None
    unknown: float
    fact_ok: bool


def observe(assistant: Assistant, dataset: str) -> list[Observation]:
    """Run every question once with abstention off, keeping what the threshold decision needs."""
    answerer = assistant.answerer
    assert isinstance(answerer, ExtractiveAnswerer)
    seen: list[Observation] = []
    original = answerer.answer

    def capture(request):  # type: ignore[no-untyped-def]
        draft = original(request)
        scored, penalty, veto = answerer.score(request)
        unknown = penalty / answerer.unknown_weight if answerer.unknown_weight else 0.0
        seen.append(Observation(False, veto, max(s.support for s in scored) if scored else None, unknown, False))
        return draft

    answerer.answer = capture  # type: ignore[method-assign]
    out = []
    try:
        for ex in load_dataset(dataset):
            answer = assistant.ask(ex.question, ex.history)
            obs = seen[-1]
            ok = ex.answerable and key_fact_recall(answer.answer, ex.key_facts) >= 1.0
            out.append(Observation(ex.answerable, obs.vetoed, obs.top, obs.unknown, ok))
    finally:
        answerer.answer = original  # type: ignore[method-assign]
    return out


def sweep(rows: list[Observation], max_false: float) -> list[tuple[float, float, float, float, float]]:
    """``(unknown_weight, threshold, abstention recall, false abstention, key-fact recall)`` per setting."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    table = []
    for weight in (0.0, 0.1, 0.2, 0.3):
        for step in range(0, 41):
            threshold = step / 100

            def abstains(r: Observation, w: float = weight, t: float = threshold) -> bool:
                return r.vetoed or r.top is None or r.top - w * r.unknown < t

            false = sum(map(abstains, answerable)) / len(answerable)
            recall = sum(map(abstains, unanswerable)) / max(1, len(unanswerable))
            facts = sum(1 for r in answerable if r.fact_ok and not abstains(r)) / len(answerable)
            table.append((weight, threshold, recall, false, facts))
    return table


def main() -> None:
    """Print the sweep's best settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(ARTICLE_SET))
    parser.add_argument("--docs", nargs="*", default=[str(BUNDLED_ARTICLE)])
    parser.add_argument("--max-false", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as store:
        settings = Settings.from_env(store=store, abstain_threshold=-10.0)
        index_with(settings, args.docs)
        rows = observe(Assistant(settings), args.dataset)
    table = sweep(rows, args.max_false)
    ok = [row for row in table if row[3] <= args.max_false]
    ok.sort(key=lambda r: (r[2], r[4], r[1]), reverse=True)
    print("unknown_weight threshold abstain_recall false_abstain key_fact_recall")
    for row in ok[:10]:
        print("  ".join(f"{x:.3f}" for x in row))


if __name__ == "__main__":
    main()
