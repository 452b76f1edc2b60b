"""Sockets inside a network namespace of the test's own (ip netns), from the test's process.

A peer that runs in a namespace (`ip netns exec NS ...`) listens on that namespace's addresses,
loopback included, which the host's namespace cannot reach. setns(2) moves only the calling
thread, so a short-lived thread enters the namespace, runs the function and ends; the sockets it
made stay in the namespace and work from any thread. Needs root (CAP_SYS_ADMIN), as building
the namespaces does.
"""
import ctypes
import os
import threading

CLONE_NEWNET = 0x40000000


def in_netns(name, fn):
    """fn()'s result, run by a thread that has entered the namespace `name` (/run/netns/NAME);
    its exception is raised here."""
    out = {}

    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns {name}: {os.strerror(err)}")
            finally:
                os.close(fd)
            out["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
