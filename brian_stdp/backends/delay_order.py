"""Store a pathway's synapses sorted by delay, so that a spike's delay groups are contiguous.

Brian2 stores the synapses of a connection in the order they were made: source-major,
target within a source (:func:`~.network.model_synapse_pairs`). With a delay drawn per synapse,
a spiking input's synapses reach the spike queue in about 20 delay groups (10 ms in steps
of 0.5 ms), each a random twentieth of the input's row of weights. The event code then
touches a new cache line per synapse, for the weight, the arrival time and the target
index alike, and the row comes from memory about once per group: at 6,400 neurons that
pathway took more than half of the simulation's time.

Here the synapses of such a pathway are stored sorted by (source, delay step, target)
(:func:`stored_order`), so that each group is a run of consecutive synapses: the event
code streams through memory. The state that the rest of the project sees keeps the
canonical order: :func:`to_stored` and :func:`to_canonical` convert a per-synapse array.

The simulation is the same: the queue delivers a spiking source's synapses of one delay
in one time step, in the order they are stored, and each of them has its own target
(one synapse per source and target), so the order within a group changes no sum; between
sources the order is the order of the spikes, as before. The weight normalisation adds a
target's weights in the order of its sources, which the sort keeps (source first).
``tests/backends/test_spike_queue.py`` compares the spikes and state with Brian2's plain
program.

A program split over threads (:mod:`~brian_stdp.backends.threads`) stores them by block of
targets first (``blocks``): the synapses onto each thread's block of neurons are one
stretch of memory, so that a thread's events touch no cache line of another thread's, and
each (source, delay) group is one run per block. A target's synapses keep the order of
their sources, so the sums stay the same.
"""

from __future__ import annotations

import numpy as np


def delay_steps(delay: np.ndarray, dt: float) -> np.ndarray:
    """Brian2's delay of each synapse in time steps, rounded as its spike queue rounds it
    (``int(delay/dt + 0.5)``).

    Parameters
    ----------
    delay : ndarray, shape (n_synapses,)
        Delays in seconds.
    dt : float
        Time step in seconds.
    """
    return (np.asarray(delay, dtype=np.float64) / float(dt) + 0.5).astype(np.int64)


def target_blocks(post: np.ndarray, n_targets: int, blocks: int) -> np.ndarray:
    """The block of each target when ``n_targets`` neurons are split into ``blocks`` blocks
    as the threads split them (:func:`~brian_stdp.backends.threads.block_starts`).

    Parameters
    ----------
    post : ndarray of int, shape (n_synapses,)
        Target of each synapse, in ``[0, n_targets)``.
    n_targets : int
        Size of the target group.
    blocks : int
        Number of blocks (threads), at least 1.

    Returns
    -------
    block : ndarray of int64, shape (n_synapses,)
    """
    from brian_stdp.backends.threads import block_starts

    starts = np.asarray(block_starts(int(n_targets), int(blocks))[1:-1], dtype=np.int64)
    return np.searchsorted(starts, np.asarray(post, dtype=np.int64), side="right")


def stored_order(pre: np.ndarray, post: np.ndarray, delay: np.ndarray, dt: float,
                 blocks: int = 1, n_targets: int | None = None) -> np.ndarray:
    """The canonical index of the synapse stored at each position: sorted by block of
    targets (:func:`target_blocks`; one block unless ``blocks`` is set), then source, then
    delay step, then target.

    Parameters
    ----------
    pre, post : ndarray of int, shape (n_synapses,)
        Source and target of each synapse, in canonical order.
    delay : ndarray, shape (n_synapses,)
        Delays in seconds, canonical order.
    dt : float
        Time step in seconds.
    blocks : int
        Blocks of targets (the threads of the program).
    n_targets : int, optional
        Size of the target group; needed where ``blocks`` > 1.

    Returns
    -------
    order : ndarray of int64, shape (n_synapses,)
        ``stored = canonical[order]``.
    """
    keys = [post, *_run_keys(pre, post, delay, dt, blocks, n_targets)]
    return np.lexsort(tuple(keys)).astype(np.int64)


def _run_keys(pre, post, delay, dt, blocks, n_targets) -> list:
    """The keys that a run of synapses shares (source, delay step, and block of targets
    where ``blocks`` > 1), least significant first, as :func:`np.lexsort` takes them."""
    keys = [delay_steps(delay, dt), np.asarray(pre)]
    if blocks > 1:
        if n_targets is None:
            raise ValueError("stored_order needs n_targets to split the targets into blocks")
        keys.append(target_blocks(post, n_targets, blocks))
    return keys


def mean_run_length(pre: np.ndarray, post: np.ndarray, delay: np.ndarray, dt: float,
                    order: np.ndarray, blocks: int = 1, n_targets: int | None = None) -> float:
    """The mean number of synapses in a run, stored as :func:`stored_order` stores them: a
    run is one source's synapses of one delay step onto one block of targets, which the
    spike queue delivers together.

    Parameters
    ----------
    pre, post, delay, dt, blocks, n_targets
        As for :func:`stored_order` (canonical order).
    order : ndarray of int, shape (n_synapses,)
        The stored order (:func:`stored_order` of the same arguments).

    Returns
    -------
    float
        Synapses per run (0 where there are no synapses).
    """
    if len(order) == 0:
        return 0.0
    new_run = np.zeros(len(order) - 1, dtype=bool)
    for key in _run_keys(pre, post, delay, dt, blocks, n_targets):
        key = key[order]
        new_run |= key[1:] != key[:-1]
    return len(order) / (1 + int(np.count_nonzero(new_run)))


def to_stored(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """A per-synapse array in the stored order (a copy)."""
    return np.asarray(values)[order]


def to_canonical(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """A per-synapse array read in the stored order, back in canonical order (a new array)."""
    values = np.asarray(values)
    canonical = np.empty_like(values)
    canonical[order] = values
    return canonical
