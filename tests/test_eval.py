"""The benchmark: metrics on known inputs, the baselines' offsets, the report files, the floors, and `rag eval`.

The evidence of the shipped set is checked against the article in tests/test_quality.py; here the benchmark
itself runs on real Chroma stores with the real model, the product beside its baselines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.contract import Answer, Citation, Passage
from core.errors import InputError
from eval import BASELINES
from eval.baselines import TopPassagePipeline, tutorial_chunks
from eval.bench import Benchmark, check_evidence, load_examples, run_benchmark
from eval.dataset import ARTICLE_SET, DATASETS, Example, casual, load_dataset
from eval.metrics import Span, is_hit, score
from eval.report import markdown, results_json, terminal_table, write
from eval.summary import METRICS, summarize
from index import BUNDLED_ARTICLE
from index.loader import load_document
from rag.config import Settings
from tests.conftest import ARTICLE_TEXT, COVID_DIR

FLOORS = json.loads((Path(__file__).resolve().parents[1] / "eval" / "floors.json").read_text(encoding="utf-8"))
COVID_DOC = COVID_DIR / "document.txt"
COVID_SET = COVID_DIR / "rag_dataset.json"
COVID_UNANSWERABLE = DATASETS / "covid_unanswerable.jsonl"


# -- metrics on hand-made answers (pure logic) --------------------------------------------------------------
def _answer(text: str, abstained: bool, cites: list[tuple[int, int]], retrieved: list[tuple[int, int]]) -> Answer:
    return Answer(
        question="q",
        answer=text,
        abstained=abstained,
        citations=[Citation(i, "doc", s, e, "x" * (e - s), 1.0) for i, (s, e) in enumerate(cites, start=1)],
        retrieved=[Passage("doc", s, e, "x" * (e - s), 1.0) for s, e in retrieved],
        timings_ms={"total": float(10 * (len(cites) + 1))},
    )


def test_summary_counts_each_metric_as_defined() -> None:
    text = "A" * 100 + "The deadline is Friday at 5:01 PM." + "B" * 100 + "Nobody knows." + "C" * 50
    texts = {"doc": text}
    ev1 = "The deadline is Friday at 5:01 PM."
    ev2 = "Nobody knows."
    e1 = Example("1", "when?", True, key_facts=[["Friday"], ["5:01"]], evidence=[ev1])
    e2 = Example("2", "who?", True, key_facts=[["nobody"]], evidence=[ev2])
    e3 = Example("3", "off topic?", False)
    e4 = Example("4", "near miss?", False)
    s1, s2 = text.index(ev1), text.index(ev2)
    results = [
        # hit at rank 2, both facts, one of two citations on the evidence
        score(e1, _answer("Friday at 5:01 [1] [2]", False, [(s1, s1 + 10), (0, 50)], [(0, 90), (90, 200)]), texts),
        # evidence not retrieved and declined: no facts, no citations, a false abstention
        score(e2, _answer("The article doesn't say.", True, [], [(0, 90)]), texts),
        score(e3, _answer("The article doesn't say.", True, [], []), texts),
        score(e4, _answer("Something wrong [1]", False, [(0, 20)], [(0, 90)]), texts),
    ]
    m = summarize(results)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 2, 2)
    assert m["hit_at_1"] == 0.0 and m["hit_at_k"] == 0.5 and m["mrr"] == pytest.approx(0.25)
    assert m["key_fact_recall"] == 0.5 and m["all_key_facts"] == 0.5
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 0.5
    assert m["abstention_precision"] == 0.5 and m["abstention_recall"] == 0.5 and m["false_abstention"] == 0.5
    assert m["answer_words"] == pytest.approx((3 + 2) / 2)  # "[n]" markers are not words
    assert m["latency_p50_ms"] == pytest.approx(15.0)
    assert s2 > s1 + len(ev1)  # the second evidence is not inside the first question's passages


def test_what_a_dataset_cannot_measure_is_none() -> None:
    ex = Example("l-000", "q", True, evidence=["abc"], type="llamaindex")
    m = summarize([score(ex, _answer("abc [1]", False, [(0, 3)], [(0, 3)]), {"doc": "abc def"})])
    assert m["key_fact_recall"] is None and m["all_key_facts"] is None
    assert m["abstention_recall"] is None and m["abstention_precision"] is None
    assert m["hit_at_k"] == 1.0 and m["citation_precision"] == 1.0
    assert {metric.key for metric in METRICS} <= m.keys()


def test_hit_rule_for_short_and_long_evidence() -> None:
    sentence = [Span("doc", 100, 150)]
    assert is_hit("doc", 80, 400, sentence)  # the chunk holds the whole sentence
    assert not is_hit("doc", 120, 500, sentence)  # cuts it, and mostly lies elsewhere
    page = [Span("doc", 0, 4000)]  # a LlamaIndex reference context, longer than any chunk
    assert is_hit("doc", 3700, 4100, page)  # 300 of 400 characters inside
    assert not is_hit("doc", 3900, 4300, page)  # 100 of 400
    assert not is_hit("other", 0, 400, page)


# -- datasets -----------------------------------------------------------------------------------------------
def test_the_shipped_set_meets_the_issue() -> None:
    examples = load_dataset(ARTICLE_SET)
    assert len(examples) >= 50
    assert sum(not e.answerable for e in examples) >= 10
    assert {e.type for e in examples if not e.answerable} >= {"near-miss", "off-topic"}
    assert sum(bool(e.history) for e in examples) >= 8
    assert {"factual", "why", "how", "who-said", "numeric", "multi-part"} <= {e.type for e in examples}
    assert all(e.key_facts and all(fact for fact in e.key_facts) for e in examples if e.answerable)
    assert len({e.id for e in examples}) == len(examples)


def test_llamaindex_set_loads_and_its_contexts_are_in_the_document() -> None:
    examples = load_examples([COVID_SET, COVID_UNANSWERABLE])
    llama = [e for e in examples if e.type == "llamaindex"]
    assert len(llama) == 24 and all(e.answerable and e.evidence and not e.key_facts for e in llama)
    assert sum(not e.answerable for e in examples) == 10
    assert check_evidence(examples, {"document.txt": COVID_DOC.read_text(encoding="utf-8")}) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "q", "answerable": true}\n', "needs evidence"),
        ('{"id": "a", "question": "q"}\n', "missing or malformed field"),
        ("not json\n", "line 1: not valid JSON"),
        ("[1, 2]\n", "expected a JSON object"),
        ('{"id": "a", "question": "q", "answerable": false, "history": [["only one"]]}\n', "pairs"),
    ],
)
def test_bad_jsonl_datasets_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_dataset(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "not valid JSON"), ('{"rows": []}', "LabelledRagDataset"), ('{"examples": [{"query": "q"}]}', "example 0")],
)
def test_bad_llamaindex_datasets_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rag_dataset.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_dataset(path)


def test_evidence_from_other_documents_is_refused() -> None:
    with pytest.raises(InputError, match="none of the dataset's evidence"):
        check_evidence(load_dataset(ARTICLE_SET), {"other.txt": "Nothing about the Pentagon here."})


# -- baselines ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [BUNDLED_ARTICLE, COVID_DOC], ids=["article", "covid"])
def test_tutorial_chunks_carry_exact_offsets(path: Path) -> None:
    doc = load_document(path)
    chunks = tutorial_chunks([doc])
    assert len(chunks) > 1
    for c in chunks:
        assert doc.text[c.metadata["start"] : c.metadata["end"]] == c.page_content
        assert len(c.page_content) <= 1000
    spans = [(c.metadata["start"], c.metadata["end"]) for c in chunks]
    assert spans == sorted(spans)
    # together they cover the document: only whitespace (where the splitter cut) is left out
    covered = bytearray(len(doc.text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    assert all(ch.isspace() for ch, c in zip(doc.text, covered, strict=True) if not c)


def test_top_passage_pipeline_quotes_its_first_passage() -> None:
    from langchain_core.documents import Document

    doc = Document("Second passage.", metadata={"source": "d", "start": 10, "end": 25, "score": 0.5})
    pipeline = TopPassagePipeline("fake", lambda q: [doc], {})
    a = pipeline.ask("Anything?", [["ignored", None]])
    assert a.answer == "Second passage. [1]" and not a.abstained and a.backend == "fake"
    assert [(c.start, c.end, c.quote) for c in a.citations] == [(10, 25, "Second passage.")]
    assert set(a.timings_ms) == {"retrieve", "answer", "total"}
    nothing = TopPassagePipeline("fake", lambda q: [], {}).ask("Anything?")
    assert nothing.abstained and nothing.citations == []


# -- the benchmark on the shipped set -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Benchmark:
    """The default configuration and every baseline over the shipped set, in a store of the benchmark's own."""
    own = settings.with_(store=tmp_path_factory.mktemp("eval-store"))
    return run_benchmark(own, [BUNDLED_ARTICLE], [ARTICLE_SET], progress=False)


def test_benchmark_runs_every_system_on_every_question(bench: Benchmark) -> None:
    assert [r.name for r in bench.runs] == ["product", *BASELINES]
    assert bench.missing_evidence == []
    assert bench.settings.collection.startswith("eval-")
    for run in bench.runs:
        assert [r.example.id for r in run.scored] == [e.id for e in bench.examples]
        for r in run.scored:
            for c in r.answer.citations:
                assert c.quote == ARTICLE_TEXT[c.start : c.end]
            for p in r.answer.retrieved:
                assert p.text == ARTICLE_TEXT[p.start : p.end]
    tutorial = bench.run("langchain-tutorial")
    assert all(len(r.answer.retrieved) <= 4 for r in tutorial.scored)
    assert all(len(r.answer.retrieved) <= bench.settings.k for r in bench.run("bm25").scored)
    # Baselines quote their top passage: never more than one citation, and it is that passage.
    for r in tutorial.scored:
        assert r.answer.abstained or (r.answer.citations[0].start, r.answer.citations[0].end) == (
            r.answer.retrieved[0].start,
            r.answer.retrieved[0].end,
        )


def test_quality_floors_hold_for_the_default_configuration(bench: Benchmark) -> None:
    m = bench.run("product").metrics
    report = terminal_table(bench)
    for key in ("hit_at_1", "hit_at_k", "mrr", "key_fact_recall", "citation_precision", "citation_recall"):
        assert m[key] is not None and m[key] >= FLOORS[key], f"{key} below its floor {FLOORS[key]}\n{report}"
    for key in ("abstention_precision", "abstention_recall"):
        assert m[key] is not None and m[key] >= FLOORS[key], f"{key} below its floor {FLOORS[key]}\n{report}"
    assert m["false_abstention"] is not None and m["false_abstention"] <= FLOORS["false_abstention_max"], report


def test_the_product_beats_the_tutorial_pipeline(bench: Benchmark) -> None:
    product, tutorial = bench.run("product").metrics, bench.run("langchain-tutorial").metrics
    for key in ("hit_at_k", "mrr", "key_fact_recall", "citation_precision", "abstention_recall"):
        assert product[key] > tutorial[key], key  # type: ignore[operator]


def test_report_files_are_written_and_agree(bench: Benchmark, tmp_path: Path) -> None:
    paths = write(bench, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"report.md", "results.json", "chart.png"}
    data = json.loads(paths["results"].read_text(encoding="utf-8"))
    assert set(data["systems"]) == {"product", *BASELINES}
    assert data["systems"]["product"]["metrics"] == bench.run("product").metrics
    assert len(data["questions"]) == len(bench.examples)
    report = paths["report"].read_text(encoding="utf-8")
    assert "![metrics by system](chart.png)" in report
    assert "at least half of the retrieved passage lies inside one" in report  # the hit rule is documented
    for metric in METRICS:
        assert f"| {metric.label}" in report
    product_hit = f"{bench.run('product').metrics['hit_at_k']:.3f}"
    assert product_hit in report.split("## How to read it")[0]
    from PIL import Image

    with Image.open(paths["chart"]) as img:
        assert img.format == "PNG" and img.size[0] >= 1200 and img.size[1] >= 700
        # not a blank canvas: the bars put many colours on it
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 20
    assert markdown(bench, None).count("![") == 0 and results_json(bench)["missing_evidence"] == []


# -- another document: the LlamaIndex set --------------------------------------------------------------------
def test_llamaindex_benchmark_reports_key_facts_as_na(settings: Settings, tmp_path: Path) -> None:
    own = settings.with_(store=tmp_path / "store")
    bench = run_benchmark(own, [COVID_DOC], [COVID_SET, COVID_UNANSWERABLE], baselines=(), progress=False)
    m = bench.run("product").metrics
    floors = FLOORS["origin_of_covid19"]
    report = terminal_table(bench)
    assert m["key_fact_recall"] is None and "n/a" in report
    assert m["hit_at_k"] is not None and m["hit_at_k"] >= floors["hit_at_k"], report
    assert m["mrr"] is not None and m["mrr"] >= floors["mrr"], report
    assert m["citation_recall"] is not None and m["citation_recall"] >= floors["citation_recall"], report
    assert m["abstention_recall"] is not None and m["abstention_recall"] >= floors["abstention_recall"], report
    assert m["false_abstention"] is not None and m["false_abstention"] <= floors["false_abstention_max"], report


# -- the command line ---------------------------------------------------------------------------------------
def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, cwd=cwd)


@pytest.mark.slow
def test_rag_eval_writes_the_report(tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    lines = ARTICLE_SET.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(lines[:4] + lines[-3:]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _run(sys.executable, "-m", "rag.cli", "eval", "--dataset", str(small), "--out", str(out), "-k", "3")
    assert proc.returncode == 0, proc.stderr
    assert "hit@k" in proc.stdout and "langchain-tutorial" in proc.stdout and "Traceback" not in proc.stderr
    assert {p.name for p in out.iterdir()} == {"report.md", "results.json", "chart.png"}
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["settings"]["k"] == 3 and len(data["questions"]) == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "no-such-set.jsonl"], "dataset no-such-set.jsonl does not exist"),
        (["--docs", str(COVID_DOC)], "--docs needs --dataset"),
        (["--docs", str(COVID_DOC), "--dataset", str(ARTICLE_SET)], "none of the dataset's evidence"),
        (["--docs", "missing.txt", "--dataset", str(ARTICLE_SET)], "missing.txt: no such file"),
    ],
    ids=["missing-dataset", "docs-without-dataset", "wrong-docs", "missing-doc"],
)
def test_python_m_eval_reports_mistakes_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _run(sys.executable, "-m", "eval", *args, "--out", str(tmp_path / "out"), cwd=Path(__file__).parents[1])
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


# -- casual variants and the suite over every document ------------------------------------------------------
def test_casual_variant_lowercases_drops_the_mark_and_swaps_two_letters_once() -> None:
    ex = Example("q-1", "When did the Governor sign the Emergency order?", True)
    out = casual(ex)
    assert out == casual(ex) and out.id == ex.id and out.answerable
    assert not out.question.endswith("?") and out.question == out.question.lower()
    plain = ex.question.lower().rstrip("?")
    diff = [i for i, (a, b) in enumerate(zip(plain, out.question, strict=True)) if a != b]
    assert len(diff) == 2 and diff[1] == diff[0] + 1  # one adjacent swap ...
    assert plain[diff[0]] == out.question[diff[1]] and plain[diff[1]] == out.question[diff[0]]
    assert "emergency" not in out.question  # ... inside the longest word
    assert casual(Example("q-2", "Who is he?", True)).question == "who is he"  # no word long enough to mistype


def test_suite_merges_backends_casual_variants_and_baselines(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval import suite

    small = tmp_path / "small.jsonl"
    lines = ARTICLE_SET.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(lines[:3] + lines[-2:]) + "\n", encoding="utf-8")
    monkeypatch.setattr(suite, "SPLITS", {"dev": {"article": [small]}})
    monkeypatch.setattr(suite, "OUT", tmp_path / "out")
    args = argparse.Namespace(
        split="dev",
        backends=["extractive"],
        documents=["article"],
        baselines=["bm25"],
        casual=True,
        store=str(settings.store),
    )
    assert suite.run(args) == 0
    summary = (tmp_path / "out" / "suite-dev" / "README.md").read_text(encoding="utf-8")
    assert "| metric | extractive | extractive casual | bm25 |" in summary and "| type |" in summary
    data = json.loads((tmp_path / "out" / "suite-dev" / "article" / "results.json").read_text(encoding="utf-8"))
    assert list(data["systems"]) == ["extractive", "extractive casual", "bm25"]
    assert len(data["questions"]) == 5 and all(len(q["systems"]) == 3 for q in data["questions"])
