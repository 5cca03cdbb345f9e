"""How a synapse object of a model file connects its groups (``[synapses.X] connect``).

Three forms, all turned into explicit pre- and postsynaptic index arrays (Brian2's
``connect(i=..., j=...)``):

a rule name
    ``"all"`` (every pair), ``"one_to_one"`` (equal sizes), ``"all_but_self"``.
a condition
    Any other string: a Brian2-style condition on each pair, e.g.
    ``"abs(i - j) == 1"`` or ``"location_pre == location_post and filter_pre !=
    filter_post"``. It may use ``i``, ``j``, ``abs``, ``and``/``or``/``not`` and, for an
    end that is the target of a patch layout, ``location_pre``/``location_post`` and
    ``filter_pre``/``filter_post`` (that neuron's location and filter). A condition that
    selects no synapse is an error.
a patch layout (a table, ``rule = "patches"``)
    The locally connected input of Saunders et al. (2019): the source is an image of
    ``input_shape`` (rows, columns; its size must be the source group's), ``crop`` pixels
    are dropped on each side, and ``kernel`` x ``kernel`` patches are laid on what is left
    every ``stride`` pixels. Each location has ``filters`` target neurons (the target
    group's size divided by the number of locations), each connected to its patch only.
    Target neuron ``j`` sits at location ``j // filters`` (row-major over the grid of
    locations) and is filter ``j % filters``. Pixels outside every patch (the crop)
    still spike but reach no neuron.

Pairs are listed source-major (sorted by presynaptic, then postsynaptic index).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from brian_stdp.errors import ConfigError, ModelFileError

#: Connection rules named by a string.
CONNECT_RULES = ("all", "one_to_one", "all_but_self")

#: Keys of a patch-layout table and whether each is required.
PATCH_KEYS = {"rule": True, "input_shape": True, "kernel": True, "stride": True, "crop": False}

#: Names a condition may use for each end that has a patch layout.
LAYOUT_NAMES = ("location", "filter")


@dataclass(frozen=True)
class PatchLayout:
    """Square or rectangular patches laid over a cropped input image.

    Attributes
    ----------
    input_shape : (int, int)
        Rows and columns of the source image (pixels).
    crop : (int, int)
        Pixels dropped at the top and bottom, and at the left and right.
    kernel : (int, int)
        Rows and columns of one patch (pixels).
    stride : (int, int)
        Step between neighbouring patches (pixels).
    """

    input_shape: tuple
    crop: tuple
    kernel: tuple
    stride: tuple

    @property
    def grid(self) -> tuple:
        """Rows and columns of the grid of locations."""
        return tuple((self.input_shape[a] - 2 * self.crop[a] - self.kernel[a])
                     // self.stride[a] + 1 for a in range(2))

    @property
    def n_locations(self) -> int:
        """Number of patch locations."""
        return self.grid[0] * self.grid[1]

    @property
    def n_inputs(self) -> int:
        """Pixels of the source image (its group's size)."""
        return self.input_shape[0] * self.input_shape[1]

    @property
    def fan_in(self) -> int:
        """Inputs of each target neuron (pixels per patch)."""
        return self.kernel[0] * self.kernel[1]

    def corner(self, location: int) -> tuple:
        """(row, column) of a location's top-left pixel in the full input image."""
        row, col = divmod(location, self.grid[1])
        return (self.crop[0] + row * self.stride[0], self.crop[1] + col * self.stride[1])

    def patch(self, location: int) -> np.ndarray:
        """Source indices of one location's patch, row-major, shape (fan_in,)."""
        top, left = self.corner(location)
        rows = np.arange(top, top + self.kernel[0])
        cols = np.arange(left, left + self.kernel[1])
        return (rows[:, None] * self.input_shape[1] + cols[None, :]).ravel()

    def filters(self, n_target: int, where: str) -> int:
        """Filters per location for a target group of ``n_target`` neurons.

        Raises
        ------
        ConfigError
            If ``n_target`` is not a multiple of the number of locations.
        """
        if n_target % self.n_locations:
            raise ConfigError(
                f"{where}: {n_target} neurons cannot be shared among {self.n_locations} "
                f"patch locations; give --neurons as filters x {self.n_locations} (e.g. "
                f"{100 * self.n_locations} for 100 filters per location)")
        return n_target // self.n_locations

    def pairs(self, n_target: int, where: str):
        """Pre- and postsynaptic indices, source-major; see the module docstring."""
        filters = self.filters(n_target, where)
        post = np.arange(n_target)
        pre = np.stack([self.patch(j // filters) for j in post])  # (n_target, fan_in)
        post = np.repeat(post, self.fan_in)
        pre = pre.ravel()
        order = np.lexsort((post, pre))
        return pre[order].astype(np.int32), post[order].astype(np.int32)

    def positions(self, n_target: int) -> dict:
        """Each target neuron's ``location`` and ``filter``, arrays of shape (n_target,)."""
        filters = max(n_target // self.n_locations, 1)
        j = np.arange(n_target)
        return {"location": j // filters, "filter": j % filters}


def parse_connect(value, where: str):
    """Check a ``connect`` value: a rule name or condition (str) or a patch layout.

    Parameters
    ----------
    value : str or dict
        The value of ``[synapses.X] connect``.
    where : str
        ``"FILE: [synapses.X] connect"``, for errors.

    Returns
    -------
    str or PatchLayout

    Raises
    ------
    ModelFileError
        Naming ``where`` and the sub-key at fault.
    """
    if isinstance(value, str):
        if value not in CONNECT_RULES:
            _condition_tree(value, where)
        return value
    if not isinstance(value, dict):
        raise ModelFileError(f"{where}: must be one of {', '.join(CONNECT_RULES)}, a condition "
                             f"string, or a table with rule = \"patches\"")
    unknown = sorted(set(value) - set(PATCH_KEYS))
    missing = sorted(k for k, required in PATCH_KEYS.items() if required and k not in value)
    if unknown or missing:
        raise ModelFileError(f"{where}: " + "; ".join(
            ([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"missing key(s) {', '.join(missing)}"] if missing else []))
            + f" (a patch layout has {', '.join(PATCH_KEYS)})")
    if value["rule"] != "patches":
        raise ModelFileError(f"{where}.rule: unknown rule {value['rule']!r} (a table needs "
                             f"rule = \"patches\")")
    shape = _pair(value["input_shape"], f"{where}.input_shape", minimum=1)
    crop = _pair(value.get("crop", 0), f"{where}.crop", minimum=0)
    kernel = _pair(value["kernel"], f"{where}.kernel", minimum=1)
    stride = _pair(value["stride"], f"{where}.stride", minimum=1)
    for axis, name in enumerate(("rows", "columns")):
        cropped = shape[axis] - 2 * crop[axis]
        if cropped < 1:
            raise ModelFileError(f"{where}.crop: {crop[axis]} pixels on each side leave no "
                                 f"{name} of the {shape[0]}x{shape[1]} input")
        if kernel[axis] > cropped:
            raise ModelFileError(f"{where}.kernel: {kernel[axis]} {name} is larger than the "
                                 f"input after the crop ({cropped} {name}); use a smaller "
                                 f"kernel or crop")
    return PatchLayout(input_shape=shape, crop=crop, kernel=kernel, stride=stride)


def _pair(value, where, minimum):
    """An int or a list of two ints, as a pair, each at least ``minimum``."""
    values = [value, value] if not isinstance(value, list) else value
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                   for v in values):
        raise ModelFileError(f"{where}: must be a whole number or a list of two, not {value!r}")
    if min(values) < minimum:
        raise ModelFileError(f"{where}: must be at least {minimum}, not {value!r}")
    return tuple(values)


# -- conditions ------------------------------------------------------------------------------
_ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
                  ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv,
                  ast.Mod, ast.Div, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt,
                  ast.GtE, ast.Name, ast.Load, ast.Constant, ast.Call)


def _condition_tree(text: str, where: str) -> ast.Expression:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ModelFileError(f"{where} = {text!r}: not a rule ({', '.join(CONNECT_RULES)}) and "
                             f"not a valid condition") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES) or (
                isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                                    and node.func.id == "abs")):
            raise ModelFileError(f"{where} = {text!r}: a condition may use i, j, the layout "
                                 f"names, numbers, arithmetic, comparisons, abs, and/or/not "
                                 f"only")
    return tree


class _Vectorise(ast.NodeTransformer):
    """``and``/``or``/``not`` as element-wise NumPy calls."""

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        func = "_and" if isinstance(node.op, ast.And) else "_or"
        out = node.values[0]
        for value in node.values[1:]:
            out = ast.Call(func=ast.Name(func, ast.Load()), args=[out, value], keywords=[])
        return out

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.Call(func=ast.Name("_not", ast.Load()), args=[node.operand], keywords=[])
        return node


def condition_mask(text: str, names: dict, shape: tuple, where: str) -> np.ndarray:
    """Evaluate a condition element-wise on arrays ``names``; boolean array of ``shape``."""
    tree = _Vectorise().visit(_condition_tree(text, where))
    ast.fix_missing_locations(tree)
    scope = {"abs": np.abs, "_and": np.logical_and, "_or": np.logical_or,
             "_not": np.logical_not, **names}
    try:
        value = eval(compile(tree, where, "eval"), {"__builtins__": {}}, scope)  # noqa: S307
    except NameError as err:
        known = ", ".join(sorted(names))
        raise ModelFileError(f"{where} = {text!r}: undefined name ({err}; known here: "
                             f"{known})") from None
    except Exception as err:
        raise ModelFileError(f"{where} = {text!r}: {type(err).__name__}: {err}") from None
    return np.broadcast_to(np.asarray(value, dtype=bool), shape)


def pairs_for(connect, n_source: int, n_target: int, where: str,
              source_layout: PatchLayout | None = None,
              target_layout: PatchLayout | None = None):
    """Pre- and postsynaptic indices of one ``connect`` value, source-major.

    Parameters
    ----------
    connect : str or PatchLayout
        From :func:`parse_connect`.
    n_source, n_target : int
        Group sizes.
    where : str
        ``"FILE: [synapses.X] connect"``, for errors.
    source_layout, target_layout : PatchLayout, optional
        The patch layout whose target the source (target) group is: gives a condition
        ``location_pre``, ``filter_pre`` (``location_post``, ``filter_post``).

    Returns
    -------
    pre, post : ndarray of int32, shape (n_synapses,)

    Raises
    ------
    ModelFileError
        A bad condition or layout, or a condition that selects no synapse.
    ConfigError
        A target size that is not a multiple of a layout's locations (``--neurons``).
    """
    if isinstance(connect, PatchLayout):
        if n_source != connect.n_inputs:
            raise ModelFileError(f"{where}.input_shape: {list(connect.input_shape)} is "
                                 f"{connect.n_inputs} pixels, but the source group has "
                                 f"{n_source} neurons (the dataset's image size)")
        return connect.pairs(n_target, where)
    if connect == "one_to_one":
        if n_source != n_target:
            raise ModelFileError(f"{where}: one_to_one needs equal sizes, not {n_source} and "
                                 f"{n_target}")
        pre = post = np.arange(n_source)
    else:
        pre, post = np.divmod(np.arange(n_source * n_target), n_target)
        if connect == "all_but_self":
            keep = pre != post
        elif connect == "all":
            keep = slice(None)
        else:
            names = {"i": pre, "j": post}
            for layout, index, suffix in ((source_layout, pre, "pre"),
                                          (target_layout, post, "post")):
                if layout is not None:
                    size = n_source if suffix == "pre" else n_target
                    layout.filters(size, where)
                    for name, values in layout.positions(size).items():
                        names[f"{name}_{suffix}"] = values[index]
            keep = condition_mask(connect, names, pre.shape, where)
            if not keep.any():
                raise ModelFileError(f"{where} = {connect!r}: selects no synapse between "
                                     f"{n_source} and {n_target} neurons")
        pre, post = pre[keep], post[keep]
    return pre.astype(np.int32), post.astype(np.int32)
