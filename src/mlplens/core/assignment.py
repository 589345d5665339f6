"""The cheapest one-to-one assignment of rows to columns (the Hungarian method), in NumPy.

Shortest augmenting paths with row and column potentials (the Jonker-Volgenant form of the
Hungarian method): each row in turn is joined to the assignment by a Dijkstra-like search over
reduced costs, so an n x m matrix (n <= m) takes O(n^2 m) steps, the inner one vectorised over
the columns. A matrix with more rows than columns is solved transposed.
"""

from __future__ import annotations

import numpy as np


def assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the assignment with the least total cost of a finite (n, m) matrix:
    min(n, m) pairs, each row and each column used at most once, rows ascending (as
    scipy.optimize.linear_sum_assignment returns them)."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"an assignment needs a 2-D cost matrix, got shape {cost.shape}")
    if not np.isfinite(cost).all():
        raise ValueError("an assignment needs finite costs")
    if cost.shape[0] > cost.shape[1]:
        columns, rows = assignment(cost.T)
        order = np.argsort(rows, kind="stable")
        return rows[order], columns[order]
    owner = _column_owners(cost)
    columns = np.flatnonzero(owner >= 0)
    rows = owner[columns]
    order = np.argsort(rows, kind="stable")
    return rows[order], columns[order]


def _column_owners(cost: np.ndarray) -> np.ndarray:
    """For an (n, m) matrix with n <= m: the row assigned to each column, -1 for none.

    Column 0 of the working arrays is a virtual column standing for the row being added; real
    columns are 1..m and real rows 1..n, so row 0 means "no row".
    """
    n, m = cost.shape
    row_potential = np.zeros(n + 1)
    column_potential = np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.intp)  # the row holding each column, 0 = free
    previous = np.zeros(m + 1, dtype=np.intp)  # the column before it on the shortest path
    for row in range(1, n + 1):
        owner[0] = row
        column = 0
        distance = np.full(m + 1, np.inf)
        visited = np.zeros(m + 1, dtype=bool)
        while True:
            visited[column] = True
            current = owner[column]
            open_columns = np.flatnonzero(~visited)
            reduced = (cost[current - 1, open_columns - 1] - row_potential[current]
                       - column_potential[open_columns])
            shorter = reduced < distance[open_columns]
            distance[open_columns[shorter]] = reduced[shorter]
            previous[open_columns[shorter]] = column
            nearest = open_columns[np.argmin(distance[open_columns])]
            step = distance[nearest]
            row_potential[owner[visited]] += step
            column_potential[visited] -= step
            distance[open_columns] -= step
            column = nearest
            if owner[column] == 0:
                break
        while column:  # flip the path: each column on it passes to the row before
            before = previous[column]
            owner[column] = owner[before]
            column = before
    return owner[1:] - 1
