"""The repository speaks of the project alone, never of the history of its own making."""

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUFFIXES = {".md", ".py", ".ipynb", ".sh", ".toml", ".txt", ".cfg", ".json", ".jsonl"}
# Phrases of how the work was done, not of the project (a reader of the repository cannot see
# any of them); a target is "our target", a machine is named by what it is.
HISTORY = re.compile(
  r"\bissues? #?\d+|\bissue's\b|\bthe issue\b|\bsessions? \d+|\bsession's\b|\bthis session\b"
  r"|\bthis task\b|\blent\b|\b(first|second|third|last) try\b",
  re.IGNORECASE,
)


def tracked_text_files():
  listed = subprocess.run(
    ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
  )
  paths = listed.stdout.split() if listed.returncode == 0 else []
  if not paths:  # not a git checkout: every file below the root but generated ones
    paths = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
  for name in paths:
    path = ROOT / name
    if path.suffix in SUFFIXES and path.is_file() and "runs/" not in name:
      yield path


def history_lines():
  found = []
  for path in tracked_text_files():
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
      if path.name == pathlib.Path(__file__).name and "re.compile" not in line:
        continue  # this test names the phrases it looks for
      if HISTORY.search(line):
        found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
  return found


def test_pattern_finds_what_it_should():
  for text in ("see issue 12", "the issue's targets", "Session 6: ...", "this task was", "lent"):
    assert HISTORY.search(text), text
  for text in ("the rule's state", "a sessionless run", "silent", "tissue", "the lentil"):
    assert not HISTORY.search(text), text


def test_no_file_speaks_of_the_work_history():
  assert history_lines() == []
