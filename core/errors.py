"""The project's exceptions: every error a user can cause, with a message that says what to do.

The CLI, the HTTP API and the UI catch :class:`RagError` and show its message; anything else is a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class RagError(Exception):
    """Base class for errors a user can cause or fix."""


class InputError(RagError, ValueError):
    """A question, flag or file the user gave is not usable as it is."""


class DocumentError(InputError):
    """A document cannot be loaded (missing, binary, not UTF-8, empty, unsupported type)."""


class StoreError(RagError):
    """The vector store is missing, unreadable, or does not match this configuration."""


class EmbeddingMismatchError(StoreError):
    """The store was built with a different embedding model than the one configured."""


class ConfigError(RagError):
    """A setting (flag or environment variable) has a value that cannot work."""


class LLMError(RagError):
    """The language model could not be reached or refused the request (after the configured retries)."""


def run_command(func: Callable[[], int], debug: bool = False) -> int:
    """Run a command-line entry point: a :class:`RagError` prints one line (``error: ...``) and exits 1,
    Ctrl-C exits 130, and anything else (a bug) prints one line and exits 70, with the traceback only when
    ``debug`` (``RAG_DEBUG=1``) asks for it."""
    try:
        return func()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set RAG_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 70
