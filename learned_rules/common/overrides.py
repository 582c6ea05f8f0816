"""Dotted-key config overrides ('task.k_max=12') shared by the sweep, recipe, teacher-curve and
TVAE result scripts: one parser for the value, one setter that refuses keys the config lacks."""

import ast

import ml_collections

from learned_rules.common.errors import ConfigError


def parse_value(text: str):
  """'3' -> 3, '0.5' -> 0.5, '(32,)' -> (32,), 'true'/'True' -> True, anything else the string."""
  if text.lower() in ("true", "false"):
    return text.lower() == "true"
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def get_key(config, dotted: str):
  for part in dotted.split("."):
    config = config[part]
  return config


def set_key(config, dotted: str, value, source: str = "override", known: str = "") -> None:
  """config[dotted] = value for a leaf key that exists (a list for a tuple stays a tuple).

  Otherwise a ConfigError: '<source>: <dotted> is not a key of the config<known>'.
  """
  node = config
  *parents, leaf = dotted.split(".")
  for parent in parents:
    if parent not in node or not isinstance(node[parent], ml_collections.ConfigDict):
      node = None
      break
    node = node[parent]
  if node is None or leaf not in node or isinstance(node[leaf], ml_collections.ConfigDict):
    raise ConfigError(f"{source}: {dotted!r} is not a key of the config{known}.")
  if isinstance(node[leaf], tuple) and isinstance(value, list):
    value = tuple(value)
  try:
    node[leaf] = value
  except (TypeError, ValueError) as error:
    raise ConfigError(f"{source}: {dotted}={value!r}: {error}") from None


def apply(config, overrides, source: str = "override"):
  """Applies ('key', value) pairs or 'key=value' strings (values parsed) to `config` in place."""
  with config.unlocked():
    for item in overrides:
      if isinstance(item, str):
        if "=" not in item:
          raise ConfigError(f"{source} {item!r}: expected key=value.")
        key, text = item.split("=", 1)
        item = (key, parse_value(text))
      set_key(config, *item, source=source)
  return config
