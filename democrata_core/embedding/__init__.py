"""Embedders behind one small interface; the index and the serving layer never know which one."""

from democrata_core.embedding.base import Embedder, build_embedder

__all__ = ["Embedder", "build_embedder"]
