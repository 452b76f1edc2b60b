#!/usr/bin/env python3
"""Sets up one rtpengine call per pair of generator endpoints over the ng control protocol
(bencode over UDP) and writes the ports the generator must use.
Usage: rtpengine_calls.py NG_PORT GENERATOR_PORTS_FILE PAIRS_FILE"""
import socket
import sys


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while data[i:i + 1] != b"e":
            item, i = bdecode(data, i)
            items.append(item)
        if c == b"l":
            return items, i + 1
        return {items[k].decode(): items[k + 1] for k in range(0, len(items), 2)}, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % port)


def media_port(body):
    for line in body.decode().splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise ValueError("no m=audio in rtpengine's SDP")


def main():
    ng_port, ports_file, pairs_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    gen = [int(x) for x in open(ports_file).read().split()]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    seq = 0

    def ng(msg):
        nonlocal seq
        seq += 1
        cookie = b"c%d" % seq
        s.sendto(cookie + b" " + bencode(msg), ("127.0.0.1", ng_port))
        data, _ = s.recvfrom(65536)
        reply, _ = bdecode(data[len(cookie) + 1:])
        if reply.get("result") != b"ok":
            raise RuntimeError("rtpengine: %r" % reply)
        return reply

    lines = []
    for k in range(0, len(gen) - 1, 2):
        call = {"call-id": "bench-%d" % k, "from-tag": "a%d" % k}
        offer = ng(dict(call, command="offer", sdp=sdp(gen[k]), ICE="remove"))
        answer = ng(dict(call, command="answer", sdp=sdp(gen[k + 1]), **{"to-tag": "b%d" % k}))
        to_a, to_b = media_port(answer["sdp"]), media_port(offer["sdp"])
        lines.append("%d %d\n%d %d\n" % (to_a, to_a, to_b, to_b))
    with open(pairs_file + ".tmp", "w") as f:
        f.writelines(lines)
    import os
    os.rename(pairs_file + ".tmp", pairs_file)


if __name__ == "__main__":
    main()
