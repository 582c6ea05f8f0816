r"""Remembering becomes learning: target-bit accuracy on unseen keys of a random teacher against
K, for rules meta-trained on remembering random pairs or on teacher pairs, beside backprop, the
delta rule, Hebbian, the teacher (ceiling) and the majority answer (floor).

  python -m experiments.study --config=configs/studies/teacher_curves.py
  python -m experiments.study --config=configs/studies/teacher_curves.py \
    "--config.teachers=('linear', 'two_layer')" --config.max_seconds=480 \
    --config.committed=layered:warm=results/rules/layered_teacher_warm_s0

Each learned rule trains (resumably) in <root>/<network>/<rule>; a point already recorded is
skipped. At 1500 steps or 8 min per rule, about 40 min for both networks on this 2-core CPU.
"""

from configs.studies import common


def get_config():
  config = common.study("teacher_curves", "results/teacher_curves.jsonl")
  config.networks = ("fully_connected", "layered")  # networks measured
  config.teachers = ("linear",)  # teachers evaluated on ('two_layer' too)
  config.root = "runs/teacher_curves"  # <root>/<network>/<learned rule>: the trainer's workdirs
  config.num_steps = 2000  # meta-steps per learned rule
  config.max_seconds = 0.0  # training cap per learned rule (0: none); the trainer's clock
  config.batch_size = 16  # episodes per meta-step
  config.remember_k = (2, 8)  # K range of the remember (random pairs) training episodes
  config.teacher_k = (4, 16)  # K range of the teacher-pairs training episodes
  config.eval_ks = (4, 8, 16, 32)  # pairs stored per evaluation episode
  config.eval_episodes = 256  # per (rule, K); each asks task.num_queries unseen keys
  config.eval_batch_size = 128  # episodes per evaluation batch
  config.backprop_rates = (0.01, 0.04, 0.1)  # the best per K is reported ('best of')
  config.overrides = ()  # 'key=value' overrides of every config (e.g. tiny sizes)
  config.committed = ()  # 'network:label=rule_dir': saved rules evaluated as they are
  return config
