"""Ports for tests that run side by side (ctest -j, or several build trees on one machine).

Each test process takes a block of consecutive ports from POOL and holds it through a file
lock until the process ends (the kernel drops the lock even after a crash), so no two tests
ever share a port, whatever they run in parallel with. Every port of a block is checked free
(UDP and TCP on 127.0.0.1) before the block is taken: a block that some other program holds
is passed over. Tests never write port numbers of their own; tests/README.md has the policy.

POOL lies below the kernel's ephemeral range (ip_local_port_range, where port-0 binds and
outgoing connections get their ports, so nothing else lands there by chance) and above the
daemon's default media range.

    ports = Ports()              # one block of BLOCK ports
    lan, wan = ports.take(2)
    relay = ports.span(20)       # (first, last): 20 consecutive ports, first one even

As a command, it runs a program with a block held, its first port in B2BUA_TEST_PORT_BASE and
its size in B2BUA_TEST_PORT_COUNT:

    python3 ports.py [--count N] -- program args...
"""
import errno
import fcntl
import os
import random
import socket
import sys
import tempfile
import time

POOL = (21000, 30000)  # [first, end)
BLOCK = 100
LOCK_DIR = os.path.join(tempfile.gettempdir(), "b2bua-test-ports")


def free(port, host="127.0.0.1"):
    """True when nothing is bound to `port` over UDP or TCP (a TCP port in TIME_WAIT counts as
    taken: a listener without SO_REUSEADDR could not bind it yet)."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _lock_dir():
    try:
        os.mkdir(LOCK_DIR)
        os.chmod(LOCK_DIR, 0o1777)  # shared by every user who runs the tests on this machine
    except FileExistsError:
        pass
    return LOCK_DIR


def _lock(first):
    """An open, exclusively locked file for the block at `first`, or None if another test holds it."""
    path = os.path.join(_lock_dir(), f"{first}.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        return None
    try:
        os.fchmod(fd, 0o666)  # past the umask: every user locks the same files
    except PermissionError:
        pass  # another user's file, already shared
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EACCES):
            return None
        raise
    return fd


class Ports:
    def __init__(self, count=BLOCK, wait_s=None):
        """`count` ports in consecutive blocks. A span of several blocks may find the pool too
        fragmented for a while (blocks held by the tests running beside it, TCP ports in
        TIME_WAIT for a minute after a test), so it waits up to `wait_s` (by default 120 s for
        more than one block, none for one) for enough of it to come free."""
        blocks = -(-count // BLOCK)
        if wait_s is None:
            wait_s = 120 if blocks > 1 else 0
        deadline = time.monotonic() + wait_s
        while not self._take_blocks(blocks):
            if time.monotonic() >= deadline:
                raise RuntimeError(f"no free block of {count} ports in {POOL[0]}-{POOL[1] - 1}")
            time.sleep(1)

    def _take_blocks(self, blocks):
        starts = list(range(POOL[0], POOL[1] - blocks * BLOCK + 1, BLOCK))
        # Start the search somewhere else each time, so a block just given up (its TCP ports
        # perhaps still in TIME_WAIT) is not the next one tried.
        offset = random.randrange(len(starts))
        for first in starts[offset:] + starts[:offset]:
            fds = []
            for k in range(blocks):
                fd = _lock(first + k * BLOCK)
                if fd is None:
                    break
                fds.append(fd)
            if len(fds) == blocks and all(free(p) for p in range(first, first + blocks * BLOCK)):
                self._fds = fds
                self.first, self.end = first, first + blocks * BLOCK
                self._next = first
                return True
            for fd in fds:
                os.close(fd)
        return False

    def take(self, n=1):
        """The next free port (n == 1) or a list of the next n."""
        if self._next + n > self.end:
            raise RuntimeError(f"the test needs more than the {self.end - self.first} ports it asked for")
        got = list(range(self._next, self._next + n))
        self._next += n
        return got[0] if n == 1 else got

    def span(self, n):
        """(first, last) of n consecutive ports, the first one even (RTP on even ports, RTCP on
        the odd one above)."""
        if self._next % 2:
            self.take()
        got = self.take(n)
        return got[0], got[-1]

    def release(self):
        for fd in self._fds:
            os.close(fd)
        self._fds = []


def main(argv):
    count = BLOCK
    if argv[:1] == ["--count"]:
        count, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__)
        return 2
    ports = Ports(count)
    env = dict(os.environ, B2BUA_TEST_PORT_BASE=str(ports.first), B2BUA_TEST_PORT_COUNT=str(ports.end - ports.first))
    # The program inherits the locked files, so the block stays held exactly as long as it (or
    # a child of it) runs, and a signal meant for it reaches it directly.
    for fd in ports._fds:
        os.set_inheritable(fd, True)
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
