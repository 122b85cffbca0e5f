"""The export files: their builders, a per-snapshot file cache, and signed short-lived download URLs.

    EXPORTS["position-breakdown-by-size"].build(store, snapshot, "BTC")     # -> the file's bytes
    files = ExportFiles(root, store)
    relative = files.path_for(snapshot, "position-breakdown-by-size", "BTC")   # built once per snapshot
    params = UrlSigner(secret).sign(relative)                                 # {"expires", "signature"}
    UrlSigner(secret).verify(relative, params["expires"], params["signature"])
    path = files.resolve(relative)                                            # the file to send

Shapes and sources of every file: docs/exports.md. Reads go through the store's named queries only.

Exceptions:

    Exception
     ├── ExportError      unknown export name, coin given or missing, a path that is bad, escapes root
     │                    or does not exist
     └── SignatureError   a download URL that is not ours ("bad signature") or too old ("expired")
"""

from __future__ import annotations

from hltracker.exports.base import CSV, JSON, ExportError, ExportSpec
from hltracker.exports.files import ExportFiles, coin_slug
from hltracker.exports.registry import EXPORTS
from hltracker.exports.sampling import Sample, sample_snapshots
from hltracker.exports.signing import SignatureError, UrlSigner

__all__ = [
    "CSV",
    "EXPORTS",
    "JSON",
    "ExportError",
    "ExportFiles",
    "ExportSpec",
    "Sample",
    "SignatureError",
    "UrlSigner",
    "coin_slug",
    "sample_snapshots",
]
