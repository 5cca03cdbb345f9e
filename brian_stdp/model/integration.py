"""A cheap, stable integration method for conductance-based neuron models.

``method = "semi_implicit"`` in a model file. For equations that are linear in
their own variable, ``dx/dt = A*x + B`` (A and B may depend on other
variables, as in ``dv/dt = ((v_rest - v) + ge*(E_exc - v))/tau``):

- where A depends on no state variable (a plain decay such as
  ``dge/dt = -ge/tau_ge``), the step is exact, as in exponential Euler; the
  exponential is a constant that Brian2 computes once per step, not per neuron;
- otherwise the step is backward (implicit) Euler with A and B frozen over the
  step, ``x_new = (x + B*dt)/(1 - A*dt)``: one division per neuron instead of
  exponential Euler's exponential, and stable for any conductance (forward Euler
  is not once ``-A*dt > 2``).
"""

from __future__ import annotations

import sympy as sp
from brian2.parsing.sympytools import sympy_to_str
from brian2.stateupdaters.base import (StateUpdateMethod, UnsupportedEquationsException,
                                       extract_method_options)
from brian2.stateupdaters.exponential_euler import get_conditionally_linear_system

NAME = "semi_implicit"


class SemiImplicitStateUpdater(StateUpdateMethod):
    """Exact for constant-coefficient decays, backward Euler otherwise (see module)."""

    def __call__(self, equations, variables=None, method_options=None):
        extract_method_options(method_options, {})
        if equations.is_stochastic:
            raise UnsupportedEquationsException("semi_implicit cannot solve stochastic "
                                                "equations")
        try:
            system = get_conditionally_linear_system(equations, variables)
        except ValueError:
            raise UnsupportedEquationsException(
                "semi_implicit needs equations linear in their own variable") from None
        per_neuron = {name for name in equations.names  # may differ between neurons
                      if "shared" not in getattr(equations[name], "flags", ())}
        dt = sp.Symbol("dt")
        code = []
        for var, (A, B) in system.items():
            x = sp.Symbol(var)
            if A == 0:
                update = x + dt * B
            elif not {str(symbol) for symbol in A.free_symbols} & per_neuron:
                decay = sp.exp(A * dt)  # exact; constant over the neurons
                update = x * decay + (B / A) * (decay - 1) if B != 0 else x * decay
            else:
                update = (x + dt * B) / (1 - dt * A)
            code.append(f"_{var} = {sympy_to_str(update)}")
        code += [f"{var} = _{var}" for var in system]
        return "\n".join(code)


def register() -> None:
    """Make ``method = "semi_implicit"`` available to Brian2 (idempotent; done on import)."""
    if NAME not in StateUpdateMethod.stateupdaters:
        StateUpdateMethod.register(NAME, SemiImplicitStateUpdater())


register()
