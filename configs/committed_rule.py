r"""Evaluate a saved (committed) learned rule at any size, load and topology: no training.

  python -m experiments.main --config=configs/committed_rule.py:results/rules/n64_k40s32_s0 \
    --workdir=/tmp/eval_rule --config.task.pattern_bits=64 --config.eval.k=12 \
    --config.topology.name=sparse

The argument after ':' is a rule directory holding `config.json` (the training run's config, as
every workdir has) and `meta_params.msgpack` (its final meta-parameters). The config is the
training config with `mode='eval'` and `eval.params_file` pointing at those parameters; override
anything else with `--config.key=value`: the task (`task.pattern_bits` = N on fully connected
nets, `task.hidden_fraction`, ...), the load `eval.k` = K (default -1: the trained `task.k_max`),
the topology, `eval.num_episodes` and `eval.baselines` (the hand-written rules scored on the same
episodes). The rule's own sizes (`rule.*`) must stay as trained: a mismatch is an error naming
the parameter.

An evaluation episode holds exactly K patterns, no blank slots (no quiet start), whatever layout
the rule was trained on, unless `eval.slots` (>= K) asks for a longer layout: K patterns on that
many slots, the blank ones first or last as `task.blank_slots` says (e.g. the rule's training
layout). Report: `<workdir>/eval.json` and a printed table.
"""

from configs import remember, teacher
from learned_rules.train import saved_rules


def get_config(directory: str | None = None):
  if not directory:
    raise ValueError(
      "configs/committed_rule.py needs a rule directory: "
      "--config=configs/committed_rule.py:results/rules/<name>"
    )
  return saved_rules.load_config(
    directory, {"remember": remember.get_config(), "teacher": teacher.get_config()}
  )
