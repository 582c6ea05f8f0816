"""Name -> factory maps: how rules, topologies, tasks and systems are found by their config name."""

from collections.abc import Callable

from learned_rules.common.errors import ConfigError


class Registry:
  """One list of names per kind; an unknown name's error names the config key and the choices."""

  def __init__(self, kind: str, config_key: str):
    self.kind = kind  # 'rule', 'task', ...: used in messages
    self.config_key = config_key  # the config field that selects an entry, e.g. 'rule.name'
    self._factories: dict[str, Callable] = {}

  def register(self, name: str, factory: Callable | None = None):
    """Adds `factory` under `name` (usable as a decorator); a taken name raises."""

    def add(fn):
      if name in self._factories:
        raise ValueError(f"{self.kind} {name!r} is already registered.")
      self._factories[name] = fn
      return fn

    return add if factory is None else add(factory)

  def unregister(self, name: str) -> None:
    """Removes an entry (a notebook re-running its registration cell, a test cleaning up)."""
    self._factories.pop(name, None)

  @property
  def names(self) -> tuple[str, ...]:
    return tuple(self._factories)

  def __contains__(self, name) -> bool:
    return name in self._factories

  def check(self, name) -> None:
    """Raises ConfigError naming the key and every registered choice when `name` is unknown."""
    if name not in self._factories:
      raise ConfigError(
        f"{self.config_key}={name!r}: unknown {self.kind}; expected one of {self.names}."
      )

  def get(self, name: str) -> Callable:
    self.check(name)
    return self._factories[name]
