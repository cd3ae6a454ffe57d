"""Export the verified EmbeddingGemma folder to ONNX Runtime (fp32, int8), into the model cache beside it.

    python -m index.embed.gemma_export [--variant int8] [--force]

The graph is the whole sentence-transformers pipeline: Gemma3 encoder (bidirectional,
eager attention), masked mean pooling, the two Dense layers (768 -> 3072 -> 768, no bias,
no activation) and L2 normalisation; inputs input_ids and attention_mask (int64,
[batch, tokens]), output sentence_embedding [batch, 768]. Tokenising and prompts stay in
Python (gemma_onnx.py), with the folder's own tokenizer.json.

Variants (folder ``<cache>/embeddinggemma-300m-onnx/<variant>/``):
  "fp32"          the traced graph as is (TorchScript exporter, opset 17), ~1.2 GB.
  "int8"          every MatMul by a weight becomes MatMulInteger: weights int8 per output
                  channel, activations int8 per token (each row's absmax, in the graph), the
                  token embedding table int8 per row; ~310 MB. Per-token scales keep Gemma's
                  outlier tokens from crushing the others (a vector still moves slightly
                  with its batch, cosine 0.997: not understood yet).
  "int8-dynamic"  onnxruntime.quantization.quantize_dynamic (weights int8 per channel,
                  activations u8 per tensor, for the whole batch): kept for comparison only,
                  it agrees worse (cosine 0.97-0.99 vs the reference) and depends more on the batch.

Each folder holds model.onnx (+ model.onnx.data for fp32) and export.json: the hash-list
digest of the verified source, EXPORT_VERSION and the variant. The folder is rebuilt when
any of them changes (`export_is_current`). Builds go to a temporary folder renamed into
place, under a lock file, so two processes never see half an export.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from core.locks import exclusive

EXPORT_VERSION = 1   # bump when the graph or the quantisation recipe changes
VARIANTS = ("fp32", "int8", "int8-dynamic")
MARKER = "export.json"
OPSET = 17


def export_root(source: Path) -> Path:
    """`<cache>/embeddinggemma-300m-onnx`: beside the verified folder, never inside it (the
    verifier refuses unexpected files there)."""
    return source.parent / f"{source.name}-onnx"


def _record(source_digest: str, variant: str) -> dict:
    return {"source_hash_list": source_digest, "export_version": EXPORT_VERSION, "variant": variant}


def export_is_current(folder: Path, source_digest: str, variant: str) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (all(marker.get(k) == v for k, v in _record(source_digest, variant).items())
            and (folder / "model.onnx").is_file())




def _masks(attention_mask, window: int) -> dict:
    """Gemma3's two additive attention masks, built here with plain tensor ops (transformers'
    own mask builders use vmap, which neither ONNX exporter traces): "full_attention" sees every
    real token, "sliding_attention" the real tokens less than `window` positions away on either
    side (bidirectional, as transformers builds it for EmbeddingGemma). Shape [batch, 1, q, k]."""
    import torch

    n = attention_mask.shape[1]
    pos = torch.arange(n)
    real = attention_mask[:, None, None, :].bool()
    near = ((pos[:, None] - pos[None, :]).abs() < window)[None, None]
    zero = torch.zeros((), dtype=torch.float32)
    neg = torch.tensor(torch.finfo(torch.float32).min)
    return {"full_attention": torch.where(real & torch.ones_like(near), zero, neg),
            "sliding_attention": torch.where(real & near, zero, neg)}


def _export_fp32(source: Path, out: Path) -> None:
    """Trace the sentence-transformers pipeline into out/model.onnx (+ model.onnx.data)."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(source), device="cpu", local_files_only=True,
                             model_kwargs={"attn_implementation": "eager"})
    st.eval()
    kinds = [type(m).__name__ for m in st]
    if kinds != ["Transformer", "Pooling", "Dense", "Dense", "Normalize"]:
        raise RuntimeError(f"unexpected sentence-transformers modules {kinds}")
    for dense in (st[2], st[3]):
        if not isinstance(dense.activation_function, torch.nn.Identity) or getattr(dense, "use_residual", False):
            raise RuntimeError("the Dense layers are expected to be plain linear maps")

    window = st[0].auto_model.config.sliding_window

    class Pipeline(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = st[0].auto_model
            self.dense1 = st[2].linear
            self.dense2 = st[3].linear

        def forward(self, input_ids, attention_mask):
            h = self.encoder(input_ids=input_ids, attention_mask=_masks(attention_mask, window),
                             position_ids=torch.arange(input_ids.shape[1]).unsqueeze(0),
                             use_cache=False).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            y = self.dense2(self.dense1(pooled))
            return y / y.norm(dim=-1, keepdim=True).clamp(min=1e-12)

    model = Pipeline().eval()
    tok = st.tokenizer(["title: none | text: một câu ví dụ", "task: search result | query: forest cover target "
                        "tỷ lệ che phủ rừng năm 2025"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        torch.onnx.export(model, (tok["input_ids"], tok["attention_mask"]), str(out / "model.onnx"),
                          input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "sentence_embedding": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    import onnx
    proto = onnx.load(str(out / "model.onnx"))
    onnx.save(proto, str(out / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=1024)


def _quantize_dynamic(fp32: Path, out: Path) -> None:
    """onnxruntime's own recipe: int8 weights per channel, u8 activations per tensor."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32 / "model.onnx"), str(out / "model.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul", "Gather"],
                     extra_options={"MatMulConstBOnly": True})


def _quantize_per_token(fp32: Path, out: Path) -> None:
    """Every MatMul by a constant [K, N] weight becomes MatMulInteger: weights int8 per output
    channel, activations int8 per token (each row's own absmax, u8 around 128, range 1..255), so a
    token's outliers never crush another token's precision.
    The token embedding table becomes int8 per row (Gather of the rows and of their scales)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(fp32 / "model.onnx"))
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    consts = {}

    def const(name: str, arr) -> str:
        if name not in consts:
            consts[name] = numpy_helper.from_array(np.asarray(arr), name)
        return name

    const("q.tiny", np.array(1e-12, np.float32))
    const("q.c127", np.array(127.0, np.float32))
    const("q.c128", np.array(128.0, np.float32))
    const("q.u128", np.array(128, np.uint8))
    const("q.start0", np.array([0], np.int64))
    const("q.end_1", np.array([-1], np.int64))
    new_nodes, dropped = [], set()

    def add(op: str, inputs: list[str], out: str, **attrs) -> str:
        new_nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if node.op_type == "Gather" and node.input[0] in weights and len(weights[node.input[0]].dims) == 2 \
                and weights[node.input[0]].dims[0] > 100_000:
            table = numpy_helper.to_array(weights[node.input[0]]).astype(np.float32)
            scale = np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0
            q = np.clip(np.rint(table / scale[:, None]), -127, 127).astype(np.int8)
            o = node.output[0]
            rows = add("Gather", [const(o + ".q", q), node.input[1]], o + "_q")
            rows = add("Cast", [rows], o + "_f", to=TensorProto.FLOAT)
            sc = add("Gather", [const(o + ".scale", scale.astype(np.float32)[:, None]), node.input[1]], o + "_s")
            add("Mul", [rows, sc], o)
            dropped.add(node.input[0])
            continue
        if w is None or len(w.dims) != 2:
            new_nodes.append(node)
            continue
        W = numpy_helper.to_array(w).astype(np.float32)  # [K, N]
        K, N = W.shape
        wscale = np.maximum(np.abs(W).max(axis=0), 1e-12) / 127.0
        Wq = np.clip(np.rint(W / wscale), -127, 127).astype(np.int8)
        x, o = node.input[0], node.output[0]
        x2 = add("Reshape", [x, const(f"q.k{K}", np.array([-1, K], np.int64))], o + "_x2")
        amax = add("ReduceMax", [add("Abs", [x2], o + "_abs")], o + "_amax", axes=[1], keepdims=1)
        sa = add("Div", [add("Max", [amax, "q.tiny"], o + "_amax1"), "q.c127"], o + "_sa")
        xq = add("Add", [add("Round", [add("Div", [x2, sa], o + "_xs")], o + "_xr"), "q.c128"], o + "_xo")
        xq = add("Cast", [xq], o + "_xq", to=TensorProto.UINT8)
        y = add("MatMulInteger", [xq, const(o + ".Wq", Wq), "q.u128"], o + "_i32")
        y = add("Cast", [y], o + "_yf", to=TensorProto.FLOAT)
        y = add("Mul", [add("Mul", [y, sa], o + "_ya"), const(o + ".wscale", wscale.astype(np.float32))], o + "_yw")
        lead = add("Slice", [add("Shape", [x], o + "_xshape"), "q.start0", "q.end_1"], o + "_lead")
        shape = add("Concat", [lead, const(f"q.n{N}", np.array([N], np.int64))], o + "_shape", axis=0)
        add("Reshape", [y, shape], o)
        dropped.add(w.name)
    used = {i for n in new_nodes for i in n.input}
    kept = [t for t in graph.initializer if t.name not in dropped or t.name in used]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + list(consts.values()))
    onnx.save(model, str(out / "model.onnx"))


def build(source: Path, source_digest: str, variant: str, root: Path | None = None, log=print) -> Path:
    """The exported folder for `variant`, built if missing or stale (fp32 first for the int8 ones)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; one of {', '.join(VARIANTS)}")
    root = root or export_root(source)
    if export_is_current(root / variant, source_digest, variant):
        return root / variant
    with exclusive(root / ".lock"):
        for v in dict.fromkeys(("fp32", variant)):
            if not export_is_current(root / v, source_digest, v):
                _build_one(source, source_digest, v, root, log)
    return root / variant


def _build_one(source: Path, source_digest: str, variant: str, root: Path, log) -> None:
    folder = root / variant
    tmp = root / f".tmp-{variant}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    log(f"exporting {source.name} to ONNX ({variant}) into {folder}, once (a few minutes)...")
    try:
        if variant == "fp32":
            _export_fp32(source, tmp)
        else:
            {"int8": _quantize_per_token, "int8-dynamic": _quantize_dynamic}[variant](root / "fp32", tmp)
        (tmp / MARKER).write_text(json.dumps(_record(source_digest, variant)), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(f.stat().st_size for f in folder.iterdir())
    log(f"exported {source.name} ONNX {variant}: {size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")


def main(argv: list[str] | None = None) -> int:
    from .models import GEMMA, hash_list, verified_folder
    from .verify import ModelUnavailable, list_digest

    ap = argparse.ArgumentParser(prog="python -m index.embed.gemma_export", description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", choices=VARIANTS,
                    help="variant(s) to build (default: int8, the one the engine uses)")
    ap.add_argument("--force", action="store_true", help="rebuild even when current")
    args = ap.parse_args(argv)
    try:
        source = verified_folder(GEMMA)
    except ModelUnavailable as e:
        print(f"{e}; nothing to export", file=sys.stderr)
        return 1
    digest = list_digest(hash_list(GEMMA))
    for variant in args.variant or ["int8"]:
        if args.force:
            (export_root(source) / variant / MARKER).unlink(missing_ok=True)
        print(build(source, digest, variant, log=lambda s: print(s, file=sys.stderr, flush=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
