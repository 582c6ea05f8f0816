"""Errors a user can fix from the message alone; the entry point prints each as one line.

Besides the two exception types, this module turns the mistakes that surface outside the code's
own checks into one line each: a command line that absl or ml_collections cannot parse
(`flag_error`) and an accelerator or host running out of memory (`out_of_memory`).
"""

import difflib
import importlib.machinery
import importlib.util
import os
import re
import traceback


class ConfigError(ValueError):
  """A config value that cannot work; the message names the key and what would."""


class UserError(RuntimeError):
  """Anything else the user must fix (a missing file, a checkpoint from another config, ...)."""


# --- command-line mistakes -----------------------------------------------------------------------
def _flag_arguments(argv, name: str):
  """(the `--name` value or None, [(argument, override key)] for every `--name.key` override)."""
  value, overrides = None, []
  for i, arg in enumerate(argv[1:], 1):
    if match := re.match(rf"^--?{name}(=|$)", arg):
      value = arg[match.end() :] if match.group(1) else (argv[i + 1] if i + 1 < len(argv) else "")
    elif match := re.match(rf"^--?(?:no)?{name}\.([^=]+)", arg):
      overrides.append((arg, match.group(1)))
  return value, overrides


def load_config_file(spec: str):
  """`get_config()` of a config file as ml_collections does it (`path[:argument]`)."""
  path, *argument = spec.split(":", 1)
  loader = importlib.machinery.SourceFileLoader("_config_under_test", path)
  module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
  loader.exec_module(module)
  return module.get_config(*argument)


def _config_file_problem(spec: str, flag: str, error: BaseException) -> str:
  path = spec.split(":", 1)[0]
  where = "" if os.path.isabs(path) else f" (relative to {os.getcwd()})"
  if not os.path.exists(path):
    return f"{flag}: no such file{where}."
  if os.path.isdir(path):
    return f"{flag}: is a directory, not a config file."
  if isinstance(error, SyntaxError):
    text = f" ({error.text.strip()})" if error.text and error.text.strip() else ""
    return f"{flag}: syntax error at line {error.lineno}: {error.msg}{text}."
  lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
  at = f" at line {lines[-1]}" if lines else ""
  return f"{flag}: loading it failed{at}: {type(error).__name__}: {_one_line(str(error))}"


def _unknown_key(config, key: str):
  """(the missing part's parent path, its keys or None for a value) when `key` is not in config."""
  node, path = config, []
  for part in key.split("."):
    if "[" in part:  # an index into a sequence: config_flags reports those itself
      return None
    keys = sorted(node.keys()) if hasattr(node, "keys") else None
    if keys is None or part not in keys:
      return ".".join(path), keys
    node, path = node[part], path + [part]
  return None


def _unknown_key_message(arg: str, key: str, spec: str, parent: str, keys) -> str:
  if keys is None:
    return f"{arg}: no key '{key}' in {spec}: '{parent}' is a value, not a block."
  last = key.split(".")[len(parent.split(".")) if parent else 0]
  close = difflib.get_close_matches(last, keys, n=1)
  prefix = f"{parent}." if parent else ""
  hint = f"; did you mean {prefix}{close[0]}?" if close else ""
  owner = parent or "the config"
  return f"{arg}: no key '{key}' in {spec}{hint} ({owner} has: {', '.join(keys)})"


def _one_line(text: str) -> str:
  """The first line of a message (with its last line when the first only announces it)."""
  lines = [line.strip() for line in str(text).splitlines() if line.strip()]
  if not lines:
    return ""
  if lines[0].endswith(":") and len(lines) > 1:
    return f"{lines[0]} {lines[-1]}"
  return lines[0]


def flag_error(
  argv, error: BaseException | None, name: str = "config", example: str = "configs/remember.py"
) -> str:
  """One line for a command line that did not parse, naming the flag, file or key at fault.

  `error`: what parsing `argv` raised, or None when it parsed but the `--name` config did not
  load (ml_collections defers a missing file's error until the config is first read). `example`:
  a config file to suggest when `--name` is missing.
  """
  spec, overrides = _flag_arguments(argv, name)
  if spec is None:
    message = _one_line(error) if error is not None else ""
    if error is None or f"--{name}=None" in message:
      return f"--{name} is required: a config file, e.g. --{name}={example}."
    return message.removeprefix("flag ")
  flag = f"--{name}={spec}"
  try:
    config = load_config_file(spec)
  except Exception as problem:  # noqa: BLE001 - whatever the file raises is the user's to fix
    return _config_file_problem(spec, flag, problem)
  if not hasattr(config, "keys"):
    return f"{flag}: get_config() returned {type(config).__name__}, not a ConfigDict."
  for arg, key in overrides:
    if (unknown := _unknown_key(config, key)) is not None:
      return _unknown_key_message(arg, key, spec, *unknown)
  if error is None:
    return f"{flag}: could not be loaded."
  return _one_line(str(error) or type(error).__name__).removeprefix("flag ")


# --- out of memory -------------------------------------------------------------------------------
def is_out_of_memory(error: BaseException) -> bool:
  """XLA's RESOURCE_EXHAUSTED (a device or host allocation that failed) or Python's MemoryError."""
  return isinstance(error, MemoryError) or "RESOURCE_EXHAUSTED" in str(error)


def out_of_memory(error: BaseException, config=None) -> str:
  """One line for an allocation that failed, naming the batch-size key to lower."""
  keys = []
  if config is not None:
    if "train" in config and "batch_size" in config.train:
      keys.append(f"train.batch_size={config.train.batch_size}")
    elif "batch_size" in config:
      keys.append(f"batch_size={config.batch_size}")
  what = _one_line(str(error)) or type(error).__name__
  lower = f"lower {keys[0]}" if keys else "lower the batch size"
  return f"out of memory ({what[:300]}); {lower} or the model size, or use a larger device."
