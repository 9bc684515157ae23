"""Grounded question answering over a document: condense -> retrieve -> answer -> cite.

Import :class:`rag.chain.Assistant` for the Python API; ``rag`` on the command line is :mod:`rag.cli`.
"""
