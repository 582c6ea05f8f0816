"""A saved learned rule (results/rules/<name> or a training workdir) run on another task's config.

The directory is read by `configs/committed_rule.get_config` (its checks, its type-exact merge of
config.json); this puts the saved `rule` block and aggregation onto a task config, so a rule
with keys that task's config leaves at their defaults (bilinear, a hand-set init) runs as trained.
"""

from configs import committed_rule
from learned_rules import experiment
from learned_rules.common.errors import ConfigError
from learned_rules.train import trainer


def load(rule_dir: str, what: str):
  """The saved config of `rule_dir`; ConfigError (prefixed by `what`) if it is not a rule."""
  try:
    return committed_rule.get_config(rule_dir)
  except ValueError as error:
    raise ConfigError(f"{what}: {error}") from None


def onto(config, rule_dir: str, what: str = "saved rule"):
  """(config running the learned rule of `rule_dir`, its meta-parameters, its saved config)."""
  saved = load(rule_dir, what)
  with config.unlocked():
    config.rule = saved.rule.copy_and_resolve_references()
    config.rule.name = "learned"
    config.aggregation = saved.aggregation
  model = experiment.build(config).model("learned")
  template = trainer.state_template(config, model).params
  return config, trainer.load_params(saved.eval.params_file, template), saved
