"""EmbeddingGemma-300M on onnxruntime + tokenizers (no torch at run time), from the verified cache folder.

The graph (gemma_export.py) is the whole sentence-transformers pipeline, ending in the
L2-normalised 768-dim sentence embedding. Here: the model's own prompts, read from its
config_sentence_transformers.json ("query" for questions, "document" for passages, as
the torch path uses them), its tokenizer.json (<bos> ... <eos>), truncation at its
max_seq_length (2,048 tokens), batches of similar lengths.

Variants: "int8" (default: weights int8 per channel, activations int8 per token),
"fp32" (the exact graph), "int8-dynamic" (onnxruntime's quantize_dynamic, for comparison).
An exported folder is built from the verified one the first time it is needed (one line on
stderr, about a minute) and rebuilt when the source or the recipe changes.

Matryoshka: `dim` (768, 512, 256 or 128) keeps the first `dim` coordinates and renormalises,
as the model was trained for. A truncated space is another vector space: its model_id is
"google/embeddinggemma-300m@<dim>", so an index built at one size refuses the other.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from . import gemma_export
from .gemma_export import VARIANTS

DEFAULT_VARIANT = "int8"
MATRYOSHKA_DIMS = (768, 512, 256, 128)
MODEL_ID = "google/embeddinggemma-300m"


def model_id_for(dim: int, full: int = 768, base: str = MODEL_ID) -> str:
    """The vector space's name: the model's id, with "@<dim>" when truncated."""
    return base if dim == full else f"{base}@{dim}"


def read_prompts(source: Path) -> tuple[str, str]:
    """(query prompt, document prompt) from the model's sentence-transformers config."""
    cfg = json.loads((source / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    prompts = cfg.get("prompts") or {}
    query, document = prompts.get("query"), prompts.get("document") or prompts.get("passage")
    if not query or not document:
        raise ValueError(f"{source}: config_sentence_transformers.json has no query/document prompts")
    return query, document


def max_tokens(source: Path) -> int:
    try:
        return int(json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 2048


class GemmaOnnxEmbedder:
    """EmbeddingGemma-300M on onnxruntime; `source` is the verified sentence-transformers folder."""

    def __init__(self, source: str | Path, source_digest: str, variant: str = DEFAULT_VARIANT,
                 threads: int = 1, dim: int | None = None, batch_size: int = 8, export_root: Path | None = None):
        from .onnx import cpu_session
        from tokenizers import Tokenizer

        if variant not in VARIANTS:
            raise ValueError(f"unknown EmbeddingGemma ONNX variant {variant!r}; one of {', '.join(VARIANTS)}")
        self.source = Path(source)
        self.variant = variant
        self.folder = gemma_export.build(self.source, source_digest, variant, export_root,
                                         log=lambda s: print(s, file=sys.stderr, flush=True))
        self.threads = int(threads)
        self.batch_size = int(batch_size)
        self._sess = cpu_session(self.folder / "model.onnx", self.threads)
        full = int(self._sess.get_outputs()[0].shape[-1])
        self.dim = int(dim or full)
        if self.dim not in MATRYOSHKA_DIMS or self.dim > full:
            raise ValueError(f"EmbeddingGemma dimension must be one of {MATRYOSHKA_DIMS}, not {self.dim}")
        self.model_id = model_id_for(self.dim, full)
        self.backend = f"onnx-{variant}"
        self.query_prompt, self.passage_prompt = read_prompts(self.source)
        tok = Tokenizer.from_file(str(self.source / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_tokens(self.source))
        self._tok = tok
        self._pad = tok.token_to_id("<pad>") or 0

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encs = [self._tok.encode(texts[0])] if len(texts) == 1 else self._tok.encode_batch(texts)
        lens = np.array([len(e.ids) for e in encs])
        out = np.zeros((len(texts), self.dim), np.float32)
        for a in range(0, len(texts), self.batch_size):
            idx = np.argsort(lens, kind="stable")[a:a + self.batch_size]  # similar lengths: less padding
            ids = np.full((len(idx), int(lens[idx].max())), self._pad, np.int64)
            mask = np.zeros_like(ids)
            for r, j in enumerate(idx):
                ids[r, :lens[j]] = encs[j].ids
                mask[r, :lens[j]] = 1
            vecs = self._sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            out[idx] = vecs[:, :self.dim]
        if self.dim != vecs.shape[1]:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([self.passage_prompt + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self.query_prompt + text])[0]

    def __repr__(self) -> str:
        return f"GemmaOnnxEmbedder({str(self.folder)!r}, variant={self.variant!r}, dim={self.dim}, threads={self.threads})"
