"""A committed rule (results/rules/<name>: config.json + meta_params.msgpack) evaluates with one
command at another size and load, scores far above the same rule untrained, and a rule that does
not fit the config is refused with a message naming the parameter."""

import json
import os
import shutil
import subprocess
import sys

import jax
import pytest

from configs import committed_rule
from learned_rules import experiment
from learned_rules.common.errors import ConfigError, UserError
from learned_rules.train import params_io, trainer
from learned_rules.train.report import evaluate_all
from tests.conftest import ROOT
from tests.train.helpers import subprocess_env

RULE = os.path.join(ROOT, "results", "rules", "default_lr4e3_s0")
# Trained on loads 8..24 on 24 slots, blank slots first: it leans on the quiet start.
QUIET_START_RULE = os.path.join(ROOT, "results", "rules", "n64_k8_24_s0")


def small(config, n=16, k=4, episodes=32):
  with config.unlocked():
    config.task.pattern_bits = n
    config.eval.k = k
    config.eval.num_episodes = episodes
    config.eval.batch_size = episodes
    config.eval.baselines = ("hebbian_cued",)
  return config


def test_the_command_evaluates_a_committed_rule_at_a_small_size(tmp_path):
  command = [
    sys.executable,
    "-m",
    "experiments.main",
    f"--config=configs/committed_rule.py:{RULE}",
    f"--workdir={tmp_path}",
    "--config.task.pattern_bits=16",
    "--config.eval.k=4",
    "--config.eval.num_episodes=32",
    "--config.eval.batch_size=32",
    "--config.eval.baselines=hebbian_cued",
  ]
  result = subprocess.run(
    command, cwd=ROOT, capture_output=True, text=True, timeout=600, env=subprocess_env()
  )
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "eval.json").read_text())
  assert report["task"]["num_neurons"] == 16 and report["task"]["eval_k"] == 4
  assert report["params_file"].endswith("meta_params.msgpack")
  assert set(report["rules"]) == {"learned", "hebbian_cued", "oracle"}
  learned = report["rules"]["learned"]["hidden_bit_accuracy"]

  # The same config in this process, once with the committed parameters and once untrained.
  config = small(committed_rule.get_config(RULE))
  exp = experiment.build(config)
  model = exp.model(config.rule.name)
  template = model.init_params(jax.random.PRNGKey(config.seed))
  params = params_io.load_params(config.eval.params_file, template)
  committed = evaluate_all(config, exp, params)["rules"]["learned"]
  untrained = evaluate_all(config, exp, template)["rules"]["learned"]
  assert committed["hidden_bit_accuracy"] == pytest.approx(learned, abs=1e-6)
  # Trained at N = 32 with 4-8 patterns: at N = 16 it recalls 4 (0.99 on these episodes), where
  # the same network untrained is at chance (0.50).
  assert learned > 0.9
  assert untrained["hidden_bit_accuracy"] < 0.6


def test_a_rule_that_does_not_fit_the_config_is_refused():
  config = committed_rule.get_config(RULE)
  with config.unlocked():
    config.rule.hidden_size = 16  # trained with 32
  model = experiment.build(config).model("learned")
  template = model.init_params(jax.random.PRNGKey(0))
  with pytest.raises(UserError, match=r"has shape \[32\].*needs \[16\]"):
    params_io.load_params(config.eval.params_file, template)
  with pytest.raises(UserError, match="no such file"):
    params_io.load_params(os.path.join(RULE, "missing.msgpack"), template)


def test_a_rule_directory_from_another_version_or_missing_files_is_an_error(tmp_path):
  shutil.copy(os.path.join(RULE, "meta_params.msgpack"), tmp_path)
  with pytest.raises(ValueError, match="config.json: no such file"):
    committed_rule.get_config(str(tmp_path))
  saved = json.loads(open(os.path.join(RULE, "config.json")).read())
  saved["rule"]["gone_key"] = 3
  (tmp_path / "config.json").write_text(json.dumps(saved))
  with pytest.raises(ValueError, match="'rule.gone_key' is not a key"):
    committed_rule.get_config(str(tmp_path))
  with pytest.raises(ValueError, match="needs a rule directory"):
    committed_rule.get_config()


def test_eval_slots_puts_the_patterns_on_a_longer_layout():
  """n64_k8_24_s0 was trained on 24 slots, blank slots first: K = 2 on its own 24-slot layout
  (eval.slots=24) is recalled far better than K = 2 on 2 slots (no quiet start: 0.56 against
  0.98 at N = 16 on 64 episodes)."""
  config = small(committed_rule.get_config(QUIET_START_RULE), k=2, episodes=64)
  exp = experiment.build(config)
  model = exp.model(config.rule.name)
  params = params_io.load_params(config.eval.params_file, model.init_params(jax.random.PRNGKey(0)))
  exact = evaluate_all(config, exp, params)
  with config.unlocked():
    config.eval.slots = 24
  long = evaluate_all(config, exp, params)
  assert exact["task"]["eval_slots"] == 2 and long["task"]["eval_slots"] == 24
  assert (
    long["task"]["eval_k"] == 2 and long["task"]["episode_steps"] > exact["task"]["episode_steps"]
  )
  assert long["rules"]["oracle"]["hidden_bit_accuracy"] == 1.0
  assert (
    long["rules"]["learned"]["hidden_bit_accuracy"]
    > exact["rules"]["learned"]["hidden_bit_accuracy"] + 0.05
  )
  with config.unlocked():
    config.eval.slots = 1  # fewer slots than patterns
  with pytest.raises(ConfigError, match="eval.slots=1"):
    experiment.build(config)


def test_a_warm_started_rule_evaluates_without_its_starting_file(tmp_path):
  """n64_exact_ft_s0 was fine-tuned from n64_k8_24_s0 (train.init_params_file, a repo-relative
  path): evaluating it needs neither that file nor the repo as working directory."""
  saved = os.path.join(ROOT, "results", "rules", "n64_exact_ft_s0")
  with open(os.path.join(saved, "config.json")) as f:
    assert json.load(f)["train"]["init_params_file"]  # it was warm-started
  rule = tmp_path / "rule"
  shutil.copytree(saved, rule)
  config = committed_rule.get_config(str(rule))
  assert config.train.init_params_file == ""
  trainer.validate(config)  # no 'no such file' for the starting point
