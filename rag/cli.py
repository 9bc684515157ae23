"""The ``rag`` command line: index, ask (one question, a batch, or an interactive chat).

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
from core.errors import InputError, RagError, run_command
from rag.config import Settings, add_arguments, from_args

#: The settings each group of subcommands takes as flags (declared once, in :class:`rag.config.Settings`).
STORE_FLAGS = ("store", "collection")
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
            lines.append(f"[{c.id}] {c.source}, characters {c.start}-{c.end}: “{quote}”")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    """``rag index``: add or refresh documents in the store."""
    from rag.ingest import index_with

    reports = index_with(_settings(args), args.paths, progress=sys.stderr.isatty())
    for r in reports:
        state = "unchanged" if r.unchanged else f"{r.added} chunks embedded, {r.removed} stale removed"
        print(f"{r.source}: {r.chunks} chunks ({state})")
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
    print("Ask about the article (an empty line quits).", file=sys.stderr)
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
    p.add_argument("paths", nargs="*", help=".txt or .md files")
    add_arguments(p, Settings, INDEX_FLAGS).set_defaults(func=cmd_index)

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
