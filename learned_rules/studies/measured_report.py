"""What the measuring studies share (bench, bench_sharding): one run measures once and appends its
whole report as one record; the section prints the latest report with its command and machine."""

from learned_rules.common import records


def run(config, kind: str, measure) -> dict:
  """`measure(config)`, appended to `config.records` as one record of `kind`; returns the report."""
  found = measure(config)
  records.append(
    config.records, {"kind": kind, "report": found, **records.provenance(config.machine)}
  )
  return found


def section(context, records_name: str, kind: str, title: str, format_report) -> list[str]:
  """The latest recorded report, formatted by `format_report`, under `title`."""
  found = context.read(records_name, kind)
  if not found:
    return []
  last = found[-1]
  return [
    f"## {title}",
    "",
    f"`{last['command']}` on {last['machine']}, {last['date']} (the latest of "
    f"{len(found)} recorded runs; medians of the repeats, ratios measured in the same run):",
    "",
    "```",
    *format_report(last["report"]).split("\n"),
    "```",
    "",
  ]
