"""The teacher-references study end to end on tiny sizes: every learner recorded on the same
episodes, the engine's silent-cue Hebbian equal to the numpy Hebb perceptron, resume, report."""

import pytest

from learned_rules.baselines import perceptron
from learned_rules.common import records
from learned_rules.common.errors import ConfigError
from learned_rules.studies import ReportContext, teacher_references
from tests.studies.helpers import study_config

TINY = ("task.pattern_bits=5", "topology.hidden_sizes=(6,)")


def tiny_options(tmp_path, **changes):
  return study_config(
    "teacher_references",
    records=str(tmp_path / "results" / "teacher_references.jsonl"),
    teachers=("linear",),
    eval_ks=(3,),
    eval_episodes=24,
    eval_batch_size=24,
    backprop_rates=(0.1,),
    large_d=40,
    large_d_episodes=2,
    overrides=TINY,
    machine="test machine",
    **changes,
  )


def test_tiny_study_records_every_learner_and_resumes(tmp_path, capsys):
  options = tiny_options(tmp_path)
  found = teacher_references.run(options)
  learners = {(r["network"], r["learner"]) for r in found}
  for network in teacher_references.NETWORKS:
    for name in teacher_references.NUMPY + teacher_references.TEXTBOOK + ("floor",):
      assert (network, name) in learners
    for name in teacher_references.ENGINE[network]:
      assert (network, name) in learners
  for name in teacher_references.FEATURES + tuple(teacher_references.PASSES):
    assert ("layered", name) in learners
  assert not any(r["network"] == "fully_connected" and "features" in r["learner"] for r in found)
  point = {(r["network"], r["learner"]): r["target_bit_accuracy"] for r in found}
  # The numpy learners see the engine's episodes, so the silent-cue Hebbian meets them exactly,
  # and the numpy rows are the same on both networks (the episodes do not depend on the net).
  assert (
    point[("fully_connected", "hebbian_cued_silent")] == point[("fully_connected", "numpy_hebb")]
  )
  assert point[("layered", "numpy_hebb")] == point[("fully_connected", "numpy_hebb")]
  assert point[("layered", "closed_form_hebb")] == pytest.approx(perceptron.hebb_accuracy(3 / 5))
  assert all(0.0 <= r["target_bit_accuracy"] <= 1.0 for r in found)
  assert all(r["machine"] == "test machine" for r in found)

  before = len(records.read(options.records))
  capsys.readouterr()
  teacher_references.run(options)  # everything is recorded: nothing runs again
  assert len(records.read(options.records)) == before
  assert capsys.readouterr().out == ""

  context = ReportContext(
    str(tmp_path / "results"), str(tmp_path / "results"), str(tmp_path / "R.md")
  )
  lines = teacher_references.section(context)
  text = "\n".join(lines)
  assert "**layered, linear teacher**" in text and "numpy Hebb perceptron" in text
  assert (tmp_path / "results" / "teacher_references.png").exists()


def test_bad_network_is_a_config_error(tmp_path):
  with pytest.raises(ConfigError, match="networks"):
    teacher_references.validate(tiny_options(tmp_path, networks=("ring",)))
