r"""Runs any study from its config file, or regenerates the results documents from the records.

  python -m experiments.study --config=configs/studies/capacity.py
  python -m experiments.study --config=configs/studies/capacity.py \
    --config.rules=storkey_cued,results/rules/n64_k40s32_s0 "--config.sizes=(64, 128)"
  python -m experiments.study --report      # RESULTS.md and RESULTS_TVAE.md from results/

The config's `study` field names the study (learned_rules/studies/__init__.py lists them); any
field can be overridden with `--config.key=value` and an unknown key fails loudly. A list of
names can be given comma-separated (`--config.rules=a,b`); a list of numbers as a tuple
(`"--config.sizes=(64, 128)"`). A study appends to its records file and skips what is recorded,
so rerunning the same command after a crash or Ctrl-C continues it. Mistakes end in one
`error: ...` line, as in `experiments.main`.
"""

import sys

import ml_collections
from absl import app, flags
from ml_collections import config_flags

from experiments import cli

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "A study config file.", lock_config=True)
flags.DEFINE_bool("report", False, "Regenerate the results documents from the records.")
flags.DEFINE_string("records_dir", "results", "With --report: the records directory.")

# Keyword options handed to the study's run (tests set trainer debug hooks here; no config can).
RUN_OPTIONS = {}

parse_flags = cli.flags_parser(example="configs/studies/capacity.py", required=False)


def split_top_level(text: str) -> list[str]:
  """'a,b=(1, 2),c' -> ['a', 'b=(1, 2)', 'c']: commas inside brackets or quotes do not split."""
  parts, depth, quote, start = [], 0, None, 0
  for i, char in enumerate(text):
    if quote:
      quote = None if char == quote else quote
    elif char in "'\"":
      quote = char
    elif char in "([{":
      depth += 1
    elif char in ")]}":
      depth -= 1
    elif char == "," and depth == 0:
      parts.append(text[start:i])
      start = i + 1
  return [p.strip() for p in [*parts, text[start:]] if p.strip()]


def split_name_lists(config, argv) -> None:
  """`--config.rules=a,b` -> ('a', 'b'): absl hands a tuple-of-strings override as one item.

  Only the fields overridden in `argv` are split, and only at top-level commas: an entry such as
  'train.exact_loads=(1, 4)' stays whole, and a config file's own entries are left as written.
  A value written as a tuple or list literal ("--config.only=('a, b',)") is already split by
  absl and is left whole, so a name may hold a comma.
  """
  for arg in argv:
    name, equals, raw = arg.lstrip("-").partition("=")
    if not equals or not name.startswith("config.") or raw.strip()[:1] in ("(", "["):
      continue
    *parents, key = name[len("config.") :].split(".")
    node = config
    for parent in parents:
      node = node.get(parent) if isinstance(node, ml_collections.ConfigDict) else None
    if not isinstance(node, ml_collections.ConfigDict) or key not in node:
      continue
    value = node[key]
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
      parts = tuple(p for v in value for p in split_top_level(v))
      if parts != value:
        with node.unlocked():
          node[key] = parts


def main(argv):
  if len(argv) > 1:
    cli.fail(f"unexpected arguments {argv[1:]}; overrides are --config.key=value.", 2)
  config = FLAGS.config
  if config is None and not FLAGS.report:
    cli.fail(
      "--config is required: a study config, e.g. --config=configs/studies/capacity.py "
      "(or --report to regenerate the results documents).",
      cli.USAGE_EXIT_CODE,
    )
  from learned_rules import studies
  from learned_rules.common.errors import ConfigError
  from learned_rules.studies import report

  try:
    if config is not None:
      if "study" not in config:
        raise ConfigError(
          f"the config has no `study` field; study configs live in configs/studies/ and name "
          f"one of {studies.STUDIES.names}."
        )
      split_name_lists(config, sys.argv[1:])
      study = studies.load(config.study)
      if study.validate is not None:
        study.validate(config)
      result = study.run(config, **RUN_OPTIONS)
      if study.summary is not None and result is not None:
        for line in study.summary(result, config):
          print(line, flush=True)
      if isinstance(result, dict) and result.get("interrupted"):
        sys.exit(130)
    if FLAGS.report:
      for path in report.generate(FLAGS.records_dir):
        print(f"wrote {path}", flush=True)
  except studies.Interrupted as stop:
    print(f"warning: {stop}", file=sys.stderr, flush=True)
    sys.exit(130)
  except Exception as error:
    mistake = cli.user_mistake(error, config)
    if mistake is None:
      raise
    cli.fail(*mistake)


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
