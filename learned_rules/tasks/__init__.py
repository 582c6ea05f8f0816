"""Tasks by `config.task.name`. Adding one: a module with a `Task` subclass, a line here, a test."""

from learned_rules.common.registry import Registry
from learned_rules.tasks.base import Task, model_inputs
from learned_rules.tasks.remember import RememberTask
from learned_rules.tasks.teacher import TeacherTask

TASKS = Registry("task", "task.name")
TASKS.register("remember", RememberTask)
TASKS.register("teacher", TeacherTask)


def validate(config) -> None:
  """Checks the `task` block: a registered name, then the task's own keys."""
  TASKS.check(config.name)
  TASKS.get(config.name).validate(config)


def build(config) -> Task:
  """The task the `task` config block names."""
  return TASKS.get(config.name)(config)


__all__ = ["TASKS", "Task", "build", "model_inputs", "validate"]
