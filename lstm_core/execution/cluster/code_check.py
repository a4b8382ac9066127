"""Whether a cluster's workers run this server's code: the same project files, and TensorFlow.

A worker started from an older clone would train with other code than the page promises, and
one without TensorFlow cannot train at all; both are refused in one sentence when connecting.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A short hash of every Python file of `lstm_core` as this process finds it on disk."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def worker_code() -> tuple[str, bool]:
    """Run on a worker: its code's fingerprint and whether it can import TensorFlow."""
    return code_fingerprint(), importlib.util.find_spec("tensorflow") is not None


def mismatched_workers(reports: dict[str, object]) -> tuple[list[str], list[str]]:
    """From `Client.run(worker_code)`'s answers: the workers with other code, and those
    without TensorFlow. An answer that is not a pair (an error) counts as other code."""
    ours = code_fingerprint()
    other_code, no_tensorflow = [], []
    for worker, report in sorted(reports.items()):
        if not isinstance(report, tuple) or len(report) != 2:
            other_code.append(worker)
            continue
        fingerprint, has_tensorflow = report
        if fingerprint != ours:
            other_code.append(worker)
        elif not has_tensorflow:
            no_tensorflow.append(worker)
    return other_code, no_tensorflow
