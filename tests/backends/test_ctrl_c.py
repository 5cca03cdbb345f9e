"""Tests of brian_stdp.backends.ctrl_c: a process that ignores Ctrl-C (SIGINT) keeps
ignoring it once the simulation session (and Brian2) is imported, and so does the
compiled program it starts; a process that answers Ctrl-C still stops."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.codegen_independent

ROOT = Path(__file__).resolve().parents[2]

#: Sends itself SIGINT, then has a child shell (as the compiled program would be) send
#: itself SIGINT, and prints what lived.
SCRIPT = """
import os, signal, subprocess
{imports}
os.kill(os.getpid(), signal.SIGINT)
print("python alive", signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
print(subprocess.run(["sh", "-c", "kill -INT $$; echo child alive"],
                     capture_output=True, text=True).stdout.strip())
"""

SESSION = "import brian_stdp.backends.session"


def _run(imports: str, ignore_sigint: bool) -> subprocess.CompletedProcess:
    def setup():
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else signal.SIG_DFL)

    return subprocess.run([sys.executable, "-c", SCRIPT.format(imports=imports)], cwd=ROOT,
                          preexec_fn=setup, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("imports", [SESSION, f"import brian2; {SESSION}",
                                     f"{SESSION}; import brian2"])
def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it(imports):
    result = _run(imports, ignore_sigint=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["python alive True", "child alive"]


def test_without_it_brian2_breaks_an_ignored_ctrl_c():
    """The Brian2 behaviour corrected (if this fails, Brian2 fixed it)."""
    result = _run("import brian2", ignore_sigint=True)
    assert result.returncode != 0
    assert "'Handlers' object is not callable" in result.stderr


def test_a_process_that_answers_ctrl_c_still_stops():
    result = _run(SESSION, ignore_sigint=False)
    assert result.returncode != 0  # a KeyboardInterrupt, or SIGINT's own exit (-2)
    assert "python alive" not in result.stdout


def test_nothing_changes_without_brian2s_handler():
    from brian_stdp.backends import ctrl_c

    before = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert ctrl_c.keep_ignored() is False
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
