"""From a file to a document: find the files to read, read, clean, describe and chunk them."""
from __future__ import annotations

import hashlib
from pathlib import Path

from core.document import Document
from ingest import limits, readers, sandbox
from ingest.chunk import chunk_blocks
from ingest.clean import blocks as clean_blocks
from ingest.metadata import apply_overrides, extract, read_sidecar, sidecar_path
from ingest.structure import label

ROOT = Path(__file__).resolve().parent.parent


def pipeline_version() -> str:
    """Hash of the code that turns a file into a document (ingest/ and core/): when cleaning, metadata
    or chunking change, every file is processed again on the next ingest (vectors are still reused
    wherever the embedded text is unchanged)."""
    digest = hashlib.sha1()
    for folder in ("ingest", "core"):
        for source in sorted((ROOT / folder).rglob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def collect(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[str], list[dict]]:
    """Files to ingest with their source keys ("corpus/000.txt"), the folder prefixes whose
    missing files mean removal, and errors for paths that are not there, hidden or not supported
    (".meta.json" sidecars aside)."""
    files, prefixes, errors = [], [], []
    for path in paths:
        if path.is_dir():
            prefixes.append(f"{path.resolve().name}/")
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.name.endswith(".meta.json"):
                    continue
                relative = file.relative_to(path)
                key = f"{path.resolve().name}/{relative.as_posix()}"
                if file.name.startswith(".incoming-"):  # how the app stages an upload
                    errors.append({"path": key, "reason": "skipped: hidden file, an upload in progress or interrupted"})
                elif any(part.startswith(".") for part in relative.parts):
                    errors.append({"path": key, "reason": "skipped: hidden file"})
                elif readers.supported(file):
                    files.append((file, key))
                else:
                    errors.append({"path": key, "reason": f"skipped: unsupported file type '{file.suffix}'"})
        elif path.is_file():
            files.append((path, f"{path.resolve().parent.name}/{path.name}"))
        else:
            errors.append({"path": str(path), "reason": "no such file or folder"})
    return files, prefixes, errors


def file_sha(path: Path, version: str, sidecar: Path | None = None) -> str:
    """The content hash of a file and its metadata sidecar (by default the one beside it) under one
    version of the ingest code."""
    digest = hashlib.sha1(version.encode())
    for part in (path, sidecar or sidecar_path(path)):
        if part.exists():
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def build_document(path: Path, source: str, sha: str) -> Document:
    """Read (in a child process limited in memory and time, ingest/sandbox.py), clean, describe and
    chunk one file. Raises readers.ReadError / ValueError with a reason, also for a document over the
    character limit (checked before cleaning) or the chunk limit (checked before anything is embedded)."""
    extracted = sandbox.read_isolated(path)
    limits.MAX_CHARS.check(len(extracted.text), "document too long")
    paragraphs = clean_blocks(extracted.text)
    if not paragraphs:
        raise readers.ReadError("no text left after cleaning")
    meta = extract(paragraphs, extracted.text)
    meta.converted_from, meta.ocr = extracted.converted_from, extracted.ocr
    meta = apply_overrides(meta, read_sidecar(path))
    doc = Document(id=Document.id_for(source), source=source, sha=sha, text=extracted.text, meta=meta,
                   pages=extracted.pages)
    context = " – ".join(filter(None, [label(meta.title or path.stem), meta.province]))
    doc.chunks = chunk_blocks(doc.id, paragraphs, context, extracted.pages)
    limits.MAX_CHUNKS.check(len(doc.chunks), "document too long")
    return doc
