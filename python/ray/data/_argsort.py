"""A stable argsort of one numeric column, about twice as fast as numpy's.

numpy's stable argsort (timsort/mergesort over indices) spends most of its
time on indirect loads.  Sorting plain uint64 values is about twice as
fast, so each key is mapped to an order-preserving uint64 and packed with
its row number: the high bits carry the key (relative to the column's
minimum, shifted right if the keys span more bits than are left), the low
bits the row number, which also makes the sort stable.  When the shift
dropped bits, rows whose keys differ only there may come out of order; a
check finds that and a stable sort of the (then almost sorted) order fixes
it, so the result is always exactly np.argsort(col, kind="stable").

NaNs sort last, as in numpy; -0.0 and 0.0 are equal keys."""
import numpy as np

# Below this many rows numpy's own argsort is as fast.
MIN_ROWS = 1 << 15

_TOP = np.uint64(1 << 63)


def _ordered_u64(col):
    """COL's values as uint64 with the same order (None when unsupported)."""
    kind = col.dtype.kind
    if kind == "b" or kind == "u":
        return col.astype(np.uint64)
    if kind == "i":
        return col.astype(np.int64).view(np.uint64) ^ _TOP
    if kind != "f" or col.dtype.itemsize > 8:
        return None
    bits = np.add(col, 0.0, dtype=np.float64).view(np.uint64)  # a copy; -0.0 is 0.0
    if col.min() >= 0:
        # No negatives and no NaN (min would be NaN): the bits of
        # non-negative floats already sort as their values.
        return bits
    # Negatives get all bits flipped, the others only the sign bit (the
    # arithmetic shift gives all ones for a negative key, else zero).
    flip = (bits.view(np.int64) >> 63).view(np.uint64)
    flip |= _TOP
    bits ^= flip
    nan = np.isnan(col)
    if nan.any():
        bits[nan] = np.uint64(0xFFFFFFFFFFFFFFFF)
    return bits


def stable_argsort(col, with_keys=False):
    """The row order that sorts the one-dimensional array COL ascending,
    equal keys in row order (np.argsort(col, kind="stable")).  WITH_KEYS:
    (order, col[order]), the sorted keys being a by-product here."""
    order, keys = _argsort(col)
    if not with_keys:
        return order
    return order, (keys if keys is not None else col[order])


def _argsort(col):
    """(order, col[order] if it was computed, else None)."""
    n = len(col)
    u = _ordered_u64(col) if n >= MIN_ROWS and col.ndim == 1 else None
    if u is None:
        return np.argsort(col, kind="stable"), None
    lo = u.min()
    u -= lo
    ibits = int(n - 1).bit_length()
    shift = max(0, int(u.max()).bit_length() - (64 - ibits))
    if shift:
        u >>= np.uint64(shift)
    u <<= np.uint64(ibits)
    u |= np.arange(n, dtype=np.uint64)
    u.sort()
    u &= np.uint64((1 << ibits) - 1)
    order = u.view(np.int64)
    if not shift:
        return order, None
    keys = col[order]
    if (keys[1:] < keys[:-1]).any():
        # A stable sort of the almost sorted keys; only the few rows it
        # moves are copied (gathering both arrays whole cost twice that).
        fix = np.argsort(keys, kind="stable")
        moved = np.flatnonzero(fix != np.arange(n))
        src = fix[moved]
        order[moved] = order[src]
        keys[moved] = keys[src]
    return order, keys
