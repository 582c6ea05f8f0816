"""Imports point one way: no circles (function-level imports included), and the package never
reaches up into the config files or the entry points."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "learned_rules"


def module_name(path: pathlib.Path) -> str:
  parts = path.relative_to(ROOT).with_suffix("").parts
  return ".".join(p for p in parts if p != "__init__")


def modules() -> dict[str, pathlib.Path]:
  return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: pathlib.Path, known: set[str]) -> set[str]:
  """Every module `path` imports anywhere in its body (top level or inside a function)."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      found |= {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      found.add(node.module)
      found |= {f"{node.module}.{alias.name}" for alias in node.names}
  return found if known is None else {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
  found = modules()
  known = set(found)
  edges = {}
  for name, path in found.items():
    # 'import a.b.c' also runs a and a.b: a package's __init__ is a dependency, but one that
    # says nothing about the order of the modules beneath it, so only module edges count.
    edges[name] = {m for m in imported(path, known) if m != name and not name.startswith(m + ".")}
  return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
  """Every strongly connected component of more than one module (Tarjan)."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in edges.get(node, ()):
      if nxt not in index:
        visit(nxt)
        low[node] = min(low[node], low[nxt])
      elif nxt in on_stack:
        low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
      component = []
      while True:
        top = stack.pop()
        on_stack.discard(top)
        component.append(top)
        if top == node:
          break
      if len(component) > 1:
        out.append(sorted(component))

  for node in sorted(edges):
    if node not in index:
      visit(node)
  return out


def test_cycle_finder_finds_a_circle_through_a_function_level_import(tmp_path):
  edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
  assert cycles(edges) == [["a", "b", "c"]]
  source = tmp_path / "m.py"
  source.write_text("def f():\n  from learned_rules.studies import capacity\n")
  assert imported(source, {"learned_rules.studies.capacity"}) == {"learned_rules.studies.capacity"}


def test_no_import_circles_in_the_package():
  assert cycles(graph()) == []


def test_the_package_never_imports_configs_or_entry_points():
  offenders = []
  for name, path in modules().items():
    for target in imported(path, None):
      if target.split(".")[0] in ("configs", "experiments"):
        offenders.append(f"{name} imports {target}")
  assert offenders == []


def test_nothing_in_the_library_imports_a_study():
  offenders = []
  for name, path in modules().items():
    if name.startswith("learned_rules.studies"):
      continue
    for target in imported(path, None):
      if target.startswith("learned_rules.studies"):
        offenders.append(f"{name} imports {target}")
  assert offenders == []
