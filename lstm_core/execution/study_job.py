"""A tuning study in a background thread that a page can poll and stop (no Streamlit here)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from lstm_core.data import series_fingerprint
from lstm_core.execution.jobs import TrainingJob
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.tuning import (
    StudyPlan,
    check_base,
    check_study_request,
    create_or_load_study,
    judge_best_on_test,
    optimize,
    study_report,
    study_storage_url,
)

LOGGER = logging.getLogger(__name__)


class StudyJob(TrainingJob):
    """A study in a background thread that a page can poll and stop (no Streamlit here).

    It shares TrainingJob's heartbeat, disconnect check and stop; `trial_index` counts this
    run's trials (0-based) and `progress` is the current trial's training progress.
    """

    def __init__(
        self,
        name: str,
        plan: StudyPlan | None,
        series: pd.Series,
        trials: int,
        timeout: float | None = None,
        storage_url: str | None = None,
        store: RunStore | None = None,
        owner: str = "local",
        is_connected: Callable[[], bool] | None = None,
        runner: Callable[..., Any] | None = None,
    ) -> None:
        """`runner` trains each trial as `run_training` does (a cluster's runner: on a worker)."""
        check_study_request(trials, timeout)
        if plan is not None:
            check_base(plan.base)
        self.store = store or RunStore()
        self.storage_url = storage_url or study_storage_url(self.store)
        self.study, self.plan = create_or_load_study(
            name, self.storage_url, plan, series_fingerprint(series)
        )
        super().__init__(self.plan.base, series, kind="tune", is_connected=is_connected)
        self.name = name
        self.n_trials = trials
        self.timeout = timeout
        self.owner = owner
        self.trial_runner = runner
        self.trial_index = 0
        self.trial_number: int | None = None
        self.report: dict[str, Any] | None = None
        self.started_at = time.monotonic()

    def _unit(self, progress: Any) -> tuple[int, str, Any]:
        # Trials differ in their settings; each is estimated from all trials measured so far.
        return self.trial_index, "trial", progress

    def _remaining_units(self) -> list[tuple[str, int]]:
        return [("trial", self.plan.base.epochs)] * (self.n_trials - self.trial_index - 1)

    def time_left(self) -> Any:
        """As TrainingJob's, for the trials still to come, capped by the study's time budget."""
        estimate = super().time_left()
        if estimate is None or self.timeout is None:
            return estimate
        budget_left = max(0.0, self.timeout - (time.monotonic() - self.started_at))
        if estimate.seconds <= budget_left:
            return estimate
        return type(estimate)(budget_left, 0)

    def _on_trial_start(self, index: int) -> None:
        self.trial_index = index

    def _on_trial_progress(self, number: int, progress: Any) -> None:
        self.trial_number = number
        self._on_progress(progress)

    FAILURE = "The study failed unexpectedly"

    def _subject(self) -> str:
        return f"study {self.name}"

    def _run_each(self) -> None:
        self.state = "running"
        optimize(
            self.study,
            self.plan,
            self.series,
            self.n_trials,
            timeout=self.timeout,
            store=self.store,
            owner=self.owner,
            progress=self._on_trial_progress,
            should_stop=self._should_stop,
            on_trial_start=self._on_trial_start,
            runner=self.trial_runner,
        )
        # The study's one look at the test period (a stopped study's too), for its best trial.
        judge_best_on_test(self.study, self.series, self.store)
        self.report = study_report(self.study, time.monotonic() - self.started_at)

    def _finish(self) -> None:
        self.state = "stopped" if self._stop.is_set() else "done"
        LOGGER.info("study %s %s", self.name, self.state)
