r"""Evaluate a saved (committed) learned rule at any size, load and topology: no training.

  python -m experiments.main --config=configs/committed_rule.py:results/rules/remember_s0 \
    --workdir=/tmp/eval_rule --config.task.pattern_bits=64 --config.eval.k=12 \
    --config.topology.name=sparse

The argument after ':' is a rule directory holding `config.json` (the training run's config, as
every workdir has) and `meta_params.msgpack` (its final meta-parameters). The config is the
training config with `mode='eval'` and `eval.params_file` pointing at those parameters; override
anything else with `--config.key=value`: the task (`task.pattern_bits` = N on fully connected
nets, `task.hidden_fraction`, ...), the load `eval.k` = K (default -1: the trained `task.k_max`),
the topology, `eval.num_episodes` and `eval.baselines` (the hand-written rules scored on the same
episodes). The rule's own sizes (`rule.*`) must stay as trained: a mismatch is an error naming
the parameter.

An evaluation episode holds exactly K patterns, no blank slots (no quiet start), whatever layout
the rule was trained on, unless `eval.slots` (>= K) asks for a longer layout: K patterns on that
many slots, the blank ones first or last as `task.blank_slots` says (e.g. the rule's training
layout). Report: `<workdir>/eval.json` and a printed table.
"""

import json
import os

import ml_collections

from configs import remember, teacher


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


def get_config(directory: str | None = None):
  if not directory:
    raise ValueError(
      "configs/committed_rule.py needs a rule directory: "
      "--config=configs/committed_rule.py:results/rules/<name>"
    )
  config_path = os.path.join(directory, "config.json")
  params_path = os.path.join(directory, "meta_params.msgpack")
  for path in (config_path, params_path):
    if not os.path.isfile(path):
      raise ValueError(
        f"{path}: no such file; a rule directory holds config.json and "
        "meta_params.msgpack (copies of a training workdir's)"
      )
  with open(config_path) as f:
    saved = json.load(f)
  if saved.get("system", "remember") != "remember":
    raise ValueError(f"{config_path}: system {saved.get('system')!r} is not a learned rule.")
  base = (
    teacher.get_config()
    if saved.get("task", {}).get("name") == "teacher"
    else (remember.get_config())
  )
  merged(base, saved)
  base.mode = "eval"
  base.train.init_params_file = ""  # where its training started: not needed to evaluate it
  base.eval.params_file = params_path
  base.eval.output = ""
  base.eval.k = -1  # the trained task.k_max unless --config.eval.k says otherwise
  return base
