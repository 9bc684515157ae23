"""Answerer backends, chosen by name in :func:`make_answerer`."""

from __future__ import annotations

from core.contract import Draft
from core.errors import ConfigError
from rag.answerers.base import Answerer, AnswerRequest
from rag.config import Settings
from rag.corpus import Corpus

BACKENDS = ("extractive", "fitted", "openai", "llamacpp", "anthropic")
#: The backends whose answers an LLM writes (streamed as tokens, then verified sentence by sentence).
LLM_BACKENDS = ("openai", "llamacpp", "anthropic")


def make_answerer(settings: Settings, corpus: Corpus) -> Answerer:
    """Build the answerer named by ``settings.backend``; an unknown name lists the valid ones.

    Each LLM backend imports its client library only here, when chosen; a missing one raises a
    :class:`ConfigError` saying what to ``pip install``.
    """
    match settings.backend:
        case "extractive":
            from rag.answerers.extractive import ExtractiveAnswerer

            return ExtractiveAnswerer(corpus, threshold=settings.abstain_threshold)
        case "fitted":
            from rag.answerers.fitted import FittedAnswerer

            return FittedAnswerer(corpus)
        case "openai":
            from rag.answerers.llm import LLMAnswerer, openai_model

            where = settings.llm_base_url or "api.openai.com"
            return LLMAnswerer("openai", openai_model(settings), settings, corpus, where)
        case "llamacpp":
            from rag.answerers.llm import LLMAnswerer, llamacpp_model

            model = llamacpp_model(settings)
            return LLMAnswerer("llamacpp", model, settings, corpus, model.model_path)
        case "anthropic":
            from rag.answerers.llm import LLMAnswerer, anthropic_model

            where = settings.llm_base_url or "api.anthropic.com"
            return LLMAnswerer("anthropic", anthropic_model(settings), settings, corpus, where)
        case other:
            raise ConfigError(f"unknown backend {other!r}; choose one of: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "LLM_BACKENDS", "AnswerRequest", "Answerer", "Draft", "make_answerer"]
