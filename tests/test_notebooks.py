"""notebooks/custom_rule.ipynb runs top to bottom on this CPU and its Oja rule really recalls."""

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT

LOADS = (1, 2, 4, 8)  # the notebook's LOADS, in its table's column order


def _run(name: str, monkeypatch) -> str:
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  monkeypatch.setenv("MPLBACKEND", "agg")
  notebook = nbformat.read(f"{ROOT}/notebooks/{name}", as_version=4)
  client = NotebookClient(
    notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": ROOT}}
  )
  client.execute()
  return "".join(
    output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
  )


def _table(outputs: str) -> dict[str, list[float]]:
  """The printed hidden-bit accuracy table: rule -> one value per K."""
  lines = outputs.splitlines()
  header = next(i for i, line in enumerate(lines) if line.startswith("rule "))
  assert lines[header].split()[1:] == [f"K={k}" for k in LOADS]
  table = {}
  for line in lines[header + 1 :]:
    if not line.strip():
      break
    name, *values = line.split()
    table[name] = [float(v) for v in values]
  return table


def test_custom_rule_notebook_runs_and_oja_recalls(monkeypatch):
  outputs = _run("custom_rule.ipynb", monkeypatch)
  assert "one stored pattern: w = (1 - (1 - eta)^P) xi xi^T" in outputs  # the closed-form check
  table = _table(outputs)
  assert set(table) == {"hebbian", "hebbian_cued", "oja", "oracle"}
  assert all(len(values) == len(LOADS) for values in table.values())
  assert table["oracle"] == [1.0] * len(LOADS)  # the same episodes, the task's ceiling
  oja = table["oja"]
  assert oja[0] >= 0.99, oja  # one stored pattern must come back whole
  assert all(0.6 < value <= 1.0 for value in oja), oja  # above chance (0.5) at every load
  assert oja != table["hebbian"], "the 'oja' entry behaves exactly like Hebbian"
  assert table["hebbian"][0] == 1.0 and table["hebbian_cued"][0] == 1.0
  assert "config.rule.name='oja' and eval.baselines=('hebbian', 'oja') validate" in outputs
  assert "unknown name: rule.name='ojas'" in outputs and "'oja')" in outputs
