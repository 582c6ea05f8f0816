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


def split_name_lists(config) -> None:
  """('a,b',) -> ('a', 'b') in every tuple-of-strings field: absl hands a list flag as one item."""
  for key, value in list(config.items()):
    if isinstance(value, ml_collections.ConfigDict):
      split_name_lists(value)
    elif isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
      parts = tuple(p.strip() for v in value for p in v.split(",") if p.strip())
      if parts != value:
        with config.unlocked():
          config[key] = parts


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
      split_name_lists(config)
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
