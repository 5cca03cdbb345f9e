"""The chunk loop: a frozen stream ends with its last image, a learning one runs on."""

import numpy as np
import pytest

from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.protocol import settled
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.spec import load_model
from brian_stdp.training.chunks import stream

pytestmark = pytest.mark.standalone_compatible

N_NEURONS, SLOTS, SEED = 10, 24, 5


@pytest.fixture(scope="module")
def images():
    return load_dataset("mnist", "train").images[:2 * SLOTS]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A 10-neuron Diehl & Cook network of 24 slots per chunk, compiled once."""
    spec = load_model("diehl_cook_2015")
    rng = np.random.default_rng(2)
    fixed = draw_fixed(spec, N_NEURONS, 784, rng)
    s = StandaloneSession(spec, N_NEURONS, 784, SLOTS, fixed,
                          directory=tmp_path_factory.mktemp("build"))
    s.initial = s.initial_state(rng)
    s.compile()
    yield s
    s.close()


def _stream(session, images, plastic):
    n = len(images)
    records = {"counts": np.zeros((n, N_NEURONS), dtype=np.uint16),
               "presentations": np.zeros(n, dtype=np.uint8)}
    chunks = list(stream(session, images, np.arange(n), records, state=session.initial,
                         plastic=plastic, seed_of=lambda k: SEED + k, carry_state=plastic))
    return chunks, records


def _filling(session, images, plastic=False):
    """As many of ``images`` (more than a chunk holds) as fill one chunk to its last slot,
    the last one settled there; and that chunk."""
    proto = session.spec.protocol
    probe, _ = _stream(session, images, plastic)
    last = probe[0]
    assert last.consumed < SLOTS, "some image must still be in progress at the chunk's end"
    assert settled(last.ctrl.count, last.ctrl.attempts, proto), \
        "the probe's last image must be settled in the chunk's last slot"
    return images[:last.consumed + 1], last


def test_a_frozen_stream_ends_in_the_chunk_that_shows_its_last_image(session, images):
    """The last image, settled in the last slot, needs no further chunk: the one that the
    stream used to run decides it in its first slot and shows nothing more, so the
    records are those of that longer run."""
    filling, probe = _filling(session, images)
    chunks, records = _stream(session, filling, plastic=False)
    assert [(c.n_avail, c.consumed) for c in chunks] == [(len(filling), len(filling))]
    assert chunks[0].ctrl == ControllerState.fresh(session.spec.protocol.min_spikes)
    np.testing.assert_array_equal(chunks[0].result.slot_img, probe.result.slot_img)
    assert np.all(records["presentations"] >= 1)
    # the chunk that is no longer run: shows the last image no more and records nothing
    stimulus = np.zeros((SLOTS, 784))
    stimulus[0] = encode(filling[-1:], session.spec.protocol)[0]
    extra = session.run_chunk(stimulus, 1, session.initial, probe.ctrl, False, SEED + 1)
    assert np.all(extra.slot_img >= 1) and extra.ctrl_img == 1


def test_a_learning_stream_runs_the_chunk_after_its_last_image(session, images):
    """With learning on the network goes on changing after the last image, so that chunk
    is still run (training results stay as they were)."""
    filling, _ = _filling(session, images, plastic=True)
    chunks, _ = _stream(session, filling, plastic=True)
    assert len(chunks) == 2 and chunks[-1].n_avail == 1
    assert sum(c.consumed for c in chunks) == len(filling)
