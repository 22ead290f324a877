#!/usr/bin/env python3
"""Make real OpenSSH client transcripts against non-OpenSSH and misbehaving peers.

Writes samples/pastes/openssh/real-peers-*.log: the stdout and stderr of
Debian's OpenSSH client (ssh/sftp/scp -v..-vvv), in the order produced, byte
for byte except that the scratch folder's path is rewritten to /srv/paste.
The peers all run here, on 127.0.0.1, ports 22400-22499:

  * Dropbear (dropbear -F -E), keys from dropbearkey, system users bob/carol
  * AsyncSSH servers (this script, `serve-asyncssh MODE PORT`)
  * paramiko servers (this script, `serve-paramiko MODE PORT`)
  * raw sockets that misbehave (this script, `serve-sock MODE PORT`)

Each server's own debug log stays in the scratch folder (/tmp/real-peer-pastes/
logs/) for cross-checking the hand-written .truth.json files, which this script
never writes.  `--check` verifies a few mechanical facts of every truth file
against its log (first_line, verbosity, versions, reason substring).

Needs (as root): apt-get install dropbear-bin openssh-sftp-server openssh-client;
pip install asyncssh paramiko.  Creates users bob and carol (homes in the
scratch folder) and the link /usr/lib/sftp-server -> /usr/lib/openssh/sftp-server
that Dropbear looks for.

Usage: make-real-peer-pastes.py [--only NAME[,NAME]] [--out DIR] | --check [--out DIR]
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DEFAULT = os.path.normpath(os.path.join(HERE, "..", "openssh"))
SCRATCH = "/tmp/real-peer-pastes"
SHOWN_AS = "/srv/paste"
LOGS = os.path.join(SCRATCH, "logs")
CLIENT_KEY = os.path.join(SCRATCH, "client", "id_ed25519")
OTHER_KEY = os.path.join(SCRATCH, "client", "id_ecdsa")   # authorized nowhere

USERS = {"bob": "Tulip-7391", "carol": "Heron.2205"}
WRONG = {"bob": "tulip7391", "carol": "heron2205"}
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


# --------------------------------------------------------------------------
# servers run by this script (each a child process, debug log to a file)
# --------------------------------------------------------------------------

def ready():
    print("READY", flush=True)


def serve_asyncssh(mode, port, logfile):
    import asyncio
    import logging
    import asyncssh

    logging.basicConfig(filename=logfile, level=logging.DEBUG,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncssh.set_log_level("DEBUG")
    asyncssh.set_debug_level(2)
    log = logging.getLogger("peer")

    hostkey_path = os.path.join(SCRATCH, "asyncssh", "host_ed25519")
    if not os.path.exists(hostkey_path):
        os.makedirs(os.path.dirname(hostkey_path), exist_ok=True)
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(hostkey_path)
    authorized = asyncssh.read_authorized_keys(CLIENT_KEY + ".pub")

    class Server(asyncssh.SSHServer):
        def connection_made(self, conn):
            self.conn = conn

        def begin_auth(self, username):
            log.info("begin_auth %s", username)
            return True

        def password_auth_supported(self):
            return mode == "password"

        def validate_password(self, username, password):
            ok = USERS.get(username) == password
            log.info("password for %s: %s", username, "accepted" if ok else "rejected")
            return ok

        def kbdint_auth_supported(self):
            return mode == "kbdint"

        def get_kbdint_challenge(self, username, lang, submethods):
            return "", "", "", [("Password: ", False)]

        def validate_kbdint_response(self, username, responses):
            ok = len(responses) == 1 and USERS.get(username) == responses[0]
            log.info("keyboard-interactive for %s: %s", username, "accepted" if ok else "rejected")
            return ok

        def auth_completed(self):
            log.info("auth completed")
            if mode == "disconnect":
                loop = asyncio.get_event_loop()
                loop.call_later(1.0, self.conn.disconnect, asyncssh.DISC_BY_APPLICATION,
                                "Server going down for scheduled maintenance")

    async def handle(process):
        cmd = process.command or ""
        log.info("exec %r", cmd)
        if mode == "disconnect":
            process.stdout.write("export started\n")
            await asyncio.sleep(15)
        elif cmd == "hostname":
            process.stdout.write("paste-peer\n")
        else:
            process.stdout.write("ran: %s\n" % cmd)
        process.exit(0)

    class ReadOnlySFTP(asyncssh.SFTPServer):
        def __init__(self, chan):
            root = os.path.join(SCRATCH, "sftproot", chan.get_extra_info("username"))
            super().__init__(chan, chroot=root)

        def open(self, path, pflags, attrs):
            norm = os.path.normpath(b"/" + path.lstrip(b"/")) if not path.startswith(b"/") else os.path.normpath(path)
            if (norm == b"/ro" or norm.startswith(b"/ro/")) and pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT):
                log.info("refusing write open of %r", path)
                raise asyncssh.SFTPPermissionDenied("read-only area")
            return super().open(path, pflags, attrs)

    kwargs = dict(server_host_keys=[hostkey_path], authorized_client_keys=authorized,
                  server_factory=Server, process_factory=handle)
    if mode == "password":
        kwargs["kbdint_auth"] = False
    if mode == "sftp-ro":
        kwargs["sftp_factory"] = ReadOnlySFTP
        kwargs["allow_scp"] = False
    if mode == "kex-group14-sha1":
        kwargs["kex_algs"] = ["diffie-hellman-group14-sha1"]
    if mode == "cipher-cbc":
        kwargs["encryption_algs"] = ["aes256-cbc"]

    async def main():
        await asyncssh.listen("127.0.0.1", port, **kwargs)
        ready()
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_paramiko(mode, port, logfile):
    import threading
    import paramiko

    paramiko.util.log_to_file(logfile, level="DEBUG")
    log = paramiko.util.get_logger("peer")
    keydir = os.path.join(SCRATCH, "paramiko")
    os.makedirs(keydir, exist_ok=True)
    if mode == "hostkey-ssh-rsa":
        path = os.path.join(keydir, "host_rsa")
        if not os.path.exists(path):
            paramiko.RSAKey.generate(2048).write_private_key_file(path)
        hostkey = paramiko.RSAKey.from_private_key_file(path)
    else:
        path = os.path.join(keydir, "host_ecdsa")
        if not os.path.exists(path):
            paramiko.ECDSAKey.generate(bits=256).write_private_key_file(path)
        hostkey = paramiko.ECDSAKey.from_private_key_file(path)
    with open(CLIENT_KEY + ".pub") as f:
        allowed_blob = f.read().split()[1]

    class Iface(paramiko.ServerInterface):
        def __init__(self):
            self.exec_event = threading.Event()
            self.command = None

        def get_allowed_auths(self, username):
            return "publickey"

        def check_auth_publickey(self, username, key):
            ok = username in USERS and key.get_base64() == allowed_blob
            log.info("publickey for %s: %s", username, "accepted" if ok else "rejected")
            return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

        def check_channel_request(self, kind, chanid):
            return paramiko.OPEN_SUCCEEDED if kind == "session" else \
                paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

        def check_channel_env_request(self, channel, name, value):
            return False

        def check_channel_exec_request(self, channel, command):
            self.command = command.decode()
            self.exec_event.set()
            return True

    disabled = {}
    if mode == "macs-md5":
        disabled["macs"] = [m for m in paramiko.Transport._preferred_macs
                            if m not in ("hmac-md5", "hmac-md5-96", "hmac-sha1-96")]
    if mode == "hostkey-ssh-rsa":
        disabled["keys"] = ["rsa-sha2-512", "rsa-sha2-256"]

    def one(sock):
        t = paramiko.Transport(sock, disabled_algorithms=disabled or None)
        if mode == "acme-banner":
            t.local_version = "SSH-2.0-AcmeMFT_4.2"
        t.add_server_key(hostkey)
        iface = Iface()
        try:
            t.start_server(server=iface)
        except Exception as e:
            log.info("start_server failed: %r", e)
            return
        chan = t.accept(20)
        if chan is None:
            t.close()
            return
        if iface.exec_event.wait(10):
            log.info("exec %r", iface.command)
            if iface.command == "date -u +%Y":
                chan.sendall(b"2031\n")
            else:
                chan.sendall(("ran: %s\n" % iface.command).encode())
            chan.send_exit_status(0)
        chan.shutdown_write()
        time.sleep(0.3)
        chan.close()
        time.sleep(0.5)
        t.close()

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    ready()
    while True:
        s, _ = srv.accept()
        threading.Thread(target=one, args=(s,), daemon=True).start()


def serve_sock(mode, port, logfile):
    import struct
    import threading

    logf = open(logfile, "a", buffering=1)

    def note(msg):
        logf.write("%.3f %s\n" % (time.time(), msg))

    def drain(s, idle=0.5, total=3.0):
        got = b""
        s.settimeout(idle)
        end = time.time() + total
        while time.time() < end:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except OSError as e:
                note("recv error %r" % e)
                break
            if not d:
                break
            got += d
        return got

    def one(s, addr):
        note("accepted %s:%d" % addr)
        if mode == "close":
            got = drain(s)
            note("read %r; closing" % got[:80])
            s.shutdown(socket.SHUT_WR)
            s.close()
        elif mode == "reset":
            got = drain(s)
            note("read %r; reset" % got[:80])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        elif mode == "prebanner":
            s.sendall(b"Welcome to the Acme transfer gateway\r\n"
                      b"Unauthorised access is prohibited\r\n"
                      b"SSH-2.0-AcmeGate_3.1\r\n")
            got = drain(s, idle=1.0)
            note("read %d bytes; closing" % len(got))
            s.shutdown(socket.SHUT_WR)
            drain(s, idle=0.3, total=1.0)
            s.close()
        elif mode == "garbage":
            s.sendall(b"SSH-2.0-OddBox_0.9\r\n")
            got = drain(s, idle=0.5)
            note("read %d bytes; sending garbage" % len(got))
            s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + bytes(range(64)) * 4)
            drain(s, idle=2.0, total=4.0)
            s.close()
        elif mode == "silent":
            got = drain(s, idle=10.0, total=10.0)
            note("read %r; silent until the client leaves" % got[:80])
            s.close()
        note("done")

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    ready()
    while True:
        s, addr = srv.accept()
        threading.Thread(target=one, args=(s, addr), daemon=True).start()


# --------------------------------------------------------------------------
# set-up
# --------------------------------------------------------------------------

def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def setup():
    for d in ("client", "logs", "known_hosts", "dropbear", "local", "sftproot/bob/ro", "sftproot/carol/ro"):
        os.makedirs(os.path.join(SCRATCH, d), exist_ok=True)
    if not os.path.exists(CLIENT_KEY):
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bob@paste-client", "-f", CLIENT_KEY)
    if not os.path.exists(OTHER_KEY):
        sh("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-C", "carol@paste-client", "-f", OTHER_KEY)
    hk = os.path.join(SCRATCH, "dropbear", "host_ed25519")
    if not os.path.exists(hk):
        sh("dropbearkey", "-t", "ed25519", "-f", hk, stdout=subprocess.DEVNULL)
    for user, pw in USERS.items():
        home = os.path.join(SCRATCH, "home", user)
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            sh("useradd", "-m", "-d", home, "-s", "/bin/sh", user)
        else:
            sh("usermod", "-d", home, user)
            os.makedirs(home, exist_ok=True)
            shutil.chown(home, user, user)
        os.chmod(home, 0o755)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (user, pw), text=True, check=True)
    # bob may log in with the client key; carol may not
    ssh_dir = os.path.join(SCRATCH, "home", "bob", ".ssh")
    os.makedirs(ssh_dir, exist_ok=True)
    shutil.copy(CLIENT_KEY + ".pub", os.path.join(ssh_dir, "authorized_keys"))
    for p in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
        shutil.chown(p, "bob", "bob")
    os.chmod(ssh_dir, 0o700)
    os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
    for user in USERS:
        home = os.path.join(SCRATCH, "home", user)
        os.makedirs(os.path.join(home, "outbox"), exist_ok=True)
        shutil.chown(os.path.join(home, "outbox"), user, user)
        with open(os.path.join(home, "outbox", "statement-0007.txt"), "w") as f:
            f.write("statement 7\n")
        shutil.chown(os.path.join(home, "outbox", "statement-0007.txt"), user, user)
        with open(os.path.join(home, "report-2031.csv"), "w") as f:
            f.write("id,amount\n1,42\n2,17\n")
        shutil.chown(os.path.join(home, "report-2031.csv"), user, user)
        with open(os.path.join(SCRATCH, "sftproot", user, "readme.txt"), "w") as f:
            f.write("incoming files go to /in, /ro is read-only\n")
        os.makedirs(os.path.join(SCRATCH, "sftproot", user, "in"), exist_ok=True)
    with open(os.path.join(SCRATCH, "local", "invoice-0042.pdf"), "wb") as f:
        f.write(b"%PDF-1.4\n" + b"0" * 3000 + b"\n%%EOF\n")
    if not os.path.exists("/usr/lib/sftp-server"):
        os.symlink(SFTP_SERVER, "/usr/lib/sftp-server")


def listening(port):
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1].endswith(want) and parts[3] == "0A":
                return True
    return False


class Server:
    """One server process with its own debug log."""

    def __init__(self, case, argv, port, ready_line):
        self.port = port
        self.log = os.path.join(LOGS, case + ".server.log")
        if os.path.exists(self.log):
            os.remove(self.log)
        if listening(port):
            raise SystemExit("port %d is already in use" % port)
        self.errf = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.errf,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 15
        if ready_line:
            line = self.proc.stdout.readline()
            if b"READY" not in line:
                raise SystemExit("server for %s did not start (see %s)" % (case, self.log))
        while not listening(port):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("server for %s did not listen (see %s)" % (case, self.log))
            time.sleep(0.05)

    def children(self):
        """pids whose parent is the server process (Dropbear's per-connection children)."""
        return Server.children_of(self.proc.pid)

    @staticmethod
    def children_of(parent):
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        st = f.read()
                except OSError:
                    continue
                ppid = int(st.rsplit(")", 1)[1].split()[1])
                if ppid == parent:
                    out.append(int(pid))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()


def dropbear(case, port):
    hk = os.path.join(SCRATCH, "dropbear", "host_ed25519")
    return Server(case, ["dropbear", "-F", "-E", "-p", "127.0.0.1:%d" % port, "-r", hk], port, False)


def own(kind, mode):
    def start(case, port):
        log = os.path.join(LOGS, case + ".server.log")
        return Server(case, [sys.executable, os.path.abspath(__file__), kind, mode, str(port), log],
                      port, True)
    return start


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

def known_hosts(case, port=None, prefill=False):
    path = os.path.join(SCRATCH, "known_hosts", case)
    if os.path.exists(path):
        os.remove(path)
    if prefill:
        got = subprocess.run(["ssh-keyscan", "-p", str(port), "127.0.0.1"],
                             capture_output=True, text=True).stdout
        with open(path, "w") as f:
            f.write(got)
    return path


# the client sees only these variables (ssh -vvv names every variable it does
# not send: the caller's environment must not leak into the transcripts)
CLIENT_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/root",
              "USER": "root", "LOGNAME": "root"}


def run_plain(argv, stdin_script=None):
    """stdout+stderr into one pipe, in the order written."""
    r, w = os.pipe()
    p = subprocess.Popen(argv, stdout=w, stderr=w, env=CLIENT_ENV,
                         stdin=subprocess.PIPE if stdin_script else subprocess.DEVNULL)
    os.close(w)
    out = bytearray()
    steps = list(stdin_script or [])

    def pump(timeout):
        end = time.time() + timeout
        while time.time() < end:
            rl, _, _ = select.select([r], [], [], 0.05)
            if rl:
                d = os.read(r, 65536)
                if not d:
                    return False
                out.extend(d)
        return True

    for step in steps:
        if isinstance(step, (bytes, str)):
            p.stdin.write(step.encode() if isinstance(step, str) else step)
            p.stdin.flush()
        else:
            step()          # a callable: e.g. kill the server
        pump(1.5)
    if p.stdin:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
    while pump(0.5):
        if p.poll() is not None and not select.select([r], [], [], 0.2)[0]:
            break
    while True:
        rl, _, _ = select.select([r], [], [], 0.2)
        if not rl:
            break
        d = os.read(r, 65536)
        if not d:
            break
        out.extend(d)
    os.close(r)
    rc = p.wait()
    return bytes(out), rc


def run_pty(argv, steps, timeout=40, cwd=None, env=None):
    """Run under a pty (prompts go to /dev/tty), with output post-processing
    (ONLCR) off so the bytes are those the programs wrote.  steps, in order:
    ("wait", b"text") until text appears after the last match, ("send", "line"),
    ("call", fn), ("sleep", seconds), ("mark",) to remember the output length.
    Returns (output, exit code, marks)."""
    pid, fd = pty.fork()
    if pid == 0:
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        if cwd:
            os.chdir(cwd)
        os.execvpe(argv[0], argv, env or dict(CLIENT_ENV, TERM="xterm"))
    out = bytearray()
    steps = list(steps)
    seen = 0
    marks = []
    end = time.time() + timeout
    while time.time() < end:
        rl, _, _ = select.select([fd], [], [], 0.05)
        if rl:
            try:
                d = os.read(fd, 65536)
            except OSError:
                break
            if not d:
                break
            out.extend(d)
        while steps:
            step = steps[0]
            if step[0] == "wait":
                i = out.find(step[1], seen)
                if i < 0:
                    break
                seen = i + len(step[1])
            elif step[0] == "send":
                time.sleep(0.3)
                os.write(fd, step[1].encode() + b"\n")
            elif step[0] == "call":
                step[1]()
            elif step[0] == "sleep":
                time.sleep(step[1])
            elif step[0] == "mark":
                marks.append(len(out))
            steps.pop(0)
    if steps:
        print("  (steps left at timeout: %r)" % (steps,))
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return bytes(out), os.waitstatus_to_exitcode(status), marks


def run_shell(commands, cwd, before=None):
    """Type commands into an interactive bash (PS1='$ ') on a pty, as a user
    would; the capture ends where the prompt after the last command appears
    (the part of a terminal a user selects).  before: {index: fn} called
    before typing command index."""
    env = dict(CLIENT_ENV, TERM="xterm", PS1="$ ")
    steps = [("wait", b"$ ")]
    for i, cmd in enumerate(commands):
        if before and i in before:
            steps.append(("call", before[i]))
        steps += [("send", cmd), ("wait", b"\n$ ")]
    steps += [("mark",), ("send", "exit")]
    out, rc, marks = run_pty(["bash", "--norc", "--noprofile", "--noediting", "-i"], steps,
                             timeout=90, cwd=cwd, env=env)
    out = out[:marks[0] - 2] if marks else out     # drop the final "$ "
    return out, rc


def ssh_opts(case, kh, accept_new=True):
    return ["-o", "IdentitiesOnly=yes", "-i", CLIENT_KEY,
            "-o", "UserKnownHostsFile=" + kh,
            "-o", "StrictHostKeyChecking=" + ("accept-new" if accept_new else "yes")]


# --------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------

def case_dropbear_publickey_command(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-vvv", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "bob@127.0.0.1", "echo report ready; id -un"])
    finally:
        srv.stop()


def case_dropbear_sftp_batch(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)
    batch = os.path.join(SCRATCH, "local", name + ".batch")
    with open(batch, "w") as f:
        f.write("put %s/local/invoice-0042.pdf outbox/invoice-0042.pdf\nls -l outbox\n"
                "get report-2031.csv %s/local/report-2031.csv\n" % (SCRATCH, SCRATCH))
    try:
        return srv, run_plain(["sftp", "-vv", "-P", str(port)] + ssh_opts(name, kh, False) +
                              ["-b", batch, "bob@127.0.0.1"])
    finally:
        srv.stop()
        try:
            os.remove(os.path.join(SCRATCH, "home", "bob", "outbox", "invoice-0042.pdf"))
        except FileNotFoundError:
            pass


def case_dropbear_password_retry(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)
    try:
        return srv, run_pty(["ssh", "-v", "-p", str(port), "-o", "IdentitiesOnly=yes", "-i", OTHER_KEY,
                             "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes",
                             "carol@127.0.0.1", "uname -s"],
                            [("wait", b"carol@127.0.0.1's password: "), ("send", WRONG["carol"]),
                             ("wait", b"carol@127.0.0.1's password: "), ("send", USERS["carol"])])[:2]
    finally:
        srv.stop()


def case_dropbear_sftp_server_killed(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)

    def kill_server():
        # the per-connection Dropbear process and its sftp-server child
        for pid in srv.children():
            for child in Server.children_of(pid):
                os.kill(child, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        time.sleep(1.0)
    try:
        return srv, run_pty(["sftp", "-v", "-P", str(port)] + ssh_opts(name, kh, False) + ["bob@127.0.0.1"],
                            [("wait", b"sftp> "), ("send", "ls -l outbox"), ("wait", b"sftp> "),
                             ("sleep", 0.5), ("call", kill_server),
                             ("send", ""), ("wait", b"sftp> "),
                             ("send", "get report-2031.csv"), ("sleep", 2.0)])[:2]
    finally:
        srv.stop()


def case_dropbear_serveralive_timeout(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)
    stopped = []

    def freeze():
        for pid in srv.children():
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
    try:
        res = run_plain(["ssh", "-v", "-p", str(port)] + ssh_opts(name, kh, False) +
                        ["-o", "BatchMode=yes", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2",
                         "bob@127.0.0.1", "echo waiting; sleep 20"],
                        stdin_script=[lambda: time.sleep(1.0), freeze])
        return srv, res
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        srv.stop()


def case_dropbear_scp_upload(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)
    try:
        return srv, run_plain(["scp", "-v", "-P", str(port)] + ssh_opts(name, kh, False) +
                              ["-o", "BatchMode=yes", os.path.join(SCRATCH, "local", "invoice-0042.pdf"),
                               "bob@127.0.0.1:incoming-invoice.pdf"])
    finally:
        srv.stop()
        try:
            os.remove(os.path.join(SCRATCH, "home", "bob", "incoming-invoice.pdf"))
        except FileNotFoundError:
            pass


def case_shell_scp_upload(name, port):
    srv = dropbear(name, port)
    kh = known_hosts(name, port, prefill=True)
    local = os.path.join(SCRATCH, "local")
    try:
        return srv, run_shell(["scp -v -P %d -i ../client/id_ed25519 -o UserKnownHostsFile=../known_hosts/%s "
                               "invoice-0042.pdf bob@127.0.0.1:outbox/" % (port, name)], cwd=local)
    finally:
        srv.stop()
        try:
            os.remove(os.path.join(SCRATCH, "home", "bob", "outbox", "invoice-0042.pdf"))
        except FileNotFoundError:
            pass


def case_shell_three_failures(name, port):
    return None, run_shell(["ssh -v -p %d bob@127.0.0.1" % port,
                            "ssh -v carol@nosuch.invalid",
                            "sftp -P %d carol@127.0.0.1" % port], cwd=os.path.join(SCRATCH, "local"))


def case_asyncssh_password(name, port):
    srv = own("serve-asyncssh", "password")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_pty(["ssh", "-v", "-p", str(port), "-o", "PubkeyAuthentication=no",
                             "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=accept-new",
                             "bob@127.0.0.1", "hostname"],
                            [("wait", b"bob@127.0.0.1's password: "), ("send", USERS["bob"])])[:2]
    finally:
        srv.stop()


def case_asyncssh_kbdint(name, port):
    srv = own("serve-asyncssh", "kbdint")(name, port)
    kh = known_hosts(name, port, prefill=True)
    try:
        return srv, run_pty(["ssh", "-vv", "-p", str(port), "-o", "IdentitiesOnly=yes", "-i", OTHER_KEY,
                             "-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes",
                             "carol@127.0.0.1", "hostname"],
                            [("wait", b"(carol@127.0.0.1) Password: "), ("send", WRONG["carol"]),
                             ("wait", b"(carol@127.0.0.1) Password: "), ("send", USERS["carol"])])[:2]
    finally:
        srv.stop()


def case_asyncssh_sftp_readonly(name, port):
    srv = own("serve-asyncssh", "sftp-ro")(name, port)
    kh = known_hosts(name, port, prefill=True)
    batch = os.path.join(SCRATCH, "local", name + ".batch")
    with open(batch, "w") as f:
        f.write("ls -l /\nput %s/local/invoice-0042.pdf in/invoice-0042.pdf\n"
                "put %s/local/invoice-0042.pdf /ro/invoice-0042.pdf\nls -l in\n" % (SCRATCH, SCRATCH))
    try:
        return srv, run_plain(["sftp", "-vvv", "-P", str(port)] + ssh_opts(name, kh, False) +
                              ["-b", batch, "bob@127.0.0.1"])
    finally:
        srv.stop()
        try:
            os.remove(os.path.join(SCRATCH, "sftproot", "bob", "in", "invoice-0042.pdf"))
        except FileNotFoundError:
            pass


def case_asyncssh_disconnect(name, port):
    srv = own("serve-asyncssh", "disconnect")(name, port)
    kh = known_hosts(name, port, prefill=True)
    try:
        return srv, run_plain(["ssh", "-v", "-p", str(port)] + ssh_opts(name, kh, False) +
                              ["-o", "BatchMode=yes", "bob@127.0.0.1", "nightly-export --all"])
    finally:
        srv.stop()


def case_asyncssh_kex_group14_sha1_refused(name, port):
    srv = own("serve-asyncssh", "kex-group14-sha1")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-vv", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "bob@127.0.0.1", "hostname"])
    finally:
        srv.stop()


def case_asyncssh_kex_group14_sha1_enabled(name, port):
    srv = own("serve-asyncssh", "kex-group14-sha1")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-vv", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "-o", "KexAlgorithms=+diffie-hellman-group14-sha1",
                               "bob@127.0.0.1", "hostname"])
    finally:
        srv.stop()


def case_asyncssh_no_matching_cipher(name, port):
    srv = own("serve-asyncssh", "cipher-cbc")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["sftp", "-v", "-P", str(port)] + ssh_opts(name, kh) +
                              ["-b", "/dev/null", "bob@127.0.0.1"])
    finally:
        srv.stop()


def case_paramiko_exec(name, port):
    srv = own("serve-paramiko", "plain")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-v", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "bob@127.0.0.1", "date -u +%Y"])
    finally:
        srv.stop()


def case_paramiko_custom_banner(name, port):
    srv = own("serve-paramiko", "acme-banner")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-vvv", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "-l", "bob", "127.0.0.1", "list-mailboxes"])
    finally:
        srv.stop()


def case_paramiko_no_matching_mac(name, port):
    srv = own("serve-paramiko", "macs-md5")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-vv", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "-o", "Ciphers=aes128-ctr,aes256-ctr",
                               "bob@127.0.0.1", "hostname"])
    finally:
        srv.stop()


def case_paramiko_no_matching_hostkey(name, port):
    srv = own("serve-paramiko", "hostkey-ssh-rsa")(name, port)
    kh = known_hosts(name)
    try:
        return srv, run_plain(["ssh", "-v", "-p", str(port)] + ssh_opts(name, kh) +
                              ["-o", "BatchMode=yes", "bob@127.0.0.1", "hostname"])
    finally:
        srv.stop()


def sock_case(mode, tool="ssh", verbosity="-v", extra=()):
    def run(name, port):
        srv = own("serve-sock", mode)(name, port)
        kh = known_hosts(name)
        try:
            if tool == "ssh":
                argv = ["ssh", verbosity, "-p", str(port)] + ssh_opts(name, kh) + \
                       ["-o", "BatchMode=yes"] + list(extra) + ["bob@127.0.0.1", "hostname"]
            else:
                argv = ["sftp", verbosity, "-P", str(port)] + ssh_opts(name, kh) + list(extra) + \
                       ["-b", "/dev/null", "bob@127.0.0.1"]
            return srv, run_plain(argv)
        finally:
            srv.stop()
    return run


def nothing(argv):
    def run(name, port):
        return None, run_plain(argv(port))
    return run


CASES = [
    # name, port, function
    ("real-peers-dropbear-publickey-command", 22401, case_dropbear_publickey_command),
    ("real-peers-dropbear-sftp-batch", 22402, case_dropbear_sftp_batch),
    ("real-peers-dropbear-password-retry", 22403, case_dropbear_password_retry),
    ("real-peers-dropbear-sftp-server-killed", 22404, case_dropbear_sftp_server_killed),
    ("real-peers-dropbear-serveralive-timeout", 22405, case_dropbear_serveralive_timeout),
    ("real-peers-dropbear-scp-upload", 22406, case_dropbear_scp_upload),
    ("real-peers-shell-scp-upload-dropbear", 22407, case_shell_scp_upload),
    ("real-peers-shell-three-failures", 22497, case_shell_three_failures),
    ("real-peers-asyncssh-password", 22410, case_asyncssh_password),
    ("real-peers-asyncssh-kbdint-retry", 22411, case_asyncssh_kbdint),
    ("real-peers-asyncssh-sftp-readonly-put", 22412, case_asyncssh_sftp_readonly),
    ("real-peers-asyncssh-disconnect-after-auth", 22413, case_asyncssh_disconnect),
    ("real-peers-asyncssh-kex-group14-sha1-refused", 22414, case_asyncssh_kex_group14_sha1_refused),
    ("real-peers-asyncssh-kex-group14-sha1-enabled", 22415, case_asyncssh_kex_group14_sha1_enabled),
    ("real-peers-asyncssh-no-matching-cipher", 22416, case_asyncssh_no_matching_cipher),
    ("real-peers-paramiko-exec", 22420, case_paramiko_exec),
    ("real-peers-paramiko-custom-banner", 22421, case_paramiko_custom_banner),
    ("real-peers-paramiko-no-matching-mac", 22422, case_paramiko_no_matching_mac),
    ("real-peers-paramiko-no-matching-hostkey", 22423, case_paramiko_no_matching_hostkey),
    ("real-peers-sock-closed-at-banner", 22430, sock_case("close")),
    ("real-peers-sock-reset-at-banner", 22431, sock_case("reset", verbosity="-vv")),
    ("real-peers-sock-pre-banner-text", 22432, sock_case("prebanner", verbosity="-vvv")),
    ("real-peers-sock-garbage-after-banner", 22433, sock_case("garbage", verbosity="-vv")),
    ("real-peers-sock-banner-timeout", 22434, sock_case("silent", extra=("-o", "ConnectTimeout=2"))),
    ("real-peers-sftp-sock-reset", 22435, sock_case("reset", tool="sftp", verbosity="-v")),
    ("real-peers-connection-refused", 22499,
     nothing(lambda p: ["ssh", "-v", "-p", str(p), "bob@127.0.0.1"])),
    ("real-peers-resolve-failed", None,
     nothing(lambda p: ["ssh", "-v", "bob@nosuch.invalid"])),
    ("real-peers-sftp-connection-refused", 22498,
     nothing(lambda p: ["sftp", "-v", "-P", str(p), "bob@127.0.0.1"])),
]


def rewrite(data):
    return data.replace(SCRATCH.encode(), SHOWN_AS.encode())


def make(out_dir, only):
    setup()
    for name, port, fn in CASES:
        if only and name not in only:
            continue
        srv, (data, rc) = fn(name, port)
        with open(os.path.join(out_dir, name + ".log"), "wb") as f:
            f.write(rewrite(data))
        with open(os.path.join(LOGS, name + ".client-exit"), "w") as f:
            f.write("%d\n" % rc)
        print("%-50s exit %3d  %6d bytes%s" % (name, rc, len(data),
              ("  server log " + srv.log) if srv else ""))


# --------------------------------------------------------------------------
# --check: mechanical facts of each truth file against its log
# --------------------------------------------------------------------------

def check(out_dir):
    bad = 0
    names = sorted(n[:-len(".truth.json")] for n in os.listdir(out_dir)
                   if n.startswith("real-peers-") and n.endswith(".truth.json"))
    for name in names:
        with open(os.path.join(out_dir, name + ".truth.json")) as f:
            truth = json.load(f)
        with open(os.path.join(out_dir, name + ".log"), "rb") as f:
            lines = f.read().decode("utf-8", "replace").split("\n")
        lines = [l.rstrip("\r") for l in lines]
        problems = []
        if truth.get("case") != name:
            problems.append("case name")
        runs = truth["runs"]
        starts = [r["first_line"] for r in runs] + [len(lines) + 1]
        for i, r in enumerate(runs):
            text = lines[starts[i] - 1:starts[i + 1] - 1]
            joined = "\n".join(text)
            levels = [int(m) for m in re.findall(r"^debug([123]): ", joined, re.M)]
            if (max(levels) if levels else 0) != r["verbosity"]:
                problems.append("run %d verbosity" % i)
            if r["reason"] is not None and r["reason"] not in joined:
                problems.append("run %d reason not in text" % i)
            if r["client_version"] and ("Local version string SSH-2.0-" + r["client_version"]) not in joined \
                    and not any(l.startswith(r["client_version"] + ", ") for l in text):
                problems.append("run %d client_version" % i)
            if r["server_version"] and ("remote software version " + r["server_version"]) not in joined:
                problems.append("run %d server_version" % i)
            if r["user"] and r["user_source"] == "authenticating" and ("as '%s'" % r["user"]) not in joined:
                problems.append("run %d user" % i)
            port = (r.get("peer") or {}).get("port")
            if port and str(port) not in joined:
                problems.append("run %d port" % i)
            if r["negotiated"] is None and "kex: client->server cipher:" in joined:
                problems.append("run %d negotiated null but kex lines present" % i)
            for op in r.get("sftp_ops", []):
                if op["path"] not in joined:
                    problems.append("run %d sftp path %s" % (i, op["path"]))
            if r["negotiated"]:
                for k in ("kex", "hostkey"):
                    v = r["negotiated"][k]
                    if v and v not in joined:
                        problems.append("run %d %s" % (i, k))
        for n in truth.get("unparsed_lines", []):
            if not lines[n - 1].strip():
                problems.append("unparsed line %d blank" % n)
        print("%-50s %s" % (name, "ok" if not problems else "PROBLEMS: " + ", ".join(problems)))
        bad += bool(problems)
    return bad


def main(argv):
    if len(argv) >= 4 and argv[0] in ("serve-asyncssh", "serve-paramiko", "serve-sock"):
        {"serve-asyncssh": serve_asyncssh, "serve-paramiko": serve_paramiko,
         "serve-sock": serve_sock}[argv[0]](argv[1], int(argv[2]), argv[3])
        return 0
    out_dir = OUT_DEFAULT
    if "--out" in argv:
        out_dir = argv[argv.index("--out") + 1]
    if "--check" in argv:
        return 1 if check(out_dir) else 0
    only = set(argv[argv.index("--only") + 1].split(",")) if "--only" in argv else None
    if os.geteuid() != 0:
        raise SystemExit("run as root (creates users bob and carol for Dropbear)")
    os.makedirs(out_dir, exist_ok=True)
    make(out_dir, only)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
