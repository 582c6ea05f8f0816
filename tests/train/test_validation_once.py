"""A run validates and builds its experiment once, however many parts (loop, report) use it."""

import json

from learned_rules import experiment
from learned_rules.train import trainer
from tests.train.helpers import tiny_config


def test_train_and_evaluate_validates_the_experiment_once(tmp_path, monkeypatch):
  calls = []
  validate = experiment.validate

  def counting(config):
    calls.append(config)
    return validate(config)

  monkeypatch.setattr(experiment, "validate", counting)
  config = tiny_config(num_steps=1)
  with config.unlocked():
    config.eval.baselines = ("hebbian",)  # the report builds a baseline too
  report = trainer.train_and_evaluate(config, str(tmp_path))
  assert len(calls) == 1
  assert json.loads((tmp_path / "eval.json").read_text())["rules"].keys() == report["rules"].keys()
