"""The small checks every command shares (brian_stdp.cli)."""

import argparse

import pytest

from brian_stdp.cli import check_positive, is_positive_count, positive_counts
from brian_stdp.errors import ConfigError

pytestmark = pytest.mark.codegen_independent


@pytest.mark.parametrize("value, ok", [(1, True), (400, True), (0, False), (-3, False),
                                       (True, False), (2.0, False), ("4", False),
                                       (None, False)])
def test_a_positive_count_is_an_int_of_at_least_one(value, ok):
    assert is_positive_count(value) is ok


def test_check_positive_names_the_setting_and_the_value():
    check_positive(3, "--neurons")
    check_positive(None, "--test", optional=True)
    with pytest.raises(ConfigError, match=r"^--neurons must be a positive whole number, "
                                          r"not 0$"):
        check_positive(0, "--neurons")
    with pytest.raises(ConfigError, match=r"^--train must be a positive whole number \(or "
                                          r"left out\), not -1$"):
        check_positive(-1, "--train", optional=True)
    with pytest.raises(ConfigError, match="not None"):
        check_positive(None, "--workers")


@pytest.mark.parametrize("text, values", [("100,400", [100, 400]), ("5", [5]),
                                          (" 1, 2 ,", [1, 2])])
def test_comma_separated_counts(text, values):
    assert positive_counts(text) == values


@pytest.mark.parametrize("text", ["", ",", "0,10", "a,b", "1.5", "-1"])
def test_comma_separated_counts_refuse_what_is_not_positive_whole_numbers(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected positive integers, "
                                                         "comma-separated"):
        positive_counts(text)
