"""The Colab notebook runs top to bottom on this CPU with a tiny config (no network access)."""

import nbformat
from nbclient import NotebookClient

from tests.train.helpers import ROOT, read_json


def test_colab_notebook_runs_on_cpu(tmp_path, monkeypatch):
  workdir = tmp_path / "colab"
  monkeypatch.setenv("REMEMBER_TINY", "1")
  monkeypatch.setenv("REMEMBER_WORKDIR", str(workdir))
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  monkeypatch.setenv("MPLBACKEND", "agg")
  notebook = nbformat.read(f"{ROOT}/notebooks/remember_colab.ipynb", as_version=4)
  client = NotebookClient(
    notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": ROOT}}
  )
  client.execute()
  outputs = "".join(
    output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
  )
  assert "nothing to install" in outputs
  assert "oracle" in outputs  # the printed evaluation table
  assert "4 logged intervals" in outputs  # trainer.read_history: num_steps=4, log_every=1
  assert read_json(workdir / "eval.json")["task"]["pattern_bits"] == 8
  assert (workdir / "checkpoints" / "4").is_dir()
