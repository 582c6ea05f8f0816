r"""Turns the sweep records (results/*.jsonl) into PNG plots and RESULTS.md; nothing is rerun.

  python -m experiments.results
  python -m experiments.results --records_dir=results --output=RESULTS.md

The report's logic is `learned_rules.sweeps.report` (`report.generate(records_dir, output)` from a
notebook).
"""

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("records_dir", "results", "Directory with the sweep's *.jsonl records.")
flags.DEFINE_string("output", "RESULTS.md", "Markdown file to write.")
flags.DEFINE_string("plots_dir", None, "Where PNGs go (default: records_dir).")


def main(argv):
  del argv
  from learned_rules.sweeps import report

  report.generate(FLAGS.records_dir, FLAGS.output, FLAGS.plots_dir)


if __name__ == "__main__":
  app.run(main)
