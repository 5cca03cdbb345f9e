"""The small checks every command shares (brian_stdp.cli)."""

import argparse
import re

import pytest

from brian_stdp.cli import check_positive, check_seed, is_positive_count, positive_counts
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


@pytest.mark.parametrize("value", [0, 7, 2**32 - 1])
def test_a_seed_is_a_32_bit_whole_number(value):
    check_seed(value)


@pytest.mark.parametrize("value", [-1, 2**32, True, 1.0, "3", None])
def test_other_seeds_are_refused_by_name(value):
    message = f"--seed must be a whole number in [0, 2**32), not {value!r}"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        check_seed(value)
