r"""Recall by storage position: which stored patterns a rule loses, and whether the oldest go
first (a rule that forgets at a fixed rate) or every position alike (crosstalk).

  python -m experiments.serial_position --rules=storkey_cued,results/rules/n64_exact_ft_s0 \
    --points=256:40,64:24
  python -m experiments.results        # RESULTS.md section + results/serial_position.png

--points is a list of N:K (K patterns in K slots, fully connected). Replaces the records of the
(rule, N, K) it measures in --records. The logic is `learned_rules.sweeps.serial_position`.
"""

from absl import app, flags

from experiments.cli import USAGE_EXIT_CODE, fail
from learned_rules.common.errors import ConfigError
from learned_rules.sweeps import serial_position

FLAGS = flags.FLAGS
flags.DEFINE_list("rules", ["storkey_cued"], "Rule names or committed rule directories.")
flags.DEFINE_list("points", ["64:24"], "N:K pairs (neurons, patterns).")
flags.DEFINE_integer("episodes", 64, "Episodes per point.")
flags.DEFINE_string("records", "results/serial_position.jsonl", "JSON-lines records.")
flags.DEFINE_string("machine", "", "Machine description in the records ('' = detected).")


def parse_points(points) -> list:
  out = []
  for point in points:
    try:
      n, k = (int(x) for x in point.split(":"))
    except ValueError:
      raise app.UsageError(f"--points has {point!r}: expected N:K, e.g. 256:40.") from None
    if n < 16 or k < 1:
      raise app.UsageError(f"--points has {point!r}: needs N >= 16 and K >= 1.")
    out.append((n, k))
  return out


def main(argv):
  del argv
  try:
    records = serial_position.run(
      FLAGS.rules, parse_points(FLAGS.points), FLAGS.records, FLAGS.episodes, FLAGS.machine
    )
  except ConfigError as error:
    fail(str(error), USAGE_EXIT_CODE)
  print(serial_position.markdown(records))


if __name__ == "__main__":
  app.run(main)
