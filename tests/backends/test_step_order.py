"""Which serial code objects the first thread runs early (brian_stdp/backends/step_order.py):
the rule on made-up steps, and the reading of a generated program's files."""

import pytest

from brian_stdp.backends import step_order
from brian_stdp.backends.step_order import StepObject, StepPlan, plan


def serial(name, *uses):
    return StepObject(name, False, frozenset(uses))


def split(name, *uses, gathers=False):
    return StepObject(name, True, frozenset(uses), gathers)


@pytest.mark.codegen_independent
def test_an_object_that_shares_nothing_runs_early_in_its_order():
    step = [split("su", "v", "ge"), split("thr", "v", "spikes"),
            serial("inp_thr", "inp_spikes", "k_next"),
            serial("monitor", "spikes", "mon_i"),  # reads the split threshold's events
            serial("inp_monitor", "inp_spikes", "inp_mon_i"),  # after inp_thr, passes monitor
            serial("push", "inp_spikes", "queue"),
            split("pathway", "queue", "ge", "w")]
    # the monitor of the split threshold's events waits for it, then runs alongside the
    # pathway (below)
    assert plan(step).early == ["inp_thr", "inp_monitor", "push", "monitor"]


@pytest.mark.codegen_independent
@pytest.mark.parametrize("step", [
    # nothing split before it
    [serial("first", "a"), split("su", "v")],
    # shares an array with the split object before it
    [split("su", "v"), serial("reset", "v")],
    # with a split object further up the same run of split objects
    [split("su", "v"), split("thr", "spikes"), serial("reset", "v")],
    # with a serial object it would pass (which itself waits for the split one)
    [split("su", "v"), serial("monitor", "v", "x"), serial("late", "x")],
    # both draw random numbers: their order is kept
    [split("su", "v"), serial("noise", "v", "_random_generators"),
     serial("input", "_random_generators")],
])
def test_an_object_that_shares_a_name_keeps_its_place(step):
    assert step[-1].function not in plan(step).early


@pytest.mark.codegen_independent
def test_only_the_split_objects_since_the_last_serial_one_run_alongside():
    # "late" shares v with the first run of split objects, not with the one before it
    step = [split("su", "v"), serial("monitor", "v", "w"), split("pathway", "w"),
            serial("late", "v")]
    assert plan(step).early == ["late"]
    # a clock without code (no function) is never early and shares nothing
    step = [split("su", "v"), serial("", ), serial("late", "w")]
    assert plan(step).early == ["late"]


_MAIN = """
    network.clear();
    network.add(&defaultclock, _run_a_stateupdater_codeobject);
    network.add(&other_clock, _run_b_codeobject);
    network.add(&other_clock, NULL);
    set_from_command_line(args);
    network.run(0.1, NULL, 10.0);
"""


@pytest.mark.codegen_independent
def test_the_step_of_a_program_is_read_from_its_files(tmp_path):
    assert step_order.network_steps(_MAIN) == [[
        ("defaultclock", "_run_a_stateupdater_codeobject"), ("other_clock", "_run_b_codeobject"),
        ("other_clock", "NULL")]]
    assert step_order.network_steps(_MAIN + _MAIN.replace("_a_", "_c_"))[1][0] == (
        "defaultclock", "_run_c_stateupdater_codeobject")
    (tmp_path / "code_objects").mkdir()
    (tmp_path / "brianlib").mkdir()
    (tmp_path / "main.cpp").write_text(_MAIN)
    (tmp_path / "objects.h").write_text(
        "extern double * _array_a_v;\nextern double * _array_defaultclock_t;\n"
        "extern std::vector< RandomGenerator > _random_generators;\n"
        "extern std::ostream& operator<<(std::ostream& out, const RandomGenerator& rng);\n")
    (tmp_path / "code_objects/a_stateupdater_codeobject.cpp").write_text(
        "void _run_a_stateupdater_codeobject() { _array_a_v[0] += _array_defaultclock_t[0]; }\n"
        "BRIAN_STDP_SPLIT(_run_a_stateupdater_codeobject, true, false)\n")
    (tmp_path / "code_objects/b_codeobject.cpp").write_text(
        "void _run_b_codeobject() { double x = brian::_random_generators[0].rand(); }\n")
    step = step_order.step_of(tmp_path)
    assert step == [  # the clock's time is not a name two objects share
        StepObject("_run_a_stateupdater_codeobject", True, frozenset({"_array_a_v"})),
        StepObject("_run_b_codeobject", False, frozenset({"_random_generators"})),
        StepObject("", False, frozenset())]
    assert step_order.write_header(tmp_path) == StepPlan(
        ["_run_a_stateupdater_codeobject", "_run_b_codeobject"], ["_run_b_codeobject"], [0],
        ["_run_a_stateupdater_codeobject"])
    header = (tmp_path / step_order.HEADER).read_text()
    assert "void _run_b_codeobject();" in header
    assert ("register_plan(\n    {&_run_a_stateupdater_codeobject, &_run_b_codeobject},\n"
            "    {&_run_b_codeobject},\n    {0},\n    {&_run_a_stateupdater_codeobject});"
            ) in header
    # two runs of a network: no plan; no main.cpp: none either
    (tmp_path / "main.cpp").write_text(_MAIN + _MAIN)
    assert step_order.step_of(tmp_path) is None
    assert step_order.write_header(tmp_path) is None
    assert "register_plan(\n    {},\n    {},\n    {},\n    {});" in (
        tmp_path / step_order.HEADER).read_text()
    (tmp_path / "main.cpp").unlink()
    assert step_order.step_of(tmp_path) is None


@pytest.mark.codegen_independent
def test_serial_objects_before_a_run_of_split_ones_move_down_alongside_it():
    step = [split("thr", "v", "spikes", gathers=True),
            serial("monitor", "spikes", "mon"),  # waits for the threshold
            serial("push_a", "spikes", "queue_a"),  # shares nothing with the pathway
            serial("inp_push", "queue_b"),  # early, alongside the threshold
            split("pathway_b", "queue_b", "ge", "w"),
            serial("deliver", "gi"),  # early, alongside the pathway
            serial("stdp", "w")]  # waits for the pathway
    steps = plan(step)
    assert steps.order == ["thr", "inp_push", "pathway_b", "monitor", "push_a", "deliver",
                           "stdp"]
    assert steps.early == ["inp_push", "monitor", "push_a", "deliver"]
    # where the run each early object runs beside starts (in a step that runs only some
    # objects, one whose run did not start it waits as a serial object)
    assert steps.run_starts == [0, 2, 2, 2]
    # the pathway reads nothing of the threshold, which gathers its events: no thread
    # waits for the first to gather them before it
    assert steps.no_gather_wait == ["pathway_b"]


@pytest.mark.codegen_independent
def test_a_serial_object_that_shares_a_name_with_the_run_after_it_keeps_its_barrier():
    step = [split("thr", "v", "spikes", gathers=True),
            serial("monitor", "spikes", "mon"),
            serial("push", "spikes", "queue"),
            split("pathway", "queue", "ge"),  # reads the queue that push fills
            split("stdp", "spikes", "w")]  # reads the gathered events
    steps = plan(step)
    assert steps.order == [obj.function for obj in step]  # monitor cannot pass push
    assert steps.early == [] and steps.no_gather_wait == []
