"""The layered rule x K table on tiny sizes: saved rules, baselines, references, resume."""

import pytest

from configs import remember_layered_warm
from learned_rules.studies import layered_table
from learned_rules.train import trainer
from tests.studies.helpers import study_config

TINY = ("task.pattern_bits=8", "topology.hidden_sizes=(16,)")


@pytest.fixture(scope="module")
def start_dir(tmp_path_factory):
  """A saved rule: the hand-set layered start (train.num_steps=0) on the tiny net."""
  workdir = tmp_path_factory.mktemp("start")
  config = remember_layered_warm.get_config()
  with config.unlocked():
    config.task.pattern_bits = 8
    config.topology.hidden_sizes = (16,)
    config.train.num_steps = 0
    config.eval.num_episodes = 8
    config.eval.batch_size = 8
    config.eval.baselines = ()
    config.eval.probe = False
  trainer.train_and_evaluate(config, str(workdir))
  return str(workdir)


def options(tmp_path, **changes):
  return study_config(
    "layered_table",
    eval_ks=(2,),
    eval_episodes=32,
    eval_batch_size=32,
    backprop_rates=(0.1, 0.3),
    records=str(tmp_path / "layered_table.jsonl"),
    overrides=TINY,
    machine="test machine",
    **changes,
  )


def test_table_records_references_and_resumes(tmp_path, start_dir):
  records = layered_table.run(options(tmp_path, rules=(f"start={start_dir},{start_dir}",)))
  by_rule = {}
  for record in records:
    by_rule.setdefault(record["rule"], []).append(record)
  assert set(by_rule) == {"start", "backprop", "delta_features", "oracle", "floor"}
  assert len(by_rule["start"]) == 1  # the same directory twice is one point
  assert len(by_rule["backprop"]) == 2  # one per rate
  assert by_rule["oracle"][0]["target_bit_accuracy"] == 1.0
  # Majority of 2 stored answers: right where they agree (half the bits), half right elsewhere.
  assert abs(by_rule["floor"][0]["target_bit_accuracy"] - 0.75) < 0.06
  assert by_rule["start"][0]["target_bit_accuracy"] > 0.85  # the hand-set start stores
  assert by_rule["start"][0]["rule_dir"] == start_dir
  assert all(r["machine"] == "test machine" and r["k"] == 2 for r in records)

  again = layered_table.run(options(tmp_path, rules=(f"start={start_dir}",)))
  assert len(again) == len(records)  # nothing re-evaluated

  table = layered_table.markdown(again)
  assert f"| start (`{start_dir}`) |" in table
  assert "backprop (one pass, best of lr 0.1, 0.3 per K)" in table
  assert "| oracle | 1.0000 |" in table and "K = 2 |" in table


def test_bad_rule_entries_are_one_clear_error(tmp_path, start_dir):
  for bad, match in [
    ("start", "label=rule_dir"),
    (f"oracle={start_dir}", "label other than"),
    (f"start={tmp_path}", "no such file"),
  ]:
    with pytest.raises(layered_table.ConfigError, match=match):
      layered_table.run(options(tmp_path, rules=(bad,)))
