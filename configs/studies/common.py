"""What study configs share: the base configs a study derives its runs from.

A study is handed its config and never imports a config module, so a study config carries the
task configs it needs: `bases()` holds today's defaults, onto which a committed rule's saved
config.json is merged (rules saved before a key existed run with that key's default).
"""

import importlib

import ml_collections

from configs import remember, remember_layered, remember_layered_warm, teacher, teacher_layered


def bases() -> ml_collections.ConfigDict:
  """Today's default configs by name (the modules of configs/ they come from)."""
  config = ml_collections.ConfigDict()
  config.remember = remember.get_config()  # fully connected auto-association (the default run)
  config.remember_layered = remember_layered.get_config()  # layered hetero-association
  config.remember_layered_warm = remember_layered_warm.get_config()  # ... from the hand-set start
  config.teacher = teacher.get_config()  # pairs from a random teacher, unseen keys scored
  config.teacher_layered = teacher_layered.get_config()  # the same on a layered net
  return config


def study(name: str, records: str) -> ml_collections.ConfigDict:
  """A study config's common fields: which study, its records file, the machine, the bases."""
  config = ml_collections.ConfigDict()
  config.study = name  # the study that runs this config (learned_rules/studies/__init__.py)
  config.records = records  # JSON-lines records, appended (a rerun skips what is there)
  config.machine = ""  # the machine written into every record ('' = detected)
  config.bases = bases()  # task configs the study derives its runs from
  return config


HANDWRITTEN = ("hebbian", "hebbian_cued", "storkey", "storkey_cued", "delta", "delta_cued")
HEADLINE_FILE = "results/rules/HEADLINE"  # one line: the directory prefix of the headline rule


def headline_prefix() -> str:
  """The headline rule's directory prefix, the one line of HEADLINE_FILE."""
  with open(HEADLINE_FILE) as f:
    return f.read().strip()


def headline_rules(seeds=(0, 1, 2)) -> tuple:
  """The headline rule's seed directories, results/rules/<prefix>_s<seed>, from HEADLINE_FILE."""
  return tuple(f"results/rules/{headline_prefix()}_s{seed}" for seed in seeds)


def tvae_config(name: str) -> ml_collections.ConfigDict:
  """configs/tvae/<name>.py's config (a TVAE row's model)."""
  return importlib.import_module(f"configs.tvae.{name}").get_config()
