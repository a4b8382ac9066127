"""The Train result's honesty checks on what the model learned: the no-skill loss line, and the
moves it dared to predict beside the real ones.

Not a page: pages/sections/train_result.py calls these.
"""

from typing import Any

import streamlit as st

from lstm_core import charts
from lstm_core.evaluation.baselines import no_skill_losses, no_skill_sentence
from lstm_core.evaluation.metrics import move_sentence


def run_no_skill(result: Any) -> dict[str, float | None] | None:
    """The run's no-skill losses; computed from its prepared data for runs saved without them."""
    if result.no_skill:
        return result.no_skill
    if result.prepared is None:
        return None
    return no_skill_losses(result.prepared)


def show_loss(result: Any, key: str = "final_loss") -> None:
    """The loss chart with its no-skill lines, and one sentence on where the loss ended."""
    no_skill = run_no_skill(result)
    st.plotly_chart(
        charts.loss_chart(
            result.loss_history,
            result.config.epochs,
            validation_losses=result.validation_loss_history,
            best_epoch=result.best_epoch,
            no_skill=no_skill,
        ),
        key=key,
    )
    if no_skill:
        st.caption(
            no_skill_sentence(
                result.loss_history,
                result.validation_loss_history,
                no_skill,
                best_epoch=result.best_epoch,
            )
        )


def show_moves(result: Any) -> None:
    """Predicted next-day moves against the real ones on the test period, in a chart and words."""
    figures = result.comparison or {}
    last_known = result.prepared.test_last_known if result.prepared is not None else None
    if last_known is None or len(last_known) != len(result.actual):
        return
    st.plotly_chart(
        charts.moves_chart(result.actual, result.predicted, last_known), key="dared_moves"
    )
    sentence = move_sentence(figures)
    direction = result.metrics["lstm"].get("direction_accuracy")
    up_share = figures.get("up_share")
    if sentence and direction is not None and up_share is not None:
        sentence += (
            f" Their sign matched the real move's on {direction:.1f}% of days; the price rose "
            f"on {up_share:.1%} of them."
        )
    if sentence:
        st.caption(sentence)
