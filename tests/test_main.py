"""End to end through the real entry point, and config errors that name the key."""

import json
import os
import subprocess
import sys

import pytest

from learned_rules import experiment as experiment_lib
from learned_rules.train import trainer
from tests.conftest import ROOT

TINY_FLAGS = [
  "--config.task.pattern_bits=8",
  "--config.task.k_min=1",
  "--config.task.k_max=2",
  "--config.rule.hidden_size=8",
  "--config.train.num_steps=3",
  "--config.train.batch_size=4",
  "--config.train.log_every=1",
  "--config.eval.num_episodes=8",
  "--config.eval.batch_size=4",
]
FIELDS = [
  "hidden_bit_accuracy",
  "bit_accuracy",
  "perfect_recall_fraction",
  "information_bits",
  "bits_per_synapse",
]


def run_main(workdir, *flags):
  command = [
    sys.executable,
    "-m",
    "experiments.main",
    "--config=configs/remember.py",
    f"--workdir={workdir}",
    *flags,
  ]
  return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_main_end_to_end_writes_eval_json(tmp_path):
  result = run_main(tmp_path, *TINY_FLAGS)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "eval.json").read_text())
  assert report["task"]["pattern_bits"] == 8 and report["task"]["eval_k"] == 2
  for rule in ("learned", "hebbian"):
    for field in FIELDS:
      value = report["rules"][rule][field]
      assert isinstance(value, float) and value >= 0.0, (rule, field)
    assert 0.0 <= report["rules"][rule]["hidden_bit_accuracy"] <= 1.0
  assert report["rules"]["oracle"]["hidden_bit_accuracy"] >= 0.9
  for name in ("config.json", "metrics.jsonl", "meta_params.msgpack"):
    assert os.path.exists(tmp_path / name), name
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  assert len(lines) >= 3 and "train/loss" in json.loads(lines[0])
  assert os.listdir(tmp_path / "tensorboard")
  assert "hebbian" in result.stdout and "learned" in result.stdout  # the printed table


def test_unknown_config_key_fails(tmp_path):
  result = run_main(tmp_path, "--config.task.no_such_key=3")
  assert result.returncode != 0
  assert "no_such_key" in result.stderr


@pytest.mark.parametrize(
  "section,key,value,match",
  [
    ("task", "pattern_bits", -3, "task.pattern_bits"),
    ("task", "hidden_fraction", 1.2, "task.hidden_fraction"),
    ("task", "mode", "psychic", "task.mode"),
    ("task", "k_max", 1000, "task.k_max"),
    ("topology", "name", "torus", "topology.name"),
    ("rule", "name", "oja_v9", "rule.name"),
    ("rule", "activation", "foo", "rule.activation"),
    ("task", "name", "juggle", "task.name"),
    ("rule", "synapse_state_size", 0, "rule.synapse_state_size"),
    ("train", "batch_size", -1, "train.batch_size"),
    ("eval", "baselines", ("hebbian", "magic"), "eval.baselines"),
  ],
)
def test_bad_values_raise_a_clear_error_before_compiling(
  tiny_config, monkeypatch, section, key, value, match
):
  import jax

  def no_compiling(*args, **kwargs):
    raise AssertionError("compiled before validating the config")

  monkeypatch.setattr(jax, "jit", no_compiling)
  with tiny_config.unlocked():
    tiny_config[section][key] = value
  with pytest.raises(experiment_lib.ConfigError, match=match):
    trainer.validate(tiny_config)  # every block, as main does before training


def test_bad_value_through_main_is_one_clear_line(tmp_path):
  result = run_main(tmp_path, "--config.task.hidden_fraction=1.5")
  assert result.returncode != 0
  assert "task.hidden_fraction=1.5" in result.stderr
  assert "Traceback" not in result.stderr
