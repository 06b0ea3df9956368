"""Deterministic identities. Pure functions: the same input gives the same id on every machine."""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace so ids survive re-deploys; never change it or every object in the index moves.
DEMOCRATA_NAMESPACE = uuid.UUID("6f1d3c8e-6a43-5e7a-9b1e-2f0c0d9a7d11")
_SEP = "\u241f"  # SYMBOL FOR UNIT SEPARATOR: cannot occur in native ids or source names


def document_id(source: str, native_id: str) -> str:
    """A record's id from its source's own id (parlparse speech id, DivisionId, billId …)."""
    return str(uuid.uuid5(DEMOCRATA_NAMESPACE, f"{source}{_SEP}{native_id}"))


def chunk_id(source: str, native_id: str, chunk_index: int) -> str:
    """uuid5(namespace, source ␟ native id ␟ chunk number): re-chunking the same record overwrites."""
    return str(uuid.uuid5(DEMOCRATA_NAMESPACE, f"{source}{_SEP}{native_id}{_SEP}{chunk_index}"))


def content_hash(*parts: str) -> str:
    """sha256 over the parts, separated so ("ab", "c") and ("a", "bc") differ."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(_SEP.encode("utf-8"))
    return digest.hexdigest()


def bytes_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
