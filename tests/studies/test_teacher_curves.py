"""The teacher learning-curve script end to end on tiny sizes: records, ceiling, floor, resume."""

import json

import jax
import numpy as np
import pytest

from learned_rules import experiment
from learned_rules.studies import teacher_curves
from tests.studies.helpers import study_config

TINY = (
  "task.pattern_bits=5",
  "topology.hidden_sizes=(6,)",
  "rule.neuron_state_size=4",
  "rule.synapse_state_size=2",
  "rule.message_size=4",
  "rule.hidden_size=8",
  "train.remat=False",
)


def tiny_options(tmp_path, **changes):
  return study_config(
    "teacher_curves",
    networks=("layered",),
    root=str(tmp_path / "runs"),
    records=str(tmp_path / "results" / "teacher_curves.jsonl"),
    num_steps=2,
    batch_size=2,
    remember_k=(1, 2),
    teacher_k=(2, 3),
    eval_ks=(3,),
    eval_episodes=48,
    eval_batch_size=48,
    backprop_rates=(0.1,),
    overrides=TINY,
    machine="test machine",
    **changes,
  )


@pytest.mark.parametrize("network", teacher_curves.NETWORKS)
def test_training_and_evaluation_share_network_channels_and_parameters(network):
  """A rule trained on either training task runs on the teacher task: same net and params."""
  options = study_config("teacher_curves")
  target = experiment.build(teacher_curves.teacher_config(network, options, "linear", 32))
  assert target.task.load_range == (32, 32)
  assert target.task.input_channels == (3 if network == "layered" else 2)
  for rule in teacher_curves.LEARNED:
    source = experiment.build(teacher_curves.training_config(network, rule, options))
    assert source.config.rule.name == "learned"
    assert source.task.input_channels == target.task.input_channels
    np.testing.assert_array_equal(source.topology.mask, target.topology.mask)
    shapes = lambda exp: jax.tree.map(
      np.shape, exp.model("learned").init_params(jax.random.PRNGKey(0))
    )
    assert shapes(source) == shapes(target)
  remember_task = experiment.build(
    teacher_curves.training_config(network, "learned_remember", options)
  )
  assert remember_task.task.config.name == "remember"
  assert remember_task.task.config.mode == "hetero"
  assert remember_task.task.load_range == options.remember_k


def test_end_to_end_records_ceiling_floor_and_resume(tmp_path):
  options = tiny_options(tmp_path)
  records = teacher_curves.run(options)
  curves = [r for r in records if r["kind"] == teacher_curves.CURVE]
  trains = [r for r in records if r["kind"] == teacher_curves.TRAIN]
  rules = {r["rule"] for r in curves}
  assert rules == {
    "learned_remember",
    "learned_teacher",
    "backprop_1pass",
    "backprop_10pass",
    "delta_features",
    "hebbian",
    "oracle",
    "floor",
  }
  assert len(curves) == len(rules) and all(r["k"] == 3 for r in curves)
  assert {r["rule"] for r in trains} == set(teacher_curves.LEARNED)
  for record in records:
    assert record["command"].startswith("python -m ") and record["machine"] == "test machine"
  for record in curves:
    assert 0.0 <= record["target_bit_accuracy"] <= 1.0 and record["eval_episodes"] == 48
  by_rule = {r["rule"]: r for r in curves}
  assert by_rule["oracle"]["target_bit_accuracy"] == 1.0  # the teacher is the ceiling
  assert abs(by_rule["floor"]["target_bit_accuracy"] - 0.5) < 0.1  # the majority, unseen keys
  for rule in teacher_curves.LEARNED:
    assert by_rule[rule]["steps"] == 2 and by_rule[rule]["train_wall_s"] > 0
  assert by_rule["learned_remember"]["trained_on"] == "remember"
  assert by_rule["learned_teacher"]["trained_on"] == "teacher"
  assert by_rule["backprop_10pass"]["passes"] == 10 and by_rule["backprop_1pass"]["passes"] == 1
  assert (tmp_path / "runs" / "layered" / "learned_teacher" / "meta_params.msgpack").exists()

  # A rerun skips every recorded point and retrains nothing; points whose records are lost are
  # evaluated again, the learned rule from its saved meta-parameters (not retrained).
  path = tmp_path / "results" / "teacher_curves.jsonl"
  lines = path.read_text().splitlines()
  assert len(teacher_curves.run(options)) == len(lines)
  lost = lambda r: r["kind"] == teacher_curves.CURVE and r["rule"] in ("learned_teacher", "oracle")
  kept = [line for line in lines if not lost(json.loads(line))]
  path.write_text("\n".join(kept) + "\n")
  again = teacher_curves.run(options)
  assert len(again) == len(lines)
  redone = {r["rule"]: r for r in again[len(kept) :]}
  assert set(redone) == {"learned_teacher", "oracle"}
  assert sum(r["kind"] == teacher_curves.TRAIN for r in again) == 2  # nothing retrained
  for rule, record in redone.items():
    assert record["target_bit_accuracy"] == by_rule[rule]["target_bit_accuracy"]

  # The table and the plot.
  table = teacher_curves.markdown(again)
  assert "| oracle | 1.000 |" in table and "K = 3 |" in table
  assert "backprop_10pass (best of lr 0.1)" in table
  assert "learned_teacher (trained on teacher pairs, 2 steps" in table
  teacher_curves.plot(again, str(tmp_path / "curves.png"))
  assert (tmp_path / "curves.png").stat().st_size > 1000


def test_committed_rule_is_evaluated_as_saved(tmp_path):
  """A saved rule given as 'network:label=dir' scores what the same rule scored when trained
  there (same parameters, same episodes), under its own label, in the table; bad entries are
  one clear error."""
  options = tiny_options(tmp_path)
  records = teacher_curves.run(options)
  trained = {r["rule"]: r for r in records if r["kind"] == teacher_curves.CURVE}
  saved_dir = str(tmp_path / "runs" / "layered" / "learned_teacher")
  with_saved = tiny_options(tmp_path, committed=(f"layered:saved_teacher={saved_dir}",))
  again = teacher_curves.run(with_saved)
  new = [r for r in again[len(records) :] if r["kind"] == teacher_curves.CURVE]
  assert [r["rule"] for r in new] == ["saved_teacher"]
  assert new[0]["target_bit_accuracy"] == trained["learned_teacher"]["target_bit_accuracy"]
  assert new[0]["rule_dir"] == saved_dir and new[0]["trained_on"] == "teacher"
  table = teacher_curves.markdown(again)
  assert f"| saved_teacher (saved rule `{saved_dir}`) |" in table
  assert table.index("learned_teacher (") < table.index("saved_teacher") < table.index("| oracle")
  for bad, match in [
    ("layered:x", "network:label=rule_dir"),
    (f"sparse:x={saved_dir}", "network:label=rule_dir"),
    (f"layered:oracle={saved_dir}", "taken"),
    (f"layered:x={tmp_path}", "no such file"),
  ]:
    with pytest.raises(teacher_curves.ConfigError, match=match):
      teacher_curves.run(tiny_options(tmp_path, committed=(bad,)))
