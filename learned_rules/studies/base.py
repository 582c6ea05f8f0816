"""The Study interface: a config in, JSON-lines records out, and a results section from them.

A study is research built on the library: a capacity search, a timing grid, a benchmark. Its
module defines one `STUDY = Study(...)`:
- `run(config)`: does the work (through the trainer and the evaluation where it trains or scores
  rules) and appends records to `config.records`, skipping what is already there, so a stopped
  study resumes when rerun;
- `section(context)`: the markdown lines of its section of the results document, drawn from its
  records alone (plots are written beside them); [] when it has no records yet;
- `validate(config)` (optional): raises ConfigError naming the key, before any work starts.
A study is handed its config; it never imports a config module or an entry point. Studies are
found by name in `learned_rules.studies.STUDIES`; `experiments.study` runs any of them from its
config file, and `learned_rules.studies.report` writes every section in registry order.
"""

import dataclasses
import os
from collections.abc import Callable

from learned_rules.common import records
from learned_rules.common.errors import UserError


class Interrupted(UserError):
  """A study stopped by SIGINT or SIGTERM after saving a checkpoint: rerunning resumes it."""


@dataclasses.dataclass(frozen=True)
class ReportContext:
  """Where a section reads its records and writes its plots, and how the document links them."""

  records_dir: str  # the directory of the records files (results/)
  plots_dir: str  # where PNGs go (usually records_dir)
  document: str  # the markdown file being written (RESULTS.md)

  @property
  def root(self) -> str:
    """The repository root: rule directories in records are relative to it."""
    return os.path.dirname(os.path.abspath(self.document))

  def records_path(self, name: str) -> str:
    return os.path.join(self.records_dir, name)

  def read(self, name: str, kind: str | None = None) -> list[dict]:
    """The records of `records_dir/name` ([] when missing), only `kind` when given."""
    return records.read(self.records_path(name), kind)

  def plot_path(self, name: str) -> str:
    os.makedirs(self.plots_dir, exist_ok=True)
    return os.path.join(self.plots_dir, name)

  def notes(self, study: str) -> list[str]:
    """Our reading of a study's records, kept by hand in `<records_dir>/notes/<study>.md`.

    The numbers of a section are drawn from its records; what they mean is a judgement, written
    beside them and printed under the section with its heading, so it is never mistaken for a
    generated number. [] when there is none.
    """
    path = os.path.join(self.records_dir, "notes", f"{study}.md")
    if not os.path.exists(path):
      return []
    with open(path) as f:
      text = f.read().strip("\n")
    return [
      "**Our reading** (`" + os.path.relpath(path, self.root) + "`):",
      "",
      *text.split("\n"),
      "",
    ]

  def link(self, name: str) -> str:
    """The plot `name` as the document links it (relative to the document's directory)."""
    return os.path.relpath(os.path.join(self.plots_dir, name), self.root)


@dataclasses.dataclass(frozen=True)
class Study:
  name: str  # the registry name, also `config.study` of its config files
  run: Callable  # run(config) -> anything the entry point prints a summary of (or None)
  section: Callable | None = None  # section(ReportContext) -> markdown lines ([] when no records)
  validate: Callable | None = None  # validate(config): ConfigError naming the key
  document: str = "RESULTS.md"  # the results document its section belongs to
  summary: Callable | None = None  # summary(result, config) -> lines printed after run
