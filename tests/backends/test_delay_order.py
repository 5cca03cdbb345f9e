"""Synapses stored sorted by delay: the order, and the way back to the canonical order."""

import numpy as np
import pytest

from brian_stdp.backends.delay_order import (delay_steps, mean_run_length, stored_order,
                                            target_blocks, to_canonical, to_stored)

DT = 0.0005


@pytest.mark.codegen_independent
def test_delay_steps_round_as_brians_queue():
    # int(delay/dt + 0.5): 0.24 steps -> 0, 0.5 -> 1, 2.49 -> 2, 19.9 -> 20
    delay = np.array([0.24, 0.5, 2.49, 19.9]) * DT
    np.testing.assert_array_equal(delay_steps(delay, DT), [0, 1, 2, 20])


@pytest.mark.codegen_independent
def test_each_delay_group_of_a_source_is_a_run_in_target_order():
    rng = np.random.default_rng(0)
    n_source, n_target = 7, 50
    pre, post = np.divmod(np.arange(n_source * n_target), n_target)
    delay = rng.random(pre.size) * 10e-3
    order = stored_order(pre, post, delay, DT)
    assert sorted(order) == list(range(pre.size))  # a permutation
    s_pre, s_post = to_stored(pre, order), to_stored(post, order)
    s_steps = to_stored(delay_steps(delay, DT), order)
    key = list(zip(s_pre, s_steps, s_post))
    assert key == sorted(key)  # source, then delay step, then target
    for source in range(n_source):  # each (source, delay) group appears as one run
        steps = s_steps[s_pre == source]
        changes = np.count_nonzero(np.diff(steps))
        assert changes == len(np.unique(steps)) - 1


@pytest.mark.codegen_independent
def test_canonical_order_comes_back():
    rng = np.random.default_rng(1)
    pre, post = np.divmod(np.arange(12), 4)
    delay = rng.random(12) * 10e-3
    order = stored_order(pre, post, delay, DT)
    values = rng.random(12)
    np.testing.assert_array_equal(to_canonical(to_stored(values, order), order), values)
    assert to_canonical(to_stored(values, order), order) is not values


@pytest.mark.codegen_independent
@pytest.mark.parametrize("n_target, blocks", [(50, 2), (7, 3), (9, 4)])
def test_blocks_of_targets_come_first_as_the_threads_split_them(n_target, blocks):
    rng = np.random.default_rng(2)
    n_source = 6
    pre, post = np.divmod(np.arange(n_source * n_target), n_target)
    delay = rng.random(pre.size) * 10e-3
    order = stored_order(pre, post, delay, DT, blocks=blocks, n_targets=n_target)
    assert sorted(order) == list(range(pre.size))
    s_pre, s_post = to_stored(pre, order), to_stored(post, order)
    s_steps = to_stored(delay_steps(delay, DT), order)
    # block k: targets [n*k // blocks, n*(k+1) // blocks), as brian_stdp::block splits them
    bounds = [n_target * k // blocks for k in range(blocks + 1)]
    s_block = np.searchsorted(bounds, s_post, side="right") - 1
    np.testing.assert_array_equal(target_blocks(s_post, n_target, blocks), s_block)
    key = list(zip(s_block, s_pre, s_steps, s_post))
    assert key == sorted(key)  # block, then source, delay step, target
    for target in range(n_target):  # a target's synapses in the order of their sources
        np.testing.assert_array_equal(s_pre[s_post == target], np.arange(n_source))
    # one block is the order without blocks
    np.testing.assert_array_equal(
        stored_order(pre, post, delay, DT, blocks=1, n_targets=n_target),
        stored_order(pre, post, delay, DT))


@pytest.mark.codegen_independent
def test_blocks_need_the_number_of_targets():
    pre, post = np.divmod(np.arange(12), 4)
    with pytest.raises(ValueError, match="n_targets"):
        stored_order(pre, post, np.zeros(12), DT, blocks=2)


@pytest.mark.codegen_independent
def test_mean_run_length_counts_the_runs_the_queue_delivers():
    # 2 sources x 4 targets; source 0: delays 0, 0, 1, 1 steps; source 1: all 0
    pre, post = np.repeat([0, 1], 4), np.tile(np.arange(4), 2)
    delay = np.array([0, 0, 1, 1, 0, 0, 0, 0]) * DT
    order = stored_order(pre, post, delay, DT)
    assert mean_run_length(pre, post, delay, DT, order) == 8 / 3
    # in two blocks of targets: source 0 has one run per block, source 1 two runs
    order = stored_order(pre, post, delay, DT, blocks=2, n_targets=4)
    assert mean_run_length(pre, post, delay, DT, order, 2, 4) == 8 / 4
    assert mean_run_length(pre[:0], post[:0], delay[:0], DT, order[:0]) == 0.0
