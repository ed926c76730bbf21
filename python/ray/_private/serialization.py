"""Python values as blobs: cloudpickle with pickle protocol 5 out-of-band
buffers.

A blob is a header, the pickle stream and the buffers, each buffer at a
64-byte aligned offset, so that a blob in the shared-memory store gives
numpy arrays that map the store (read-only, zero copy):

    0   magic "RPY1", u32 flags (1: an error), u32 buffer count, u32 0,
        u64 pickle length
    24  per buffer: u64 offset, u64 length
    ..  the pickle stream, then the buffers

serialize() returns the blob as a list of parts (bytes-like objects) that
ray._raylet writes inline or straight into a store object.
"""
import io
import pickle
import struct

try:
    import cloudpickle
except ImportError:  # pragma: no cover - checked by ray/__init__.py
    cloudpickle = None

from ray import _raylet

MAGIC = b"RPY1"
HEADER = struct.Struct("<4sIIIQ")
FLAG_ERROR = 1
ALIGN = 64
_ZEROS = bytes(ALIGN)


class _Pickler(cloudpickle.CloudPickler if cloudpickle else pickle.Pickler):
    refs = None

    def persistent_id(self, obj):
        if type(obj) is _raylet.ObjectRef:
            if self.refs is None:
                raise TypeError("rayc: an ObjectRef inside a ray.put value or a return value "
                                "is not supported yet (pass it as a task argument)")
            self.refs.append(obj)
            return ("ObjectRef", len(self.refs) - 1)
        return None


class _Unpickler(pickle.Unpickler):
    refs = None

    def persistent_load(self, pid):
        if pid[0] != "ObjectRef" or self.refs is None or pid[1] >= len(self.refs):
            raise pickle.UnpicklingError("a reference to an unknown ObjectRef")
        return self.refs[pid[1]]


def _pad(n):
    return (-n) % ALIGN


def serialize(value, refs=None, flags=0):
    """VALUE as a list of parts.  ObjectRefs inside it are appended to REFS
    (a list) and stand for themselves; with REFS None they are refused."""
    buffers = []

    def keep(buf):
        try:
            buffers.append(buf.raw())
        except BufferError:
            return True  # not contiguous: in-band
        return False

    f = io.BytesIO()
    p = _Pickler(f, protocol=5, buffer_callback=keep)
    p.refs = refs
    p.dump(value)
    data = f.getbuffer()
    head = HEADER.size + 16 * len(buffers)
    off = head + len(data)
    off += _pad(off)
    table = []
    for b in buffers:
        table += [off, b.nbytes]
        off += b.nbytes + _pad(b.nbytes)
    parts = [HEADER.pack(MAGIC, flags, len(buffers), 0, len(data)),
             struct.pack("<%dQ" % len(table), *table), data]
    end = head + len(data)
    for b in buffers:
        parts.append(_ZEROS[:_pad(end)])
        parts.append(b)
        end += _pad(end) + b.nbytes
    return parts


def parse(buf):
    """(flags, pickle view, buffer views) of blob BUF (a bytes-like object)."""
    mv = memoryview(buf).cast("B")
    if mv.nbytes < HEADER.size:
        raise TypeError("not a Python value (%d bytes)" % mv.nbytes)
    magic, flags, nbuf, _, plen = HEADER.unpack_from(mv, 0)
    if magic != MAGIC:
        raise TypeError("not a Python value (written by a C task?)")
    table = struct.unpack_from("<%dQ" % (2 * nbuf), mv, HEADER.size)
    start = HEADER.size + 16 * nbuf
    views = [mv[table[2 * i]:table[2 * i] + table[2 * i + 1]] for i in range(nbuf)]
    return flags, mv[start:start + plen], views


def deserialize(buf, refs=None):
    """The value of blob BUF; an error blob is raised as its exception."""
    flags, data, views = parse(buf)
    u = _Unpickler(io.BytesIO(data), buffers=views)
    u.refs = refs
    value = u.load()
    if flags & FLAG_ERROR:
        raise value.as_instanceof_cause() if hasattr(value, "as_instanceof_cause") else value
    return value
