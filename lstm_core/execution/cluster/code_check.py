"""Whether a cluster's workers run this server's code: the same project files.

A worker started from an older clone would run other code than the page promises (other
tasks, other results); it is refused in one sentence when connecting.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A short hash of every Python file of `lstm_core` as this process finds it on disk
    (run on a worker, the worker's own clone)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def other_code_workers(reports: dict[str, object]) -> list[str]:
    """From `Client.run(code_fingerprint)`'s answers, the workers whose code is not this
    process's, sorted; an answer that is not a fingerprint (an error) counts as other code."""
    ours = code_fingerprint()
    return sorted(worker for worker, report in reports.items() if report != ours)
