"""The numpy Hopfield reference: closed-form recall, its records, and its RESULTS.md section."""

import json

import jax
import numpy as np
import pytest

from learned_rules import evaluation, experiment
from learned_rules.studies import hopfield_reference as reference
from learned_rules.studies import report as documents
from learned_rules.studies import sweep_report as report
from tests.studies.helpers import study_config

BASES = study_config("hopfield_reference").bases


def hadamard(n: int) -> np.ndarray:
  """Sylvester's n x n ±1 Hadamard matrix (n a power of 2): rows mutually orthogonal."""
  h = np.ones((1, 1))
  while h.shape[0] < n:
    h = np.kron(h, np.array([[1.0, 1.0], [1.0, -1.0]]))
  return h


def test_weights_are_the_outer_product_rule_with_zero_diagonal():
  patterns = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])
  expected = (np.outer(patterns[0], patterns[0]) + np.outer(patterns[1], patterns[1])) / 4
  np.fill_diagonal(expected, 0.0)
  np.testing.assert_array_equal(reference.hopfield_weights(patterns), expected)


@pytest.mark.parametrize("clamp", [False, True])
def test_one_stored_pattern_is_a_fixed_point_recalled_from_a_half_hidden_cue(clamp):
  pattern = np.where(np.random.default_rng(0).random(16) < 0.5, -1.0, 1.0)
  weights = reference.hopfield_weights(pattern[None])
  states, fixed = reference.hopfield_recall(weights, pattern[None], clamp)
  np.testing.assert_array_equal(states[0], pattern)
  assert fixed[0]
  cue = pattern * (np.arange(16) % 2)  # every other bit hidden (0)
  states, fixed = reference.hopfield_recall(weights, cue[None], clamp)
  np.testing.assert_array_equal(states[0], pattern)
  assert fixed[0]


@pytest.mark.parametrize("clamp", [False, True])
def test_orthogonal_patterns_are_recalled_exactly(clamp):
  # Rows 1-4 of the 16 x 16 Sylvester matrix: orthogonal, and also orthogonal on the first 8
  # bits, so a cue with the last 8 bits hidden overlaps only its own pattern (W cue = xi / 2 on
  # the hidden bits, xi / 4 on the visible ones).
  patterns = hadamard(16)[1:5]
  weights = reference.hopfield_weights(patterns)
  states, fixed = reference.hopfield_recall(weights, patterns, clamp)
  np.testing.assert_array_equal(states, patterns)  # every stored pattern is a fixed point
  cues = patterns * (np.arange(16) < 8)
  states, fixed = reference.hopfield_recall(weights, cues, clamp)
  np.testing.assert_array_equal(states, patterns)
  assert fixed.all()


def test_clamping_holds_the_visible_bits_that_free_dynamics_flip():
  pattern = hadamard(8)[1]  # +1, -1, +1, -1, ...
  weights = reference.hopfield_weights(pattern[None])
  cue = np.array([-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # no overlap with the pattern
  # Free: W cue = +1/8 on the two visible bits and 0 elsewhere, so one update gives all +1.
  free, fixed = reference.hopfield_recall(weights, cue[None], clamp=False, max_iterations=1)
  np.testing.assert_array_equal(free[0], np.ones(8))
  assert not fixed[0]
  clamped, _ = reference.hopfield_recall(weights, cue[None], clamp=True, max_iterations=5)
  np.testing.assert_array_equal(clamped[0, :2], cue[:2])


def test_run_writes_records_on_the_engine_episodes_and_resumes(tmp_path):
  output = str(tmp_path / "hopfield_reference.jsonl")
  config = study_config(
    "hopfield_reference",
    records=output,
    sizes=(8,),
    loads=(0.25,),
    machine="test box",
    episodes=8,
    batch_size=4,
    max_iterations=10,
  )
  written = reference.run(config)
  assert len(written) == 1
  with open(output) as f:
    (record,) = [json.loads(line) for line in f]
  assert record["kind"] == reference.KIND
  assert (record["size"], record["load"], record["k"]) == (8, 0.25, 2)
  assert record["episodes"] == 8 and record["machine"] == "test box"
  assert record["command"].startswith("python -m ")
  assert set(record["recall"]) == {
    "numpy_free",
    "numpy_clamped",
    "hebbian_cued",
    "hebbian",
    "oracle",
  }
  for name in reference.NUMPY_PROTOCOLS:
    assert 0.0 <= record["recall"][name]["fixed_point_fraction"] <= 1.0
  for values in record["recall"].values():
    assert 0.0 <= values["hidden_bit_accuracy"] <= 1.0
  # The engine's numbers are evaluation.evaluate's on the same seed: the same episodes.
  exp = experiment.build(reference.point_config(config.bases.remember, 8, 2))
  model = exp.model("hebbian_cued")
  expected = evaluation.evaluate(
    model, model.init_params(jax.random.PRNGKey(0)), exp.task, reference.SEED, 8, 4
  )
  got = record["recall"]["hebbian_cued"]["hidden_bit_accuracy"]
  assert got == pytest.approx(expected["hidden_bit_accuracy"])
  assert reference.run(config) == []  # already recorded


def test_numpy_reads_the_cues_and_patterns_of_the_episodes():
  task = experiment.build(reference.point_config(BASES.remember, 16, 3)).task
  episodes = task.sample_batch(jax.random.PRNGKey(1), 2, 3, 3)
  logits, fixed, cues = reference.numpy_logits(episodes, clamp=True, max_iterations=10)
  readout = np.asarray(episodes.eval_mask) > 0
  assert cues == int(readout.sum()) == 6 and 0 <= fixed <= cues
  assert np.all(logits[~readout] == 0) and set(np.unique(logits[readout])) <= {-1.0, 1.0}
  inputs = np.asarray(episodes.inputs)[readout]
  visible = inputs != 0
  np.testing.assert_array_equal(logits[readout][visible], inputs[visible])  # clamped bits kept


def reference_record(size, load, free, clamped, cued):
  def recall(acc, fixed=None):
    values = {"hidden_bit_accuracy": acc, "bit_accuracy": acc, "perfect_recall_fraction": 0.5}
    if fixed is not None:
      values["fixed_point_fraction"] = fixed
    return values

  return {
    "kind": reference.KIND,
    "key": json.dumps({"hidden_fraction": 0.5, "load": load, "size": size}),
    "size": size,
    "load": load,
    "k": round(load * size),
    "hidden_fraction": 0.5,
    "episodes": 128,
    "batch_size": 64,
    "seed": reference.SEED,
    "max_iterations": 50,
    "store_steps": 2,
    "gap_steps": 1,
    "delay_steps": 2,
    "recall_steps": 3,
    "free_weight": 0.25,
    "recall": {
      "numpy_free": recall(free, 0.9),
      "numpy_clamped": recall(clamped, 1.0),
      "hebbian_cued": recall(cued),
      "hebbian": recall(0.8),
      "oracle": recall(1.0),
    },
    "wall_s": 2.0,
    "machine": "2-core CPU, shared",
    "command": "python -m experiments.hopfield_reference",
  }


def test_report_section_renders_from_a_records_dir(tmp_path):
  records = [
    reference_record(64, 0.125, 0.95, 0.99, 0.97),
    reference_record(32, 0.25, 0.80, 0.90, 0.88),
  ]
  with open(tmp_path / "hopfield_reference.jsonl", "w") as f:
    f.write("\n".join(json.dumps(r) for r in records) + "\n")
  assert report.load_records(str(tmp_path)) == ([], [])  # not sweep points
  text = documents.document_text(str(tmp_path / "RESULTS.md"), str(tmp_path))
  assert "## Textbook reference: a numpy Hopfield net next to the engine's Hebbian rules" in text
  lines = text.splitlines()
  first = lines.index(next(line for line in lines if line.startswith("| N | alpha |")))
  assert lines[first + 2].startswith("| 32 | 0.25 | 8 | 0.8000 | 0.9000 | 0.8800 | 0.8000 |")
  assert lines[first + 3].startswith("| 64 | 0.125 | 8 | 0.9500 | 0.9900 | 0.9700 |")
  assert "0.90 / 1.00" in text
  assert "+0.0700 on average" in text  # clamped - free: (0.10 + 0.04) / 2
  assert "-0.0200 on" in text  # hebbian_cued - clamped: (-0.02 - 0.02) / 2
  assert "the engine clamps the cue" in text.lower()
  assert "`python -m experiments.hopfield_reference`" in text


def test_reference_records_sit_beside_sweep_records_of_both_cued_spellings(tmp_path):
  def sweep_record(rule, variant, k, acc):
    return {
      "kind": "eval",
      "rule": rule,
      "variant": variant,
      "topology": "fully_connected",
      "size": 16,
      "k": k,
      "hidden_fraction": 0.5,
      "delay": 2,
      "num_neurons": 16,
      "hidden_bit_accuracy": acc,
      "bits_per_synapse": 0.1,
      "bits_per_state_float": 0.05,
      "oracle_hidden_bit_accuracy": 1.0,
      "wall_s": 1.0,
      "machine": "2-core CPU, shared",
      "command": "python -m experiments.sweep",
    }

  # K = 1, 2 recorded in the legacy spelling, K = 3 in today's: one series, K* = 2.
  rows = [
    sweep_record("storkey", "rule.free_weight=0.25", 1, 1.0),
    sweep_record("storkey", "rule.free_weight=0.25", 2, 0.995),
    sweep_record("storkey_cued", "", 3, 0.9),
  ]
  with open(tmp_path / "handwritten.jsonl", "w") as f:
    f.write("\n".join(json.dumps(r) for r in rows) + "\n")
  with open(tmp_path / "hopfield_reference.jsonl", "w") as f:
    f.write(json.dumps(reference_record(32, 0.25, 0.8, 0.9, 0.88)) + "\n")
  evals, trains = report.load_records(str(tmp_path))
  assert {r["rule"] for r in evals} == {"storkey_cued"} and trains == []
  text = documents.document_text(str(tmp_path / "RESULTS.md"), str(tmp_path))
  assert "| storkey_cued | fully_connected | 16 | 16 | 1..3 (3 pts) | 2 |" in text
  assert "[rule.free_weight" not in text
  assert "## Textbook reference" in text
