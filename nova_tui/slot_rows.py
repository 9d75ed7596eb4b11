"""Rows held for a whole list (the reorder list: 24,000 items at 10,000,000 lines) in as little memory as
the dashboard's 150 MB idle budget needs: fixed slots instead of dicts, fetched in batches, repeated
values shared."""
from __future__ import annotations


# A column's values are shared (one object per distinct value, not one per row) while it has at most
# this many: status, family, dates, lead times, service levels... repeat across a 26,000-item list
# (bench/tui.py: 6 MB of the dashboard's 150 MB idle budget); quantities and ids do not, and stop being looked up.
SHARED_DISTINCT = 4096


class SlotRow:
    """A row that reads like a dict (`r["x"]`, `r.get`, `"x" in r`, `r["x"] = v`) in a fixed set of
    slots: a 26,000-item reorder list of dicts took ~2 KB a row, this ~0.5 KB (bench/tui.py's 150 MB)."""
    __slots__ = ()

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key, value):
        setattr(self, key, value)

    def __contains__(self, key) -> bool:
        return hasattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)

    def setdefault(self, key, default=None):
        if not hasattr(self, key):
            setattr(self, key, default)
        return getattr(self, key)

    def keys(self) -> list[str]:
        return [k for k in self.__slots__ if hasattr(self, k)]

    def __iter__(self):
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"Row({', '.join(f'{k}={getattr(self, k)!r}' for k in self.keys())})"


_ROW_CLASSES: dict[tuple[str, ...], type] = {}
EXTRA_SLOTS = ("change", "changes", "row_key")  # set by the dashboard after reading


def _batches(cur, size: int = 2048):
    """The cursor's rows in batches: a list of every row as tuples at once would double the rows'
    memory for a moment, and the process keeps that peak (a 24,000-item list: 21 MB more at idle)."""
    while batch := cur.fetchmany(size):
        yield batch


def slot_rows(con, sql: str) -> list[SlotRow]:
    cur = con.execute(sql)
    names = tuple(d[0] for d in cur.description)
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = _ROW_CLASSES[names] = type("ReorderRow", (SlotRow,), {"__slots__": tuple(dict.fromkeys(names + EXTRA_SLOTS))})
    shared: list[dict | None] = [{} for _ in names]
    out = []
    for batch in _batches(cur):
        for values in batch:
            row = cls()
            for name, value, seen in zip(names, values, shared):
                if seen is not None and value is not None:
                    value = seen.setdefault(value, value)
                setattr(row, name, value)
            out.append(row)
        shared = [None if seen is None or len(seen) > SHARED_DISTINCT else seen for seen in shared]
    return out
