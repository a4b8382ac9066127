"""The colours every chart shares, so a series keeps its colour from page to page."""

from __future__ import annotations

import zlib

COLORS = {
    "actual": "#1f2937",
    "lstm": "#d62728",
    "persistence": "#1f77b4",
    "train": "#9ca3af",
    "validation": "#b8860b",
}

COMPANY_COLORS = {"AAPL": "#7f7f7f", "GOOG": "#2ca02c", "MSFT": "#1f77b4", "AMZN": "#ff7f0e"}
"""One colour per company on every chart (the four bundled ones; others from RUN_PALETTE)."""

RUN_PALETTE = (
    "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
)  # fmt: skip
"""Colours of runs and further companies, in order: the n-th chosen run keeps the n-th colour."""


def company_color(ticker: str) -> str:
    """The colour of `ticker` wherever it is drawn: fixed for the bundled companies, else one
    picked by a stable hash of its name (the same on every page and every server)."""
    if ticker in COMPANY_COLORS:
        return COMPANY_COLORS[ticker]
    return RUN_PALETTE[zlib.crc32(ticker.encode()) % len(RUN_PALETTE)]


def run_colors(labels: list[str]) -> dict[str, str]:
    """One colour per run label, in order, for every chart that shows those runs."""
    return {label: RUN_PALETTE[index % len(RUN_PALETTE)] for index, label in enumerate(labels)}
