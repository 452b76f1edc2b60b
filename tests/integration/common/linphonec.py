"""linphonec (Debian's linphone-cli) as a phone of a test: registered as one extension, it
auto-answers (-a), plays a WAV file into every call (`play`) and takes commands on its stdin
(`call sip:...`, `terminate`, `quit`).

liblinphone 5.1 keeps its database in ~/.local/share/linphone and does not create the folder:
without it the core never starts and no SIP port opens ("sip port = 0"). So HOME is a folder of
the phone's own with that folder in it. Its SIP and RTP ports are set in its config (sip_port,
audio_rtp_port; 5060 and 7078 otherwise), and its stdin is a pipe held open (EOF quits it).
"""
import math
import os
import subprocess
import wave

from harness import Process, wait_until


class Linphonec(Process):
    """linphonec registered as `ext` at `registrar` (host:port) with `password` in `realm`.

    `ports`: its SIP, audio, video and text RTP ports (default: four of the harness's block).
    `wrap`: a prefix of its command line (`ip netns exec NS` to run it in a namespace)."""

    def __init__(self, h, ext, registrar, password, realm, ports=None, wrap=()):
        self.sip_port, self.rtp_port, self.video_port, self.text_port = ports or h.port(4)
        self.ext = ext
        home = h.path(f"linphone{ext}")
        os.makedirs(os.path.join(home, ".local", "share", "linphone"), exist_ok=True)
        cfg = os.path.join(home, "linphonerc")
        with open(cfg, "w") as f:
            f.write(f"[sip]\nsip_port={self.sip_port}\nsip_tcp_port=-1\nsip_tls_port=-1\ndefault_proxy=0\n"
                    f"[proxy_0]\nreg_proxy=<sip:{registrar};transport=udp>\nreg_identity=sip:{ext}@{registrar}\n"
                    "reg_expires=600\nreg_sendregister=1\n"
                    f"[auth_info_0]\nusername={ext}\npasswd={password}\nrealm={realm}\n"
                    "[sound]\nuse_files=1\n"
                    f"[rtp]\naudio_rtp_port={self.rtp_port}\nvideo_rtp_port={self.video_port}\n"
                    f"text_rtp_port={self.text_port}\n")
        self.argv = [*wrap, "linphonec", "-c", cfg, "-a", "-d", "4", "-l", os.path.join(home, "debug.log")]
        self.log_path = h.path(f"linphonec{ext}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                                     cwd=home, env=dict(os.environ, HOME=home), start_new_session=True)
        self.pid = self.proc.pid
        h.processes.append(self)

    def tone(self, path, seconds=10):
        """A 440 Hz tone as 8 kHz mono 16-bit WAV at `path` (what `play` sends once answered)."""
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / 8000)).to_bytes(2, "little", signed=True)
                                   for i in range(8000 * seconds)))
        self.command(f"play {path}")

    def command(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def quit(self):
        """`quit` (it unregisters), then TERM/KILL if it is still there."""
        if self.running():
            self.command("quit")
        wait_until(lambda: not self.running(), 5)
        self.stop(5)
