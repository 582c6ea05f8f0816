"""What every entry point shares: one `error:` line for a mistake, and flag parsing that uses it."""

import sys

import ml_collections
from absl import flags

from learned_rules.common import errors

USAGE_EXIT_CODE = 2  # a command line or config that cannot work


def fail(message: str, code: int = 1):
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(code)


def flags_parser(example: str):
  """An `app.run(..., flags_parser=)` that turns every flag mistake into one `error:` line.

  `example`: a config file to suggest when `--config` is missing.
  """

  def parse(argv):
    try:
      args = flags.FLAGS(argv)
    except Exception as error:  # noqa: BLE001 - config_flags lets through whatever a file raises
      fail(errors.flag_error(argv, error, example=example), USAGE_EXIT_CODE)
    if not isinstance(flags.FLAGS.config, ml_collections.ConfigDict):  # the file did not load
      fail(errors.flag_error(argv, None, example=example), USAGE_EXIT_CODE)
    return args

  return parse
