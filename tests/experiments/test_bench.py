"""Tests of brian_stdp.bench: one tiny network measured end to end."""

import json
import os
import subprocess
import sys
import time

import pytest

from brian_stdp.bench import main
from brian_stdp.experiments.benchmark import ChildPeakSampler, format_profile, format_table

pytestmark = pytest.mark.standalone_compatible


def test_bench_tiny(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["--neurons", "10", "--images", "100", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "img/s" in printed and "peak MiB" in printed
    result = json.loads(out.read_text())
    assert len(result["rows"]) == 1
    row = result["rows"][0]
    assert row["neurons"] == 10 and row["images"] == 100
    assert row["compile_seconds"] > 0 and row["builds"] == 1
    assert row["images_per_second"] > 0 and row["slots_per_second"] > 0
    assert row["spikes_per_image"] >= 0 and 0 <= row["shown_again_percent"] <= 100
    for key in ("peak_python_mib", "peak_children_mib"):
        assert row[key] > 0
    # The 10-neuron program, where the sampler caught it, is far smaller than this
    # Python: a reading of Python's size means a child caught before its exec.
    assert row["peak_sim_mib"] is None or 0 < row["peak_sim_mib"] < row["peak_python_mib"] / 2
    for when in ("after_first_chunk", "after_last_chunk"):
        memory = row["memory"][when]
        assert memory["peak_python_mib"] > 0 and memory["peak_children_mib"] > 0
    assert sum(chunk["images"] for chunk in row["per_chunk"]) == 100
    assert all(chunk["cpu_seconds"] > 0 for chunk in row["per_chunk"])  # the programs' CPU
    machine = result["machine"]
    assert machine["cpu_count"] >= 1 and "brian2" in machine["versions"]


@pytest.mark.parametrize("flags", [["--device", "nosuch"],
                                   ["--devices", "cpp_standalone,nosuch"]])
def test_unknown_device_exits_2(tmp_path, capsys, flags):
    assert main([*flags, "--neurons", "10", "--images", "10",
                 "--out", str(tmp_path / "b.json")]) == 2
    assert "nosuch: unknown device" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


def test_table_aligned():
    rows = [{"device": "cpp_standalone", "neurons": 100, "compile_seconds": 12.3,
             "images_per_second": 5.5, "slots_per_second": 7.25, "spikes_per_image": 9.0,
             "shown_again_percent": 20.0, "peak_python_mib": 300.0,
             "peak_children_mib": 310.0, "peak_sim_mib": None},
            {"device": "cpp_standalone", "neurons": 1600, "compile_seconds": 40.0,
             "images_per_second": 0.5, "slots_per_second": 0.75, "spikes_per_image": 12.0,
             "shown_again_percent": 5.0, "peak_python_mib": 900.0,
             "peak_children_mib": 950.0, "peak_sim_mib": 600.0}]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4
    assert len({len(line) for line in lines[:2]}) == 1  # heading and rule line up
    assert lines[2].split()[1] == "100" and lines[3].split()[1] == "1600"
    assert lines[2].split()[-1] == "-"


def test_profile_times_the_code_objects(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["--neurons", "10", "--images", "30", "--chunk", "20", "--profile",
                 "--out", str(out), "--quiet"]) == 0
    assert "where the time goes, cpp_standalone, 10 neurons" in capsys.readouterr().out
    row = json.loads(out.read_text())["rows"][0]
    seconds = row["profile_seconds"]
    for name in ("inp_exc_pre_codeobject", "exc_stateupdater_codeobject",
                 "inp_exc_normalise_codeobject"):
        assert seconds[name] > 0
    # two chunks summed, inside the wall time of their runs
    assert 0 < sum(seconds.values()) < row["simulation_seconds"]


@pytest.mark.codegen_independent
def test_profile_needs_cpp_standalone(tmp_path, capsys):
    assert main(["--device", "runtime", "--profile", "--neurons", "10", "--images", "10",
                 "--out", str(tmp_path / "b.json")]) == 2
    assert "--profile times the code objects of cpp_standalone only" in capsys.readouterr().err


@pytest.mark.codegen_independent
def test_profile_table_ranks_and_sums():
    row = {"device": "cpp_standalone", "neurons": 400,
           "profile_seconds": {"a": 1.0, "b": 6.0, "c": 2.0, "d": 1.0}}
    lines = format_profile(row, top=2).splitlines()
    assert lines[0].endswith("(10.0 s in code objects):")
    assert lines[1].split() == ["b", "6.00", "s", "60.0", "%"]
    assert lines[2].split() == ["c", "2.00", "s", "20.0", "%"]
    assert lines[3].split() == ["the", "other", "2", "2.00", "s", "20.0", "%"]


needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/exe"), reason="needs Linux /proc")


@pytest.mark.codegen_independent
@needs_proc
def test_sampler_counts_a_child_running_its_own_program():
    # Beside a child that runs this Python the whole time (as a worker of an earlier
    # step may), which must not hide the program started later.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)
        with ChildPeakSampler(interval=0.02) as sampler:
            subprocess.run(["sleep", "0.5"], check=True)
    finally:
        worker.kill()
        worker.wait()
    assert sampler.peak_mib is not None
    assert sampler.peak_mib < 50  # sleep's own memory, not this Python's


@pytest.mark.codegen_independent
@needs_proc
def test_sampler_skips_a_child_still_running_this_program():
    # A child on this process's program is what a fork looks like before exec: its
    # memory is the parent's, and counting it made the simulation's peak the size of
    # the Python process.
    code = "import time; block = bytearray(100 * 2**20); time.sleep(0.5)"
    with ChildPeakSampler(interval=0.02) as sampler:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert sampler.peak_mib is None
