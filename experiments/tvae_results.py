r"""Trains and evaluates the compared TVAE models on a small CPU budget; writes RESULTS_TVAE.md.

  python -m experiments.make_mnist --out_dir=data/mnist   # once
  python -m experiments.tvae_results --max_steps=1500 --eval_size=500

MNIST sequences: VAE, BubbleVAE, TVAE L=0 and TVAE L=13/36 (log-likelihood, E_eq); dSprites-like
procedural sequences: TVAE L=10/30 and a VAE (CapCorr). Every model gets the same number of steps;
`--reuse` rebuilds the table from existing eval.json files without training; `--resume` continues
rows whose runs were stopped (otherwise every trained row starts from scratch).
"""

import dataclasses

from absl import app, flags

from learned_rules.tvae import results

FLAGS = flags.FLAGS
flags.DEFINE_string("root", "runs/tvae_results", "Where each model's workdir goes.")
flags.DEFINE_string("out", "RESULTS_TVAE.md", "The markdown file written.")
flags.DEFINE_string("data_dir", "data/mnist", "MNIST IDX files (see experiments.make_mnist).")
flags.DEFINE_string("dataset", "mnist", "Digit dataset for the MNIST rows (mnist | synthetic).")
flags.DEFINE_integer("max_steps", 1500, "Training steps per MNIST model (batch 8 sequences).")
flags.DEFINE_integer("dsprites_steps", 1000, "Training steps per dSprites model.")
flags.DEFINE_integer("train_size", 0, "Training base images (0 = all).")
flags.DEFINE_integer("eval_size", 500, "Test sequences per model.")
flags.DEFINE_string("optimizer", "adam", "sgd (the spec's) or adam (faster on a short budget).")
flags.DEFINE_float("learning_rate", 1e-3, "Learning rate.")
flags.DEFINE_list("only", [], "Run only these rows (names below); others are reused.")
flags.DEFINE_bool("reuse", False, "Only rebuild the table from existing eval.json files.")
flags.DEFINE_bool("resume", False, "Continue from each row's checkpoints instead of restarting.")


def main(argv):
  del argv
  names = [f.name for f in dataclasses.fields(results.Options)]
  options = results.Options(**{name: getattr(FLAGS, name) for name in names})
  options = dataclasses.replace(options, only=tuple(FLAGS.only))
  text = results.markdown(*results.run_all(options), options)
  with open(FLAGS.out, "w") as f:
    f.write(text)
  print(text)


if __name__ == "__main__":
  app.run(main)
