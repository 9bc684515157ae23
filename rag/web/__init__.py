"""The web surfaces: the Gradio chat and widget, the HTTP API, and the HTML they show.

Importing this package loads nothing heavy; :mod:`rag.web.server` (Gradio, FastAPI) is imported by
``app.py`` when the app is built.
"""
