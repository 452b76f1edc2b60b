"""Call records as the daemon writes them (table call_records), checked the same way by every
test that makes calls."""
import json

from harness import check


class Records:
    """The records of a test's calls, one call after the other."""

    def __init__(self, h):
        self.h = h
        self.count = 0

    def next(self, n=1):
        """The records of the next n calls (waits for them)."""
        self.count += n
        return self.h.call_records(self.count)[-n:]

    def expect(self, what, row, direction, ext, trunk, remote, code, by, answered):
        """Checks one record; returns its relay counters (None when it has none)."""
        got = tuple(row[:6])
        want = (direction, ext, trunk, remote, code, by)
        check(got == want, f"  {what}: record {got} == {want}")
        check((row[6] > 0) == answered, f"  {what}: answer time {'set' if answered else 'empty'} ({row[6]})")
        return json.loads(row[7]) if row[7] else None

    def answered(self, what, direction, ext, trunk, remote, by="caller"):
        """The next call was answered (200) and its audio went through the relay both ways."""
        rtp_both_ways(what, self.expect(what, self.next()[0], direction, ext, trunk, remote, 200, by, True))


def rtp_both_ways(what, stats):
    check(stats is not None, f"  {what}: relay counters in the record")
    a, b = stats["a"], stats["b"]
    check(a["packets"] > 0 and b["packets"] > 0 and a["packets_sent"] > 0 and b["packets_sent"] > 0,
          f"  {what}: RTP both ways (a {a['packets']} in/{a['packets_sent']} out, "
          f"b {b['packets']} in/{b['packets_sent']} out)")
