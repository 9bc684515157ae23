"""``POST /api/ask``: the answer contract over HTTP, with bounded concurrency and clear 4xx errors.

Answers are computed on a small thread pool so the event loop keeps serving the chat. At most
``workers + queue_size`` requests are admitted at once; the next one gets ``503`` with ``Retry-After``
instead of piling up in memory.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.contract import MAX_QUESTION_CHARS, Answer
from core.errors import InputError, RagError

MAX_BODY_BYTES = 256 * 1024
FIELDS = ("question", "history")
USAGE = 'send a JSON object like {"question": "Who wrote the report?", "history": []}'


class Asker(Protocol):
    """What the API needs from :class:`rag.chain.Assistant`."""

    def ask(self, question: str, history: Any = None) -> Answer:
        """Answer one question."""
        ...


class Busy(Exception):
    """Every worker is busy and the waiting line is full."""


class AskService:
    """Runs :meth:`Asker.ask` on a bounded pool, refusing work beyond ``workers + queue_size``."""

    def __init__(self, assistant: Asker, workers: int, queue_size: int) -> None:
        self.assistant = assistant
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rag-api")
        self._slots = threading.BoundedSemaphore(workers + queue_size)

    async def ask(self, question: Any, history: Any) -> Answer:
        """The answer, computed off the event loop; :class:`Busy` when the server is full."""
        if not self._slots.acquire(blocking=False):
            raise Busy
        try:
            job = self._pool.submit(self.assistant.ask, question, history)
        except RuntimeError:  # the pool was shut down
            self._slots.release()
            raise Busy from None
        # The slot is freed when the work ends, not when the client stops waiting for it.
        job.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(job)

    def free_slots(self) -> int:
        """How many more requests would be admitted right now."""
        return int(self._slots._value)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's error shape: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None if it is larger than :data:`MAX_BODY_BYTES` (stops reading as soon as it is)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _payload(body: bytes) -> dict[str, Any] | JSONResponse:
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return error(400, f"the request body is not UTF-8 text; {USAGE}")
    except json.JSONDecodeError as exc:
        return error(400, f"the request body is not valid JSON ({exc.msg} at character {exc.pos}); {USAGE}")
    except RecursionError:
        return error(400, f"the request body is nested too deeply to read; {USAGE}")
    if not isinstance(payload, dict):
        return error(422, f"the request body must be a JSON object, not {type(payload).__name__}; {USAGE}")
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        return error(422, f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are question and history")
    if "question" not in payload:
        return error(422, f'the field "question" is missing; {USAGE}')
    return payload


REQUEST_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["question"],
                    "additionalProperties": False,
                    "properties": {
                        "question": {"type": "string", "maxLength": MAX_QUESTION_CHARS},
                        "history": {
                            "type": "array",
                            "description": "earlier turns, oldest first: [question, answer or null] pairs, or the "
                            "answer objects this API returned (they carry the standalone question and citations)",
                            "items": {
                                "oneOf": [
                                    {
                                        "type": "array",
                                        "minItems": 2,
                                        "maxItems": 2,
                                        "items": {"type": ["string", "null"]},
                                    },
                                    {
                                        "type": "object",
                                        "required": ["question"],
                                        "properties": {
                                            "question": {"type": "string"},
                                            "answer": {"type": ["string", "null"]},
                                            "standalone_question": {"type": ["string", "null"]},
                                            "citations": {"type": "array", "items": {"type": "object"}},
                                        },
                                    },
                                ]
                            },
                        },
                    },
                },
                "example": {"question": "What did she say next?", "history": [["Who wrote the report?", None]]},
            }
        },
    }
}


def api_router(service: AskService) -> APIRouter:
    """The router holding ``POST /api/ask``."""
    router = APIRouter()

    @router.get("/api/ask", include_in_schema=False)
    async def ask_with_get() -> JSONResponse:
        return error(405, f"use POST for /api/ask; {USAGE}", {"Allow": "POST"})

    @router.post("/api/ask", response_model=None, openapi_extra=REQUEST_SCHEMA)
    async def ask(request: Request) -> JSONResponse:
        """Answer ``{"question", "history"}`` with the answer object (see DESIGN.md)."""
        body = await _read_body(request)
        if body is None:
            return error(413, f"the request body is over {MAX_BODY_BYTES // 1024} KB; shorten the history")
        payload = _payload(body)
        if isinstance(payload, JSONResponse):
            return payload
        try:
            answer = await service.ask(payload["question"], payload.get("history"))
        except Busy:
            return error(
                503, "the server is busy answering other questions; try again in a few seconds", {"Retry-After": "2"}
            )
        except InputError as exc:
            return error(400, str(exc))
        except RagError as exc:  # the server's side (store, language model): the user can only retry
            return error(503, str(exc))
        return JSONResponse(answer.to_dict())

    return router
