"""Every bad input a new user might try ends in one `error:` line, a non-zero exit, no traceback.

Each case runs the real entry point (`python -m experiments.main`, or `experiments.study` for a
study's config) in a subprocess; the cases run
concurrently (they mostly wait on imports and validation), so the table costs one slow case.
"""

import concurrent.futures
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from learned_rules.common import errors
from learned_rules.train import trainer, validation
from tests.conftest import ROOT
from tests.train.helpers import TINY_FLAGS, subprocess_env, tiny_config
from tests.train.test_train_checkpointing import save_steps, template_state

LOG_LINE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: Logging before flag parsing)")
# Allocation failure as XLA raises it on an accelerator (a CPU host would swap or be killed).
# `records`: metrics lines written before it (a run that logged something keeps its workdir).
FAKE_OOM = (
  "import jax\n"
  "from absl import app\n"
  "from experiments import main\n"
  "from learned_rules.train import trainer, validation\n"
  "def meta_train(config, workdir, **options):\n"
  "  validation.prepare_workdir(workdir)\n"
  "  open(workdir + '/config.json', 'w').write('{{}}')\n"
  "  open(workdir + '/metrics.jsonl', 'w').write({records!r})\n"
  "  raise jax.errors.JaxRuntimeError(\n"
  "    'RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8589934592 bytes.')\n"
  "trainer.meta_train = meta_train\n"
  "app.run(main.main, flags_parser=main.parse_flags)\n"
)


@dataclasses.dataclass(frozen=True)
class Case:
  flags: tuple = ()  # after the tiny flags
  expect: tuple = ()  # substrings of the error line
  code: int = 2  # exit status: 2 for the command line or config, 1 for other user errors
  config: str | None = "configs/remember.py"  # --config (None: not passed; 'TRUNCATED_RULE': a
  # copy of a committed rule directory whose meta_params.msgpack is cut in half)
  tiny: bool = True  # the tiny flags first (a committed rule keeps its own sizes)
  workdir: str = "new"  # 'new' (must stay absent), 'kept' (new, must be kept), 'file', ...
  python: str | None = None  # `python -c` source instead of `-m experiments.main`
  module: str = "experiments.main"  # the entry point; experiments.study takes no workdir


CASES = {
  "rule_activation": Case(("--config.rule.activation=foo",), ("rule.activation='foo'", "tanh")),
  "unknown_key": Case(("--config.train.foo=1",), ("--config.train.foo=1", "'train.foo'")),
  "misspelt_key": Case(("--config.train.batch_sise=4",), ("did you mean train.batch_size?",)),
  "wrong_type": Case(("--config.train.batch_size=abc",), ("--config.train.batch_size=abc",)),
  "num_devices": Case(("--config.train.num_devices=2",), ("train.num_devices=2", "1 cpu device")),
  "batch_too_big": Case(("--config.train.batch_size=1000000000",), ("train.batch_size=",)),
  "unknown_rule": Case(("--config.rule.name=oja_v9",), ("rule.name='oja_v9'", "hebbian")),
  "unknown_task": Case(("--config.task.name=juggle",), ("task.name='juggle'", "remember")),
  # Far beyond any memory (and 2.0**D overflows a float): the network's size says so.
  "pattern_bits_huge": Case(
    ("--config.task.pattern_bits=1000000",), ("task.pattern_bits=1000000",)
  ),
  "rule_file_truncated": Case(
    ("--config.eval.num_episodes=8", "--config.eval.batch_size=4"),
    ("meta_params.msgpack", "is damaged", "copy it again"),
    code=1,
    config="TRUNCATED_RULE",
    tiny=False,
  ),
  # The study entry point: the same one-line errors, for a study's own fields and for its rules.
  "study_rule_missing": Case(
    ("--config.rules=does/not/exist",),
    ("does/not/exist",),
    config="configs/studies/capacity.py",
    module="experiments.study",
  ),
  "study_unknown_key": Case(
    ("--config.sizez=(16,)",),
    ("sizez",),
    config="configs/studies/capacity.py",
    module="experiments.study",
  ),
  "study_unknown_study": Case(
    ("--config.study=juggling",),
    ("study='juggling'", "capacity"),
    config="configs/studies/capacity.py",
    module="experiments.study",
  ),
  "study_rule_truncated": Case(
    ("--config.sizes=(8,)", "--config.max_episodes=4", "--config.min_episodes=4"),
    ("meta_params.msgpack", "is damaged"),
    code=1,
    config="configs/studies/capacity.py",
    module="experiments.study",
  ),
  "study_bad_axis": Case(
    ("--config.axes=('task.delay_stepz=0 4',)",),
    ("delay_stepz", "not a key of the remember task"),
    config="configs/studies/timing.py",
    module="experiments.study",
  ),
  "study_no_config": Case(
    config=None, module="experiments.study", expect=("--config is required",)
  ),
  "config_missing": Case(config="configs/no_such.py", expect=("configs/no_such.py", "no such")),
  "config_syntax": Case(config="SYNTAX", expect=("syntax error at line 3",)),
  "no_config_flag": Case(config=None, expect=("--config is required",)),
  "workdir_is_file": Case(workdir="file", code=1, expect=("is a file",)),
  "workdir_under_file": Case(workdir="under_file", code=1, expect=("cannot be created",)),
  "workdir_read_only": Case(workdir="read_only", code=1, expect=("not writable",)),
  "out_of_memory": Case(
    python=FAKE_OOM.format(records=""), code=1, expect=("out of memory", "train.batch_size=4")
  ),
  "out_of_memory_after_logging": Case(
    python=FAKE_OOM.format(records='{"step": 1}\n'), code=1, workdir="kept", expect=("memory",)
  ),
}
# Root writes into a mode-0555 directory anyway, so only another user can see it read-only (a
# read-only mount says no to root too; `prepare_workdir` tries a write, which covers both).
SKIPPED = (
  {"workdir_read_only": "root can write to a read-only directory"} if os.geteuid() == 0 else {}
)


def run_entry_point(args, python=None, timeout=300, module="experiments.main"):
  head = [sys.executable, "-c", python] if python else [sys.executable, "-m", module]
  env = subprocess_env(XLA_FLAGS="")  # one CPU device, whatever the caller forces
  return subprocess.run(
    head + list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
  )


def prepare(name: str, case: Case, root) -> tuple[list, str]:
  """The command-line arguments of a case and its workdir (created as the case needs)."""
  base = os.path.join(str(root), name)
  os.makedirs(base)
  workdir = os.path.join(base, "workdir")
  if case.workdir == "file":
    open(workdir, "w").close()
  elif case.workdir == "under_file":
    open(os.path.join(base, "file"), "w").close()
    workdir = os.path.join(base, "file", "workdir")
  elif case.workdir == "read_only":
    os.makedirs(workdir)
    os.chmod(workdir, 0o555)
  config = case.config
  if config == "SYNTAX":
    config = os.path.join(base, "broken.py")
    with open(config, "w") as f:
      f.write("import ml_collections\n\ndef get_config(:\n  return ml_collections.ConfigDict()\n")
  if config == "TRUNCATED_RULE" or name == "study_rule_truncated":
    rule = os.path.join(base, "rule")
    shutil.copytree(os.path.join(ROOT, "results", "rules", "default_lr4e3_s0"), rule)
    params = os.path.join(rule, "meta_params.msgpack")
    with open(params, "r+b") as f:
      f.truncate(os.path.getsize(params) // 2)
    if config == "TRUNCATED_RULE":
      config = f"configs/committed_rule.py:{rule}"
    else:
      case = dataclasses.replace(case, flags=(*case.flags, f"--config.rules={rule}"))
  args = [f"--config={config}"] if config else []
  if case.module != "experiments.main":  # a study writes records (kept out of results/)
    records = f"--config.records={os.path.join(base, 'records.jsonl')}"
    return args + ([records, *case.flags] if config else []), workdir
  args += [f"--workdir={workdir}"]
  flags = (TINY_FLAGS if case.tiny else []) + list(case.flags)
  return args + (flags if config else []), workdir


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
  """{case name: (CompletedProcess, workdir)} for every case, run concurrently."""
  root = tmp_path_factory.mktemp("bad_inputs")
  prepared = {
    name: prepare(name, case, root) for name, case in CASES.items() if name not in SKIPPED
  }
  with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    futures = {
      name: pool.submit(run_entry_point, args, CASES[name].python, module=CASES[name].module)
      for name, (args, _) in prepared.items()
    }
    return {name: (futures[name].result(), prepared[name][1]) for name in futures}


def message_lines(stderr: str) -> list[str]:
  """stderr without absl's log lines."""
  return [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_error_line_first_and_writes_nothing(outcomes, name):
  if name in SKIPPED:
    pytest.skip(SKIPPED[name])
  case = CASES[name]
  result, workdir = outcomes[name]
  lines = message_lines(result.stderr)
  assert result.returncode == case.code, result.stderr[-3000:]
  assert "Traceback" not in result.stderr, result.stderr[-3000:]
  assert lines and lines[0].startswith("error: "), result.stderr[-3000:]
  assert lines == [lines[0]], lines  # nothing after it either: no usage text, no second error
  for expected in case.expect:
    assert expected in lines[0], (expected, lines[0])
  if case.workdir == "new":
    assert not os.path.exists(workdir), os.listdir(workdir)
  elif case.workdir == "kept":
    assert os.path.getsize(os.path.join(workdir, "metrics.jsonl")) > 0
  elif case.workdir == "read_only":
    assert os.listdir(workdir) == []
  elif case.workdir == "file":
    assert os.path.getsize(workdir) == 0


# --- non-finite values and damaged checkpoints ---------------------------------------------------
def test_nonfinite_before_any_checkpoint_says_there_is_none(tmp_path):
  config = tiny_config(num_steps=3, checkpoint_every=100)
  with pytest.raises(trainer.NonFiniteError) as error:
    trainer.train_and_evaluate(config, str(tmp_path), debug=trainer.DebugHooks(poison_step=1))
  message = str(error.value)
  assert "non-finite loss at step 1" in message
  assert "No checkpoint has been saved yet." in message
  assert "None" not in message


def truncate_data(checkpoint: str) -> None:
  """Cuts every array-data file of a checkpoint in half (its metadata stays readable)."""
  data = os.path.join(checkpoint, "state", "d")
  names = os.listdir(data)
  assert names, "orbax's layout changed: no array data in state/d"
  for name in names:
    path = os.path.join(data, name)
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) // 2)


def train_steps(workdir) -> list[int]:
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f]
  return [r["step"] for r in records if "train/loss" in r]


@pytest.fixture(scope="module")
def damaged_runs(tmp_path_factory):
  """A 3-step run resumed over checkpoints {1, 2: truncated} and over {1: garbled, 2: truncated}."""
  config = tiny_config()
  state = template_state(config)
  runs = {}
  for name in ("latest_truncated", "all_damaged"):
    workdir = str(tmp_path_factory.mktemp(name))
    checkpoints = os.path.join(workdir, "checkpoints")
    save_steps(checkpoints, state, [1, 2])
    truncate_data(os.path.join(checkpoints, "2"))
    if name == "all_damaged":
      with open(os.path.join(checkpoints, "1", "meta", "metadata"), "w") as f:
        f.write("{not json")
    with open(os.path.join(workdir, "metrics.jsonl"), "w") as f:
      for step in (1, 2):
        f.write(json.dumps({"step": step, "train/loss": 0.5}) + "\n")
    runs[name] = workdir
  flags = ["--config.train.num_steps=3", "--config.eval.baselines=()"]
  with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    futures = {
      name: pool.submit(
        run_entry_point, ["--config=configs/remember.py", f"--workdir={w}", *TINY_FLAGS, *flags]
      )
      for name, w in runs.items()
    }
    return {name: (futures[name].result(), runs[name]) for name in runs}


def test_truncated_checkpoint_falls_back_quietly(damaged_runs):
  result, workdir = damaged_runs["latest_truncated"]
  assert result.returncode == 0, result.stderr[-3000:]
  assert "Event loop is closed" not in result.stderr
  assert "Traceback" not in result.stderr
  assert f"checkpoint {os.path.join(workdir, 'checkpoints', '2')} is damaged" in result.stderr
  assert "resuming from the checkpoint of step 1" in result.stderr
  assert train_steps(workdir) == [1, 2, 3]  # step 2 redone once, not logged twice


def test_every_checkpoint_damaged_restarts_from_zero_and_says_so(damaged_runs):
  result, workdir = damaged_runs["all_damaged"]
  assert result.returncode == 0, result.stderr[-3000:]
  assert "Event loop is closed" not in result.stderr
  assert "Traceback" not in result.stderr
  assert "every checkpoint in" in result.stderr and "starting again from step 0" in result.stderr
  assert len(os.listdir(os.path.join(workdir, "checkpoints.damaged"))) == 2
  assert train_steps(workdir) == [1, 2, 3]  # the redone steps replace the old records


# --- the one-line descriptions themselves --------------------------------------------------------
def test_flag_error_names_the_key_and_lists_its_block():
  argv = ["main", "--config=configs/remember.py", "--config.train.foo=1"]
  message = errors.flag_error(argv, AttributeError("'foo'"))
  assert message.startswith("--config.train.foo=1: no key 'train.foo' in configs/remember.py")
  assert "train has: batch_size," in message


def test_out_of_memory_is_recognised_and_names_the_batch_key(tiny_config):
  error = RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8 bytes.\nmore")
  assert errors.is_out_of_memory(error) and errors.is_out_of_memory(MemoryError())
  assert not errors.is_out_of_memory(RuntimeError("shapes differ"))
  message = errors.out_of_memory(error, tiny_config)
  assert "\n" not in message and "lower train.batch_size=4" in message


def test_prepare_workdir_reports_a_failed_write(tmp_path, monkeypatch):
  def refuse(path, flags, *args):
    raise PermissionError(13, "Permission denied")

  monkeypatch.setattr(os, "open", refuse)
  with pytest.raises(errors.UserError, match="is not writable: Permission denied"):
    validation.prepare_workdir(str(tmp_path))
