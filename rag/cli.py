"""The ``rag`` command line: index, ask (one question, a batch, or an interactive chat), docs, collections, eval.

User errors print one line (``error: ...``) and exit 1; usage errors exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from core.contract import Answer
from core.errors import DocumentError, InputError, RagError, run_command
from rag.config import Settings, add_arguments, from_args

#: The settings each group of subcommands takes as flags (declared once, in :class:`rag.config.Settings`).
STORE_FLAGS = ("store", "collection", "chroma_url")
INDEX_FLAGS = ("chunk_size", "chunk_overlap")
ANSWER_FLAGS = ("backend", "k")


def _settings(args: argparse.Namespace) -> Settings:
    return from_args(Settings, args)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _assistant(args: argparse.Namespace) -> Any:
    from rag.chain import Assistant
    from rag.ingest import ensure_collection

    settings = _settings(args)
    ensure_collection(settings, _say)
    return Assistant(settings)


def format_answer(answer: Answer) -> str:
    """The answer as a reader sees it on a terminal: the text, then each numbered source with its quote."""
    lines = [answer.answer]
    if answer.standalone_question:
        lines.insert(0, f"(understood as: {answer.standalone_question})")
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            quote = " ".join(c.quote.split())
            where = f"{c.source}, p. {c.page}" if c.page else c.source
            lines.append(f"[{c.id}] {where}, characters {c.start}-{c.end}: “{quote}”")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    """``rag index``: add or refresh documents (files, folders) in the store; report what was skipped."""
    from rag.ingest import index_files

    settings = _settings(args)
    reports, skipped = index_files(
        settings, args.paths, sys.stderr.isatty(), args.include or (), args.exclude or (), args.name
    )
    if not reports and len(skipped) == 1 and len(args.paths) <= 1:  # the one file given cannot be read
        raise DocumentError(f"{skipped[0].path}: {skipped[0].reason}")
    for r in reports:
        if r.unchanged:
            state = "unchanged"
        else:
            state = f"{r.added} chunks embedded, {r.removed} stale removed"
            if r.replaced:
                state += f"; replaced the document of that name from {r.replaced}"
            if r.resumed:
                state += "; an earlier ingest of it that was cut off is now complete"
        print(f"{r.source}: {r.chunks} chunks ({state})")
    for s in skipped:
        print(f"skipped {s.path}: {s.reason}", file=sys.stderr)
    new = sum(not r.unchanged for r in reports)
    summary = f"{len(reports)} document{'s' * (len(reports) != 1)} indexed into {settings.collection!r}"
    summary += f" ({new} new or changed, {len(reports) - new} unchanged)"
    if skipped:
        summary += f"; {len(skipped)} file{'s' * (len(skipped) != 1)} skipped"
    print(summary, file=sys.stderr)
    return 0 if reports or not skipped else 1


def _store(args: argparse.Namespace) -> Any:
    from rag.ingest import store_for

    return store_for(_settings(args))


def cmd_docs_list(args: argparse.Namespace) -> int:
    """``rag docs list``: the documents of a collection."""
    store = _store(args)
    if not store.exists():
        raise InputError(f"no collection {store.name!r} in this store; see: rag collections list")
    docs = store.documents()
    if args.json:
        print(json.dumps([d.to_dict() for d in docs], ensure_ascii=False, indent=2))
        return 0
    rows = [["name", "type", "pages", "chunks", "indexed at"]]
    for d in docs:
        when = d.indexed_at or "(before document records)"
        rows.append([d.name, d.kind, str(d.page_count or "-"), str(d.chunks), when if d.complete else "incomplete"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"{len(docs)} document{'s' * (len(docs) != 1)} in {store.name!r}", file=sys.stderr)
    return 0


def cmd_docs_rm(args: argparse.Namespace) -> int:
    """``rag docs rm NAME ...``: remove documents from a collection."""
    from index.store import writing
    from rag.corpus import refresh

    store = _store(args)
    if not store.exists():
        raise InputError(f"no collection {store.name!r} in this store; see: rag collections list")
    known = {d.name for d in store.documents()}
    missing = [n for n in args.names if n not in known]
    if missing:
        listing = ", ".join(sorted(known)) or "none"
        raise InputError(f"no document named {missing[0]!r} in {store.name!r} (documents: {listing})")
    settings = _settings(args)
    with writing(settings.store, settings.chroma_url, lambda message: print(message, file=sys.stderr)):
        for n in args.names:
            store.remove(n)
        refresh(store)  # what questions read, for the collection as it now is
    out = {"removed": list(args.names), "collection": store.name}
    print(json.dumps(out) if args.json else f"removed {len(args.names)} document(s) from {store.name!r}")
    return 0


def cmd_collections_list(args: argparse.Namespace) -> int:
    """``rag collections list``: the collections of a store, with their document and chunk counts."""
    from rag.ingest import store_for

    settings = _settings(args)
    names = store_for(settings).collection_names()
    rows = []
    for name in names:
        store = store_for(settings.with_(collection=name))
        try:
            docs = store.documents()
            rows.append({"name": name, "documents": len(docs), "chunks": sum(d.chunks for d in docs)})
        except RagError as exc:
            rows.append({"name": name, "documents": None, "chunks": None, "error": str(exc)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        detail = r.get("error") or f"{r['documents']} documents, {r['chunks']} chunks"
        print(f"{r['name']}  {detail}")
    print(f"{len(rows)} collection{'s' * (len(rows) != 1)} in {settings.store}", file=sys.stderr)
    return 0


def cmd_collections_rm(args: argparse.Namespace) -> int:
    """``rag collections rm NAME``: delete a collection with everything in it."""
    from rag.corpus import forget
    from rag.ingest import store_for

    settings = _settings(args)
    store = store_for(settings.with_(collection=args.name))
    forget(store)
    if not store.drop():
        listing = ", ".join(store.collection_names()) or "none"
        raise InputError(f"no collection {args.name!r} in {settings.store} (collections: {listing})")
    print(json.dumps({"removed": args.name}) if args.json else f"removed collection {args.name!r}")
    return 0


def _read_batch(path: str) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read batch file {path}: {exc}") from exc
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or "question" not in item:
            raise InputError(f'{path}, line {n}: expected an object with a "question" field')
        items.append(item)
    return items


def cmd_ask(args: argparse.Namespace) -> int:
    """``rag ask``: answer one question, or a JSONL batch with ``--batch``."""
    if args.batch:
        if not args.out:
            raise InputError("--batch needs --out FILE for the answers")
        if args.question:
            raise InputError("give either a question or --batch, not both")
        return _ask_batch(args)
    if args.question is None:
        raise InputError('no question given; usage: rag ask "QUESTION"')
    history = json.loads(args.history) if args.history else None
    assistant = _assistant(args)
    if args.json:
        print(json.dumps(assistant.ask(args.question, history).to_dict(), ensure_ascii=False, indent=2))
    else:
        print(_format_verified(_answer_streaming(assistant, args.question, history)))
    return 0


def _answer_streaming(assistant: Any, question: str, history: Any) -> Answer:
    """Answer; with an LLM backend, show its tokens on stderr as they arrive (the verified answer follows)."""
    from rag.answerers import LLM_BACKENDS

    if assistant.answerer.name not in LLM_BACKENDS:
        return assistant.ask(question, history)  # type: ignore[no-any-return]
    answer: Answer | None = None
    drafted = False
    for event in assistant.stream(question, history):
        if event.kind == "token":
            print(event.text if drafted else f"(draft) {event.text.lstrip()}", end="", file=sys.stderr, flush=True)
            drafted = True
        else:
            answer = event.answer
    if drafted:
        print("\n", file=sys.stderr, flush=True)
    assert answer is not None
    return answer


def _format_verified(answer: Answer) -> str:
    """:func:`format_answer`, then the sentences the citation verifier could not match to the source."""
    flagged = [s for s in answer.sentences if s.status != "supported"]
    lines = [format_answer(answer)]
    if flagged:
        lines += ["", "Not supported by the source (check before relying on it):"]
        lines += [f"  ! {s.text} ({s.status})" for s in flagged]
    return "\n".join(lines)


def _ask_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    items = _read_batch(args.batch)
    assistant = _assistant(args)
    failures = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for item in tqdm(items, desc="answering", unit="q", disable=not sys.stderr.isatty()):
            try:
                record = assistant.ask(item["question"], item.get("history")).to_dict()
            except RagError as exc:
                failures += 1
                record = {"error": str(exc)}
            out.write(json.dumps({"id": item.get("id"), **record}, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} answers to {args.out}" + (f" ({failures} failed)" if failures else ""))
    return 1 if failures else 0


def cmd_chat(args: argparse.Namespace, stdin: TextIO = sys.stdin) -> int:
    """``rag chat``: an interactive session with follow-up questions; an empty line or Ctrl-D ends it."""
    assistant = _assistant(args)
    history: list[dict[str, Any]] = []  # the answer objects: each follow-up reuses what they knew
    print(f"{assistant.wording.placeholder.rstrip('…. ')} (an empty line quits).", file=sys.stderr)
    while True:
        print("> ", end="", file=sys.stderr, flush=True)
        line = stdin.readline()
        if not line.strip():
            return 0
        try:
            answer = _answer_streaming(assistant, line, history)
        except RagError as exc:
            print(f"error: {exc}")
            continue
        print(_format_verified(answer) + "\n")
        history.append(answer.to_dict())


def cmd_eval(args: argparse.Namespace) -> int:
    """``rag eval``: benchmark the product beside its baselines; print a table, write the report files."""
    from eval.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand; flags come from the settings' declarations."""
    common = add_arguments(argparse.ArgumentParser(add_help=False), Settings, STORE_FLAGS)

    parser = argparse.ArgumentParser(prog="rag", description="Answers about a document, with exact citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index documents (default: the bundled article)")
    p.add_argument("paths", nargs="*", help="files (.txt .md .html .pdf .docx) and folders (walked recursively)")
    p.add_argument("--include", nargs="+", metavar="GLOB", help="in folders, only files matching one of these")
    p.add_argument("--exclude", nargs="+", metavar="GLOB", help="in folders, leave out files matching these")
    p.add_argument("--name", help="the document's name in citations (one file only; default: its file name)")
    add_arguments(p, Settings, INDEX_FLAGS).set_defaults(func=cmd_index)

    p = sub.add_parser("docs", help="list or remove the documents of a collection")
    docs = p.add_subparsers(dest="docs_command", required=True)
    q = docs.add_parser("list", parents=[common], help="name, type, pages, chunks, when indexed")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_docs_list)
    q = docs.add_parser("rm", parents=[common], help="remove documents by name")
    q.add_argument("names", nargs="+", metavar="NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_docs_rm)

    p = sub.add_parser("collections", help="list or delete the collections of a store")
    cols = p.add_subparsers(dest="collections_command", required=True)
    q = cols.add_parser("list", parents=[common], help="collections with their document and chunk counts")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_collections_list)
    q = cols.add_parser("rm", parents=[common], help="delete a collection and everything in it")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_collections_rm)

    answering = add_arguments(argparse.ArgumentParser(add_help=False, parents=[common]), Settings, ANSWER_FLAGS)

    p = sub.add_parser("ask", parents=[answering], help="answer a question")
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    p.add_argument("--history", help='earlier turns as JSON: [["question", "answer"], ...] or answer objects')
    p.add_argument("--batch", metavar="QUESTIONS.jsonl", help='answer each {"id", "question", "history"} line')
    p.add_argument("--out", metavar="ANSWERS.jsonl", help="where --batch writes its answers")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[answering], help="ask questions interactively, with follow-ups")
    p.set_defaults(func=cmd_chat)

    from eval.cli import add_arguments as add_eval_arguments

    p = sub.add_parser("eval", help="benchmark answers, citations and speed against baselines")
    add_eval_arguments(p).set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func

    def run() -> int:
        try:
            return func(args)
        except json.JSONDecodeError as exc:
            raise InputError(f"--history is not valid JSON ({exc.msg})") from None

    return run_command(run, debug=bool(os.environ.get("RAG_DEBUG")))


if __name__ == "__main__":
    sys.exit(main())
