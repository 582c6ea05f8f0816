r"""Test-only sweep config: one tiny learned rule, trained 12 steps with a checkpoint every 2.

  python -m experiments.study --config=tests/studies/tiny_sweep.py --config.records=DIR/r.jsonl \
    --config.params_dir=DIR/params --config.work_dir=DIR/runs
"""

from configs.studies import sweep_common

TINY_RULE = (
  "rule.neuron_state_size=4,rule.synapse_state_size=2,rule.message_size=4,rule.hidden_size=8"
)


def get_config():
  config = sweep_common.sweep_config("tiny")
  config.log_every = 1
  config.checkpoint_every = 2
  config.eval_hidden_bits = 32
  config.eval_min_episodes = 4
  config.eval_max_episodes = 4
  config.eval_batch_size = 4
  config.probe_max_size = 0  # no probe
  config.groups.a = sweep_common.group(
    rules=("learned",),
    variants=(TINY_RULE,),
    sizes=(8,),
    loads=(0.25,),
    train_size=8,
    train_k=(1, 2),
    train_steps=12,
    train_batch_size=2,
    train_max_seconds=0.0,  # no cap: the result must not depend on timing
  )
  return config
