"""Model files: loading, units, and clear errors for bad files."""

import pytest
from brian2 import Hz, ms, mV, second

from brian_stdp.backends.network import check_model
from brian_stdp.errors import ModelFileError
from brian_stdp.model.files import MODELS_DIR, available_models
from brian_stdp.model.spec import load_model
from brian_stdp.model.wiring import pairs_for

pytestmark = pytest.mark.codegen_independent

DC = MODELS_DIR / "diehl_cook_2015.toml"


def test_shipped_models_are_listed():
    assert "diehl_cook_2015" in available_models()


def test_diehl_cook_values_have_units():
    spec = load_model("diehl_cook_2015")
    p = spec.parameters
    assert p["tau_exc"] == 100 * ms
    assert p["v_rest_exc"] == -65 * mV
    assert p["v_init_exc"] == -105 * mV
    assert p["theta_plus"] == 0.05 * mV
    assert p["tau_post2"] == 40 * ms
    assert float(p["eta_post"]) == pytest.approx(1e-2)
    proto = spec.protocol
    assert proto.dt == 0.5 * ms
    assert proto.t_slot == 0.5 * second
    assert proto.steps_per_slot == 1000 and proto.steps_present == 700
    assert proto.rate_scale * 255 * proto.intensity_start == 63.75 * Hz
    assert spec.weight_sum(784) == pytest.approx(78.0)
    assert spec.deviations, "the model file must state its deviations"


def test_template_is_specialised_per_group():
    spec = load_model("diehl_cook_2015")
    exc, inh = spec.group_equations("exc"), spec.group_equations("inh")
    assert "tau_exc" in str(exc["v"].expr) and "tau_inh" in str(inh["v"].expr)
    assert "theta" in exc.names and "theta" not in inh.names
    assert exc["v"].dim == mV.dim


@pytest.mark.parametrize("name", available_models())
def test_shipped_model_passes_brian2_checks(name):
    """Every model file in models/ loads, and Brian2 accepts its equations and units."""
    spec = load_model(name)
    assert spec.name == name, "the file's [model] name is its file name"
    check_model(spec)


@pytest.mark.parametrize("old, new, where, problem", [
    ('tau_exc      = "100*ms"', 'tau_exc      = "100*msec"', r"\[parameters\] tau_exc",
     "undefined name"),
    ('dt                = "0.5*ms"', 'dt                = "0.5*mV"', r"\[protocol\] dt",
     "units"),
    ("[protocol]", "[protocols]", "top level", "unknown key"),
    ('refractory = "t_ref_inh"', 'refractory = "t_ref_inh"\nrefactory = "1*ms"',
     r"\[groups.inh\]", "unknown key.*refactory"),
    ('{ template = "post_traces" }', '{ template = "post_trace" }',
     r"\[groups.exc\] equations\[2\]", "post_trace.*not defined"),
    ('source = "exc"', 'source = "exz"', r"\[synapses.exc_inh\] source", "unknown group"),
    ('max_presentations = "10"', 'max_presentations = "0"', r"\[protocol\] max_presentations",
     "at least 1"),
    ('size = "n_neurons"', 'size = "n_neuron"', r"\[groups.exc\] size", "undefined name"),
    ('t_rest            = "150*ms"', 't_rest            = "150*ms"\nt_present_eval = "700*mV"',
     r"\[protocol\] t_present_eval", "units"),
    ('t_rest            = "150*ms"', 't_rest            = "150*ms"\nt_present_eval = "700.2*ms"',
     r"\[protocol\] t_present_eval", "whole number of time steps"),
    ('t_rest            = "150*ms"', 't_rest            = "150*ms"\nt_present_eval = "0*ms"',
     r"\[protocol\] t_present_eval", "must be positive"),
])
def test_bad_model_file_names_file_and_key(edited_model, old, new, where, problem):
    path = edited_model(DC, old, new)
    with pytest.raises(ModelFileError, match=f"edited.toml.*{where}.*{problem}"):
        spec = load_model(path)
        check_model(spec)


@pytest.mark.parametrize("old, new, where, problem", [
    ("gi*(E_inh - v)) / tau_mem : volt", "gi) / tau_mem : volt", r"\[groups.exc\]",
     "inconsistent units"),
    ('reset = "v = v_reset_inh"', 'reset = "v = v_reset_inx"', r"\[groups.inh\]",
     "v_reset_inx"),
    ('threshold = "v > v_thresh_inh"', 'threshold = "v > 3"', r"\[groups.inh\]",
     "different units"),
    ('on_pre = "gi_post += w"', 'on_pre = "gi_post += w*mV"', r"\[synapses.inh_exc\]",
     "inconsistent units"),
    ("plastic : 1 (shared)\n", "", r"\[groups.exc\] equations", "plastic"),
])
def test_equation_errors_are_found_before_compiling(edited_model, old, new, where, problem):
    spec = load_model(edited_model(DC, old, new))
    with pytest.raises(ModelFileError, match=f"edited.toml: {where}.*{problem}"):
        check_model(spec)


def test_a_shared_variable_is_one_value_of_the_initial_state(edited_model):
    """A shared variable of a group (here with an initial value) and one of synapses pass
    the checks and start as one value each."""
    import numpy as np

    from brian_stdp.backends.network import build_network, draw_fixed, initial_state

    path = edited_model(DC, "plastic : 1 (shared)\n", "plastic : 1 (shared)\ngain : 1 (shared)\n")
    text = path.read_text().replace('initial = { v = "v_init_exc", theta = "theta_init" }',
                                    'initial = { v = "v_init_exc", theta = "theta_init", '
                                    'gain = "2 + 0*i" }')
    text = text.replace("t_arrival : second     # time of the last presynaptic spike arrival",
                        "t_arrival : second\nscale : 1 (shared)")
    path.write_text(text)
    spec = load_model(path)
    check_model(spec)
    rng = np.random.default_rng(0)
    handles = build_network(spec, 4, 16, 1, draw_fixed(spec, 4, 16, rng))
    state = initial_state(spec, handles, rng)
    assert state["exc.gain"].shape == (1,) and state["exc.gain"][0] == 2.0
    assert state["inp_exc.scale"].shape == (1,) and state["inp_exc.scale"][0] == 0.0
    assert state["exc.theta"].shape == (4,)
    assert "exc.plastic" not in state, "the runner sets plastic"


def test_evaluation_model_shows_the_images_for_t_present_eval(edited_model):
    spec = load_model(DC)
    assert spec.protocol.t_present_eval is None
    assert spec.for_evaluation() is spec, "without t_present_eval: the trained model itself"
    longer = load_model(edited_model(DC, 't_rest            = "150*ms"',
                                     't_rest            = "150*ms"\nt_present_eval = "700*ms"'))
    evaluated = longer.for_evaluation()
    assert longer.protocol.t_present == 350 * ms, "training keeps t_present"
    assert evaluated.protocol.t_present == 700 * ms
    assert (evaluated.protocol.steps_present, evaluated.protocol.steps_per_slot) == (1400, 1700)
    assert evaluated.protocol.t_rest == spec.protocol.t_rest
    assert (evaluated.groups, evaluated.synapses, evaluated.parameters) == (
        longer.groups, longer.synapses, longer.parameters), "nothing but the protocol differs"


def test_not_toml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nname = 1")
    with pytest.raises(ModelFileError, match="broken.toml: not valid TOML"):
        load_model(broken)
    with pytest.raises(ModelFileError, match="nothere.toml: model file not found"):
        load_model(tmp_path / "nothere.toml")
    with pytest.raises(ModelFileError, match="unknown model 'nosuch'.*diehl_cook_2015"):
        load_model("nosuch")


@pytest.mark.parametrize("rule, n_src, n_tgt, pairs", [
    ("all", 2, 3, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]),
    ("one_to_one", 3, 3, [(0, 0), (1, 1), (2, 2)]),
    ("all_but_self", 3, 3, [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]),
    ("abs(i - j) == 1", 3, 3, [(0, 1), (1, 0), (1, 2), (2, 1)]),
])
def test_synapse_pairs_are_source_major(rule, n_src, n_tgt, pairs):
    pre, post = pairs_for(rule, n_src, n_tgt, "connect")
    assert list(zip(pre.tolist(), post.tolist())) == pairs


# -- variants: extends ------------------------------------------------------------------------
@pytest.mark.codegen_independent
def test_variants_hold_only_their_changes():
    import tomllib

    base = load_model("diehl_cook_2015")
    for name, changed in [("diehl_cook_2015_exp_euler", {"exponential_euler"}),
                          ("diehl_cook_2015_block50", {"euler"})]:
        variant = load_model(name)
        assert [p.name for p in variant.bases] == ["diehl_cook_2015.toml"]
        assert "extends" in tomllib.loads(variant.text)
        assert len(variant.text.splitlines()) < 40, "a variant does not repeat its base"
        assert {g.method for g in variant.groups.values()} == changed
        assert variant.equations == base.equations and variant.synapses == base.synapses
        assert variant.protocol == base.protocol
    block50 = load_model("diehl_cook_2015_block50")
    assert float(block50.parameters["timer_rate"]) == 0.1
    assert {k: v for k, v in block50.parameters.items() if k != "timer_rate"} == \
        {k: v for k, v in base.parameters.items() if k != "timer_rate"}


@pytest.mark.codegen_independent
def test_genn_variant_is_its_base_with_the_stated_changes_only():
    """The GeNN variant extends the base: its loaded model is the base's with the two
    GeNN differences (one input delay; post traces as spike times on the synapses)."""
    import tomllib

    base, variant = load_model("diehl_cook_2015"), load_model("diehl_cook_2015_genn")
    assert [p.name for p in variant.bases] == ["diehl_cook_2015.toml"]
    assert "extends" in tomllib.loads(variant.text)
    assert len(variant.text.splitlines()) < 60, "a variant does not repeat its base"
    assert set(base.parameters) ^ set(variant.parameters) == {"delay_max", "delay_input"}
    assert all(str(variant.parameters[k]) == str(v) for k, v in base.parameters.items()
               if k != "delay_max")
    assert set(base.equations) - set(variant.equations) == {"post_traces"}
    assert set(base.group_equations("exc").names) - set(variant.group_equations("exc").names) \
        == {"post1", "post2"}
    assert variant.groups["inh"] == base.groups["inh"]
    assert variant.groups["exc"].reset.split() == ["v", "=", "v_reset_exc", "theta", "+=",
                                                   "plastic*theta_plus"]
    assert {k: v for k, v in vars(variant.groups["exc"]).items() if k not in ("equations",
                                                                              "reset")} == \
        {k: v for k, v in vars(base.groups["exc"]).items() if k not in ("equations", "reset")}
    assert {n: s for n, s in variant.synapses.items() if n != "inp_exc"} == \
        {n: s for n, s in base.synapses.items() if n != "inp_exc"}
    inp_exc = variant.synapses["inp_exc"]
    assert inp_exc.delay == "delay_input" and inp_exc.initial == {
        "w": "(rand() + 0.01)*0.3", "t_arrival": "-1e4*second", "t_postspike": "-1e4*second"}
    assert "t_postspike" in inp_exc.model and variant.stdp.after_post == "t_postspike = t"
    assert variant.protocol == base.protocol
    assert variant.deviations[2:] == tuple(d for d in base.deviations if "live on" not in d)


@pytest.mark.codegen_independent
def test_a_variant_removes_keys_of_its_base(tmp_path):
    spec = load_model(_variant(tmp_path, 'extends = "diehl_cook_2015"\n'
                               'remove = ["parameters.w_max", "equations.post_traces"]\n'
                               '[model]\nname = "x"\n[parameters]\nw_max = "2"\n'
                               '[groups.exc]\nequations = [{ template = "lif", '
                               'tau_mem = "tau_exc", v_rest = "v_rest_exc", '
                               'E_inh = "E_inh_exc" }]\nreset = "v = v_reset_exc"\n'))
    assert "post_traces" not in spec.equations
    assert list(spec.parameters)[-1] == "w_max" and float(spec.parameters["w_max"]) == 2
    assert load_model("diehl_cook_2015").equations["post_traces"]  # the base is unchanged


@pytest.mark.codegen_independent
@pytest.mark.parametrize("text, message", [
    ('extends = "diehl_cook_2015"\nremove = ["parameters.no_such"]\n[model]\nname = "x"\n',
     r"variant.toml: remove: 'parameters.no_such' is not a key of the model it extends"),
    ('extends = "diehl_cook_2015"\nremove = "parameters.w_max"\n[model]\nname = "x"\n',
     r"variant.toml: remove: must be a list of dotted keys"),
    ('remove = ["parameters.w_max"]\n[model]\nname = "x"\n',
     r"variant.toml: remove: only a model that extends another can remove keys"),
])
def test_bad_removals_name_the_file(tmp_path, text, message):
    with pytest.raises(ModelFileError, match=message):
        load_model(_variant(tmp_path, text))


def _variant(tmp_path, text, name="variant.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.codegen_independent
@pytest.mark.parametrize("text, message", [
    ('extends = "no_such_model"\n[model]\nname = "x"\n',
     r"variant.toml: extends: unknown model 'no_such_model'"),
    ('extends = "diehl_cook_2015"\n[groups.exc]\nmethod = "euler"\n',
     r"variant.toml: \[model\] name: a model that extends another needs a name"),
    ('extends = "diehl_cook_2015"\n[model]\nname = "x"\n[groups.exc]\nmetod = "euler"\n',
     r"variant.toml: \[groups.exc\]: unknown key.*metod"),
    ('extends = "variant.toml"\n[model]\nname = "x"\n', r"circular"),
])
def test_bad_variants_name_the_file_and_key(tmp_path, text, message):
    with pytest.raises(ModelFileError, match=message):
        load_model(_variant(tmp_path, text))


@pytest.mark.codegen_independent
def test_run_directory_copies_keep_the_chain(tmp_path):
    variant = load_model("diehl_cook_2015_block50")
    files = variant.copy_files("model.toml")
    assert list(files) == ["model.toml", "model.base.toml"]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name, text in files.items():
        (run_dir / name).write_text(text)
    copy = load_model(run_dir / "model.toml")
    assert copy.bases == (run_dir / "model.base.toml",), "the copy next to it, not models/"
    assert copy.raw == variant.raw


@pytest.mark.parametrize("model, neurons, weight", [
    ("diehl_cook_2015_scaled_inhibition", 100, 17.0),
    ("diehl_cook_2015_scaled_inhibition", 400, 34.0),
    ("diehl_cook_2015_scaled_inhibition", 1600, 68.0),
    ("diehl_cook_2015_scaled_inhibition", 6400, 136.0),
    ("diehl_cook_2015_shrinking_inhibition", 100, 136.0),
    ("diehl_cook_2015_shrinking_inhibition", 400, 34.0),
    ("diehl_cook_2015_shrinking_inhibition", 1600, 8.5),
    ("diehl_cook_2015_shrinking_inhibition", 6400, 2.125),
    ("diehl_cook_2015_fast_learning_shrinking_inhibition", 1600, 8.5),
])
def test_size_dependent_inhibition_is_the_strong_variant_at_400_neurons(model, neurons, weight):
    """Growing as sqrt(n) from the published 17 at 100 neurons, or shrinking as 1/n; both
    are twice the default (the strong variant) at 400 neurons and change nothing else."""
    import numpy as np

    spec = load_model(model)
    expr = spec.synapses["inh_exc"].initial["w"]
    names = {**spec.namespace(neurons, 784), "sqrt": np.sqrt}
    assert float(eval(expr, {"__builtins__": {}}, names)) == pytest.approx(weight)
    if neurons == 400:
        strong = load_model("diehl_cook_2015_strong_inhibition")
        assert float(strong.parameters["w_inh_exc"]) == pytest.approx(weight)
    if "fast_learning" in model:
        assert spec.parameters == load_model("diehl_cook_2015_fast_learning").parameters
    rest = {k: v for k, v in spec.synapses.items() if k != "inh_exc"}
    assert rest == {k: v for k, v in load_model("diehl_cook_2015").synapses.items()
                    if k != "inh_exc"}


@pytest.mark.parametrize("model, factors, base", [
    ("diehl_cook_2015_fast_learning", {"eta_pre": 2, "eta_post": 2}, "diehl_cook_2015"),
    ("diehl_cook_2015_faster_learning", {"eta_pre": 4, "eta_post": 4}, "diehl_cook_2015"),
    ("diehl_cook_2015_slow_learning", {"eta_pre": 0.5, "eta_post": 0.5}, "diehl_cook_2015"),
    ("diehl_cook_2015_fast_theta", {"theta_plus": 2}, "diehl_cook_2015"),
    ("diehl_cook_2015_fast_learning_theta", {"eta_pre": 2, "eta_post": 2, "theta_plus": 2},
     "diehl_cook_2015"),
    ("diehl_cook_2015_exp_euler_fast_learning", {"eta_pre": 2, "eta_post": 2},
     "diehl_cook_2015_exp_euler"),
])
def test_rate_variants_scale_only_their_parameters(model, factors, base):
    """Each named parameter the base model's value times its factor; every other parameter,
    every group and every synapse as the base's."""
    base, spec = load_model(base), load_model(model)
    for name, factor in factors.items():
        assert float(spec.parameters[name] / base.parameters[name]) == pytest.approx(factor)
    assert {k: v for k, v in spec.parameters.items() if k not in factors} == \
        {k: v for k, v in base.parameters.items() if k not in factors}
    assert spec.groups == base.groups
    assert spec.synapses == base.synapses
