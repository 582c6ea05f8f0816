"""The abstract's claims, one by one, against the TVAE records: each with its paired comparison
over seeds, drawn from the records of tvae_curves (100-epoch runs) and tvae_organization.

Nothing is trained or evaluated here: `run` reads the records and prints the table, `section`
puts it in RESULTS_TVAE.md. Claims that only the 10-epoch table (tvae_table) speaks to are named
with where to read them; our reading of every claim is results/notes/tvae_claims.md.
"""

import os

from learned_rules.common import records as records_io
from learned_rules.common.errors import ConfigError
from learned_rules.studies import tvae_curves, tvae_organization
from learned_rules.studies.base import Study

# The rows the comparisons pair, by tvae_curves / tvae_organization row label.
TOPOGRAPHIC = "TVAE L=13/36"
BASELINE = "VAE"


def final_by_seed(records: list, row: str, key: str) -> dict:
  """{seed: the metric at the run's last evaluation} of the row's finished runs."""
  return {r["seed"]: r["trained"][key][-1] for r in records if r["row"] == row and r["finished"]}


def number(value: float) -> str:
  if abs(value) >= 1000:
    return f"{value:,.0f}"
  return (
    f"{value:.1f}" if abs(value) >= 10 else f"{value:.4f}" if abs(value) < 0.1 else f"{value:.2f}"
  )


def span(values) -> str:
  """'lo to hi' over the seeds (one value as it is)."""
  values = [v for v in values if v is not None]
  if not values:
    return "-"
  if len(values) == 1:
    return number(values[0])
  return f"{number(min(values))} to {number(max(values))}"


def paired(curves: list, key: str, higher: bool) -> dict | None:
  """TOPOGRAPHIC against BASELINE at their last evaluation, paired by seed (the same seed
  evaluates on the same test sequences)."""
  a = final_by_seed(curves, TOPOGRAPHIC, key)
  b = final_by_seed(curves, BASELINE, key)
  seeds = sorted(set(a) & set(b))
  if not seeds:
    return None
  better = [(a[s] > b[s]) if higher else (a[s] < b[s]) for s in seeds]
  untrained = {
    r["seed"]: r["untrained"][key] for r in curves if r["row"] == TOPOGRAPHIC and r["finished"]
  }
  beats_untrained = [
    (a[s] > untrained[s]) if higher else (a[s] < untrained[s]) for s in seeds if s in untrained
  ]
  epochs = sorted({r["epochs"][-1] for r in curves if r["row"] in (TOPOGRAPHIC, BASELINE)})
  return {
    "seeds": seeds,
    "topographic": [a[s] for s in seeds],
    "baseline": [b[s] for s in seeds],
    "differences": [a[s] - b[s] for s in seeds],
    "better": sum(better),
    "untrained": [untrained[s] for s in seeds if s in untrained],
    "beats_untrained": sum(beats_untrained),
    "epochs": epochs,
  }


def curve_row(claim: str, measure: str, found: dict | None, higher: bool) -> str:
  if found is None:
    return f"| {claim} | {measure} | no finished {TOPOGRAPHIC} and {BASELINE} runs | - |"
  n = len(found["seeds"])
  epochs = ", ".join(f"{e:g}" for e in found["epochs"])
  numbers = (
    f"{TOPOGRAPHIC} {span(found['topographic'])} against {BASELINE} {span(found['baseline'])}; "
    f"paired difference {span(found['differences'])} (seeds {found['seeds']}, epoch {epochs}); "
    f"{TOPOGRAPHIC} untrained {span(found['untrained'])}"
  )
  word = "higher" if higher else "lower"
  verdict = (
    f"{word} than {BASELINE} on {found['better']} of {n} seeds; better than its untrained "
    f"model on {found['beats_untrained']} of {n}"
  )
  return f"| {claim} | {measure} | {numbers} | {verdict} |"


def organization_rows(organization: list) -> list[str]:
  """One line per row of the organization records: trained d' and neighbour agreement against
  the untrained model, the label-permuted and the units-permuted controls."""
  lines = []
  for row, group in tvae_organization.by_row(organization).items():
    trained = [r["trained"]["mean_selectivity"] for r in group]
    untrained = [r["untrained"]["mean_selectivity"] for r in group]
    chance = [r["labels_shuffled"]["mean_selectivity"] for r in group]
    nbr = [r["trained"]["smoothness"] for r in group]
    nbr_chance = [r["trained"]["shuffled_smoothness"] for r in group]
    nbr_untrained = [r["untrained"]["smoothness"] for r in group]
    epochs = sorted({r["epochs"] for r in group if r["epochs"] is not None})
    above = sum(t > max(u, c) for t, u, c in zip(trained, untrained, chance, strict=True))
    numbers = (
      f"{row} ({', '.join(f'{e:g}' for e in epochs)} epochs, seeds "
      f"{[r['seed'] for r in group]}): mean d' {span(trained)} against untrained "
      f"{span(untrained)} and labels permuted {span(chance)}; neighbours sharing a digit "
      f"{span(nbr)} against units permuted {span(nbr_chance)} and untrained {span(nbr_untrained)}"
    )
    verdict = (
      f"d' above both controls on {above} of {len(group)} seeds; neighbours agree "
      f"{'more' if min(nbr) > max(*nbr_untrained, *nbr_chance) else 'not more'} than both "
      "controls (untrained, units permuted)"
    )
    lines.append(f"| organized by digit class | d', neighbours | {numbers} | {verdict} |")
  return lines


def table(curves: list, organization: list) -> list[str]:
  lines = [
    "| the abstract's claim | measure | these rows | paired comparison |",
    "|---|---|---|---|",
    curve_row(
      "higher likelihood on transforming test sequences",
      "log p(x), nats per frame",
      paired(curves, "log_likelihood", True),
      True,
    ),
    curve_row(
      "equivariant capsules (inference commutes with the transformation)",
      "E_eq",
      paired(curves, "equivariance_error", False),
      False,
    ),
    curve_row(
      "learned equivariance: a capsule roll decodes to the transformed frame",
      "pixel eq. error (ours)",
      paired(curves, "pixel_equivariance_error", False),
      False,
    ),
    *organization_rows(organization),
    "| organized by width and style | - | no labels for width or style here: not measured | - |",
    "| temporal coherence is what teaches it | time-shuffled row | the 10-epoch table above "
    "(one seed): TVAE L=13/36 against its time-shuffled control | see our reading |",
    "| equivariance to complex transformations | generalization rows | the 10-epoch "
    "generalization table above (one seed) | see our reading |",
  ]
  return lines


def read_records(records_dir: str) -> tuple[list, list]:
  curves = list(
    tvae_curves.latest_by_run(
      records_io.read(os.path.join(records_dir, "tvae_curves.jsonl"), tvae_curves.KIND)
    ).values()
  )
  organization = list(
    tvae_organization.latest_by_run(
      records_io.read(os.path.join(records_dir, "tvae_organization.jsonl"), tvae_organization.KIND)
    ).values()
  )
  return curves, organization


def validate(config) -> None:
  if not config.records_dir:
    raise ConfigError("records_dir: name the directory of the TVAE records (results).")


def run(config) -> list[str]:
  curves, organization = read_records(config.records_dir)
  if not curves and not organization:
    raise ConfigError(
      f"{config.records_dir}: no tvae_curves or tvae_organization records; run those studies."
    )
  return table(curves, organization)


def section(context) -> list[str]:
  curves, organization = read_records(context.records_dir)
  if not curves and not organization:
    return []
  machines = sorted({r["machine"] for r in [*curves, *organization]})
  return [
    "## The abstract's claims against these rows",
    "",
    "Each claim of the paper's abstract, the measure that tests it here, and the paired "
    f"comparison over seeds (same seed: same test sequences), from the records of the sections "
    "above (`python -m experiments.study --config=configs/studies/tvae_claims.py` prints it). "
    f"Medians are not shown: every number is the range over the seeds. Machine: "
    f"{'; '.join(machines)}.",
    "",
    *table(curves, organization),
    "",
  ]


STUDY = Study(
  name="tvae_claims",
  run=run,
  section=section,
  validate=validate,
  document="RESULTS_TVAE.md",
  summary=lambda found, config: found,
)
