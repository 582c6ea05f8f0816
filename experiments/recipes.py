r"""Compares meta-training recipes: hidden-bit accuracy at K = 8, N = 32 against steps and minutes.

  python -m experiments.recipes                      # every recipe, seed 0, 1500 steps each
  python -m experiments.recipes --recipes=current,curriculum --seeds=0,1,2

Rerunning continues: a recipe with records is skipped, a stopped one resumes from its checkpoints
(runs/recipes/<recipe>_seed<seed>). Writes results/recipes.jsonl and results/recipes.png.
"""

from absl import app, flags

from learned_rules.sweeps import recipes

FLAGS = flags.FLAGS
flags.DEFINE_list(
  "recipes", list(recipes.RECIPES), "Recipes to run (learned_rules/sweeps/recipes.py)."
)
flags.DEFINE_list("seeds", ["0"], "Seeds per recipe.")
flags.DEFINE_string("root", "runs/recipes", "Workdirs of the runs.")
flags.DEFINE_string("records", "results/recipes.jsonl", "JSON-lines records (appended).")
flags.DEFINE_string("plot", "results/recipes.png", "The figure ('' for none).")
flags.DEFINE_integer("num_steps", 1500, "Meta-steps per recipe.")
flags.DEFINE_integer("checkpoint_every", 100, "Steps between learning-curve points.")
flags.DEFINE_integer("eval_episodes", 256, "Evaluation episodes per point.")
flags.DEFINE_list("override", [], "Extra key=value config overrides for every recipe.")


def main(argv):
  del argv
  options = recipes.Options(
    recipes=tuple(FLAGS.recipes),
    seeds=tuple(int(s) for s in FLAGS.seeds),
    root=FLAGS.root,
    records=FLAGS.records,
    num_steps=FLAGS.num_steps,
    checkpoint_every=FLAGS.checkpoint_every,
    eval_episodes=FLAGS.eval_episodes,
    overrides=tuple(FLAGS.override),
  )
  records = recipes.run(options)
  if FLAGS.plot:
    recipes.plot(records, FLAGS.plot)
  for name in options.recipes:
    for seed in options.seeds:
      points = [r for r in records if r["recipe"] == name and r["seed"] == seed]
      if points:
        last = max(points, key=lambda r: r["step"])
        print(
          f"{name:<16} seed {seed}: K={last['eval_k']} hidden-bit accuracy "
          f"{last['hidden_bit_accuracy']:.4f} after {last['step']} steps, "
          f"{last['wall_s'] / 60:.1f} min ({last['reference_rule']}: "
          f"{last['reference_hidden_bit_accuracy']:.4f})"
        )


if __name__ == "__main__":
  app.run(main)
