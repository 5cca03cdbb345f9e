"""The tables of a grid: one row per point, the spread over seeds, and the files they go to.

``OUT/results.csv`` has one row per point, ``OUT/summary.csv`` the mean,
standard deviation, minimum and maximum over the seeds, per evaluated epoch,
and ``OUT/results.json`` both, plus the wall time of every invocation.
"""

from __future__ import annotations

import math

from brian_stdp.errors import ConfigError
from brian_stdp.experiments.grids.files import (POINT_RECORD, RESULTS_CSV, RESULTS_JSON,
                                                SUMMARY_CSV, Grid)
from brian_stdp.experiments.grids.kinds import DEFAULT_KIND, KINDS
from brian_stdp.experiments.grids.points import point_state
from brian_stdp.model.files import model_label
from brian_stdp.training import rundir


def collect(grid: Grid) -> list:
    """One row per point of the grid, from the point folders.

    Returns
    -------
    list of dict
        Axis values, ``status`` (finished, failed, interrupted or pending),
        the numbers its kind takes from a finished run (for a spiking network:
        label and test image counts, the final accuracies, training speed in
        images/s, compile time in s; for an ANN: test accuracy after the last
        and the best epoch, parameters, multiply-accumulates per image, seconds
        per epoch), one ``<accuracy key>_epoch<k>`` column per evaluated epoch,
        the wall time (s) of the point's last attempt (only the resumed part,
        for a resumed point), and for a failed point ``error`` and
        ``log_tail``; ``stale`` points (see
        :func:`~brian_stdp.experiments.grids.points.point_state`) carry the
        reason in ``error``. A point whose folder is gone keeps its finished row of
        the grid's ``results.json`` (the committed grids keep only the table of some
        runs), until its folder holds a run again.
    """
    kept = _finished_rows(grid)
    rows = []
    for point in grid.points:
        run_dir = grid.run_dir(point)
        if point.name in kept and not run_dir.exists():
            rows.append(kept[point.name])
            continue
        row = {"point": point.name, **point.values}
        if "model" in row:
            row["model"] = model_label(row["model"])
        try:
            row["status"] = point_state(grid, point)
        except ConfigError as err:
            row.update(status="stale", error=str(err))
            rows.append(row)
            continue
        record = (rundir.load_json(run_dir / POINT_RECORD)
                  if (run_dir / POINT_RECORD).exists() else {})
        if row["status"] == "finished":
            row.update(grid.kind.metrics_row(rundir.load_json(run_dir / rundir.METRICS)))
            if record.get("status") == "finished":
                row["wall_seconds"] = record.get("wall_seconds")
        elif row["status"] == "failed":
            row.update(error=record.get("error"), log_tail=record.get("log_tail"))
        rows.append(row)
    return rows


def _finished_rows(grid: Grid) -> dict:
    """The finished rows of the grid's ``results.json``, by point name (none before the
    first table)."""
    path = grid.out / RESULTS_JSON
    if not path.exists():
        return {}
    return {row["point"]: row for row in rundir.load_json(path).get("rows", [])
            if row.get("status") == "finished" and "point" in row}


def summarise(rows: list, axes=KINDS[DEFAULT_KIND].axes) -> list:
    """Mean and spread over the seeds of every accuracy, per setting and evaluated epoch.

    Parameters
    ----------
    rows : list of dict
        As :func:`collect` returns them.
    axes : sequence of str
        The axes of the grid's kind; a setting is a point's values of all of
        them except ``seed``.

    Returns
    -------
    list of dict
        One row per (setting, epoch, accuracy key): the axis values except
        ``seed``, ``epoch``, ``metric``, ``n_seeds``, ``seeds``, ``mean``,
        ``std`` (sample standard deviation, ddof = 1; empty for one seed),
        ``min`` and ``max``, accuracies as fractions in [0, 1].
    """
    groups = {}
    for row in rows:
        if row["status"] != "finished":
            continue
        setting = tuple((key, row[key]) for key in axes if key != "seed")
        for column, value in row.items():
            if "_epoch" not in column or not column.startswith("accuracy"):
                continue
            metric, _, epoch = column.rpartition("_epoch")
            groups.setdefault((setting, int(epoch), metric), []).append((row["seed"], value))
    summary = []
    for (setting, epoch, metric), values in sorted(groups.items(), key=_sort_key):
        accuracies = [v for _, v in values]
        n = len(accuracies)
        mean = sum(accuracies) / n
        std = (math.sqrt(sum((a - mean) ** 2 for a in accuracies) / (n - 1)) if n > 1
               else None)
        summary.append({**dict(setting), "epoch": epoch, "metric": metric, "n_seeds": n,
                        "seeds": " ".join(str(s) for s, _ in sorted(values)), "mean": mean,
                        "std": std, "min": min(accuracies), "max": max(accuracies)})
    return summary


def _sort_key(item):
    (setting, epoch, metric), _ = item
    return tuple((v is None, v if v is not None else 0) if not isinstance(v, str) else (0, v)
                 for _, v in setting), epoch, metric


def write_results(grid: Grid, session: dict | None = None,
                  pending_session: dict | None = None) -> dict:
    """Write ``results.csv``, ``summary.csv`` and ``results.json``; return the JSON content.

    ``session`` (a finished invocation: its wall time and counts) is appended
    to the list of sessions kept in ``results.json``; ``pending_session`` is
    shown as ``running`` without being appended.
    """
    out = grid.out
    out.mkdir(parents=True, exist_ok=True)
    rows = collect(grid)
    summary = summarise(rows, grid.kind.axes)
    previous = out / RESULTS_JSON
    sessions = rundir.load_json(previous).get("sessions", []) if previous.exists() else []
    if session is not None:
        sessions.append(session)
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    results = {
        "grid": str(grid.path), "kind": grid.kind.name, "base": grid.base, "axes": grid.axes,
        "x_axis": grid.x_axis,
        "points": len(rows), "status_counts": counts,
        "wall_seconds_total": round(sum(s.get("wall_seconds", 0) for s in sessions), 1),
        "sessions": sessions, "rows": rows, "summary": summary,
    }
    if pending_session is not None:
        results["running"] = pending_session
    rundir.save_json(out / RESULTS_JSON, results)
    rundir.save_csv(out / RESULTS_CSV, [{k: v for k, v in r.items() if k != "log_tail"}
                                        for r in rows])
    rundir.save_csv(out / SUMMARY_CSV, summary)
    return results
