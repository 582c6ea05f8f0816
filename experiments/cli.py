"""What every entry point shares: one `error:` line for a mistake, and flag parsing that uses it."""

import sys

import ml_collections
from absl import flags

from learned_rules.common import errors

USAGE_EXIT_CODE = 2  # a command line or config that cannot work


def fail(message: str, code: int = 1):
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(code)


def user_mistake(error: BaseException, config=None) -> tuple[str, int] | None:
  """(one-line message, exit code) for a mistake the user can fix; None for a bug."""
  if isinstance(error, errors.ConfigError):
    return f"bad config: {error}", USAGE_EXIT_CODE
  if isinstance(error, errors.UserError):
    return str(error), 1
  if errors.is_out_of_memory(error):
    return errors.out_of_memory(error, config), 1
  return None


def flags_parser(example: str, required: bool = True):
  """An `app.run(..., flags_parser=)` that turns every flag mistake into one `error:` line.

  `example`: a config file to suggest when `--config` is missing; `required=False` lets a run
  without `--config` through (an entry point with another job, e.g. `--report`).
  """

  def parse(argv):
    try:
      args = flags.FLAGS(argv)
    except Exception as error:  # noqa: BLE001 - config_flags lets through whatever a file raises
      fail(errors.flag_error(argv, error, example=example), USAGE_EXIT_CODE)
    given = any(arg.startswith(("--config=", "-config=")) or arg == "--config" for arg in argv)
    if (required or given) and not isinstance(flags.FLAGS.config, ml_collections.ConfigDict):
      fail(errors.flag_error(argv, None, example=example), USAGE_EXIT_CODE)
    return args

  return parse
