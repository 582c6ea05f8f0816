"""A saved rule directory (results/rules/<name>, or any training workdir): its config and its
meta-parameters, ready to evaluate on any task, size or topology.

A rule directory holds the training run's `config.json` and `meta_params.msgpack`. Its config is
today's default config for its task (`bases[task name]`, handed in by the caller: the library
imports no config file) with the saved values written over it, so a key added since the rule was
saved takes its default. The result is an evaluation config: `mode='eval'`, `eval.params_file`
pointing at the parameters, `eval.k=-1` (the trained k_max).
"""

import json
import os

import ml_collections

from learned_rules import experiment
from learned_rules.common.errors import ConfigError
from learned_rules.train import params_io

CONFIG_FILE = "config.json"


def merged(base: ml_collections.ConfigDict, saved: dict, where: str = "") -> None:
  """Writes the saved values over `base` in place; keys the code no longer has are an error."""
  for key, value in saved.items():
    name = f"{where}{key}"
    if key not in base:
      raise ValueError(
        f"config.json key {name!r} is not a key of today's config: this rule was saved by an "
        "incompatible version; evaluate it with that version."
      )
    if isinstance(base[key], ml_collections.ConfigDict):
      merged(base[key], value, name + ".")
    elif isinstance(base[key], tuple) and isinstance(value, list):
      base[key] = tuple(value)
    elif isinstance(base[key], float) and isinstance(value, int) and not isinstance(value, bool):
      base[key] = float(value)
    else:
      base[key] = value


def load_config(directory: str, bases) -> ml_collections.ConfigDict:
  """The evaluation config of the rule in `directory`; ValueError says what is missing or wrong.

  `bases`: today's default configs by task name ({'remember': ..., 'teacher': ...}).
  """
  config_path = os.path.join(directory, CONFIG_FILE)
  params_path = os.path.join(directory, params_io.PARAMS_FILE)
  for path in (config_path, params_path):
    if not os.path.isfile(path):
      raise ValueError(
        f"{path}: no such file; a rule directory holds {CONFIG_FILE} and "
        f"{params_io.PARAMS_FILE} (copies of a training workdir's)"
      )
  with open(config_path) as f:
    try:
      saved = json.load(f)
    except ValueError as error:
      raise ValueError(f"{config_path}: not a JSON config ({error})") from None
  if saved.get("system", "remember") != "remember":
    raise ValueError(f"{config_path}: system {saved.get('system')!r} is not a learned rule.")
  task = saved.get("task", {}).get("name", "remember")
  if task not in bases:
    raise ValueError(f"{config_path}: task {task!r} has no default config here ({list(bases)}).")
  base = bases[task].copy_and_resolve_references()
  merged(base, saved)
  base.mode = "eval"
  base.train.init_params_file = ""  # where its training started: not needed to evaluate it
  base.eval.params_file = params_path
  base.eval.output = ""
  base.eval.k = -1  # the trained task.k_max unless the caller says otherwise
  return base


def load(rule_dir: str, bases, what: str = "saved rule") -> ml_collections.ConfigDict:
  """`load_config` with its errors as ConfigError prefixed by `what` (the key that named it)."""
  try:
    return load_config(rule_dir, bases)
  except ValueError as error:
    raise ConfigError(f"{what}: {error}") from None


def onto(config, rule_dir: str, bases, what: str = "saved rule"):
  """(config running the learned rule of `rule_dir`, its meta-parameters, its saved config).

  The saved `rule` block and aggregation replace `config`'s, so a rule with keys that config
  leaves at their defaults (bilinear terms, a hand-set init) runs as trained.
  """
  saved = load(rule_dir, bases, what)
  with config.unlocked():
    config.rule = saved.rule.copy_and_resolve_references()
    config.rule.name = "learned"
    config.aggregation = saved.aggregation
  model = experiment.build(config).model("learned")
  template = params_io.state_template(config, model).params
  return config, params_io.load_params(saved.eval.params_file, template), saved
