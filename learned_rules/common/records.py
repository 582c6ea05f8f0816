"""JSON-lines records, the one format every study writes and its report reads.

A record is one JSON object on one line. Appending is safe to interrupt: a line cut short by a
kill is skipped on reading and dropped before the next append, so a rerun picks up where a
stopped study ended. Every record carries the machine it ran on and the command that made it.
"""

import json
import os
import platform
import shlex
import sys
import time

from learned_rules.common.writers import read_jsonl


def read(path: str, kind: str | None = None) -> list[dict]:
  """The records of `path` ([] when it does not exist), only those of `kind` when given."""
  found = read_jsonl(path)
  return found if kind is None else [r for r in found if r.get("kind") == kind]


def _drop_cut_off_line(path: str) -> None:
  """Removes a last line without its newline (a write cut short), so an append starts clean."""
  if not os.path.exists(path) or os.path.getsize(path) == 0:
    return
  with open(path, "rb") as f:
    data = f.read()
  if data.endswith(b"\n"):
    return
  with open(path, "wb") as f:
    f.write(data[: data.rfind(b"\n") + 1])


def append(path: str, record: dict) -> None:
  """Adds one record to the end of `path` (creating it and its directory)."""
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  _drop_cut_off_line(path)
  with open(path, "a") as f:
    f.write(json.dumps(record, sort_keys=True) + "\n")


def rewrite(path: str, found: list[dict]) -> None:
  """Replaces the whole file with `found`, atomically."""
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    for record in found:
      f.write(json.dumps(record, sort_keys=True) + "\n")
  os.replace(tmp, path)


def replace(path: str, new: list[dict], same) -> None:
  """Writes `new` in place of the records `same(old, new_record)` matches; the rest stay."""
  kept = [old for old in read(path) if not any(same(old, r) for r in new)]
  rewrite(path, kept + list(new))


def machine_description(override: str = "") -> str:
  """`override`, or the host's core count and architecture and the device jax computes on."""
  if override:
    return override
  import jax  # here, so reading records never starts a backend

  device = jax.devices()[0]
  kind = getattr(device, "device_kind", device.platform)
  return f"{os.cpu_count()}-core {platform.machine()} host, jax {jax.__version__} on {kind}"


def shell_quote(arg: str) -> str:
  """`arg` for a POSIX shell, as a person writes it: bare when safe, in double quotes when it
  holds single quotes (a Python tuple of strings) and nothing a double-quoted string expands,
  else as `shlex.quote` does."""
  if "'" in arg and not any(c in arg for c in '"$`\\!'):
    return f'"{arg}"'
  return shlex.quote(arg)


def command_line(module: str = "experiments.study", argv: list[str] | None = None) -> str:
  """The command that is running, as a user would type it (`python -m <module> <args>`)."""
  args = sys.argv[1:] if argv is None else argv
  return " ".join(shell_quote(a) for a in ["python", "-m", module, *args])


def provenance(machine: str = "") -> dict:
  """What every record states of where it came from: the machine, the command and the date."""
  return {
    "machine": machine_description(machine),
    "command": command_line(),
    "date": time.strftime("%Y-%m-%d"),
  }
