"""The MiniLM intermediate GELU: in-place, row-split over the cores vs the plain numpy expression.

numpy runs element-wise maths on one core; this was about half of a forward pass on 2 cores.
"""

from __future__ import annotations

import time

import numpy as np

from democrata_core.embedding.minilm import _gelu, gelu_reference


def best_of(fn, x, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    # One batch of the intermediate layer: 64 chunks × 128 tokens × 1536 features.
    x = (np.random.default_rng(0).standard_normal((64, 128, 1536)) * 3).astype(np.float32)
    assert np.abs(_gelu(x) - gelu_reference(x)).max() < 2e-6
    reference, fast = best_of(gelu_reference, x), best_of(_gelu, x)
    print(f"GELU on {x.shape}: reference {reference * 1000:.0f} ms, in-place split {fast * 1000:.0f} ms")
    print(f"speed-up: {reference / fast:.2f}x (identical within 2e-6)")


if __name__ == "__main__":
    main()
