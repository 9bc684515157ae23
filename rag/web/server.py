"""One FastAPI process: the chat at ``/``, the widget at ``/widget/``, ``POST /api/ask`` and the embed example.

Only the app's own files are served: Gradio's file route keeps its default (nothing outside its cache),
and the one static page, ``/examples/embed.html``, is a fixed route rather than a folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.web.api import AskService, api_router
from rag.web.config import WebSettings
from rag.web.ui import ChatAssistant, ChatUI

ROOT = Path(__file__).resolve().parents[2]
EMBED_EXAMPLE = ROOT / "examples" / "embed.html"
STYLE = Path(__file__).resolve().parent / "static" / "chat.css"
WIDGET_PATH = "/widget"


class SecurityHeaders:
    """Adds headers to every response: who may frame the pages, and that images load only from here."""

    def __init__(self, app: ASGIApp, web: WebSettings) -> None:
        self.app = app
        ancestors = "" if web.any_origin else "frame-ancestors 'self' " + " ".join(web.embed_origins) + "; "
        policy = f"{ancestors}img-src 'self' data: blob:; media-src 'self' data: blob:; object-src 'none'"
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the headers to the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The largest request body a Gradio route (the chat's events and API, with the conversation so far) takes.
MAX_GRADIO_BODY = 1024 * 1024


class RequestLimits:
    """Limits on every request, before any route reads it: a body over its route's limit is refused with
    413 as soon as its declared length or the bytes received say so (nothing is read further); file uploads
    are refused (403) where no document panel takes them (the widget; the chat window when uploads are off)
    and from pages of other origins than the app's and the configured embedding ones."""

    def __init__(self, app: ASGIApp, web: WebSettings) -> None:
        self.app = app
        self.web = web
        self.upload_limit = web.max_upload_mb * 1024 * 1024 + 64 * 1024  # the file and its multipart framing

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        path: str = scope.get("path", "")
        if not path.endswith("/gradio_api/upload"):
            return None
        if path.startswith(WIDGET_PATH + "/") or not self.web.uploads:
            return 403, "this page takes no file uploads"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin", "")
        own = {f"http://{headers.get('host', '')}", f"https://{headers.get('host', '')}"}
        if origin and not self.web.any_origin and origin not in own and origin not in self.web.embed_origins:
            return 403, f"uploads are not accepted from pages of {origin}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is over its limit; pass the rest on, counting its body as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _error(send, *refusal)
            return
        path: str = scope.get("path", "")
        if path.startswith("/api/"):
            await self.app(scope, receive, send)  # the API reads its body with its own limit and messages
            return
        limit = self.upload_limit if path.endswith("/gradio_api/upload") else MAX_GRADIO_BODY
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _error(send, 413, f"the request is over {limit // 1024} KB")
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Past the limit: the client gets its 413 now, and the route is told the client has gone.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started and not refused:
                        refused = True
                        await _error(send, 413, f"the request is over {limit // 1024} KB")
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the route's own answer to a request already refused
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)


async def _error(send: Send, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_app(assistant: ChatAssistant, web: WebSettings) -> FastAPI:
    """Assemble the app around an assistant that is already loaded; nothing is launched."""
    service = AskService(assistant, web.workers, web.queue_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(title="rag-article", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if web.any_origin else list(web.embed_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(RequestLimits, web=web)
    app.add_middleware(SecurityHeaders, web=web)

    app.include_router(api_router(service))

    @app.get("/examples/embed.html", include_in_schema=False)
    def embed_example() -> FileResponse:
        return FileResponse(EMBED_EXAMPLE, media_type="text/html")

    @app.get(WIDGET_PATH, include_in_schema=False)
    def widget_without_slash() -> RedirectResponse:
        return RedirectResponse(WIDGET_PATH + "/")

    @app.get("/gradio.js", include_in_schema=False)
    def web_component() -> Response:
        # Gradio's own loader for the <gradio-app> web component, served here so embedding needs no CDN.
        return FileResponse(
            Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js", media_type="text/javascript"
        )

    ui = ChatUI(assistant, uploads=web.uploads, max_upload_mb=web.max_upload_mb)
    full, widget = ui.build(), ui.build(compact=True)
    common: dict[str, Any] = {
        "css_paths": [STYLE],
        "footer_links": [],
        "run_history": False,
        "show_error": True,
        "ssr_mode": False,
        "mcp_server": False,
        "max_file_size": f"{web.max_upload_mb}mb",  # Gradio refuses larger uploads on every route
    }
    for blocks in (full, widget):
        blocks.queue(max_size=web.queue_size, default_concurrency_limit=web.workers)
    gr.mount_gradio_app(app, widget, path=WIDGET_PATH, **common)
    gr.mount_gradio_app(app, full, path="/", **{**common, "footer_links": ["api"]})
    app.state.blocks = {"/": full, WIDGET_PATH: widget}
    app.state.service = service
    return app
