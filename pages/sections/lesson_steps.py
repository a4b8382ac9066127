"""The Lesson page's ten steps, in order: text on the left, one chart or control on the right.

Not a page: pages/lesson.py draws one step at a time. Steps 1-5 live in lesson_story.py,
steps 6-10 in lesson_verdict.py.
"""

from __future__ import annotations

from collections.abc import Callable

from pages.sections.lesson_story import (
    GUESS_KEY,
    GUESSES,
    LAG_KEPT_KEY,
    step_gates,
    step_guess,
    step_model_one,
    step_prices,
    step_window,
)
from pages.sections.lesson_verdict import (
    step_ahead,
    step_both_lose,
    step_changes,
    step_professionals,
    step_seeds,
)

__all__ = ["GUESS_KEY", "LAG_KEPT_KEY", "STEPS"]

STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("What we try to predict", step_prices),
    ("A window of past days", step_window),
    ("What an LSTM is", step_gates),
    ("The tutorial's first model", step_model_one),
    (f"Guess first: {GUESSES[0].lower()} or {GUESSES[1].lower()}?", step_guess),
    ("Both lose to tomorrow = today", step_both_lose),
    ("Learning daily changes instead", step_changes),
    ("Seeds: luck in the starting point", step_seeds),
    ("Looking ahead, with honest bands", step_ahead),
    ("What the professionals found", step_professionals),
)
"""Each step's title and the function that draws it, in the lesson's order."""
