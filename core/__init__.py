"""The bottom layer: the answer contract, the error family and the types every other package shares.

It imports nothing of this project, so ``index/`` (storage), ``rag/`` (answering), ``eval/`` and the faces
(CLI, web app) can all depend on it without depending on each other.
"""
