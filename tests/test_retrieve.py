from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from index.chunker import Chunk
from rag.bm25 import BM25Index
from rag.chain import Assistant
from rag.retrieve import HybridRetriever
from tests.conftest import ARTICLE_TEXT


class Fixed(BaseRetriever):
    """A retriever that returns fixed ids in order: a fake for testing the fusion logic only."""

    ids: list[str]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=i, metadata={"id": i, "start": n, "score": 0.0}) for n, i in enumerate(self.ids)]


def test_weighted_reciprocal_rank_fusion() -> None:
    fused = HybridRetriever(
        retrievers=[Fixed(ids=["a", "b", "c"]), Fixed(ids=["c", "b", "d"])], weights=[0.5, 0.5], k=3
    )
    docs = fused.invoke("q")
    # c: 1/11 + 1/13 halves, b: 1/12 + 1/12 halves, a: 1/11 half (RRF_K = 10)
    assert [d.metadata["id"] for d in docs] == ["c", "b", "a"]
    assert docs[0].metadata["score"] >= docs[1].metadata["score"] >= docs[2].metadata["score"]
    heavy = HybridRetriever(retrievers=[Fixed(ids=["a", "b"]), Fixed(ids=["b", "a"])], weights=[0.9, 0.1], k=1)
    assert heavy.invoke("q")[0].metadata["id"] == "a"


def test_bm25_prefers_the_passage_with_the_rare_words() -> None:
    chunks = [
        Chunk("1", "s", 0, 10, "The Pentagon set a deadline."),
        Chunk("2", "s", 10, 20, "The Pentagon talked about the Defense Production Act."),
        Chunk("3", "s", 20, 30, "Nothing relevant here."),
    ]
    index = BM25Index.build(chunks)
    hits = index.search("defense production act", 3)
    assert hits[0][0].id == "2" and all(score > 0 for _, score in hits)
    assert index.search("zebra", 3) == []


def test_hybrid_retrieval_returns_k_passages_with_exact_offsets(assistant: Assistant) -> None:
    docs = assistant.retriever.invoke("What did Sean Parnell post on X?")
    assert len(docs) == assistant.settings.k
    for d in docs:
        assert ARTICLE_TEXT[d.metadata["start"] : d.metadata["end"]] == d.page_content
    assert any("Sean Parnell posted on X" in d.page_content for d in docs[:2])


def test_dense_and_bm25_each_work_alone(assistant: Assistant) -> None:
    bm25, dense = assistant.retriever.retrievers
    assert "Defense Production Act" in bm25.invoke("Defense Production Act")[0].page_content
    assert "missile defense" in " ".join(d.page_content for d in dense.invoke("Which military use was offered?")[:3])


def test_terms_meet_across_inflections_and_irregular_forms() -> None:
    from rag.text import terms

    assert terms("deadlines") == terms("deadline")
    assert terms("surveillance") == terms("surveil")
    assert terms("lost") == terms("losing") == terms("lose")
    assert terms("sent") == terms("send")
    assert terms("used") == terms("using")
    assert terms("Anthropic’s") == terms("Anthropic")
    assert terms("posted") != terms("postal")  # a stemmer, not a fuzzy matcher
    assert terms("Sen. Tillis")[0] == terms("senator")[0] == terms("Senate")[0]  # abbreviated titles
    assert terms("the 5:01 deadline") == ["5:01", *terms("deadline")]
