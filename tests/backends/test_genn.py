"""Tests of brian_stdp.genn and --device genn: the GeNN compatibility check, the
single-run formulation, and real GeNN runs through the standard runner.

The single-run network is pure Brian2, so it is tested here on the runtime
device (NumPy). The tests that need brian2genn run in the separate GeNN
environment (docs/devices.md; make test-genn): one generates a GeNN project,
the last three build and run networks on GeNN's CPU backend (train, label,
test; the accuracy against cpp_standalone; a kill -9 and --resume).
"""

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import brian2
import numpy as np
import pytest

from brian_stdp.backends.brian2genn.check import (GENN_MODEL, check_genn_compatible, genn_problems,
                                            genn_spec, project_problems)
from brian_stdp.backends.single_run import build_single_run, set_state, train_single_run
from brian_stdp.backends.network import check_model, initial_state
from brian_stdp.errors import ConfigError, ModelFileError
from brian_stdp.genn import main
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import load_model

REFERENCE = MODELS_DIR / "diehl_cook_2015.toml"
VARIANT = MODELS_DIR / f"{GENN_MODEL}.toml"


def _variant_with(tmp_path, *replacements):
    """The GeNN variant with text replacements in its own file or, for what it takes
    from its base, in a copy of the base next to it (which ``extends`` finds first)."""
    texts = {"changed.toml": VARIANT.read_text(), "changed.base.toml": REFERENCE.read_text()}
    for old, new in replacements:
        name = next((name for name, text in texts.items() if old in text), None)
        assert name is not None, old
        texts[name] = texts[name].replace(old, new)
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    return load_model(tmp_path / "changed.toml")


#: Shorter presentations, to keep the runtime-device tests quick (same code paths).
SHORT_SLOTS = (('t_present         = "350*ms"', 't_present         = "60*ms"'),
               ('t_rest            = "150*ms"', 't_rest            = "20*ms"'))


@pytest.fixture
def numpy_target():
    old = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    yield
    brian2.prefs.codegen.target = old


# -- the compatibility check ----------------------------------------------------------------
@pytest.mark.codegen_independent
def test_reference_model_is_rejected_with_what_to_change():
    spec = load_model(REFERENCE)
    problems = genn_problems(spec)
    assert len(problems) == 2
    assert problems[0].startswith("[synapses.inp_exc] delay = 'rand()*delay_max'")
    assert "on_post: reads the postsynaptic variable 'post2_post'" in problems[1]
    with pytest.raises(ModelFileError) as err:
        check_genn_compatible(spec)
    message = str(err.value)
    assert str(REFERENCE) in message and "change:" in message
    assert all(f"  - {problem}" in message for problem in problems)
    assert f"models/{GENN_MODEL}.toml" in message


@pytest.mark.codegen_independent
def test_genn_variant_passes_and_differs_only_as_stated():
    variant, reference = load_model(VARIANT), load_model(REFERENCE)
    assert genn_problems(variant) == []
    assert genn_spec(reference).name == GENN_MODEL  # the benchmark's substitution
    assert sum(d.startswith("GeNN difference") for d in variant.deviations) == 2
    changed = {k for k in set(variant.parameters) | set(reference.parameters)
               if str(variant.parameters.get(k)) != str(reference.parameters.get(k))}
    assert changed == {"delay_max", "delay_input"}
    assert variant.protocol == reference.protocol
    for name in ("inh",):
        assert variant.groups[name] == reference.groups[name]
    assert variant.synapses["exc_inh"] == reference.synapses["exc_inh"]
    assert variant.synapses["inh_exc"] == reference.synapses["inh_exc"]


def test_genn_variant_builds_in_brian2():
    check_model(load_model(VARIANT))  # units and names, on the runtime device


@pytest.mark.codegen_independent
@pytest.mark.parametrize("replacements,expected", [
    ([('on_pre = "ge_post += w"\ninitial = { w = "(rand()', 'on_pre = "ge_post = ge_post + w"'
       '\ninitial = { w = "(rand()')], "changes a postsynaptic variable with '='"),
    ([('on_pre = "ge_post += w"\ninitial = { w = "w_exc_inh" }',
       'on_pre = """\nge_post += w\nv_post += 0*mV\n"""\ninitial = { w = "w_exc_inh" }')],
     "writes the postsynaptic variables ge, v; GeNN allows one"),
    ([('on_pre = "gi_post += w"', 'on_pre = "gi_post += w*v_pre/mV"')],
     "reads the presynaptic variable 'v_pre'"),
    ([('model = "w : 1 (constant)"\non_pre = "gi_post += w"',
       'model = """\nw : 1 (constant)\ngi_total_post = w : 1 (summed)\n"""\n'
       'on_pre = "gi_post += w"')],
     "cannot share one synapse group in GeNN"),
    ([('dtheta/dt = -plastic*theta/tau_theta : volt',
       'dtheta/dt = -plastic*theta/tau_theta : volt\nshown : 1 (linked)')],
     "'shown' is a linked variable"),
    ([('after_post = "t_postspike = t"', 'after_post = "t_postspike = t\\ntheta_post = 0*mV"')],
     "on_post: writes the postsynaptic variable 'theta_post'"),
    ([('plastic : 1 (shared)', 'plastic : 1 (shared)\ngain : 1 (shared)'),
      ('on_pre = "ge_post += w"\ninitial = { w = "(rand()',
       'on_pre = "ge_post += w*gain"\ninitial = { w = "(rand()')],
     "reads the shared variable 'gain' of exc"),
    ([('plastic : 1 (shared)', 'plastic : 1 (shared)\ngain : 1 (shared)')],
     "'gain' is a shared variable; the GeNN runner carries per-neuron"),
    ([('model = "w : 1 (constant)"\non_pre = "gi_post += w"',
       'model = """\nw : 1 (constant)\nscaled = 2*w : 1 (constant over dt)\n"""\n'
       'on_pre = "gi_post += w"')],
     "'scaled' is a 'constant over dt' subexpression"),
    ([('model = "w : 1 (constant)"\non_pre = "gi_post += w"',
       'model = """\nw : 1 (constant)\nscaled = 2*w : 1\n"""\non_pre = "gi_post += scaled"')],
     "on_pre: uses the subexpression 'scaled'"),
    ([('on_pre = "ge_post += w"\ninitial = { w = "w_exc_inh" }',
       'on_pre = """\nge_post += w\nge_post += w\n"""\ninitial = { w = "w_exc_inh" }')],
     "on_pre: writes 'ge' more than once"),
    ([('on_pre = "gi_post += w"', 'on_pre = """\ngi_post += w\nv_pre = 0*mV\n"""')],
     "on_pre: writes the presynaptic variable 'v_pre'"),
    ([('model = "w : 1 (constant)"\non_pre = "gi_post += w"',
       'model = """\nw : 1 (constant)\na_post = w : 1 (summed)\nb_post = w : 1 (summed)\n"""\n'
       'on_pre = "gi_post += w"')],
     "2 summed variables (a_post, b_post)"),
    ([('model = "w : 1 (constant)"\non_pre = "gi_post += w"',
       'model = "w : 1 (constant"\non_pre = "gi_post += w"')],
     "[synapses.inh_exc] model: cannot parse"),
])
def test_each_genn_rule_is_reported(tmp_path, replacements, expected):
    problems = genn_problems(_variant_with(tmp_path, *replacements))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.codegen_independent
def test_check_command_line(capsys):
    assert main(["--check", "diehl_cook_2015"]) == 2
    err = capsys.readouterr().err
    assert "cannot run this model" in err and "Traceback" not in err
    assert main(["--check", GENN_MODEL]) == 0
    assert "no GeNN restriction found" in capsys.readouterr().out


@pytest.mark.codegen_independent
def test_incompatible_model_fails_before_any_build(tmp_path):
    images = np.zeros((2, 4, 4), dtype=np.uint8)
    with pytest.raises(ModelFileError, match="brian2genn"):
        train_single_run(load_model(REFERENCE), images, 4, device="cpp_standalone",
                         directory=tmp_path / "build")
    assert not (tmp_path / "build").exists()


@pytest.mark.codegen_independent
@pytest.mark.parametrize("device", ["cuda_standalone", "gpu"])
def test_single_run_names_the_devices_it_runs_on(device):
    images = np.zeros((2, 4, 4), dtype=np.uint8)
    with pytest.raises(ConfigError, match=f"--device {device}: the single-run formulation "
                                          f"runs on cpp_standalone, genn, runtime"):
        train_single_run(load_model(GENN_MODEL), images, 4, device=device)


# -- the single-run formulation (runtime device) --------------------------------------------
def test_blank_image_is_shown_again_in_every_slot(tmp_path, numpy_target):
    """No input, no output spikes: the first image is repeated; weights stay normalised."""
    spec = _variant_with(tmp_path, *SHORT_SLOTS)
    images = np.zeros((2, 4, 4), dtype=np.uint8)
    result = train_single_run(spec, images, 3, slots=3, device="runtime", seed=1)
    assert result.images == 0 and result.slots == 3
    assert list(result.presentations) == [3, 0] and list(result.spikes) == [0, 0]
    weights = result.state["inp_exc.w"].reshape(16, 3)
    np.testing.assert_allclose(weights.sum(axis=0), spec.weight_sum(16), rtol=1e-12)


def test_every_slot_advances_when_no_spikes_are_required(tmp_path, numpy_target):
    spec = _variant_with(tmp_path, ('min_spikes        = "5"', 'min_spikes        = "0"'),
                         *SHORT_SLOTS)
    images = np.full((3, 4, 4), 255, dtype=np.uint8)
    result = train_single_run(spec, images, 3, slots=3, device="runtime", seed=2)
    assert result.images == 3
    assert list(result.presentations) == [1, 1, 1]


def test_controller_copies_agree_and_count_output_spikes(tmp_path, numpy_target):
    """Every input neuron's copy of the controller sees the same output spikes."""
    spec = _variant_with(tmp_path, *SHORT_SLOTS)
    rng = np.random.default_rng(3)
    stimulus = rng.integers(0, 256, size=(2, 16)).astype(float) * 8  # bright: output spikes
    handles = build_single_run(spec, 5, stimulus, slots=2)
    set_state(spec, handles, initial_state(spec, handles, np.random.default_rng(4)))
    handles.net.run(2 * spec.protocol.t_slot, namespace=handles.namespace)
    inp, spikes = handles["inp"], handles["exc_spikes"]
    for var in ("img", "attempts", "count"):
        assert len(set(np.asarray(getattr(inp, var)[:]).tolist())) == 1, var
    proto = spec.protocol
    steps = np.rint(np.asarray(spikes.t[:] / proto.dt)).astype(int)
    last_slot = (steps >= proto.steps_per_slot) & (
        steps % proto.steps_per_slot < proto.steps_present)
    assert spikes.num_spikes > 0
    assert int(inp.count[0]) == int(np.sum(last_slot))


# -- what the GeNN tests need: skipped without it, a failure under make test-genn ----------
#: Set (to 1) by make test-genn: a test that needs brian2genn or GeNN fails where it is
#: missing, instead of being skipped.
REQUIRE_GENN = "BRIAN_STDP_REQUIRE_GENN"


def _require(problem):
    """Skip the test for ``problem`` (None: nothing missing), or fail it under
    ``REQUIRE_GENN``."""
    if problem is None:
        return
    if os.environ.get(REQUIRE_GENN, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_GENN} is set (make test-genn), but {problem}", pytrace=False)
    pytest.skip(f"{problem} (make test-genn runs it)")


@pytest.fixture(scope="module")
def brian2genn():
    """brian2genn, which generates GeNN projects."""
    _require(None if importlib.util.find_spec("brian2genn") is not None else
             "brian2genn is not installed (the separate GeNN environment)")


@pytest.fixture(scope="module")
def genn(brian2genn):
    """brian2genn and GeNN itself, which builds and runs them."""
    from brian_stdp.backends.devices.genn import genn_problem

    _require(genn_problem())


# -- GeNN project generation (needs brian2genn) ---------------------------------------------
@pytest.mark.usefixtures("brian2genn")
def test_generate_genn_project_without_compiling(tmp_path):
    spec = load_model(VARIANT)
    images = np.random.default_rng(5).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    out = train_single_run(spec, images, 6, slots=4, device="genn",
                           directory=tmp_path / "genn", compile=False, run=False)
    assert out is None
    assert project_problems(spec, tmp_path / "genn") == []
    model_code = Path(tmp_path / "genn" / "magicnetwork_model.cpp").read_text()
    # the 5 ms input delay is in the input layer's threshold (drawn 5 ms late), not on the
    # synapses: GeNN would queue the input layer's variables, which the per-slot code misses
    assert "delaySteps = 10;" not in model_code
    assert "const unsigned int delaySteps = NO_DELAY;" in model_code
    assert "(t < ($(t_off) + $(input_delay)))" in model_code
    # STDP reads the single run's constant, not a never-set synaptic copy of exc.plastic
    assert "$(plastic_run)" in model_code
    assert "inp_exc_plastic" not in Path(tmp_path / "genn" / "main.cpp").read_text()


@pytest.mark.codegen_independent
def test_custom_events_and_schedule_changes_are_reported():
    if not (MODELS_DIR / "wolff_2022.toml").is_file():
        pytest.skip("models/wolff_2022.toml is not there")
    problems = genn_problems(load_model("wolff_2022"))
    assert any("[groups.exc] events: 'above' is a custom event" in p for p in problems)
    assert any("on_event = 'above'" in p for p in problems)
    assert any("threshold_after_input" in p for p in problems)


# -- real GeNN: --device genn through the standard runner ----------------------------------
#: Seconds a real GeNN test may take (pytest-timeout): its runs have 1200 s each (_run).
GENN_TEST_TIMEOUT = 3000


def needs_genn(test):
    """Mark ``test`` as one that builds and runs on GeNN (fixture ``genn``), with a longer
    timeout."""
    return pytest.mark.timeout(GENN_TEST_TIMEOUT)(pytest.mark.usefixtures("genn")(test))


#: The comparison: 50 neurons, 1000 training, 300 labelling and 300 test images (at 600
#: training and 200 test images both devices sit near 50 % and differ by noise alone), in
#: chunks of 400 slots: 3 training chunks, on GeNN one build for all of them.
COMPARISON = ["--neurons", "50", "--train", "1000", "--label", "300", "--test", "300",
              "--chunk", "400", "--seed", "0", "--quiet"]

#: A build's line in the log: number, network (plastic or frozen), seconds.
BUILD_LINE = re.compile(r"GeNN build (\d+) \((plastic|frozen) network\): generated and "
                        r"compiled in ([\d.]+) s")

#: The main environment's Python, for the cpp_standalone reference (brian2 2.5 here has
#: no run_args): BRIAN_STDP_MAIN_PYTHON, else the checkout's .venv (make test-main).
MAIN_PYTHON = Path(os.environ.get("BRIAN_STDP_MAIN_PYTHON",
                                  Path(__file__).resolve().parents[2] / ".venv/bin/python"))


def _run(*args, python=sys.executable, timeout=1200):
    return subprocess.run([str(python), "-m", "brian_stdp.run", *args], capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "BRIAN_STDP_GENN_BACKEND": "cpu"})


@pytest.fixture(scope="module")
def genn_run(tmp_path_factory):
    """The comparison run on --device genn."""
    out = tmp_path_factory.mktemp("genn") / "run"
    done = _run("--device", "genn", *COMPARISON, "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    (out.parent / "stderr.txt").write_text(done.stderr)
    return out


@needs_genn
def test_device_genn_trains_labels_and_tests_into_a_complete_run_directory(genn_run):
    out = genn_run
    for name in ("config.json", "provenance.json", "model.toml", "checkpoint.npz",
                 "state.npz", "metrics.json"):
        assert (out / name).is_file(), name
    assert list((out / "figures").iterdir())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == GENN_MODEL  # Diehl & Cook mapped to its GeNN variant
    assert (metrics["train_images"], metrics["label_images"], metrics["test_images"]) == \
        (1000, 300, 300)
    assert metrics["timing"]["compile_seconds"] > 0
    assert metrics["timing"]["train-1"]["images"] == 1000
    assert metrics["activity"]["spikes_per_image_first"] > 0
    log = (out / "log.txt").read_text()
    assert "the GeNN variant of diehl_cook_2015" in log and "GeNN CPU backend" in log
    state = np.load(out / "state.npz")
    weights = state["weights"]
    assert weights.shape == (784, 50)
    assert np.allclose(weights.sum(axis=0), 78.0, rtol=0.1)  # normalised while training


@needs_genn
def test_device_genn_starts_cleanly_and_builds_once_per_network(genn_run):
    # no Brian2 warning about Cython, no "compiled ... in 0.0 s" before any build, 3
    # training chunks and one block each of labelling and testing, but only two builds
    # (plastic, frozen), each logged once, whose seconds add up to compile_seconds
    stderr = (genn_run.parent / "stderr.txt").read_text()
    assert "Cython" not in stderr, stderr[-2000:]
    log = (genn_run / "log.txt").read_text()
    assert not re.search(r"compiled \S+ for \d+ neurons", log)
    assert "built when first needed" in log
    assert len(re.findall(r"train-1: images \d+-\d+ in", log)) >= 3
    builds = BUILD_LINE.findall(log)
    assert [(int(number), kind) for number, kind, _ in builds] == [(1, "plastic"),
                                                                     (2, "frozen")]
    timing = json.loads((genn_run / "metrics.json").read_text())["timing"]
    assert timing["builds"] == 2
    assert sum(float(seconds) for _, _, seconds in builds) == pytest.approx(
        timing["compile_seconds"], abs=0.1)


@needs_genn
@pytest.mark.skipif(not MAIN_PYTHON.exists(), reason=f"no main environment at {MAIN_PYTHON}")
def test_device_genn_accuracy_is_that_of_cpp_standalone(genn_run, tmp_path):
    cpp_run = tmp_path / "cpp"
    done = _run("--device", "cpp_standalone", "--model", GENN_MODEL, *COMPARISON, "--out",
                str(cpp_run), python=MAIN_PYTHON)
    assert done.returncode == 0, done.stderr[-3000:]
    genn, cpp = (json.loads((run / "metrics.json").read_text())["accuracy_all_activity"]
                 for run in (genn_run, cpp_run))
    assert genn > 0.5 and cpp > 0.5, (genn, cpp)
    assert abs(genn - cpp) <= 0.10, (genn, cpp)


@needs_genn
def test_device_genn_resumes_after_a_kill_between_builds(tmp_path):
    out = tmp_path / "run"
    # 20 training chunks: a re-run of the built program takes well under a second, so the
    # kill must land while many chunks are still to come (a kill after training would
    # resume at labelling, where the plastic build is not needed)
    args = ["--device", "genn", "--neurons", "20", "--train", "400", "--label", "30", "--test",
            "30", "--chunk", "20", "--out", str(out), "--quiet"]
    process = subprocess.Popen([sys.executable, "-m", "brian_stdp.run", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "BRIAN_STDP_GENN_BACKEND": "cpu"},
                               start_new_session=True)
    deadline = time.monotonic() + 900
    while not (out / "checkpoint.npz").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint after 15 minutes"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # after the first build's chunk: a kill -9
    process.wait()
    assert not (out / "metrics.json").exists(), "killed before the end"
    done = _run("--resume", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    log = (out / "log.txt").read_text()
    before, resumed = log.split("resuming", 1)
    # the plastic network was built before the kill; the resumed run reuses that build
    assert [kind for _, kind, _ in BUILD_LINE.findall(before)] == ["plastic"]
    assert "reusing the plastic network's build" in resumed
    assert [kind for _, kind, _ in BUILD_LINE.findall(resumed)] == ["frozen"]
    result = json.loads((out / "metrics.json").read_text())
    assert result["train_images"] == 400 and result["timing"]["train-1"]["images"] == 400
    assert result["timing"]["builds"] == 2


def _per_chunk_build(session, stimulus, n_avail, state, ctrl, plastic, seed, folder):
    """One chunk the way --device genn ran it before building once: a build of its own,
    with the chunk's images, controller state and image count compiled in and the state
    set before ``run()``, run by brian2genn itself. Returns (state, ctrl, spikes) as the
    session's ChunkResult has them."""
    from brian_stdp.backends.brian2genn.device import register
    from brian_stdp.backends.devices.genn import genn_path
    from brian_stdp.backends.session import forget_device, read_state

    spec, proto = session.spec, session.spec.protocol
    brian2.prefs.devices.genn.path = str(genn_path())
    brian2.set_device(register(), directory=str(folder), use_GPU=False, with_output=False)
    old_seed = os.environ.get("BRIAN_STDP_SEED")
    os.environ["BRIAN_STDP_SEED"] = str(seed)
    try:
        brian2.defaultclock.dt = proto.dt
        handles = build_single_run(spec, session.n_neurons, stimulus, session.slots,
                                   plastic=plastic, n_avail=n_avail, ctrl=ctrl)
        set_state(spec, handles, state)
        handles.net.run(session.duration, namespace=handles.namespace, report=None)
        new_state = read_state(handles, state, {}, float(session.duration / brian2.second))
        inp, spikes = handles["inp"], handles["exc_spikes"]
        steps = np.rint(np.asarray(spikes.t[:] / proto.dt)).astype(np.int64)
        return (new_state, (int(inp.img[0]), int(inp.attempts[0]), int(inp.count[0])),
                (steps, np.asarray(spikes.i[:], dtype=np.int64)))
    finally:
        os.environ.pop("BRIAN_STDP_SEED")
        if old_seed is not None:
            os.environ["BRIAN_STDP_SEED"] = old_seed
        forget_device()


@needs_genn
def test_device_genn_built_once_gives_the_spikes_and_state_of_a_build_per_chunk(tmp_path):
    """Compile once, re-run with new input files: the second chunk of a run gives, bit for
    bit, the spikes, state and controller state of a build of its own (how --device genn
    ran before: one build per chunk). Two builds, 12 neurons, 2 x 12 slots."""
    from brian_stdp.backends.brian2genn.session import GennSession
    from brian_stdp.backends.session import ControllerState
    from brian_stdp.data.encoding import encode

    spec = load_model(VARIANT)
    slots, n_neurons = 12, 12
    images = np.random.default_rng(6).integers(0, 256, size=(2 * slots, 28, 28))
    stimulus = encode(images.astype(np.uint8), spec.protocol.encoder)
    session = GennSession(spec, n_neurons, 784, slots, {}, directory=tmp_path / "build")
    state = session.initial_state(np.random.default_rng(7))
    first = session.run_chunk(stimulus[:slots], slots, state,
                              ControllerState.fresh(spec.protocol.min_spikes), True, 11)
    # the second chunk goes on with the image the first one showed last
    rows = stimulus[first.ctrl_img:first.ctrl_img + slots]
    chunk = np.zeros((slots, 784))
    chunk[:len(rows)] = rows
    ctrl = first.handed_on()
    second = session.run_chunk(chunk, len(rows), first.state, ctrl, True, 12)
    assert session.builds == 1
    assert first.spike_neuron.size > 0 and second.spike_neuron.size > 0
    ref_state, ref_ctrl, (ref_steps, ref_neurons) = _per_chunk_build(
        session, chunk, len(rows), first.state, ctrl, True, 12, tmp_path / "reference")
    assert (second.ctrl_img, second.ctrl_attempts, second.ctrl_count) == ref_ctrl
    proto = spec.protocol
    slot, offset = np.divmod(ref_steps, proto.steps_per_slot)
    window = offset < proto.steps_present
    np.testing.assert_array_equal(second.spike_slot, slot[window])
    np.testing.assert_array_equal(second.spike_neuron, ref_neurons[window])
    assert set(second.state) == set(ref_state)
    for key, value in ref_state.items():
        np.testing.assert_array_equal(second.state[key], value, err_msg=key)
    # another session of the same network (a resumed run) re-runs that build, unbuilt
    again = GennSession(spec, n_neurons, 784, slots, {}, directory=tmp_path / "build")
    third = again.run_chunk(chunk, len(rows), first.state, ctrl, True, 12)
    assert again.builds == 0
    np.testing.assert_array_equal(third.spike_neuron, second.spike_neuron)
