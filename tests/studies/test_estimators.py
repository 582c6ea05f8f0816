"""The BPTT-vs-ES comparison on a tiny config: both curves, their shared start, the files."""

import json

import flax.serialization
import pytest

from learned_rules import evaluation, experiment
from learned_rules.studies import estimators
from learned_rules.train import params_io, report
from tests.train.helpers import tiny_config


def test_both_estimators_are_scored_on_the_same_heldout_episodes(tmp_path):
  config = tiny_config(num_steps=4)
  with config.unlocked():
    config.train.es.population_size = 4
  records = estimators.compare(
    config,
    "tiny",
    seconds=600.0,  # train.num_steps ends both runs first: the points are fixed steps
    workdir=str(tmp_path / "runs"),
    results_dir=str(tmp_path / "results"),
    eval_every_s=0.0,  # score every checkpoint
    eval_episodes=8,
    checkpoint_every={"bptt": 2, "es": 2},
    log=lambda line: None,
  )
  written = (tmp_path / "results" / "bptt_vs_es_tiny.jsonl").read_text().splitlines()
  assert [json.loads(line) for line in written] == records
  assert (tmp_path / "results" / "bptt_vs_es_tiny.png").stat().st_size > 0

  points = {
    name: [r for r in records if r["kind"] == estimators.POINT and r["estimator"] == name]
    for name in ("bptt", "es")
  }
  for name, curve in points.items():
    assert [p["step"] for p in curve] == [0, 2, 4], name
    seconds = [p["seconds"] for p in curve]
    assert seconds[0] == 0.0 and seconds == sorted(seconds) and seconds[-1] > 0
    summary = next(r for r in records if r["kind"] == estimators.SUMMARY and r["estimator"] == name)
    assert summary["steps"] == 4 and summary["final"] == curve[-1]["hidden_bit_accuracy"]
  # Both start from the same meta-parameters (same seed) and are scored on the same episodes.
  start = {
    name: {k: v for k, v in curve[0].items() if k in estimators.REPORTED}
    for name, curve in points.items()
  }
  assert start["bptt"] == start["es"]

  # The last point is the trained meta-parameters scored as the trainer's evaluation does.
  for name in ("bptt", "es"):
    run_config = estimators.estimator_config(config, name, 600.0, 2)
    exp = experiment.build(run_config)
    model = exp.model("learned")
    template = params_io.state_template(run_config, model).params
    run_dir = tmp_path / "runs" / "tiny" / name
    params = flax.serialization.from_bytes(template, (run_dir / params_io.PARAMS_FILE).read_bytes())
    expected = evaluation.evaluate(
      model,
      params,
      experiment.eval_task(run_config, exp.task),
      seed=run_config.seed + report.EVAL_SEED_OFFSET,
      num_episodes=8,
      batch_size=run_config.eval.batch_size,
    )
    assert points[name][-1]["hidden_bit_accuracy"] == pytest.approx(
      float(expected["hidden_bit_accuracy"]), abs=1e-6
    )
