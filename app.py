"""The chat window, the embeddable widget and the HTTP API, served as one FastAPI process.

``python app.py`` serves on http://127.0.0.1:7860 (``--host``/``--port`` or ``RAG_HOST``/``RAG_PORT``),
indexing the bundled article first if the store is empty:

- ``/``                    the chat, with a sources panel and the whole document
- ``/widget/``             the compact widget, for an iframe or the ``<gradio-app>`` web component
- ``POST /api/ask``        ``{"question", "history"}`` -> the answer object (see DESIGN.md)
- ``/examples/embed.html`` a host page embedding the widget both ways

Other apps can mount what :func:`create_app` returns; nothing is launched until :func:`main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError, RagError
from core.paths import cache_root
from rag.config import Settings, add_arguments, from_args

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.web.config import WebSettings


def create_app(settings: Settings | None = None, assistant: Any = None, web: WebSettings | None = None) -> FastAPI:
    """The FastAPI app holding the chat (``app.state.blocks["/"]``), the widget and the API, not launched.

    ``assistant`` (a loaded :class:`rag.chain.Assistant`) is built from ``settings`` when not given, so the
    models and store load once; ``web`` defaults to :meth:`WebSettings.from_env`.
    """
    from rag.web.config import WebSettings
    from rag.web.server import build_app

    if assistant is None:
        from rag.library import Library

        assistant = Library(settings or Settings.from_env())  # the collection must exist: see main()
    return build_app(assistant, web or WebSettings.from_env())


#: The settings ``python app.py`` takes as flags; each is declared once, with its help text and variable.
SERVE_FLAGS = ("host", "port", "embed_origins", "uploads", "max_upload_mb")
ANSWER_FLAGS = ("store", "collection", "chroma_url", "backend")


def build_parser() -> argparse.ArgumentParser:
    """The command-line flags of ``python app.py``."""
    from rag.web.config import WebSettings

    p = argparse.ArgumentParser(prog="app.py", description="Serve the chat, the widget and the HTTP API.")
    add_arguments(p, WebSettings, SERVE_FLAGS)
    return add_arguments(p, Settings, ANSWER_FLAGS)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, index the bundled article on first use, load the assistant once, and serve."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Files sent to the app are kept in its own folder, not the machine's shared temporary one.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(cache_root() / "uploads"))
    try:
        from rag.ingest import ensure_collection
        from rag.web.config import WebSettings

        web = from_args(WebSettings, args)
        _check_address(web.host, web.port)  # before the models load, so a busy port fails at once
        settings = from_args(Settings, args)
        ensure_collection(settings, lambda message: print(message, file=sys.stderr, flush=True))
        app = create_app(settings, web=web)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    import uvicorn

    print(f"Serving the chat on http://{web.host}:{web.port}/ (widget: /widget/, API: POST /api/ask)", flush=True)
    try:
        uvicorn.run(app, host=web.host, port=web.port, log_level="warning")
    except (OSError, SystemExit):
        print(f"error: cannot serve on {web.host}:{web.port} (see above)", file=sys.stderr)
        return 1
    return 0


def _check_address(host: str, port: int) -> None:
    """Raise :class:`ConfigError` unless ``host:port`` can be listened on right now."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot listen on {host}:{port} ({reason}); stop the program using it or choose another --host or --port"
        ) from None


if __name__ == "__main__":
    sys.exit(main())
