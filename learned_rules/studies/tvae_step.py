"""TVAE training-step time per row, every row next to the plain VAE measured in the same process.

Each run appends one record (kind 'tvae_step') with the per-row medians and ratios of
`tvae.step_timing.measure`; the section shows the latest run and, when an earlier one differs
in the topographic sum's method, that one too (a before / after table on the same rows).
"""

from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies.base import Study
from learned_rules.tvae import step_timing

KIND = "tvae_step"


def validate(config) -> None:
  if step_timing.BASELINE not in config.rows:
    raise ConfigError(f"rows: needs the baseline row {step_timing.BASELINE!r}.")
  if config.w_method not in ("", "auto", "matrix", "shifts"):
    raise ConfigError(f"w_method={config.w_method!r}: expected '', 'auto', 'matrix' or 'shifts'.")
  if config.repeats < 1 or config.batch_size < 1:
    raise ConfigError("repeats and batch_size: must be >= 1.")


def run(config) -> list:
  rows = dict(config.rows.items())
  if config.w_method:
    rows = {name: row.copy_and_resolve_references() for name, row in rows.items()}
    for row in rows.values():
      row.model.w_method = config.w_method
  rows = step_timing.measure(rows, config.batch_size, config.repeats)
  records_io.append(
    config.records,
    {
      "kind": KIND,
      "label": config.label,
      "w_method": config.w_method or "auto",
      "rows": rows,
      **records_io.provenance(config.machine),
    },
  )
  return rows


def table(rows: list) -> list[str]:
  lines = ["| row | model | step (ms, median) | × VAE |", "|---|---|---:|---:|"]
  for r in rows:
    ratio = "-" if r["ratio_to_vae"] is None else f"{r['ratio_to_vae']:.2f}"
    lines.append(f"| {r['name']} | {r['variant']} | {1000 * r['step_seconds']:.1f} | {ratio} |")
  return lines


def section(context) -> list[str]:
  found = context.read("tvae_step.jsonl", KIND)
  if not found:
    return []
  lines = [
    "## Training-step time per row",
    "",
    "One training step (sequences built in JAX, forward, backward, SGD update) at the batch "
    "shown, compiled and warmed up, median of the repeats; every row's ratio is to the plain "
    "VAE timed in the same process (`python -m experiments.study "
    "--config=configs/studies/tvae_step.py`).",
    "",
  ]
  for record in found[-2:]:
    batch = record["rows"][0]["batch_size"] if record["rows"] else "-"
    lines += [
      f"**{record['label'] or 'run'}** (W(u²) by `{record.get('w_method', 'auto')}`, "
      f"{record['date']}, batch {batch}, {record['machine']}):",
      "",
      *table(record["rows"]),
      "",
    ]
  return lines


STUDY = Study(
  name="tvae_step",
  run=run,
  section=section,
  validate=validate,
  document="RESULTS_TVAE.md",
  summary=lambda rows, config: table(rows),
)
