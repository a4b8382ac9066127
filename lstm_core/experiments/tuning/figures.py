"""Optuna's figures of a study: history, intermediate values and what mattered."""

from __future__ import annotations

from typing import Any

import optuna

from lstm_core.experiments.tuning.summary import complete_trials


def history_figure(study: optuna.Study) -> Any:
    """Optuna's optimization history, with persistence's level (ratio 1) drawn in."""
    from optuna.visualization import plot_optimization_history

    figure = plot_optimization_history(study, target_name="validation RMSE ratio")
    figure.add_hline(
        y=1.0,
        line_dash="dot",
        line_color="gray",
        annotation_text="tomorrow = today (baseline)",
        annotation_position="bottom right",
    )
    figure.update_layout(
        title="Each trial's error on the validation period, relative to the baseline's"
    )
    # Optuna numbers trials 0, 1, 2...; the pages count them from 1, so the chart does too.
    for trace in figure.data:
        if trace.x is not None:
            trace.x = tuple(number + 1 for number in trace.x)
    # Whole trials only: plotly's default ticks put 0.5 between them.
    figure.update_xaxes(tick0=1, dtick=1, title="trial")
    return figure


def intermediate_figure(study: optuna.Study) -> Any:
    """Every trial's per-epoch validation ratio: pruned trials' lines end early."""
    from optuna.visualization import plot_intermediate_values

    figure = plot_intermediate_values(study)
    figure.update_layout(
        title="Validation error after each epoch, relative to the baseline's",
        xaxis_title="epoch",
        yaxis_title="validation RMSE ratio",
    )
    # Epochs are whole: without this plotly labels 0.5 and 1.5 between them.
    figure.update_xaxes(dtick=1)
    return figure


def important_settings(study: optuna.Study) -> list[str]:
    """The searched settings, most important first (fANOVA); empty below 2 complete trials."""
    if len(complete_trials(study)) < 2:
        return []
    try:
        importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError):
        # Every complete trial drew the same value of every setting: nothing to rank.
        return []
    return list(importances)


def analysis_figures(study: optuna.Study) -> dict[str, Any]:
    """The finished study's figures: importances, parallel coordinates, contour of the top two.

    A figure that needs more trials or settings than the study has is left out.
    """
    from optuna.visualization import plot_contour, plot_parallel_coordinate, plot_param_importances

    figures: dict[str, Any] = {}
    ranked = important_settings(study)
    if not ranked:
        return figures
    figures["importances"] = plot_param_importances(study, target_name="validation RMSE ratio")
    figures["importances"].update_layout(title="Which settings mattered for the validation error")
    figures["parallel"] = plot_parallel_coordinate(study, target_name="validation RMSE ratio")
    figures["parallel"].update_layout(title="Every complete trial's settings and its error")
    if len(ranked) >= 2:
        figures["contour"] = plot_contour(
            study, params=ranked[:2], target_name="validation RMSE ratio"
        )
        figures["contour"].update_layout(
            title=f"Validation error over the two most important settings: "
            f"{ranked[0]} and {ranked[1]}"
        )
    return figures
