"""Shared fixtures: one real Chroma store in a temporary folder, indexed once, and one assistant."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index import BUNDLED_ARTICLE
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import index_with

ARTICLE_TEXT = BUNDLED_ARTICLE.read_text(encoding="utf-8")
COVID_DIR = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "origin_of_covid19"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a fresh store holding the bundled article."""
    s = Settings.from_env({}, store=tmp_path_factory.mktemp("store"))
    index_with(s, [BUNDLED_ARTICLE])
    return s


@pytest.fixture(scope="session")
def assistant(settings: Settings) -> Assistant:
    """The default assistant over the bundled article (models load once for the whole run)."""
    return Assistant(settings)


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    """Settings with an empty store of the test's own."""
    return Settings.from_env({}, store=tmp_path / "store")


#: Fixtures that start a server in a subprocess: a test using one is in the slow tier.
SERVER_FIXTURES = frozenset({"live", "app_url", "smol_url", "chroma_server"})


#: Fixtures that load the embedding model or build a store.
MODEL_FIXTURES = frozenset({"settings", "assistant", "fresh_settings", "injected", "benchmark"})
#: Modules whose tests are pure logic unless they use a model, a store or a server.
MIXED_MODULES = frozenset({"test_eval", "test_verify", "test_retrieve"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start servers are slow, whatever their module says; in the mixed modules, a test that uses
    no model, store or server is fast."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if SERVER_FIXTURES & used:
            item.add_marker(pytest.mark.slow)
        elif (
            item.module is not None
            and item.module.__name__.rsplit(".", 1)[-1] in MIXED_MODULES
            and not (MODEL_FIXTURES | {"tmp_path"}) & used
            and item.get_closest_marker("slow") is None
        ):
            item.add_marker(pytest.mark.fast)
