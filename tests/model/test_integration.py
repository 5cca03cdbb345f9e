"""The semi_implicit integration method: exact decays, stable conductance updates."""

import numpy as np
import pytest
from brian2 import Equations, Network, NeuronGroup, StateMonitor, ms, mV, prefs

from brian_stdp.model import integration  # noqa: F401  (registers the method
from brian_stdp.model.integration import SemiImplicitStateUpdater

pytestmark = pytest.mark.codegen_independent

EQS = Equations("""
dv/dt = ((v_rest - v) + g*(E - v))/tau : volt
dg/dt = -g/tau_g : 1
""")
NAMESPACE = {"v_rest": -65 * mV, "E": -100 * mV, "tau": 100 * ms, "tau_g": 2 * ms}


def test_code_is_exact_for_decays_and_implicit_for_conductance_terms():
    code = SemiImplicitStateUpdater()(EQS).splitlines()
    assert "_g = g*exp(-dt/tau_g)" in code
    v_line = next(line for line in code if line.startswith("_v ="))
    assert "exp" not in v_line and "/(" in v_line, v_line


def _simulate(method, g0, steps=20):
    prefs.codegen.target = "numpy"
    group = NeuronGroup(1, EQS, method=method, namespace=NAMESPACE, dt=0.5 * ms)
    group.v = -65 * mV
    group.g = g0
    monitor = StateMonitor(group, ["v", "g"], record=0, dt=0.5 * ms)
    Network(group, monitor).run(steps * 0.5 * ms, namespace=NAMESPACE)
    return np.asarray(monitor.v[0] / mV), np.asarray(monitor.g[0])


def test_decay_is_exact():
    _, g = _simulate("semi_implicit", 10.0, steps=8)
    np.testing.assert_allclose(g, 10.0 * np.exp(-0.25 * np.arange(8)), rtol=1e-12)


def test_large_conductance_stays_stable_where_euler_diverges():
    # dt/tau * g = 0.005 * 2000 = 10 > 2: forward Euler oscillates and explodes
    v_si, _ = _simulate("semi_implicit", 2000.0)
    v_euler, _ = _simulate("euler", 2000.0)
    assert np.all((v_si <= -65 + 1e-9) & (v_si >= -100 - 1e-9)), "between rest and reversal"
    assert np.max(np.abs(v_euler)) > 1000, "forward Euler is unstable here"


def test_close_to_exponential_euler_for_ordinary_conductances():
    v_si, _ = _simulate("semi_implicit", 2.0)
    v_ee, _ = _simulate("exponential_euler", 2.0)
    np.testing.assert_allclose(v_si, v_ee, atol=0.05)  # mV
