"""experiments.study's splitting of comma-separated name lists given on the command line."""

import ml_collections

from experiments import study as study_main


def config_with(**fields):
  config = ml_collections.ConfigDict()
  config.study = "capacity"
  for key, value in fields.items():
    config[key] = value
  return config


def test_a_bare_comma_list_is_split_at_top_level_commas_only():
  config = config_with(rules=("a,b=(1, 2),c",), other=("x,y",))
  study_main.split_name_lists(config, ["--config.rules=a,b=(1, 2),c"])
  assert config.rules == ("a", "b=(1, 2)", "c")
  assert config.other == ("x,y",)  # not overridden on the command line: left as written


def test_a_tuple_literal_keeps_names_that_hold_a_comma():
  label = "TVAE L=13/36, time-shuffled"
  config = config_with(only=(label, "VAE"))
  study_main.split_name_lists(config, [f"--config.only=('{label}', 'VAE')"])
  assert config.only == (label, "VAE")
  config = config_with(only=(label,))
  study_main.split_name_lists(config, [f"--config.only=['{label}']"])
  assert config.only == (label,)


def test_nested_keys_and_non_string_tuples_are_found_or_left_alone():
  config = config_with(block=ml_collections.ConfigDict({"names": ("p,q",), "ks": (1, 2)}))
  study_main.split_name_lists(config, ["--config.block.names=p,q", "--config.block.ks=1,2"])
  assert config.block.names == ("p", "q")
  assert config.block.ks == (1, 2)
  study_main.split_name_lists(config, ["--config.missing.key=a,b", "--flag=a,b", "positional"])


def test_recorded_commands_quote_as_a_person_would_and_split_back_to_the_same_args():
  import shlex

  from learned_rules.common import records

  args = [
    "--config=configs/studies/layered_table.py",
    "--config.machine=2-core host, beside a run",
    "--config.rules=('a=results/rules/x_s0', 'results/rules/x_s1')",
    "--config.note=it's $HOME",
  ]
  line = records.command_line("experiments.study", args)
  assert line.startswith("python -m experiments.study --config=configs/studies/layered_table.py")
  assert "\"--config.rules=('a=results/rules/x_s0', 'results/rules/x_s1')\"" in line
  assert shlex.split(line) == ["python", "-m", "experiments.study", *args]
