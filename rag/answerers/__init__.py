"""Answerer backends, chosen by name in :func:`make_answerer`."""

from __future__ import annotations

from rag.answerers.base import Answerer, AnswerRequest, Draft
from rag.config import Settings
from rag.corpus import Corpus
from rag.errors import ConfigError

BACKENDS = ("extractive",)


def make_answerer(settings: Settings, corpus: Corpus) -> Answerer:
    """Build the answerer named by ``settings.backend``; an unknown name lists the valid ones."""
    match settings.backend:
        case "extractive":
            from rag.answerers.extractive import ExtractiveAnswerer

            return ExtractiveAnswerer(corpus, threshold=settings.abstain_threshold)
        case other:
            raise ConfigError(f"unknown backend {other!r}; choose one of: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "AnswerRequest", "Answerer", "Draft", "make_answerer"]
