"""The Train form's model choice, a link's ?model=, and the Inside page for each kind."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_compare_and_inside_pages import wait_for_job

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def test_a_link_chooses_the_model_and_an_unknown_one_is_refused() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["model"] = "gru"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.radio(key="form_model").value == "gru"

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["model"] = "transformer"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.radio(key="form_model").value == "lstm"
    assert any("model must be one of" in warning.value for warning in at.warning)


def test_the_form_trains_a_ridge_and_the_inside_page_says_it_has_no_gates(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LSTM_LAB_STORE", str(tmp_path / "runs.sqlite"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/train.py").run()
    at.slider(key="form_lag").set_value(10)
    at.radio(key="form_model").set_value("linear")
    next(button for button in at.button if button.label == "Train").click().run()
    wait_for_job(at)
    result = at.session_state["training_job"].result
    assert result.config.model == "linear"
    assert result.layers == [("ridge", "Ridge", 11)]
    assert any("Ridge (linear)'s typical error" in info.value for info in at.info)
    assert at.query_params["model"] in ("linear", ["linear"])
    labels = [metric.label for metric in at.metric]
    assert "Ridge (linear) error / baseline error" in labels
    assert not any(label.startswith("LSTM") for label in labels)

    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert any("ridge regression. It has no gates" in info.value for info in at.info)
    assert not at.get("plotly_chart")
