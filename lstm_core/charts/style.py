"""The colours every chart shares, so a series keeps its colour from page to page."""

from __future__ import annotations

COLORS = {
    "actual": "#1f2937",
    "lstm": "#d62728",
    "persistence": "#1f77b4",
    "train": "#9ca3af",
}
