"""The project's exceptions: every error a user can cause, with a message that says what to do.

The CLI, the HTTP API and the UI catch :class:`RagError` and show its message; anything else is a bug.
"""

from __future__ import annotations


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
