"""Systems `experiments.main` can run, by `config.system`: each a module with two functions.

A system module has `validate(config)` (raises ConfigError naming the key; compiles nothing) and
`train_and_evaluate(config, workdir, **options) -> dict`, which validates first, before it writes
anything (so `experiments.main` calls only it: a run is validated once). Modules are imported on
first use, so a TVAE run never imports the rule engine and vice versa.
"""

import importlib

from learned_rules.common.registry import Registry

SYSTEMS = Registry("system", "system")
SYSTEMS.register("remember", "learned_rules.train.trainer")
SYSTEMS.register("tvae", "learned_rules.tvae.train")


def load(name: str):
  """The module of system `name` (ConfigError listing the systems if there is none)."""
  return importlib.import_module(SYSTEMS.get(name))
