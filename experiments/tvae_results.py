r"""Trains (resuming) and evaluates every TVAE row with its controls; writes RESULTS_TVAE.md.

  python -m experiments.make_mnist --out_dir=data/mnist   # once
  python -m experiments.make_mnist --dataset=fashion_mnist --out_dir=data/fashion_mnist  # once
  python -m experiments.tvae_results --mnist_epochs=10 --dsprites_epochs=2

Rows (learned_rules/tvae/results.py ROWS): the six MNIST rows of the reference's Table 1 and a
time-shuffled L=13/36, the six dSprites rows and a time-shuffled L=1/2, the generalization test,
Fashion-MNIST L=13/36 and the 2-D TVAE; each next to its untrained control. Every row's workdir
is <root>/<label made filename-safe>; a row resumes from its checkpoints, a finished row is only
evaluated, and an evaluation already cached for the same config is reused, so rerunning the
command after an interruption continues where it stopped. `--reuse` trains and evaluates
nothing. Pictures (trained above untrained) go to --figures_dir.
"""

import dataclasses
import sys

from absl import app, flags

from learned_rules.common.overrides import parse_value
from learned_rules.tvae import results

FLAGS = flags.FLAGS
flags.DEFINE_string("root", "runs/tvae_long", "Where each row's workdir goes.")
flags.DEFINE_string("out", "RESULTS_TVAE.md", "The markdown file written.")
flags.DEFINE_string("figures_dir", "results/tvae", "Where the pictures linked from --out go.")
flags.DEFINE_string("data_dir", "data/mnist", "MNIST IDX files (see experiments.make_mnist).")
flags.DEFINE_string("dataset", "mnist", "Digit dataset of the MNIST rows (mnist | synthetic).")
flags.DEFINE_string("dsprites_dataset", "dsprites_procedural", "dsprites | dsprites_procedural.")
flags.DEFINE_string("dsprites_data_dir", "data/dsprites", "Where the real dSprites npz would be.")
flags.DEFINE_string("fashion_data_dir", "data/fashion_mnist", "Fashion-MNIST IDX files.")
flags.DEFINE_integer("fashion_train_size", 8000, "Training images of the Fashion-MNIST row.")
flags.DEFINE_integer("mnist_epochs", 10, "Epochs per MNIST row (generalization, Fashion too).")
flags.DEFINE_integer("dsprites_epochs", 2, "Epochs per dSprites row.")
flags.DEFINE_integer("mnist_2d_epochs", 50, "Epochs of the 2-D TVAE (batch 128).")
flags.DEFINE_integer("max_steps", 0, "Cap on every row's steps (0 = none; smoke runs).")
flags.DEFINE_integer("train_size", 0, "Training base images of MNIST/dSprites rows (0 = all).")
flags.DEFINE_integer("eval_size", 500, "Test sequences per row.")
flags.DEFINE_string("optimizer", "sgd", "sgd (the reference's, momentum 0.9) or adam.")
flags.DEFINE_float("learning_rate", 1e-4, "Learning rate (the reference's 1e-4).")
flags.DEFINE_list("only", [], "Train only these rows (labels); the others are read if cached.")
flags.DEFINE_bool("reuse", False, "Train and evaluate nothing: the report from cached rows.")
flags.DEFINE_multi_string("override", [], "key=value applied to every row's config (tiny runs).")


def main(argv):
  del argv
  names = {f.name for f in dataclasses.fields(results.Options)} - {"only", "overrides"}
  overrides = tuple((k, parse_value(v)) for k, v in (o.split("=", 1) for o in FLAGS.override))
  options = results.Options(
    **{name: getattr(FLAGS, name) for name in names},
    only=tuple(FLAGS.only),
    overrides=overrides,
  )
  rows = results.run_all(options)
  command = "python -m experiments.tvae_results " + " ".join(sys.argv[1:])
  text = results.markdown(rows, options, FLAGS.out, command=command.strip())
  with open(FLAGS.out, "w") as f:
    f.write(text)
  print(text)


if __name__ == "__main__":
  app.run(main)
