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
COVID_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "origin_of_covid19"


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
