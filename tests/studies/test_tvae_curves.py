"""The TVAE learning-curve study on a tiny run: curve, untrained control, cache, report, errors."""

import json

import pytest

from learned_rules.common.errors import ConfigError
from learned_rules.common.overrides import parse_value, set_key
from learned_rules.studies import ReportContext
from learned_rules.studies import tvae_curves as curves
from learned_rules.tvae import train
from tests.studies.helpers import study_config
from tests.studies.test_tvae_table import TINY


def tiny_run(workdir, seed=0):
  from configs.tvae import mnist

  config = mnist.get_config()
  for item in (
    *TINY,
    "data.dataset=synthetic",
    "data.train_size=8",
    "eval_size=4",
    "num_epochs=2",
    "eval_every_epochs=1",
    "log_every=1",
    f"seed={seed}",
  ):
    key, value = item.split("=", 1)
    set_key(config, key, parse_value(value), "test")
  workdir.mkdir(parents=True)
  (workdir / "config.json").write_text(config.to_json())  # as experiments.main writes it
  return config, train.train_and_evaluate(config, str(workdir))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("curves")
  config, final = tiny_run(tmp / "runs" / "T_s0")
  options = study_config(
    "tvae_curves",
    root=str(tmp / "runs"),
    runs=("T_s0|TVAE tiny", "not_trained_yet|TVAE tiny"),
    records=str(tmp / "tvae_curves.jsonl"),
  )
  curves.validate(options)
  found = curves.run(options)
  return tmp, options, config, final, found


def test_the_curve_is_the_runs_periodic_evaluations_and_epoch_0_its_untrained_control(study):
  tmp, options, config, final, found = study
  (record,) = found  # the run without a workdir is skipped, not an error
  assert record["epochs"] == [1.0, 2.0] and record["finished"] and record["seed"] == 0
  # The last periodic evaluation is the final one (same sequences, same noise).
  assert record["trained"]["log_likelihood"][-1] == pytest.approx(final["log_likelihood"])
  with open(tmp / "runs" / "T_s0_untrained" / "eval.json") as f:
    untrained = json.load(f)
  assert untrained["steps"] == 0 and untrained["mu"] == 30.0  # the initial parameters
  assert record["untrained"]["log_likelihood"] == untrained["log_likelihood"]
  assert record["untrained"]["log_likelihood"] != record["trained"]["log_likelihood"][-1]
  assert curves.value_at(record, "log_likelihood", 0) == untrained["log_likelihood"]


def test_a_rerun_evaluates_nothing_and_adds_no_record(study, monkeypatch):
  tmp, options, *_ = study
  monkeypatch.setattr(train, "train_and_evaluate", lambda *a, **k: pytest.fail("re-evaluated"))
  before = (tmp / "tvae_curves.jsonl").read_text()
  curves.run(options)
  assert (tmp / "tvae_curves.jsonl").read_text() == before


def test_the_section_tabulates_every_metric_and_draws_the_plot(study):
  tmp, options, *_ = study
  context = ReportContext(str(tmp), str(tmp), str(tmp / "RESULTS_TVAE.md"))
  text = "\n".join(curves.section(context))
  for _, name, _ in curves.METRICS:
    assert f"**{name}**" in text
  assert "| TVAE tiny | 0 |" in text
  assert (tmp / "tvae_curves.png").exists()


def test_beats_structure_is_the_epoch_from_which_every_evaluation_is_better():
  record = {"untrained": {"e": 5.0}, "epochs": [1, 2, 3, 4], "trained": {"e": [4, 6, 4, 3]}}
  assert curves.beats_structure(record, "e", higher=False) == 3
  assert curves.beats_structure(record, "e", higher=True) is None
  assert curves.cell([1.0, 3.0, None], 1) == "2.0 (1.0 to 3.0) [2 of 3]"


def test_bad_inputs_name_what_to_fix(tmp_path):
  with pytest.raises(ConfigError, match="workdir\\|row label"):
    curves.validate(study_config("tvae_curves", runs=("VAE_s0",), root=str(tmp_path)))
  with pytest.raises(ConfigError, match="no such directory"):
    curves.run(study_config("tvae_curves", root=str(tmp_path / "nowhere")))
  curves.validate(study_config("tvae_curves", root=str(tmp_path / "nowhere")))  # a fresh clone
  options = study_config(
    "tvae_curves", root=str(tmp_path), runs=("x|VAE",), records=str(tmp_path / "r.jsonl")
  )
  with pytest.raises(ConfigError, match="none of them"):
    curves.run(options)
