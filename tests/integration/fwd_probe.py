#!/usr/bin/python3
"""Drives connections through the launcher's port forward (launcher/ssh_fwd.c).

    fwd_probe.py http PORT TOKEN COUNT PARALLEL
        COUNT GET /api/version requests to 127.0.0.1:PORT, PARALLEL at a time,
        each on its own connection; even ones close from the client side
        first (keep-alive, the client closes after the response), odd ones
        ask the server to close first (Connection: close).
        Prints "http ok=N failed=M" (and the first failure).

    fwd_probe.py serve PORT
        A server for the half-close cases (run on the node): one connection
        at a time; the first line picks the case:
          A  client closes first: read to EOF, then answer "echo:DATA", close.
          B  server closes first: send "hello\\n", shut down writing, read to
             EOF, count what came after.
          C  send without end until the client resets the connection.
          Q  print the counts and exit.

    fwd_probe.py halfclose PORT ROUNDS
        ROUNDS of each of A, B and C, then one more A, then Q.
        Prints "halfclose A=N B=N C=N final=ok|failed".

Every socket operation has a 30 s timeout, so a forward that stops serving
shows up as failures, not as a hang.
"""
import socket
import struct
import sys
import threading

TIMEOUT_S = 30


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    s.settimeout(TIMEOUT_S)
    return s


def read_to_eof(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def read_response(s):
    """One HTTP response; returns (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(65536)
        if not b:
            raise IOError("EOF before the headers")
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        b = s.recv(65536)
        if not b:
            raise IOError("EOF in the body")
        body += b
    return status, body


def one_http(port, token, server_closes):
    s = connect(port)
    try:
        conn = "close" if server_closes else "keep-alive"
        req = ("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nConnection: %s\r\n\r\n" % (token, conn))
        s.sendall(req.encode())
        status, _ = read_response(s)
        if server_closes and read_to_eof(s) != b"":
            raise IOError("data after the response")
        return status == 200
    finally:
        s.close()


def http(port, token, count, parallel):
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "failed": 0, "first": ""}

    def worker():
        while True:
            with lock:
                i = state["next"]
                if i >= count:
                    return
                state["next"] = i + 1
            try:
                good = one_http(port, token, i % 2 == 1)
                why = "" if good else "status not 200"
            except Exception as e:  # a timeout or reset counts as a failure
                good, why = False, repr(e)
            with lock:
                state["ok" if good else "failed"] += 1
                if not good and not state["first"]:
                    state["first"] = "request %d: %s" % (i, why)

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("http ok=%d failed=%d %s" % (state["ok"], state["failed"], state["first"]))


def serve(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    print("listening", flush=True)
    counts = {"A": 0, "B": 0, "C": 0}
    while True:
        c, _ = ls.accept()
        c.settimeout(TIMEOUT_S)
        try:
            kind = c.recv(2)[:1].decode()
            if kind == "A":
                data = read_to_eof(c)
                c.sendall(b"echo:" + data)
                counts["A"] += 1
            elif kind == "B":
                c.sendall(b"hello\n")
                c.shutdown(socket.SHUT_WR)
                if read_to_eof(c) == b"after\n":
                    counts["B"] += 1
            elif kind == "C":
                counts["C"] += 1
                block = b"x" * 65536
                while True:
                    c.sendall(block)
            elif kind == "Q":
                print("served A=%(A)d B=%(B)d C=%(C)d" % counts, flush=True)
                return
        except OSError:
            pass  # case C ends here: the client reset the connection
        finally:
            c.close()


def case_a(port, text):
    s = connect(port)
    try:
        s.sendall(b"A\n" + text)
        s.shutdown(socket.SHUT_WR)  # the client closes its side first
        return read_to_eof(s) == b"echo:" + text
    finally:
        s.close()


def case_b(port):
    s = connect(port)
    try:
        s.sendall(b"B\n")
        if read_to_eof(s) != b"hello\n":  # the server closed its side first
            return False
        s.sendall(b"after\n")  # this direction still works
        s.shutdown(socket.SHUT_WR)
        return read_to_eof(s) == b""
    finally:
        s.close()


def case_c(port):
    s = connect(port)
    s.sendall(b"C\n")
    got = s.recv(65536)
    # Reset (RST), not a clean close: the forward's write to the client fails.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return len(got) > 0


def halfclose(port, rounds):
    counts = {"A": 0, "B": 0, "C": 0}
    for kind, fn in (("A", lambda: case_a(port, b"payload\n")), ("B", lambda: case_b(port)),
                     ("C", lambda: case_c(port))):
        for _ in range(rounds):
            try:
                counts[kind] += 1 if fn() else 0
            except OSError:
                pass
    try:
        final = "ok" if case_a(port, b"last\n") else "failed"
    except OSError as e:
        final = "failed (%r)" % e
    try:
        s = connect(port)
        s.sendall(b"Q\n")
        s.close()
    except OSError:
        pass
    print("halfclose A=%(A)d B=%(B)d C=%(C)d" % counts, "final=" + final)


def main(argv):
    if len(argv) == 6 and argv[1] == "http":
        http(int(argv[2]), argv[3], int(argv[4]), int(argv[5]))
    elif len(argv) == 3 and argv[1] == "serve":
        serve(int(argv[2]))
    elif len(argv) == 4 and argv[1] == "halfclose":
        halfclose(int(argv[2]), int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
