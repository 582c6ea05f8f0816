"""Errors a user can fix from the message alone; the entry point prints them as one line."""


class ConfigError(ValueError):
  """A config value that cannot work; the message names the key and what would."""


class UserError(RuntimeError):
  """Anything else the user must fix (a missing file, a checkpoint from another config, ...)."""
