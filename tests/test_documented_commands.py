"""Every `python -m ...` command in the user's documents works: its module exists, its config file
loads, every `--config.key=value` override parses onto that config through absl (as the entry
point would parse it), and the config passes its study's or system's validation. The cheap ones
also run, with tiny overrides."""

import importlib.util
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
from absl import flags
from ml_collections import config_flags

from learned_rules.common.errors import ConfigError
from tests.train.helpers import subprocess_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = (
  "README.md",
  "RESULTS.md",
  "RESULTS_TVAE.md",
  "BUILD_NOTES.md",
  "results/rules/README.md",
  *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").rglob("*.py")),  # docstrings
)
ENTRY_FLAGS = {  # the entry points' flags besides --config
  "experiments.main": {"workdir"},
  "experiments.study": {"report", "records_dir"},
  "experiments.make_mnist": {"dataset", "out_dir", "deb", "npm_dir", "test_fraction"},
}


def documented_commands() -> list[tuple[str, str]]:
  """(document, command) for each `python -m` command, continuation lines joined."""
  found = []
  for name in DOCUMENTS:
    path = ROOT / name
    if not path.exists():
      continue
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    for match in re.finditer(r"python -m [^`\n]*", text):
      command = match.group(0).split("  #")[0].strip()
      if command.endswith(("...", "…")):
        command = command.rstrip(".… ")
      found.append((name, command))
  return found


COMMANDS = sorted(set(documented_commands()))


def parse(command: str):
  """(module, FlagValues with the command's flags parsed) or (module, None) without a config."""
  argv = shlex.split(command)
  assert argv[:2] == ["python", "-m"], command
  module, args = argv[2], argv[3:]
  values = flags.FlagValues()
  if any(a.startswith("--config=") for a in args):
    config_flags.DEFINE_config_file("config", None, "", flag_values=values, lock_config=True)
  for name in ENTRY_FLAGS.get(module, ()):
    if name == "report":
      flags.DEFINE_bool(name, False, "", flag_values=values)
    else:
      flags.DEFINE_string(name, None, "", flag_values=values)
  return module, args, values


def test_the_documents_have_commands():
  modules = {shlex.split(c)[2] for _, c in COMMANDS}
  assert {"experiments.main", "experiments.study", "pytest"} <= modules
  assert len(COMMANDS) >= 20


@pytest.mark.parametrize("document,command", COMMANDS, ids=[c[:90] for _, c in COMMANDS])
def test_documented_command_resolves(document, command, monkeypatch):
  monkeypatch.chdir(ROOT)  # the README's commands run from the repository root
  module, args, values = parse(command)
  assert importlib.util.find_spec(module) is not None, f"{document}: no module {module}"
  if module == "pytest":
    for arg in args:
      if not arg.startswith("-") and not arg.isdigit():
        assert (ROOT / arg).exists(), f"{document}: {command}: no {arg}"
    return
  assert module in ENTRY_FLAGS, f"{document}: {command}: not an entry point of this project"
  monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))  # restored after the test
  monkeypatch.setattr(sys, "argv", ["prog", *args])  # config_flags reads its overrides there
  values(["prog", *args])  # an unknown flag or key, or a value of the wrong type, raises here
  if "config" not in values or values.config is None:
    return
  config = values.config
  if module == "experiments.study":
    from experiments import study as study_main
    from learned_rules import studies

    study_main.split_name_lists(config, args)
    study = studies.load(config.study)
    if study.validate is not None:
      try:
        study.validate(config)
      except ConfigError as error:  # a study over forced host devices sets them up as it starts
        if "device(s) asked, this process has" not in str(error):
          raise
  elif module == "experiments.main":
    from learned_rules import systems

    reads_files = config.get("data", {}).get("dataset") in ("mnist", "fashion_mnist", "dsprites")
    if config.system == "tvae" and reads_files and not os.path.isdir(config.data.data_dir):
      with config.unlocked():  # the data is made by experiments.make_mnist, not in a checkout
        config.data.dataset = (
          "dsprites_procedural" if config.data.dataset == "dsprites" else "synthetic"
        )
    systems.load(config.system).validate(config)


def run(args, tmp_path):
  result = subprocess.run(
    [sys.executable, "-m", *args],
    cwd=ROOT,
    env=subprocess_env(),
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  return result


def readme_command(prefix: str) -> list[str]:
  for document, command in COMMANDS:
    if document == "README.md" and command.startswith(prefix):
      return shlex.split(command)[2:]
  raise AssertionError(f"README.md has no command starting {prefix!r}")


def test_readme_saved_rule_command_runs(tmp_path):
  """The README's saved-rule evaluation, on a few episodes and a small size."""
  args = readme_command("python -m experiments.main --config=configs/committed_rule.py")
  args = [a for a in args if not a.startswith("--workdir")]
  run(
    [
      *args,
      f"--workdir={tmp_path / 'eval'}",
      "--config.task.pattern_bits=16",
      "--config.eval.k=2",
      "--config.eval.num_episodes=8",
      "--config.eval.batch_size=8",
      "--config.eval.baselines=('storkey_cued',)",
      "--config.eval.probe=False",
    ],
    tmp_path,
  )
  report = json.loads((tmp_path / "eval" / "eval.json").read_text())
  assert {"learned", "storkey_cued"} <= set(report["rules"])


def test_readme_study_override_example_runs(tmp_path):
  """The README's study override example, on the hand-written rule alone at a tiny size."""
  args = readme_command("python -m experiments.study --config=configs/studies/capacity.py --")
  records = tmp_path / "capacity.jsonl"
  run(
    [
      *[a for a in args if not a.startswith(("--config.rules", "--config.sizes"))],
      "--config.rules=storkey_cued",
      "--config.sizes=(16,)",
      "--config.eval_hidden_bits=64",
      "--config.min_episodes=4",
      "--config.max_episodes=4",
      "--config.batch_size=4",
      f"--config.records={records}",
    ],
    tmp_path,
  )
  assert records.exists() and records.read_text().strip()
