"""Recall by storage position: counts checked against a brute-force numpy match of each recall
target to the stored patterns, on read-outs that are right everywhere except on the pattern stored
at one chosen position; and the records round-trip into the RESULTS.md section."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import remember
from learned_rules.studies import serial_position
from learned_rules.tasks.remember import RememberTask
from tests.studies.helpers import study_config


def config(rules, records):
  """The study's config for 4 episodes at N = 16, K = 2."""
  return study_config("serial_position", rules=rules, points=("16:2",), records=records, episodes=4)


def exact_task(n: int, k: int) -> RememberTask:
  config = remember.get_config().task
  with config.unlocked():
    config.mode, config.pattern_bits, config.k_min, config.k_max = "auto", n, k, k
  return RememberTask(config)


@pytest.mark.parametrize("wrong", [0, 2, 4])
def test_only_the_chosen_position_loses_its_hidden_bits(wrong):
  n, k = 16, 5
  task = exact_task(n, k)
  episode = task.sample(jax.random.PRNGKey(wrong), k)
  targets = np.asarray(episode.targets)
  stored = np.asarray(episode.patterns[:, 0, :])
  # Brute force: the storage slot whose pattern equals the target, at every scored recall step.
  eval_steps = np.flatnonzero(np.asarray(episode.eval_mask))
  slot = {
    t: next(s for s in range(k) if np.all(stored[s] == 2 * targets[t] - 1)) for t in eval_steps
  }
  assert sorted(slot.values()) == list(range(k))  # each pattern recalled once
  logits = 2 * targets - 1  # right everywhere...
  for t, s in slot.items():
    if s == wrong:
      logits[t] = -logits[t]  # ...except on the pattern stored at `wrong`
  correct, total = serial_position.position_counts(jnp.asarray(logits), episode, k)
  hidden = round(task.config.hidden_fraction * n)
  np.testing.assert_array_equal(np.asarray(total), np.full(k, hidden))
  expected = np.full(k, hidden)
  expected[wrong] = 0
  np.testing.assert_array_equal(np.asarray(correct), expected)


def test_records_make_the_section_and_a_rerun_replaces_them(tmp_path):
  path = str(tmp_path / "sp.jsonl")
  first = serial_position.run(config(("hebbian",), path))
  assert len(first) == 1 and len(first[0]["accuracy_by_position"]) == 2
  again = serial_position.run(config(("hebbian", "storkey"), path))
  assert sorted(r["rule"] for r in again) == ["hebbian", "storkey"]
  assert len(serial_position.read_records(path)) == 2
  text = serial_position.markdown(serial_position.read_records(path), "sp.png")
  assert "| hebbian | 16 | 2 |" in text and "![serial position](sp.png)" in text
  serial_position.plot(serial_position.read_records(path), str(tmp_path / "sp.png"))
  assert (tmp_path / "sp.png").stat().st_size > 0
