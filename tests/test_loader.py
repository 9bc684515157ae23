from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import DocumentError
from index.loader import BUNDLED_ARTICLE, load_document, load_documents

pytestmark = pytest.mark.fast

SHARED_ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "article.txt"


def test_bundled_article_is_a_byte_exact_copy() -> None:
    import hashlib

    digest = hashlib.sha256(BUNDLED_ARTICLE.read_bytes()).hexdigest()
    assert digest == "413bdd44c79fbb5021d0c0eb14fe57e5a4c4e1c26c4a2b542f77238f1974c92c"
    if SHARED_ARTICLE.exists():
        assert BUNDLED_ARTICLE.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_text_is_kept_exactly(tmp_path: Path) -> None:
    p = tmp_path / "n.md"
    p.write_bytes("# Title\r\n\r\nCurly “quotes” — and <b>html</b>.\r\n".encode())
    d = load_document(p)
    assert d.text == "# Title\r\n\r\nCurly “quotes” — and <b>html</b>.\r\n"
    assert d.source == "n.md"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bin.txt", b"\x7fELF\x00\x01\x02", "binary"),
        ("latin.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not valid UTF-8"),
        ("empty.txt", b"  \n\n", "empty"),
        ("doc.docx", b"hello", "not a readable Word document"),
        ("scan.pdf", b"%PDF-1.4 garbage", "not a readable PDF"),
        ("photo.png", b"\x89PNG", "unsupported file type"),
        ("blank.html", b"<html><body><script>x()</script></body></html>", "has no text to index"),
    ],
)
def test_unusable_files_get_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        load_document(p)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        load_document(tmp_path / "nope.txt")
    with pytest.raises(DocumentError, match="is a folder"):
        load_document(tmp_path)


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfHello there.")
    assert load_document(p).text == "Hello there."


def test_two_files_with_one_name_are_named_by_their_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "same.txt").write_text("Text.", encoding="utf-8")
    both = load_documents([tmp_path / "a" / "same.txt", tmp_path / "b" / "same.txt"])
    assert [d.source for d in both] == ["a/same.txt", "b/same.txt"]  # named apart by their folders
    assert len(load_documents([tmp_path / "a" / "same.txt", tmp_path / "a" / "same.txt"])) == 1
