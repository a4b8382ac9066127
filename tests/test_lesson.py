"""The Lesson page through AppTest, and the reference runs it shows."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.experiments import reference
from pages.sections.lesson_steps import STEPS
from tests.plotly_json import values

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
OTHER_PRICES = (
    "The runs trained in advance used the bundled snapshot, and this session works on other "
    "prices, so they do not apply here: train it live instead."
)
DAMAGED = (
    "The run trained in advance (tutorial_model_1.json) could not be loaded: it is damaged. "
    "You can train it live instead."
)
REFERENCE_FILES = sorted(reference.REFERENCE_DIR.glob("*.json"))


def lesson(step: str | None = None, present: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if step is not None:
        at.query_params["step"] = step
    if present is not None:
        at.query_params["present"] = present
    return at.run()


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "info", "warning", "error", "caption"):
        parts.extend(str(element.value) for element in at.get(kind))
    return "\n".join(parts)


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def shown_step(at: AppTest) -> int:
    indicator = next(m.value for m in at.markdown if m.value.endswith(f" of {len(STEPS)}**"))
    return int(indicator.strip("*").split()[0])


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    """Each test reads the reference files as they are now (a test may damage a copy)."""
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_the_lesson_is_the_landing_page_and_every_step_renders() -> None:
    at = lesson()
    assert at.title[0].value == f"Lesson · {STEPS[0][0]}"
    assert shown_step(at) == 1
    for number, (title, _) in enumerate(STEPS, start=1):
        at = lesson(str(number))
        assert not at.exception, (number, at.exception)
        assert at.title[0].value == f"Lesson · {title}"
        assert shown_step(at) == number
        assert at.query_params["step"] == str(number)
        # Every step but the guess (before a guess) and the sources draws its chart.
        if number not in (5, 10):
            assert len(at.get("plotly_chart")) == 1, number
    assert "Trained in advance with exactly these settings" in texts(lesson("4"))


def test_next_back_the_step_link_and_start_over() -> None:
    at = lesson()
    at = click(at, "Next")
    assert shown_step(at) == 2 and at.query_params["step"] == "2"
    at.slider(key="lesson_lag").set_value(30).run()
    at = click(at, "Next")
    assert shown_step(at) == 3
    at = click(at, "Back")
    assert shown_step(at) == 2 and at.slider(key="lesson_lag").value == 30
    at = click(lesson("9"), "Next")
    assert shown_step(at) == 10
    assert next(b for b in at.button if b.label == "Next").disabled
    at = click(at, "Start over")
    assert shown_step(at) == 1 and at.query_params["step"] == "1"
    assert next(b for b in at.button if b.label == "Back").disabled
    at = click(at, "Next")
    assert shown_step(at) == 2 and at.slider(key="lesson_lag").value == 60


@pytest.mark.parametrize("text", ["0", "11", "-3", "three", "4.5", ""])
def test_a_bad_step_in_the_link_starts_at_step_one_with_one_sentence(text: str) -> None:
    at = lesson(text)
    assert not at.exception
    assert shown_step(at) == 1
    assert [info.value for info in at.info] == [
        f"The link's step is not a number from 1 to {len(STEPS)}, so the lesson starts at step 1."
    ]


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - actual) ** 2)))


def test_the_guess_reveals_the_answer_only_after_a_guess() -> None:
    one = json.loads(reference.reference_path("tutorial_model_1").read_text())
    two = json.loads(reference.reference_path("tutorial_model_2").read_text())
    errors = {
        name: rmse(np.array(run["test"]["predicted"]), np.array(run["test"]["actual"]))
        for name, run in (("Batch 200", one), ("Batch 1", two))
    }
    better = min(errors, key=errors.get)
    worse = max(errors, key=errors.get)
    at = lesson("5")
    assert at.get("plotly_chart") == [] and "does better" not in texts(at)
    assert "Next works without a guess" in texts(at)
    at = click(at, worse)
    assert f"Not this time: **{better.lower()}** does better" in texts(at)
    overlay = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {"batch 200", "batch 1", "tomorrow = today"} <= {t.get("name") for t in overlay["data"]}
    at = click(at, better)
    assert f"Right: **{better.lower()}** does better" in texts(at)
    # Next works with or without a guess, and Start over forgets it.
    assert shown_step(click(lesson("5"), "Next")) == 6
    at = click(at, "Start over")
    at.query_params["step"] = "5"
    assert "does better" not in texts(at.run())


def test_presenting_is_kept_in_the_link_and_enlarges_the_page() -> None:
    at = lesson("3", present="1")
    toggle = at.sidebar.toggle[0]
    assert toggle.label == "Presenting" and toggle.value is True
    assert any("zoom: 1.3" in str(html.proto) for html in at.get("html"))
    toggle.set_value(False).run()
    assert "present" not in at.query_params
    assert not any("zoom" in str(html.proto) for html in at.get("html"))
    assert shown_step(at) == 3
    plain = lesson("3")
    assert plain.sidebar.toggle[0].value is False and "present" not in plain.query_params


def test_other_prices_get_one_sentence_and_an_offer_to_train_live() -> None:
    snapshot = data.load_snapshot()
    frame = snapshot.frame.copy()
    frame["Adj Close"] = frame["Adj Close"] * 1.01
    for step in (3, 4, 5, 6, 7, 8, 9):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["price_data"] = data.PriceData(frame, "upload", "Your file prices.csv")
        at.session_state["lesson_guess"] = "Batch 1"
        at.query_params["step"] = str(step)
        at.run()
        assert not at.exception, step
        assert [info.value for info in at.info] == [OTHER_PRICES], step
        live = [button.label for button in at.button if button.label.startswith("Train")]
        expected = {6: "Train both live", 8: "Train all 3 live"}.get(step, "Train it live")
        assert live == [expected], step
    # Steps without a run trained in advance draw from the person's own prices.
    at.query_params["step"] = "1"
    facets = json.loads(at.run().get("plotly_chart")[0].proto.spec)
    msft = next(trace for trace in facets["data"] if trace["name"] == "MSFT")
    assert values(msft["y"]) == pytest.approx(frame[frame["Ticker"] == "MSFT"]["Adj Close"])


def test_a_damaged_reference_file_breaks_only_its_steps(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "reference"
    shutil.copytree(reference.REFERENCE_DIR, folder)
    (folder / "tutorial_model_1.json").write_text('{"config": ')
    monkeypatch.setattr(reference, "REFERENCE_DIR", folder)
    at = lesson("4")
    assert not at.exception
    assert [warning.value for warning in at.warning] == [DAMAGED]
    assert any(button.label == "Train it live" for button in at.button)
    seven = lesson("7")
    assert not seven.exception and seven.warning == [] and len(seven.get("plotly_chart")) == 1
    (folder / "recommended.json").unlink()
    with pytest.raises(reference.ReferenceRunError, match="it is missing"):
        reference.load_reference("recommended")


def test_the_lesson_loads_no_tensorflow_until_train_it_live_is_pressed() -> None:
    """Every step walked in a fresh process, then "Train it live" on step 4 (stopped at once).

    AppTest runs no warm-up (that needs a real server); the browser test checks the server.
    """
    script = (
        "import sys, time\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
        f"for step in range(1, {len(STEPS) + 1}):\n"
        "    at.query_params['step'] = str(step)\n"
        "    at.run()\n"
        "    assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
        "at.query_params['step'] = '4'\n"
        "at.run()\n"
        "next(b for b in at.button if b.label == 'Train it live').click().run()\n"
        "job = at.session_state['training_job']\n"
        "print(job.config.label())\n"
        "job.request_stop()\n"
        "for _ in range(240):\n"
        "    if job.finished:\n"
        "        break\n"
        "    time.sleep(0.5)\n"
        "print('tensorflow' in sys.modules, job.finished)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    lines = output.stdout.strip().splitlines()[-3:]
    assert lines == [
        "False False",
        reference.REFERENCE_CONFIGS["tutorial_model_1"].label(),
        "True True",
    ]


@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda path: path.stem)
def test_each_reference_file_validates_and_was_made_on_the_snapshot(path: Path) -> None:
    record = json.loads(path.read_text())
    config = TrainConfig.from_dict(record["config"])
    assert config == reference.REFERENCE_CONFIGS[path.stem]
    series = data.load_snapshot().series(config.ticker)
    assert record["data"]["fingerprint"] == data.series_fingerprint(series)
    # The shipped figures agree with the shipped predictions (numpy, not the lab's metrics).
    test = {key: np.array(values) for key, values in record["test"].items() if key != "dates"}
    model, baseline = (
        rmse(test["predicted"], test["actual"]),
        rmse(test["persistence"], test["actual"]),
    )
    assert record["metrics"]["lstm"]["rmse"] == pytest.approx(model, rel=1e-9)
    assert record["comparison"]["rmse_ratio"] == pytest.approx(model / baseline, rel=1e-9)
    assert (
        test["actual"] == series.loc[pd.DatetimeIndex(record["test"]["dates"])].to_numpy()
    ).all()
    assert reference.load_reference(path.stem).applies_to(series)


def test_a_reference_file_with_changed_settings_or_other_data_fails(tmp_path) -> None:
    record = json.loads(reference.reference_path("quick_demo").read_text())
    record["config"]["lag"] = 1
    (tmp_path / "quick_demo.json").write_text(json.dumps(record))
    with pytest.raises(reference.ReferenceRunError, match="damaged"):
        reference.load_reference("quick_demo", tmp_path)
    record["config"]["lag"] = 31
    (tmp_path / "quick_demo.json").write_text(json.dumps(record))
    with pytest.raises(reference.ReferenceRunError, match="other settings"):
        reference.load_reference("quick_demo", tmp_path)
    shipped = reference.load_reference("quick_demo")
    other = data.load_snapshot().series("MSFT") * 1.01
    assert not shipped.applies_to(other)


def test_retraining_the_quick_demo_gives_the_shipped_numbers_to_four_digits() -> None:
    shipped = json.loads(reference.reference_path("quick_demo").read_text())
    series = data.load_snapshot().series("MSFT")
    again, _ = reference.make_record("quick_demo", series)

    def digits(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    for forecaster in ("lstm", "persistence"):
        for name, value in shipped["metrics"][forecaster].items():
            assert digits(again["metrics"][forecaster][name]) == digits(value), name
    for name in ("rmse_ratio", "dm_pvalue"):
        assert digits(again["comparison"][name]) == digits(shipped["comparison"][name])
    np.testing.assert_allclose(again["test"]["predicted"], shipped["test"]["predicted"], rtol=1e-4)
    np.testing.assert_allclose(again["history"]["loss"], shipped["history"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(
        again["look_ahead"]["forecast"]["price"],
        shipped["look_ahead"]["forecast"]["price"],
        rtol=1e-4,
    )


def test_the_train_page_shows_a_presets_reference_result_at_once() -> None:
    shipped = json.loads(reference.reference_path("quick_demo").read_text())
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.selectbox(key="preset").value == "Quick demo"
    assert [header.value for header in at.subheader] == ["Result trained in advance"]
    assert "Trained in advance with exactly these settings" in texts(at)
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    lstm = next(trace for trace in chart["data"] if trace["name"] == "LSTM")
    assert values(lstm["y"]) == pytest.approx(shipped["test"]["predicted"])
    assert any(button.label == "Train it live" for button in at.button)
    at.selectbox(key="preset").set_value("Tutorial model 1 (batch 200, 10 epochs)").run()
    assert [header.value for header in at.subheader] == ["Result trained in advance"]
    assert "batch 200, 10 epochs" in texts(at)
    # Another company has no run trained in advance: the page asks for a training.
    other = AppTest.from_file(APP, default_timeout=60)
    other.session_state["ticker"] = "AAPL"
    other.switch_page("pages/train.py").run()
    assert other.subheader == [] and "No model trained yet" in texts(other)


def test_a_live_run_is_shown_beside_the_reference(monkeypatch) -> None:
    """A finished live run (stood in by the reference's own figures) and one that differs."""
    from types import SimpleNamespace

    run = reference.load_reference("tutorial_model_1")
    live = SimpleNamespace(
        config=run.config, metrics=run.metrics, comparison=dict(run.comparison), seconds=20.0
    )
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["results"] = {"live": live}
    at.query_params["step"] = "4"
    at.run()
    table = at.table[0].value
    assert table.index.tolist() == ["trained in advance, seed 42", "trained live, seed 42"]
    assert table["ratio"].tolist() == [f"{run.comparison['rmse_ratio']:.4g}"] * 2
    assert "same error ratio to 4 significant digits" in texts(at)
    assert not any(button.label == "Train it live" for button in at.button)
    live.comparison["rmse_ratio"] *= 1.001
    at.run()
    assert "0 of 1 live runs gave the reference's error ratio" in texts(at)


def test_a_live_training_shows_one_line_on_the_other_steps() -> None:
    """A running job (a stand-in, nothing trains): a progress bar on its step, a line elsewhere."""
    from types import SimpleNamespace

    config = reference.REFERENCE_CONFIGS["tutorial_model_2"]
    running = SimpleNamespace(
        config=config, configs=[config], kind="train", finished=False, collected=False,
        state="queued", progress=None, waiting_for_another=True, loading=False, stop_reason=None,
        group_fraction=0.0, run_index=0, heartbeat=lambda: None, no_skill_losses=lambda: None,
    )  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["training_job"] = running
    at.session_state["_job_page"] = "Lesson"  # as jobs.start_job records it
    at.session_state["lesson_guess"] = "Batch 1"
    at.query_params["step"] = "5"
    at.run()
    assert not at.exception
    assert len(at.get("progress")) == 1
    assert "Training live meanwhile" not in texts(at)
    at.query_params["step"] = "6"
    at.run()
    assert at.get("progress") == []
    assert (
        "Training live meanwhile (Waiting to start (another training on this server finishes "
        "first)…); its step shows the result."
    ) in texts(at)
