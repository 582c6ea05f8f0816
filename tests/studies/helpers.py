"""Study configs for tests: a study's config file with some fields replaced."""

import importlib


def study_config(name: str, **fields):
  """`configs/studies/<name>.py`'s config with `fields` set (a copy, unlocked for tests)."""
  config = importlib.import_module(f"configs.studies.{name}").get_config()
  return replace(config, **fields)


def replace(config, **fields):
  """A copy of `config` with `fields` set; unknown fields raise, as an override would."""
  config = config.copy_and_resolve_references()
  for key, value in fields.items():
    if key not in config:
      raise KeyError(f"{key!r} is not a field of the {config.get('study')} config")
    config[key] = value
  return config
