r"""Capacity K*(N) at hidden-bit accuracy 0.99, searched per rule and size (issue 9, item 4).

  python -m experiments.capacity                                   # hand-written rules
  python -m experiments.capacity --rules=results/rules/headline_s0,results/rules/headline_s1 \
    --layouts=exact,trained
  python -m experiments.capacity --rules=storkey_cued,results/rules/n64_k8_24_s0 --sizes=64 \
    --layouts=exact,trained --scan=1,2,4,8,16,24         # also these loads, printed as a table
  python -m experiments.results                                    # RESULTS.md section + plot

Rules: hand-written names or committed rule directories (results/rules/<name>, evaluated at
every N with the same parameters). For every rule and N in --sizes, K doubles from 1 until the
accuracy drops below the threshold, then bisects; every rule sees the same episodes at a given
(N, K). Each evaluated point is appended to --records, so a rerun skips what is done. The logic
is `learned_rules.sweeps.capacity`.
"""

from absl import app, flags

from learned_rules.sweeps import capacity

FLAGS = flags.FLAGS
flags.DEFINE_list("rules", list(capacity.HANDWRITTEN), "Rule names or rule directories.")
flags.DEFINE_list("sizes", ["16", "32", "64", "128", "256"], "N: neurons (fully connected).")
flags.DEFINE_list("layouts", ["exact"], "exact (K slots) and/or trained (the rule's k_max slots).")
flags.DEFINE_float("threshold", 0.99, "Hidden-bit accuracy criterion.")
flags.DEFINE_float("max_load", 0.6, "Largest K searched, as a fraction of N.")
flags.DEFINE_string("records", "results/capacity.jsonl", "JSON-lines records (appended).")
flags.DEFINE_integer("eval_hidden_bits", 16384, "Scored hidden bits aimed for per point.")
flags.DEFINE_integer("max_episodes", 256, "Most episodes per point.")
flags.DEFINE_string("machine", "", "Machine description in the records ('' = detected).")
flags.DEFINE_list("scan", [], "Loads K also evaluated at every rule, N and layout (a table).")


def main(argv):
  del argv
  options = capacity.Options(
    rules=tuple(FLAGS.rules),
    sizes=tuple(int(n) for n in FLAGS.sizes),
    layouts=tuple(FLAGS.layouts),
    threshold=FLAGS.threshold,
    max_load=FLAGS.max_load,
    records=FLAGS.records,
    eval_hidden_bits=FLAGS.eval_hidden_bits,
    max_episodes=FLAGS.max_episodes,
    machine=FLAGS.machine,
    scan=tuple(int(k) for k in FLAGS.scan),
  )
  found = capacity.run(options)
  for (rule, n, layout), k in found.items():
    print(f"K* {rule:<18} {layout:<8} N={n:<4} {k:>4}  K*/N {k / n:.3f}")
  if options.scan:
    records = capacity.read_records(options.records)
    labels = {capacity.rule_label(rule) for rule in options.rules}
    for n in options.sizes:
      for layout in options.layouts:
        print()
        print(capacity.load_table(records, n, layout, options.scan, labels))


if __name__ == "__main__":
  app.run(main)
