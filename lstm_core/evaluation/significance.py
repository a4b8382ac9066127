"""Whether the LSTM beats persistence by more than chance: Diebold-Mariano, direction test."""

from __future__ import annotations

import importlib
import threading

import numpy as np

from lstm_core.errors import LabError
from lstm_core.evaluation.metrics import move_figures

SIGNIFICANCE_LEVEL = 0.05
"""A gap counts as more than luck below this p-value."""


MIN_TESTED_DAYS = 3
"""Fewer days than this get no significance test (its variance needs a few)."""


STATISTICS_MODULES = ("statsmodels.tsa.stattools", "statsmodels.stats.diagnostic")
"""The statsmodels modules the tests below import (about 0.3-0.8 s on these CPUs)."""

STATISTICS_IMPORT_SECONDS = 120.0
"""How long scoring waits for a background import of statsmodels before saying so."""


class StatisticsImport:
    """statsmodels' tests imported in a background (daemon) thread, while something else runs.

    A process that trains before it scores (the command line's `train`) starts one, so the
    import overlaps training instead of following it: TensorFlow's kernels release Python's
    GIL, the import holds it between them. Scoring waits for the thread with a time limit
    (`wait`), and a failed import comes back there as a sentence, never as a thread's
    traceback or a hang on Python's import lock.
    """

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, name="import-statsmodels", daemon=True)

    def _run(self) -> None:
        try:
            for name in STATISTICS_MODULES:
                importlib.import_module(name)
        except Exception as error:
            # Kept for wait(), which reports it in the thread that scores.
            self.error = error

    def start(self) -> StatisticsImport:
        """Start the import; returns self."""
        self.thread.start()
        return self

    def wait(self, timeout: float = STATISTICS_IMPORT_SECONDS) -> None:
        """Return once the import has finished; LabError if it failed or took over `timeout`."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise LabError(
                f"statsmodels, which the significance tests need, did not finish importing "
                f"within {timeout:.0f} s; the machine may be overloaded. Try again."
            )
        if self.error is not None:
            raise LabError(
                f"statsmodels, which the significance tests need, could not be imported "
                f"({type(self.error).__name__}: {self.error}); reinstall requirements.txt."
            ) from self.error


_preload: StatisticsImport | None = None
"""The background import started in this process (preload_statistics), if any."""


def preload_statistics() -> StatisticsImport:
    """Start importing statsmodels' tests in a background thread (once); scoring waits for it."""
    global _preload
    if _preload is None:
        _preload = StatisticsImport().start()
    return _preload


def _wait_for_statistics() -> None:
    """Wait for the background import of statsmodels, when one was started (StatisticsImport)."""
    if _preload is not None:
        _preload.wait()


def diebold_mariano(
    actual: np.ndarray, model_forecast: np.ndarray, baseline_forecast: np.ndarray
) -> tuple[float, float]:
    """Diebold-Mariano test on squared errors, Harvey-adjusted: (statistic, two-sided p-value).

    Negative statistics favour the model. Identical forecasts (or errors whose squared
    difference never varies) carry no evidence either way: (0.0, 1.0).
    """
    _wait_for_statistics()
    from statsmodels.tsa.stattools import diebold_mariano_test

    actual = np.asarray(actual, dtype=np.float64)
    model_forecast = np.asarray(model_forecast, dtype=np.float64)
    baseline_forecast = np.asarray(baseline_forecast, dtype=np.float64)
    if not actual.shape == model_forecast.shape == baseline_forecast.shape or actual.ndim != 1:
        raise ValueError("actual and both forecasts must be 1-D arrays of the same length")
    if len(actual) < MIN_TESTED_DAYS:
        raise ValueError(f"the Diebold-Mariano test needs at least {MIN_TESTED_DAYS} forecasts")
    loss_difference = (model_forecast - actual) ** 2 - (baseline_forecast - actual) ** 2
    if np.allclose(loss_difference, loss_difference[0], rtol=0, atol=1e-12):
        return 0.0, 1.0
    result = diebold_mariano_test(
        actual, model_forecast, baseline_forecast, criterion="mse", harvey_adj=True
    )
    return float(result.statistic), float(result.pvalue)


def direction_test_pvalue(real_moves: np.ndarray, predicted_moves: np.ndarray) -> float | None:
    """Pesaran-Timmermann p-value that predicted moves' signs track the real ones (two-sided).

    None when the test is undefined: a forecaster whose predicted moves all share one sign
    (persistence predicts no move at all) or a period whose real moves all share one sign.
    """
    _wait_for_statistics()
    from statsmodels.stats.diagnostic import pesaran_timmermann

    real_up = np.asarray(real_moves) > 0
    predicted_up = np.asarray(predicted_moves) > 0
    if real_up.all() or not real_up.any() or predicted_up.all() or not predicted_up.any():
        return None
    return float(pesaran_timmermann(real_moves, predicted_moves).pvalue)


def comparison(
    actual: np.ndarray,
    predicted: np.ndarray,
    baseline: np.ndarray,
    last_known: np.ndarray,
) -> dict[str, float | None]:
    """The headline figures of one period: RMSE ratio to persistence and both tests' p-values."""
    actual = np.asarray(actual, dtype=np.float64)
    model_rmse = float(np.sqrt(np.mean((np.asarray(predicted) - actual) ** 2)))
    baseline_rmse = float(np.sqrt(np.mean((np.asarray(baseline) - actual) ** 2)))
    statistic, pvalue = (
        diebold_mariano(actual, predicted, baseline)
        if len(actual) >= MIN_TESTED_DAYS
        else (None, None)
    )
    last_known = np.asarray(last_known, dtype=np.float64)
    return {
        "rmse_ratio": model_rmse / baseline_rmse if baseline_rmse > 0 else float("nan"),
        "dm_statistic": statistic,
        "dm_pvalue": pvalue,
        "direction_pvalue": direction_test_pvalue(
            actual - last_known, np.asarray(predicted) - last_known
        ),
        "up_share": float(np.mean(actual > last_known)),
        **move_figures(actual, predicted, last_known),
    }


VERDICT_BETTER = "better, more than luck"
VERDICT_LUCK = "within luck"
VERDICT_WORSE = "worse, more than luck"
VERDICTS = (VERDICT_BETTER, VERDICT_LUCK, VERDICT_WORSE)
"""What the Diebold-Mariano test says of one period, in the words pages count and colour by."""


def luck_verdict(ratio: float | None, pvalue: float | None) -> str:
    """VERDICT_BETTER or VERDICT_WORSE when the gap is more than luck (p below the level),
    else VERDICT_LUCK (also when the test does not apply)."""
    if ratio is None or pvalue is None or not np.isfinite(ratio) or not np.isfinite(pvalue):
        return VERDICT_LUCK
    if pvalue >= SIGNIFICANCE_LEVEL or ratio == 1:
        return VERDICT_LUCK
    return VERDICT_BETTER if ratio < 1 else VERDICT_WORSE


def luck_answer(ratio: float | None, pvalue: float | None) -> str:
    """The 'More than luck?' tile's answer, with the side: 'yes, better', 'yes, worse' or 'no'."""
    verdict = luck_verdict(ratio, pvalue)
    if verdict == VERDICT_BETTER:
        return "yes, better"
    if verdict == VERDICT_WORSE:
        return "yes, worse"
    return "no"


def ratio_verdict(
    figures: dict[str, float | None],
    period: str = "held-out test",
    chose_epoch: bool = False,
    model_name: str = "LSTM",
    decimals: int = 2,
) -> str:
    """The verdict in plain words: the error ratio to persistence and whether it is more than luck.

    For example "On the held-out test period the LSTM's error is 0.98x the baseline's, a gap
    within what luck explains (p = 0.41)." `chose_epoch` (early stopping watched this period)
    adds that the p-value is optimistic; `decimals` matches the figures printed beside it.
    """
    sentence = _ratio_sentence(figures, period, model_name, decimals)
    if chose_epoch:
        sentence += " (this period chose the epoch, so its p-value is optimistic)"
    return sentence + "."


def _ratio_sentence(
    figures: dict[str, float | None], period: str, model_name: str, decimals: int
) -> str:
    ratio = figures["rmse_ratio"]
    pvalue = figures["dm_pvalue"]
    lead = (
        f"On the {period} period the {model_name}'s typical error is "
        f"{ratio:.{decimals}f}x the baseline's"
    )
    if pvalue is None or ratio is None or not np.isfinite(ratio):
        return lead
    shown = format_pvalue(pvalue)
    if pvalue >= SIGNIFICANCE_LEVEL:
        return lead + f", a gap within what luck explains ({shown})"
    if ratio < 1:
        return lead + f": the {model_name} is better, and the gap is more than luck ({shown})"
    return (
        lead + f": the {model_name} is worse than repeating yesterday's price, and the gap is more "
        f"than luck ({shown})"
    )


def format_pvalue(pvalue: float | None) -> str:
    """'p = 0.41', 'p = 0.012', 'p < 0.001'; a dash when the test does not apply."""
    if pvalue is None or not np.isfinite(pvalue):
        return "p: -"
    if pvalue < 0.001:
        return "p < 0.001"
    return f"p = {pvalue:.2f}" if pvalue >= 0.1 else f"p = {pvalue:.3f}"
