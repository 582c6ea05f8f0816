"""Layers point one way: a module may import only the layers below it (read from the source)."""

import ast
import pathlib

import pytest

from learned_rules import rules, systems, tasks, topology
from learned_rules.common.errors import ConfigError

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "learned_rules"

# Each layer and the learned_rules layers it may import (besides itself). Top: the studies, which
# drive the trainer and the TVAE and which nothing else imports.
ENGINE = {"common", "state", "topology", "dynamics", "rules", "baselines"}
ALLOWED = {
  "common": set(),
  "engine": {"common"},
  "metrics": {"common"},
  "tasks": {"common", "engine", "metrics"},
  "below_train": {"common", "engine", "metrics", "tasks"},
  "train": {"common", "engine", "metrics", "tasks", "below_train"},
  "tvae": {"common"},
  "systems": {"common"},
  "studies": {"common", "engine", "metrics", "tasks", "below_train", "train", "tvae", "systems"},
}


def layer_of(module: str) -> str:
  """'learned_rules.train.meta' -> 'train'; the layer of a module of the package."""
  parts = module.split(".")
  top = parts[1] if len(parts) > 1 else ""
  if top in ENGINE:
    return "common" if top == "common" else "engine"
  if top in ("metrics", "tasks", "train", "tvae", "systems", "studies"):
    return top
  return "below_train"  # evaluation, probes, experiment, the package itself


def imports_of(path: pathlib.Path) -> set[str]:
  tree = ast.parse(path.read_text())
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found |= {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      found.add(node.module)
      found |= {f"{node.module}.{alias.name}" for alias in node.names}
  return {name for name in found if name.startswith("learned_rules.")}


def package_modules():
  for path in sorted(PACKAGE.rglob("*.py")):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    yield path, ".".join(p for p in relative.parts if p != "__init__")


def violations() -> list[str]:
  found = []
  for path, module in package_modules():
    own = layer_of(module)
    for imported in imports_of(path):
      # 'from learned_rules import tasks' names the submodule: judge the submodule.
      target = layer_of(imported)
      if target != own and target not in ALLOWED[own]:
        found.append(f"{module} ({own}) imports {imported} ({target})")
  return found


def test_no_module_imports_a_higher_layer():
  assert violations() == []


def test_nothing_below_train_imports_train():
  below = [m for _, m in package_modules() if layer_of(m) not in ("train", "studies")]
  assert "learned_rules.evaluation" in below and "learned_rules.probes" in below
  offenders = [
    f"{module} imports {name}"
    for path, module in package_modules()
    if module in below
    for name in imports_of(path)
    if name.startswith("learned_rules.train")
  ]
  assert offenders == []


def test_the_checker_catches_an_upward_import(tmp_path):
  bad = tmp_path / "bad.py"
  bad.write_text("from learned_rules.train import meta\nimport learned_rules.tasks.remember\n")
  assert imports_of(bad) == {
    "learned_rules.train",
    "learned_rules.train.meta",
    "learned_rules.tasks.remember",
  }
  assert "train" not in ALLOWED[layer_of("learned_rules.dynamics")]
  assert "tasks" not in ALLOWED[layer_of("learned_rules.rules.hebbian")]


@pytest.mark.parametrize(
  "registry,key",
  [
    (rules.RULES, "rule.name"),
    (tasks.TASKS, "task.name"),
    (topology.TOPOLOGIES, "topology.name"),
    (systems.SYSTEMS, "system"),
  ],
)
def test_unknown_name_lists_the_choices(registry, key):
  assert len(registry.names) >= 2 and len(set(registry.names)) == len(registry.names)
  with pytest.raises(ConfigError) as error:
    registry.get("no_such_thing")
  message = str(error.value)
  assert message.startswith(f"{key}='no_such_thing'")
  for name in registry.names:
    assert repr(name) in message


def test_one_spelling_per_rule():
  names = rules.RULES.names
  assert {"learned", "frozen", "hebbian", "hebbian_cued", "storkey", "storkey_cued"} <= set(names)
  assert {"delta", "delta_cued", "lstm"} <= set(names)
  with pytest.raises(ValueError, match="already registered"):
    rules.RULES.register("hebbian", lambda config, context: None)


def test_cached_parameter_files_stay_small():
  """Repository weight: cached meta-parameters over 1 MB are not kept in results/params."""
  params_dir = PACKAGE.parent / "results" / "params"
  large = [p.name for p in params_dir.glob("*.msgpack") if p.stat().st_size > 2**20]
  assert large == []
