"""Tests of brian_stdp.__main__: one command line that dispatches to every command."""

import importlib

import pytest

from brian_stdp.__main__ import COMMANDS, main

pytestmark = pytest.mark.codegen_independent


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_a_module_with_main(name):
    assert callable(importlib.import_module(COMMANDS[name][0]).main)


def test_a_command_gets_the_flags_after_its_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--help"])
    assert exit_info.value.code == 0
    assert "python -m brian_stdp.predict" in capsys.readouterr().out


def test_without_a_command_the_flags_go_to_run(capsys):
    assert main(["--neurons", "0"]) == 2  # run's own check, before anything is built
    assert "--neurons" in capsys.readouterr().err
