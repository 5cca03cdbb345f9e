"""The chunk loop: stream images through a session, one chunk after another.

:func:`stream` is the one place where images become chunks. For each chunk it encodes
the next ``session.slots`` images, runs them with the chunk's own seed
(:func:`chunk_seed`), checks the activity (:func:`check_activity`), stores every
image's final presentation in the caller's records (:func:`record_chunk`) and yields a
:class:`Chunk`. An image whose re-presentations cross a chunk's end continues in the next
chunk (the protocol controller's state is carried). The trainer (train, label and test
phases), classification and the benchmark all run their images through it.

With learning off, a stream whose last image ends in the last slot of a chunk ends there:
that image's presentation is settled from the controller state in Python
(:func:`~brian_stdp.backends.protocol.settled`) instead of by a further
chunk, which would only decide it in its first slot and then run ``slots - 1`` empty
slots (or, where the session stops early, one time step, after a program start and the
state's files). With learning on that chunk still runs (the network's state goes on
changing). A chunk with learning off whose images end before its last slot ends there
too, in the compiled program, where the session can
(:attr:`~brian_stdp.backends.session.Session.stops_early`).

With frozen weights (label, test, classification) images are shown in independent
blocks (:func:`blocks`, :func:`run_block`): a block is ``session.slots`` images that
start from the phase's state and a fresh controller, and run chunk after chunk, with
seeds of their own (:func:`block_seed`), until all of them are done. A block's result
depends only on its images, the state and its place in the phase, so blocks may run in
any order, in any process (:mod:`brian_stdp.training.parallel`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from brian_stdp.backends.protocol import settled
from brian_stdp.backends.session import ChunkResult, ControllerState
from brian_stdp.data.encoding import encode
from brian_stdp.errors import SimulationError

#: More output spikes per presentation and neuron than this is runaway activity.
RUNAWAY_SPIKES_PER_NEURON = 10


@dataclass
class Chunk:
    """One chunk of a stream, after it ran.

    Attributes
    ----------
    index : int
        The chunk's index (its seed is ``seed_of(index)``).
    start : int
        Position in the stream of the chunk's first image.
    n_avail : int
        Images the chunk could show (``<= session.slots``).
    consumed : int
        Images whose presentations all ended in this chunk.
    result : ChunkResult
        What the session returned.
    state : dict of str to ndarray
        Network state for the next chunk.
    ctrl : ControllerState
        Controller state for the next chunk.
    """

    index: int
    start: int
    n_avail: int
    consumed: int
    result: ChunkResult
    state: dict
    ctrl: ControllerState

    @property
    def end(self) -> int:
        """Position in the stream of the next chunk's first image."""
        return self.start + self.consumed


def stream(session, images: np.ndarray, order: np.ndarray, records: dict, *, state: dict,
           plastic: bool, seed_of: Callable[[int], int], start: int = 0,
           first_chunk: int = 0, ctrl: ControllerState | None = None, offset: int = 0,
           carry_state: bool = True, where: str = "images") -> Iterator[Chunk]:
    """Run the images ``images[order[start:]]`` through ``session``, chunk by chunk.

    Parameters
    ----------
    session : brian_stdp.backends.session.Session
        A compiled session (its ``slots``, ``n_input``, ``n_neurons`` and ``spec`` are used).
    images : ndarray, shape (n_images, height, width), uint8
    order : ndarray, shape (n,), int
        Rows of ``images`` in the order they are shown.
    records : dict of str to ndarray
        Filled per image (:func:`record_chunk`), at ``offset + position``.
    state : dict of str to ndarray
        Network state of the first chunk.
    plastic : bool
        Learning on or off.
    seed_of : callable
        Seed of chunk ``index`` (:func:`chunk_seed` with the run's seed and phase).
    start : int
        Position in ``order`` to start from (a resumed phase).
    first_chunk : int
        Index of the first chunk.
    ctrl : ControllerState, optional
        Controller state of the first chunk (default: before any image).
    offset : int
        Position of ``order[0]`` in ``records``.
    carry_state : bool
        Start every chunk from the state the previous one left (True), or every chunk
        from ``state`` (False: frozen weights, as in classification).
    where : str
        What the images are, for error messages (``"train-1"``).

    Yields
    ------
    Chunk
        After each chunk; the stream ends when every image of ``order`` was shown.
    """
    proto = session.spec.protocol
    slots, n = session.slots, len(order)
    ctrl = ControllerState.fresh(proto.min_spikes) if ctrl is None else ctrl
    position, index = start, first_chunk
    while position < n:
        rows = order[position:position + slots]
        stimulus = np.zeros((slots, session.n_input))
        stimulus[:len(rows)] = encode(images[rows], proto)
        result = session.run_chunk(stimulus, len(rows), state, ctrl, plastic=plastic,
                                   seed=seed_of(index))
        check_activity(result, len(rows), session.n_neurons,
                       f"{where}, images {position + 1}-{position + len(rows)}")
        consumed, ctrl = record_chunk(result, records, offset + position, len(rows),
                                      session.n_neurons, proto.min_spikes)
        if (not plastic and position + consumed == n - 1
                and settled(ctrl.count, ctrl.attempts, proto)):
            consumed, ctrl = consumed + 1, ControllerState.fresh(proto.min_spikes)
        if carry_state:
            state = result.state
        yield Chunk(index=index, start=position, n_avail=len(rows), consumed=consumed,
                    result=result, state=state, ctrl=ctrl)
        position += consumed
        index += 1


def chunk_seed(seed: int, phase_index: int, chunk_index: int) -> int:
    """Seed of one chunk's random numbers, in [0, 2**32)."""
    sequence = np.random.SeedSequence([seed, 1, phase_index, chunk_index])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def block_seed(seed: int, phase_index: int, block_index: int, chunk_index: int) -> int:
    """Seed of chunk ``chunk_index`` of block ``block_index`` of a phase, in [0, 2**32).

    Its own tag (3) keeps it apart from :func:`chunk_seed` (1), the training image
    order (2) and the build-time draws (0).
    """
    sequence = np.random.SeedSequence([seed, 3, phase_index, block_index, chunk_index])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def blocks(n: int, size: int) -> list:
    """The blocks of ``n`` images, ``size`` at a time: a list of (start, stop)."""
    return [(start, min(start + size, n)) for start in range(0, n, size)]


@dataclass
class BlockResult:
    """What one block of images gave (:func:`run_block`).

    Attributes
    ----------
    index : int
        The block's index in its phase.
    counts : ndarray, shape (n_block, n_neurons), uint16
        Output spikes per image and neuron, of each image's last presentation.
    presentations : ndarray, shape (n_block,), uint8
        Presentations per image.
    seconds : float
        Simulation wall-clock time, all chunks together (second).
    input_spikes : int
        Input spikes, all chunks together.
    chunks : int
        Chunks the block took.
    worker : int
        The process that ran the block: 0 the one that runs the phase, ``k >= 1`` its
        evaluation worker ``k`` (:class:`~brian_stdp.training.parallel.BlockPool`).
    """

    index: int
    counts: np.ndarray
    presentations: np.ndarray
    seconds: float
    input_spikes: int
    chunks: int
    worker: int = 0


def run_block(session, images: np.ndarray, *, state: dict, seed: int, phase_index: int,
              index: int, where: str = "images") -> BlockResult:
    """Show one block of images to the frozen network in ``session``.

    The block starts from ``state`` and a fresh controller and runs chunk after chunk
    (state and controller carried) until every image is done; chunk ``k`` draws
    ``block_seed(seed, phase_index, index, k)``.

    Parameters
    ----------
    session : brian_stdp.backends.session.Session
        A compiled session; ``len(images) <= session.slots``.
    images : ndarray, shape (n_block, height, width), uint8
        The block's images, in order.
    state : dict of str to ndarray
        Network state at the start of the phase.
    seed, phase_index, index : int
        The run's seed, the phase's index, the block's index in the phase.
    where : str
        What the images are, for error messages.
    """
    n = len(images)
    rec = {"counts": np.zeros((n, session.n_neurons), dtype=np.uint16),
           "presentations": np.zeros(n, dtype=np.uint8)}
    seconds, input_spikes, n_chunks = 0.0, 0, 0
    for chunk in stream(session, images, np.arange(n), rec, state=state, plastic=False,
                        seed_of=lambda k: block_seed(seed, phase_index, index, k),
                        where=where):
        seconds += chunk.result.seconds
        input_spikes += chunk.result.input_spikes
        n_chunks += 1
    return BlockResult(index=index, counts=rec["counts"], presentations=rec["presentations"],
                       seconds=seconds, input_spikes=input_spikes, chunks=n_chunks)


def check_activity(result: ChunkResult, n_avail: int, n_neurons: int, where: str) -> None:
    """Raise :class:`SimulationError` if a chunk's state or activity is nonsense.

    Parameters
    ----------
    result : ChunkResult
    n_avail : int
        Images the chunk could show.
    n_neurons : int
        Output-layer size.
    where : str
        Phase and images, for the message.
    """
    bad = [key for key, value in result.state.items()
           if value.dtype.kind == "f" and not np.all(np.isfinite(value))]
    shown = max(int(np.sum(result.slot_img < n_avail)), 1)
    # real spikes only: a model's extra_spikes events (counted losers) trigger nothing
    spikes = result.spike_slot if result.winner_slot is None else result.winner_slot
    per_neuron = len(spikes) / shown / n_neurons
    if bad or per_neuron > RUNAWAY_SPIKES_PER_NEURON:
        problem = (f"non-finite values in {', '.join(bad)}" if bad else
                   f"{per_neuron:.1f} output spikes per neuron and presentation")
        raise SimulationError(
            f"{where}: {problem}: runaway activity, usually a numerical instability of the "
            f"integration method. The checkpoint before this chunk is kept. Try "
            f"method = \"exponential_euler\" or a smaller dt in the model file.")


def record_chunk(result: ChunkResult, records: dict, first_row: int, n_avail: int,
                 n_neurons: int, min_spikes: int) -> tuple:
    """Store each image's final presentation; return (images done, next controller state).

    Parameters
    ----------
    result : ChunkResult
    records : dict of str to ndarray
        ``presentations`` (n,) and either ``counts`` (n, n_neurons), spike counts per
        neuron, or ``spikes`` (n,), total output spikes; optionally ``winner`` (n,), the
        neuron of the image's last winning spike (-1: none). Later presentations of an
        image overwrite earlier ones.
    first_row : int
        Row of ``records`` of the chunk's first image.
    n_avail : int
        Images the chunk could show.
    n_neurons : int
    min_spikes : int
        The protocol's ``min_spikes`` (for a fresh controller state).
    """
    slots = len(result.slot_img)
    counts = np.zeros((slots, n_neurons), dtype=np.uint16)
    np.add.at(counts, (result.spike_slot, result.spike_neuron), 1)
    if "winner" in records:  # the neuron of each slot's last winning spike (-1: none)
        winner_slot, winner_neuron = result.spike_slot, result.spike_neuron
        if result.winner_slot is not None:
            winner_slot, winner_neuron = result.winner_slot, result.winner_neuron
        last_winner = np.full(slots, -1, dtype=np.int64)
        # spikes are in time order: a slot's first entry from the end is its last winner
        won_slots, from_end = np.unique(winner_slot[::-1], return_index=True)
        last_winner[won_slots] = winner_neuron[::-1][from_end]
    for slot in np.flatnonzero(result.slot_img < n_avail):
        row = first_row + result.slot_img[slot]
        if "counts" in records:
            records["counts"][row] = counts[slot]
        else:
            records["spikes"][row] = counts[slot].sum()
        records["presentations"][row] = result.slot_attempts[slot]
        if "winner" in records:
            records["winner"][row] = last_winner[slot]
    if result.ctrl_img >= n_avail:
        return n_avail, ControllerState.fresh(min_spikes)
    return result.ctrl_img, result.handed_on()
