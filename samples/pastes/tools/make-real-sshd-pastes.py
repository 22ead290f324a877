#!/usr/bin/env python3
"""Make the `real-sshd-*` paste samples with real programs on this machine.

Debian's OpenSSH client (ssh, sftp, scp) runs as the local user `alice`,
mostly inside a real bash in a pseudo-terminal (so prompts, password prompts
and line ends are what a terminal shows), against OpenSSH sshd instances that
this script starts on 127.0.0.1 ports 22301-22306 from their own config files,
host keys and DEBUG3 logs in a scratch folder.  Each transcript is written to
samples/pastes/openssh/real-sshd-NAME.log with the scratch folder's path
rewritten to /srv/paste, and its truth (declared below per case) to
real-sshd-NAME.truth.json after a cross-check against the sshd DEBUG3 log
(negotiated algorithms from sshd's `kex:` lines, the user and the methods of
its `userauth-request` lines, `Accepted ...`) and the file system.

Needs root and: apt-get install -y openssh-server sshpass (sshpass is not
used by the cases; the pty answers the prompts).  Creates the Unix users
`alice` (client side) and `pasteuser` (server side, password below), the PAM
service file /etc/pam.d/sshd-paste for the length of the run (sshd takes its
PAM service name from its program name, so the sshd here runs as
SCRATCH/bin/sshd-paste), and stops every sshd and ssh-agent it started.
The one input that is not a program's own: for the GSSAPI case the generator
writes a krb5.conf naming an unreachable KDC and a ticket cache holding a TGT
no KDC issued (no KDC runs here), so the client gets as far as asking a KDC.
Re-runnable; transcripts differ between runs only where the programs' output
does (dates, byte counts, timings; fingerprints when the scratch keys are new).

Usage: python3 samples/pastes/tools/make-real-sshd-pastes.py [CASE...]
"""
import json, os, pty, pwd, re, select, shutil, signal, struct, subprocess, sys, time
import fcntl, termios

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'openssh'))
SCRATCH = '/tmp/sftplog-pastes'
SHOWN = '/srv/paste'
PAM_SERVICE = 'sshd-paste'
SSHD = os.path.join(SCRATCH, 'bin', PAM_SERVICE)
CLIENT_USER = 'alice'
SERVER_USER = 'pasteuser'
PASSWORD = 'Paste-2025-ok'
WRONG = ['paste2024', 'Paste-2024-ok', 'pasteuser1']
PROMPT = b'alice@laptop:~$ '
REMOTE_PROMPT = b'pasteuser@srv-paste:~$ '
SERVER_HOME = os.path.join(SCRATCH, 'home', SERVER_USER)

SERVERS = {
    # name: port, host key types, sshd_config lines
    'main': (22301, ['ed25519', 'ecdsa', 'rsa'], [
        'UsePAM yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile .ssh/authorized_keys']),
    'kbdint': (22302, ['ed25519'], [
        'UsePAM yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication yes',
        'AuthorizedKeysFile none']),
    'pwonly': (22303, ['ed25519'], [
        'UsePAM no', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile none']),
    'maxauth': (22304, ['ed25519'], [
        'UsePAM yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile .ssh/authorized_keys', 'MaxAuthTries 2']),
    'modern': (22305, ['ed25519'], [
        'UsePAM yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile .ssh/authorized_keys',
        'Ciphers aes256-ctr,aes192-ctr,aes128-ctr',
        'MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com']),
    'gss': (22306, ['ed25519'], [
        'UsePAM yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
        'AuthorizedKeysFile .ssh/authorized_keys', 'GSSAPIAuthentication yes']),
}
COMMON_CONFIG = [
    'LogLevel DEBUG3', 'StrictModes no', 'PrintMotd no', 'AcceptEnv LANG LC_*',
    'Subsystem sftp internal-sftp -l DEBUG3',
]
REFUSED_PORT = 22310   # nothing listens here (the "typo" port)


def sh(*argv, **kw):
    return subprocess.run(list(argv), check=True, **kw)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------- set-up

def ensure_user(name, home):
    try:
        pw = pwd.getpwnam(name)
        if pw.pw_dir != home:
            sh('usermod', '-d', home, name)
    except KeyError:
        os.makedirs(os.path.dirname(home), exist_ok=True)
        sh('useradd', '-m', '-d', home, '-s', '/bin/bash', name)
    os.makedirs(home, exist_ok=True)
    pw = pwd.getpwnam(name)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    return pw


def write(path, text, owner=None, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    os.chmod(path, mode)
    if owner:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def chown_tree(path, pw):
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.lchown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)


def keygen(path, kind, comment):
    if not os.path.exists(path):
        args = ['ssh-keygen', '-q', '-t', kind, '-N', '', '-C', comment, '-f', path]
        if kind == 'rsa':
            args[4:4] = ['-b', '3072']
        sh(*args)


def setup():
    os.makedirs(SCRATCH, exist_ok=True)
    os.chmod(SCRATCH, 0o755)
    os.makedirs('/run/sshd', exist_ok=True)
    os.makedirs(os.path.dirname(SSHD), exist_ok=True)
    if not os.path.islink(SSHD):
        os.symlink('/usr/sbin/sshd', SSHD)
    write('/etc/pam.d/' + PAM_SERVICE,
          '# sftplog paste samples: PAM stack of the test sshd (127.0.0.1 only),\n'
          '# made by samples/pastes/tools/make-real-sshd-pastes.py\n'
          'auth     required pam_unix.so\n'
          'account  required pam_unix.so\n'
          'session  required pam_unix.so\n'
          'session  optional pam_motd.so motd=%s/motd noupdate\n' % SCRATCH)
    write(SCRATCH + '/motd',
          'Welcome to srv-paste, the sftplog test box.\n'
          'Uploads go to ~/dropbox; ~/readonly is read-only for you.\n')
    alice = ensure_user(CLIENT_USER, '/home/' + CLIENT_USER)
    paste = ensure_user(SERVER_USER, SERVER_HOME)
    subprocess.run(['chpasswd'], input=('%s:%s\n' % (SERVER_USER, PASSWORD)).encode(), check=True)

    # client side: one default key, and three more for the agent case
    ssh_dir = '/home/%s/.ssh' % CLIENT_USER
    os.makedirs(ssh_dir + '/keys', exist_ok=True)
    keygen(ssh_dir + '/id_ed25519', 'ed25519', 'alice@laptop')
    keygen(ssh_dir + '/keys/deploy_rsa', 'rsa', 'deploy@ci')
    keygen(ssh_dir + '/keys/backup_ecdsa', 'ecdsa', 'backup@nas')
    keygen(ssh_dir + '/keys/old_ed25519', 'ed25519', 'alice@old-laptop')
    os.chmod(ssh_dir, 0o700)
    for name in ['notes.txt', 'report.csv', 'backup.tar.gz', 'batch.txt', 'mail-batch.txt', 'known_hosts']:
        p = '/home/%s/%s' % (CLIENT_USER, name)
        if os.path.exists(p):
            os.remove(p)
    home = '/home/' + CLIENT_USER
    write(home + '/notes.txt', 'meeting notes 2025-11-28\n- rotate the upload key\n', alice)
    write(home + '/report.csv', 'day,files,bytes\n' + ''.join(
        '2025-11-%02d,%d,%d\n' % (d, d * 3, d * 4096) for d in range(1, 29)), alice)
    with open('/dev/urandom', 'rb') as r:
        write(home + '/backup.tar.gz', r.read(4 * 1024 * 1024), alice)
    write(home + '/batch.txt', '-put notes.txt readonly/notes.txt\nput notes.txt dropbox/notes.txt\nls -l dropbox\n', alice)
    write(home + '/mail-batch.txt', 'ls dropbox\nget dropbox/readme.txt\n', alice)
    if os.path.exists(home + '/readme.txt'):
        os.remove(home + '/readme.txt')
    chown_tree(ssh_dir, alice)

    # server side: home with a writable dropbox and a read-only folder
    if os.path.exists(SERVER_HOME):
        shutil.rmtree(SERVER_HOME)
    os.makedirs(SERVER_HOME + '/.ssh')
    write(SERVER_HOME + '/.profile', 'if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n')
    write(SERVER_HOME + '/.bashrc', "PS1='pasteuser@srv-paste:\\w\\$ '\n")
    with open(ssh_dir + '/id_ed25519.pub') as f:
        write(SERVER_HOME + '/.ssh/authorized_keys', f.read(), mode=0o600)
    write(SERVER_HOME + '/dropbox/readme.txt', 'Drop files here. They are picked up every 5 minutes.\n')
    chown_tree(SERVER_HOME, paste)
    os.makedirs(SERVER_HOME + '/readonly')
    write(SERVER_HOME + '/readonly/policy.txt', 'This folder is maintained by the administrators.\n')
    os.chmod(SERVER_HOME + '/readonly', 0o755)   # owned by root: pasteuser cannot write here
    return alice, paste


# ----------------------------------------------------------------- servers

class Server:
    def __init__(self, name):
        self.name = name
        self.port, kinds, extra = SERVERS[name]
        self.dir = os.path.join(SCRATCH, 'servers', name)
        os.makedirs(self.dir, exist_ok=True)
        self.keys = []
        for k in kinds:
            p = os.path.join(self.dir, 'ssh_host_%s_key' % k)
            keygen(p, k, '')
            self.keys.append(p)
        self.config = os.path.join(self.dir, 'sshd_config')
        self.pidfile = os.path.join(self.dir, 'sshd.pid')
        self.logfile = os.path.join(self.dir, 'sshd.log')
        lines = ['# %s: %s' % (name, 'made by make-real-sshd-pastes.py')]
        lines += ['HostKey ' + p for p in self.keys]
        lines += ['PidFile ' + self.pidfile] + COMMON_CONFIG + extra
        write(self.config, '\n'.join(lines) + '\n')
        self.proc = None

    def start(self):
        self.stop_stale()
        open(self.logfile, 'wb').close()
        self.proc = subprocess.Popen(
            # -E: the log goes to its file; with -e alone, a session child's own debug lines
            # written after its stderr became the channel's would reach the client
            [SSHD, '-D', '-e', '-E', self.logfile, '-f', self.config, '-o', 'ListenAddress=127.0.0.1',
             '-p', str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.time() + 10
        while b'Server listening on 127.0.0.1 port %d' % self.port not in self.text(0).encode():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError('sshd %s did not start:\n%s' % (self.name, self.text(0)))
            time.sleep(0.1)

    def stop_stale(self):
        # an sshd of ours left by an interrupted run (checked by its command line)
        try:
            pid = int(open(self.pidfile).read().strip())
            cmd = open('/proc/%d/cmdline' % pid, 'rb').read()
            if self.config.encode() in cmd:
                os.kill(pid, signal.SIGTERM)
                time.sleep(0.5)
        except (OSError, ValueError):
            pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def mark(self):
        return os.path.getsize(self.logfile)

    def text(self, since):
        with open(self.logfile, 'rb') as f:
            f.seek(since)
            return f.read().decode('utf-8', 'replace')

    def pubkey(self, kind):
        with open(os.path.join(self.dir, 'ssh_host_%s_key.pub' % kind)) as f:
            return ' '.join(f.read().split()[:2])

    def known_hosts_lines(self, kinds=None):
        kinds = kinds or SERVERS[self.name][1]
        return ''.join('[127.0.0.1]:%d %s\n' % (self.port, self.pubkey(k)) for k in kinds)

    def descendants(self):
        children = {}
        for d in os.listdir('/proc'):
            if d.isdigit():
                try:
                    stat = open('/proc/%s/stat' % d).read()
                    ppid = int(stat[stat.rindex(')') + 2:].split()[1])
                    children.setdefault(ppid, []).append(int(d))
                except (OSError, ValueError):
                    pass
        out, todo = [], [self.proc.pid]
        while todo:
            p = todo.pop()
            for c in children.get(p, []):
                out.append(c)
                todo.append(c)
        return out


# ----------------------------------------------------------------- client side

def as_user(pw):
    def f():
        os.setsid()
        os.initgroups(pw.pw_name, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return f


def client_env(pw, extra=None):
    env = {'HOME': pw.pw_dir, 'USER': pw.pw_name, 'LOGNAME': pw.pw_name, 'SHELL': '/bin/bash',
           'PATH': '/usr/local/bin:/usr/bin:/bin', 'TERM': 'dumb', 'LANG': 'C.UTF-8'}
    env.update(extra or {})
    return env


def plain(pw, argv, env=None):
    """A run without a terminal: stdout and stderr into one pipe (`cmd > out.txt 2>&1`)."""
    p = subprocess.run(argv, cwd=pw.pw_dir, env=client_env(pw, env), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=as_user(pw), timeout=120)
    return p.stdout, p.returncode


class Shell:
    """bash -i as the client user in a pseudo-terminal; everything it shows is kept."""

    def __init__(self, pw, env=None):
        self.rc = os.path.join(SCRATCH, 'alice-bashrc')
        write(self.rc, "PS1='alice@laptop:\\w\\$ '\nset +o emacs +o vi\nunset HISTFILE\n")
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.initgroups(pw.pw_name, pw.pw_gid)
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                os.chdir(pw.pw_dir)
                os.execve('/bin/bash', ['bash', '--rcfile', self.rc, '-i'], client_env(pw, env))
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 160, 0, 0))
        self.buf = bytearray()
        self.mark = 0
        self.wait_prompt()
        self.start = len(self.buf) - len(PROMPT)

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            d = os.read(self.fd, 65536)
        except OSError:
            raise EOFError
        if not d:
            raise EOFError
        self.buf += d
        return True

    def expect(self, regex, timeout=60):
        rx = re.compile(regex)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf, self.mark)
            if m:
                self.mark = m.end()
                return m
            if time.time() > deadline:
                raise TimeoutError('%r not seen; tail: %r' % (regex, bytes(self.buf[-600:])))
            self._read(0.2)

    def wait_prompt(self, timeout=120):
        deadline = time.time() + timeout
        while True:
            if self.buf.endswith(PROMPT) and len(self.buf) - len(PROMPT) >= self.mark:
                if not self._read(0.6):
                    self.mark = len(self.buf)
                    return
                continue
            if time.time() > deadline:
                raise TimeoutError('no prompt; tail: %r' % bytes(self.buf[-600:]))
            self._read(0.2)

    def type(self, text):
        time.sleep(0.3)
        os.write(self.fd, text.encode())

    def run(self, line, steps=(), timeout=120):
        self.mark = len(self.buf)
        self.type(line + '\n')
        for pat, reply in steps:
            self.expect(pat, timeout)
            if callable(reply):
                reply(self)
            else:
                self.type(reply)
        self.wait_prompt(timeout)

    def close(self):
        data = bytes(self.buf[self.start:])
        os.write(self.fd, b'exit\n')
        try:
            while self._read(1):
                pass
        except EOFError:
            pass
        os.close(self.fd)
        os.waitpid(self.pid, 0)
        return data


def pw_prompt(user='pasteuser'):
    return re.escape(('%s@127.0.0.1\'s password: ' % user).encode()) + b'$'


KBD_PROMPT = re.escape(b'(pasteuser@127.0.0.1) Password: ') + b'$'


def set_known_hosts(alice, text):
    write('/home/%s/.ssh/known_hosts' % CLIENT_USER, text, alice, 0o644)


# ----------------------------------------------------------------- truth

CLIENT_V = None   # read from `ssh -V` at start
SERVER_V = None

NEG_DEFAULT = {'kex': 'sntrup761x25519-sha512', 'hostkey': 'ssh-ed25519',
               'cipher_c2s': 'chacha20-poly1305@openssh.com', 'cipher_s2c': 'chacha20-poly1305@openssh.com',
               'mac_c2s': None, 'mac_s2c': None, 'compression_c2s': 'none', 'compression_s2c': 'none'}
NEG_HIDDEN = {k: None for k in NEG_DEFAULT}


def run(first_line, tool, verbosity, port, user, user_source, negotiated, strict_kex, methods, succeeded,
        host_key_check, outcome, closed, reason=None, sftp_ops=(), versions=True, derived=(), host='127.0.0.1'):
    return {
        'first_line': first_line, 'tool': tool, 'verbosity': verbosity,
        'client_version': CLIENT_V if versions else None,
        'server_version': SERVER_V if versions else None,
        'peer': {'host': host, 'port': port},
        'user': user, 'user_source': user_source,
        'negotiated': None if negotiated is None else dict(negotiated),
        'derived': list(derived), 'strict_kex': strict_kex,
        'auth': {'methods_tried': list(methods), 'succeeded_method': succeeded},
        'host_key_check': host_key_check, 'outcome': outcome, 'closed': closed, 'reason': reason,
        'sftp_ops': [dict(o) for o in sftp_ops],
    }


def lines_of(data):
    return data.split(b'\n')


def line_no(data, needle, after=0, nth=1):
    """1-based number of the nth line after line `after` containing `needle`."""
    if isinstance(needle, str):
        needle = needle.encode()
    for i, l in enumerate(lines_of(data)):
        if i + 1 > after and needle in l:
            nth -= 1
            if nth == 0:
                return i + 1
    raise KeyError('%r not found after line %d' % (needle, after))


def rewrite(data):
    return data.replace(SCRATCH.encode(), SHOWN.encode())


# ----------------------------------------------------------------- sshd log cross-check

def connections(text, port):
    """Split an sshd log segment into connections to `port` (in order)."""
    out, cur = [], None
    for l in text.splitlines():
        m = re.match(r'Connection from 127\.0\.0\.1 port (\d+) on 127\.0\.0\.1 port (\d+)', l)
        if m:
            cur = {'port': int(m.group(2)), 'lines': []}
            if cur['port'] == port:
                out.append(cur)
            continue
        if cur is not None:
            cur['lines'].append(l)
    return out


def server_facts(conn):
    t = '\n'.join(conn['lines'])
    f = {'kex': None}
    m = re.search(r'kex: algorithm: (\S+)', t)
    f['kex'] = m.group(1) if m else None
    m = re.search(r'kex: host key algorithm: (\S+)', t)
    f['hostkey'] = m.group(1) if m else None
    for d, s in (('client->server', 'c2s'), ('server->client', 's2c')):
        m = re.search(r'kex: %s cipher: (\S+) MAC: (\S+) compression: (\S+)' % d, t)
        if m:
            f['cipher_' + s] = m.group(1)
            f['mac_' + s] = None if m.group(2) == '<implicit>' else m.group(2)
            f['compression_' + s] = m.group(3)
    m = re.search(r'(no matching \S+ (?:\S+ )*?found|Unable to negotiate[^\n]*)', t)
    f['negfail'] = m.group(1) if m else None
    f['newkeys'] = 'SSH2_MSG_NEWKEYS received' in t
    f['strict'] = 'will use strict KEX ordering' in t
    users = re.findall(r'userauth-request for user (\S+) service ssh-connection method (\S+)', t)
    f['user'] = users[0][0] if users else None
    methods = []
    for _, m in users:
        m = {'publickey-hostbound-v00@openssh.com': 'publickey'}.get(m, m)
        if m != 'none' and m not in methods:
            methods.append(m)
    f['methods'] = methods
    m = re.search(r'Accepted (\S+) for (\S+) from', t)
    f['accepted'] = m.group(1) if m else None
    return f


SSHD_METHOD = {'keyboard-interactive': 'keyboard-interactive/pam'}


def cross_check(name, truth, segs):
    """Compare each run that reached an sshd with that sshd's own log."""
    problems = []
    used = {}
    for i, r in enumerate(truth['runs']):
        port = r['peer']['port']
        if port not in segs:
            continue
        k = used.get(port, 0)
        conns = connections(segs[port], port)
        if r['outcome'] == 'connection-refused':
            continue
        if k >= len(conns):
            problems.append('run %d: no connection %d on port %d in the sshd log' % (i + 1, k, port))
            continue
        used[port] = k + 1
        f = server_facts(conns[k])
        neg = r['negotiated']
        if neg is not None:
            if not f['newkeys']:
                problems.append('run %d: truth says negotiated but sshd saw no NEWKEYS' % (i + 1))
            for slot, v in neg.items():
                if v is not None and f.get(slot) != v:
                    problems.append('run %d: %s truth %r sshd %r' % (i + 1, slot, v, f.get(slot)))
        elif f['newkeys']:
            problems.append('run %d: truth says no completed kex but sshd got NEWKEYS' % (i + 1))
        if r['strict_kex'] is not None and r['strict_kex'] != f['strict']:
            problems.append('run %d: strict_kex truth %r sshd %r' % (i + 1, r['strict_kex'], f['strict']))
        if r['user'] is not None and f['user'] is not None and r['user'] != f['user']:
            problems.append('run %d: user truth %r sshd %r' % (i + 1, r['user'], f['user']))
        if r['auth']['methods_tried'] and r['auth']['methods_tried'] != f['methods']:
            problems.append('run %d: methods truth %r sshd %r' % (i + 1, r['auth']['methods_tried'], f['methods']))
        sm = r['auth']['succeeded_method']
        if sm is not None and SSHD_METHOD.get(sm, sm) != f['accepted']:
            problems.append('run %d: succeeded truth %r sshd %r' % (i + 1, sm, f['accepted']))
        if r['outcome'] in ('ok', 'sftp-command-failed') and f['accepted'] is None:
            problems.append('run %d: outcome %s but sshd accepted nobody' % (i + 1, r['outcome']))
        if r['outcome'] == 'auth-failed' and f['accepted'] is not None:
            problems.append('run %d: auth-failed but sshd accepted %s' % (i + 1, f['accepted']))
        if r['outcome'] == 'negotiation-failed' and not f['negfail']:
            problems.append('run %d: negotiation-failed but sshd logged no negotiation failure' % (i + 1))
        log('  %s run %d sshd: kex=%s host=%s c2s=%s/%s user=%s methods=%s accepted=%s strict=%s negfail=%s' % (
            name, i + 1, f['kex'], f.get('hostkey'), f.get('cipher_c2s'), f.get('mac_c2s'),
            f['user'], f['methods'], f['accepted'], f['strict'], f['negfail']))
    return problems


# ----------------------------------------------------------------- cases

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def neg(**kw):
    d = dict(NEG_DEFAULT)
    d.update(kw)
    return d


@case
def shell_uname_v(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -p 22301 pasteuser@127.0.0.1 'uname -s'")
    data = s.close()
    return data, 'A terminal paste: shell prompt, `ssh -v` running `uname -s` with public-key auth, the command output and the next prompt.', [
        run(line_no(data, "$ ssh -v -p 22301"), 'ssh', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def shell_motd_logout(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run('ssh -v -p 22301 pasteuser@127.0.0.1', [
        (re.escape(REMOTE_PROMPT) + b'$', 'ls\r'),
        (re.escape(REMOTE_PROMPT) + b'$', 'exit\r')])
    data = s.close()
    return data, 'A terminal paste of an interactive `ssh -v` login: MOTD lines, a remote shell prompt and `ls`, then `exit`, `logout` and `Connection to 127.0.0.1 closed.` before the local prompt.', [
        run(line_no(data, '$ ssh -v -p 22301'), 'ssh', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def vvv_then_plain(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -vvv -p 22301 pasteuser@127.0.0.1 'id -un'")
    s.run("ssh -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    l1 = line_no(data, '$ ssh -vvv -p 22301')
    l2 = line_no(data, "$ ssh -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    return data, 'A terminal paste of two runs: `ssh -vvv` running `id -un`, then the same host with a plain `ssh` (no debug output) listing a folder.', [
        run(l1, 'ssh', 3, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], 'publickey', 'known', 'ok', True),
        run(l2, 'ssh', 0, 22301, 'pasteuser', 'command_line', NEG_HIDDEN, None, [], None, None, 'ok', True, versions=False)], []


@case
def three_runs_fix(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -p %d pasteuser@127.0.0.1 'ls dropbox'" % REFUSED_PORT)
    s.run("ssh -v -o BatchMode=yes -p 22301 pastuser@127.0.0.1 'ls dropbox'")
    s.run("ssh -v -o BatchMode=yes -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    l1 = line_no(data, '$ ssh -p %d' % REFUSED_PORT)
    l2 = line_no(data, '$ ssh -v -o BatchMode=yes -p 22301 pastuser@')
    l3 = line_no(data, '$ ssh -v -o BatchMode=yes -p 22301 pasteuser@')
    return data, 'A terminal paste of three tries: a wrong port (connection refused), a mistyped user name refused in batch mode, then the fixed command that works.', [
        run(l1, 'ssh', 0, REFUSED_PORT, 'pasteuser', 'command_line', None, None, [], None, None, 'connection-refused', True,
            'Connection refused', versions=False),
        run(l2, 'ssh', 1, 22301, 'pastuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], None, 'known', 'auth-failed', True,
            'Permission denied (publickey,password)'),
        run(l3, 'ssh', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def password_ok(ctx):
    a, srv = ctx.alice, ctx.srv['pwonly']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -p 22303 pasteuser@127.0.0.1 'pwd'", [(pw_prompt(), PASSWORD + '\n')])
    data = s.close()
    return data, 'A terminal paste of `ssh -v` where the offered key is refused and the password typed at the prompt is accepted.', [
        run(line_no(data, '$ ssh -v -p 22303'), 'ssh', 1, 22303, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey', 'password'], 'password', 'known', 'ok', True)], []


@case
def password_wrong(ctx):
    a, srv = ctx.alice, ctx.srv['pwonly']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -p 22303 pasteuser@127.0.0.1", [(pw_prompt(), w + '\n') for w in WRONG])
    data = s.close()
    return data, 'A terminal paste of `ssh -v` with three wrong passwords: two `Permission denied, please try again.` and the final refusal.', [
        run(line_no(data, '$ ssh -v -p 22303'), 'ssh', 1, 22303, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey', 'password'], None, 'known', 'auth-failed', True, 'Permission denied (publickey,password)')], []


@case
def kbdint_pam_ok(ctx):
    a, srv = ctx.alice, ctx.srv['kbdint']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -p 22302 pasteuser@127.0.0.1 'ls'", [(KBD_PROMPT, PASSWORD + '\n')])
    data = s.close()
    return data, 'A terminal paste of `ssh -v` against a PAM keyboard-interactive server: the key is refused, the `(pasteuser@127.0.0.1) Password:` prompt is answered and accepted.', [
        run(line_no(data, '$ ssh -v -p 22302'), 'ssh', 1, 22302, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey', 'keyboard-interactive'], 'keyboard-interactive', 'known', 'ok', True)], []


@case
def kbdint_pam_fail(ctx):
    a, srv = ctx.alice, ctx.srv['kbdint']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -p 22302 pasteuser@127.0.0.1 'ls'", [(KBD_PROMPT, w + '\n') for w in WRONG])
    data = s.close()
    return data, 'A terminal paste of `ssh -v` against a PAM keyboard-interactive server where three wrong passwords end in `Permission denied (publickey,keyboard-interactive)`.', [
        run(line_no(data, '$ ssh -v -p 22302'), 'ssh', 1, 22302, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey', 'keyboard-interactive'], None, 'known', 'auth-failed', True,
            'Permission denied (publickey,keyboard-interactive)')], []


@case
def hostkey_unknown_strict(ctx):
    a = ctx.alice
    set_known_hosts(a, '')
    s = Shell(a)
    s.run("ssh -v -o StrictHostKeyChecking=yes -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of `ssh -v -o StrictHostKeyChecking=yes` with an empty known_hosts: no ED25519 host key is known, host key verification failed.', [
        run(line_no(data, '$ ssh -v -o StrictHostKeyChecking=yes'), 'ssh', 1, 22301, 'pasteuser', 'authenticating', None, None,
            [], None, 'unknown-refused', 'hostkey-unknown', True, 'No ED25519 host key is known for [127.0.0.1]:22301')], []


@case
def hostkey_changed(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    other = os.path.join(SCRATCH, 'other_host_ed25519')
    keygen(other, 'ed25519', '')
    with open(other + '.pub') as f:
        otherkey = ' '.join(f.read().split()[:2])
    set_known_hosts(a, '[127.0.0.1]:22301 %s\n' % otherkey)
    s = Shell(a)
    s.run("ssh -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of a plain `ssh` whose known_hosts line 1 holds another ED25519 key for the host: the REMOTE HOST IDENTIFICATION HAS CHANGED banner and the refusal.', [
        run(line_no(data, '$ ssh -p 22301'), 'ssh', 0, 22301, 'pasteuser', 'command_line', None, None,
            [], None, 'changed', 'hostkey-changed', True, 'has changed and you have requested strict checking', versions=False)], []


@case
def accept_new_default(ctx):
    a = ctx.alice
    set_known_hosts(a, '')
    s = Shell(a)
    s.run("ssh -o StrictHostKeyChecking=accept-new -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of a first contact with `-o StrictHostKeyChecking=accept-new` at default verbosity: the `Permanently added` warning, then the command output.', [
        run(line_no(data, '$ ssh -o StrictHostKeyChecking=accept-new'), 'ssh', 0, 22301, 'pasteuser', 'command_line', NEG_HIDDEN, None,
            [], None, 'added', 'ok', True, versions=False)], []


@case
def visual_hostkey(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -o VisualHostKey=yes -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of `ssh -v -o VisualHostKey=yes`: the host key fingerprint with its randomart box among the debug lines.', [
        run(line_no(data, '$ ssh -v -o VisualHostKey=yes'), 'ssh', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def sftp_batch_put_denied(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run('cat batch.txt')
    s.run('sftp -v -b batch.txt -P 22301 pasteuser@127.0.0.1')
    data = s.close()
    assert os.path.exists(SERVER_HOME + '/dropbox/notes.txt') and not os.path.exists(SERVER_HOME + '/readonly/notes.txt')
    cat = line_no(data, '$ cat batch.txt')
    first = line_no(data, '$ sftp -v -b batch.txt')
    return data, 'A terminal paste: `cat` of an sftp batch file, then `sftp -v -b` where the `-put` into a read-only folder is refused and the batch goes on with a put and an ls that work.', [
        run(first, 'sftp', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], 'publickey', 'known', 'ok', True,
            sftp_ops=[{'op': 'put', 'path': 'readonly/notes.txt', 'ok': False},
                      {'op': 'put', 'path': 'dropbox/notes.txt', 'ok': True},
                      {'op': 'ls', 'path': 'dropbox', 'ok': True}])], list(range(cat + 1, first))


@case
def sftp_interactive(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    sp = rb'sftp> $'
    s.run('sftp -P 22301 pasteuser@127.0.0.1', [
        (sp, 'put report.csv dropbox/report.csv\n'), (sp, 'ls -l dropbox\n'), (sp, 'bye\n')])
    data = s.close()
    assert os.path.exists(SERVER_HOME + '/dropbox/report.csv')
    return data, 'A terminal paste of an interactive sftp session (no -v): `Connected to`, then `put`, `ls -l` and `bye` at the `sftp>` prompt.', [
        run(line_no(data, '$ sftp -P 22301'), 'sftp', 0, 22301, 'pasteuser', 'command_line', NEG_HIDDEN, None, [], None, None, 'ok', True,
            versions=False,
            sftp_ops=[{'op': 'put', 'path': 'dropbox/report.csv', 'ok': True},
                      {'op': 'ls', 'path': 'dropbox', 'ok': True}])], []


@case
def scp_sftp_mode_v(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run('scp -v -P 22301 report.csv pasteuser@127.0.0.1:dropbox/')
    data = s.close()
    return data, 'A terminal paste of `scp -v` uploading a file in its default SFTP mode (ssh child started with `-s ... sftp`).', [
        run(line_no(data, '$ scp -v -P 22301'), 'scp', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def scp_legacy_v(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run('scp -O -v -P 22301 report.csv pasteuser@127.0.0.1:dropbox/report-legacy.csv')
    data = s.close()
    assert os.path.exists(SERVER_HOME + '/dropbox/report-legacy.csv')
    return data, 'A terminal paste of `scp -O -v` uploading a file with the legacy SCP protocol (remote `scp -v -t`, `Sink:` lines).', [
        run(line_no(data, '$ scp -O -v -P 22301'), 'scp', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def scp_killed(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    killed = []

    def kill_session(sh_):
        time.sleep(6)
        before = srv.descendants()
        # the per-connection sshd processes (monitor and session), by pid
        for p in before:
            cmd = open('/proc/%d/cmdline' % p, 'rb').read()
            if cmd.startswith(b'sshd-paste: pasteuser@notty'):
                os.kill(p, signal.SIGKILL)
                killed.append((p, cmd.rstrip(b'\0')))
        time.sleep(2)
        for p in srv.descendants():
            try:
                cmd = open('/proc/%d/cmdline' % p, 'rb').read()
            except OSError:
                continue
            if cmd.startswith(b'sshd-paste: pasteuser'):
                os.kill(p, signal.SIGKILL)
                killed.append((p, cmd.rstrip(b'\0')))
    s.run('scp -l 800 -P 22301 backup.tar.gz pasteuser@127.0.0.1:dropbox/', [(rb'backup\.tar\.gz +\d+%', kill_session)])
    data = s.close()
    log('  killed: %r' % killed)
    assert killed
    return data, 'A terminal paste of a plain `scp` upload (progress meter) whose sshd session process was killed mid-way.', [
        run(line_no(data, '$ scp -l 800'), 'scp', 0, 22301, 'pasteuser', 'command_line', NEG_HIDDEN, None, [], None, None,
            'disconnected', True, 'closed by remote host', versions=False)], []


@case
def negfail_kex_group1(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -v -o KexAlgorithms=diffie-hellman-group1-sha1 -p 22301 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of `ssh -v -o KexAlgorithms=diffie-hellman-group1-sha1` against a server that does not offer it: no matching key exchange method found.', [
        run(line_no(data, '$ ssh -v -o KexAlgorithms'), 'ssh', 1, 22301, 'pasteuser', 'authenticating', None, None, [], None, None,
            'negotiation-failed', True, 'no matching key exchange method found')], []


@case
def negfail_hostkey_dss(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    data, rc = plain(a, ['ssh', '-v', '-o', 'HostKeyAlgorithms=ssh-dss', '-p', '22301', 'pasteuser@127.0.0.1', 'true'])
    assert rc == 255
    return data, 'The output of `ssh -v -o HostKeyAlgorithms=ssh-dss` saved with `2>&1` (no prompt): the server has no DSA host key, no matching host key type found.', [
        run(1, 'ssh', 1, 22301, 'pasteuser', 'authenticating', None, None, [], None, None,
            'negotiation-failed', True, 'no matching host key type found')], []


@case
def negfail_mac_md5(ctx):
    a, srv = ctx.alice, ctx.srv['modern']
    set_known_hosts(a, srv.known_hosts_lines())
    data, rc = plain(a, ['ssh', '-v', '-o', 'MACs=hmac-md5', '-p', '22305', 'pasteuser@127.0.0.1', 'true'])
    assert rc == 255
    return data, 'The output of `ssh -v -o MACs=hmac-md5` saved with `2>&1`, against a server with CTR ciphers and SHA-2 ETM MACs only: no matching MAC found.', [
        run(1, 'ssh', 1, 22305, 'pasteuser', 'authenticating', None, None, [], None, None,
            'negotiation-failed', True, 'no matching MAC found')], []


KRB5_CONF = """[libdefaults]
	default_realm = PASTE.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
[realms]
	PASTE.TEST = {
		kdc = 127.0.0.1:22398
	}
[domain_realm]
	127.0.0.1 = PASTE.TEST
"""


def der(tag, content):
    n = len(content)
    ln = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag]) + ln + content


def fake_tgt_ccache(path, client, realm):
    """A FILE ccache (format 0x0504) holding a TGT for client@realm that no KDC ever issued:
    no KDC runs here, and gss_init_sec_context only needs a TGT to go and ask one."""
    def integer(v):
        return der(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), 'big', signed=True))

    def gstr(x):
        return der(0x1b, x.encode())
    ticket = der(0x61, der(0x30,
        der(0xa0, integer(5)) + der(0xa1, gstr(realm)) +
        der(0xa2, der(0x30, der(0xa0, integer(2)) + der(0xa1, der(0x30, gstr('krbtgt') + gstr(realm))))) +
        der(0xa3, der(0x30, der(0xa0, integer(18)) + der(0xa1, integer(1)) + der(0xa2, der(0x04, os.urandom(200)))))))

    def cstr(x):
        x = x if isinstance(x, bytes) else x.encode()
        return struct.pack('>I', len(x)) + x

    def princ(comps, nt=1):
        return struct.pack('>II', nt, len(comps)) + cstr(realm) + b''.join(cstr(c) for c in comps)
    now = int(time.time())
    cred = (princ([client]) + princ(['krbtgt', realm], 2) + struct.pack('>H', 18) + cstr(os.urandom(32)) +
            struct.pack('>IIII', now - 60, now - 60, now + 36000, now + 86400) + b'\0' +
            struct.pack('>III', 0x40e10000, 0, 0) + cstr(ticket) + cstr(b''))
    with open(path, 'wb') as f:
        f.write(struct.pack('>HH', 0x0504, 0) + princ([client]) + cred)


@case
def gssapi_vv(ctx):
    a, srv = ctx.alice, ctx.srv['gss']
    set_known_hosts(a, srv.known_hosts_lines())
    kdir = os.path.join(SCRATCH, 'krb')
    os.makedirs(kdir, exist_ok=True)
    os.chmod(kdir, 0o755)
    write(kdir + '/krb5.conf', KRB5_CONF)
    fake_tgt_ccache(kdir + '/ccache', 'alice', 'PASTE.TEST')
    os.chown(kdir + '/ccache', a.pw_uid, a.pw_gid)
    os.chmod(kdir + '/ccache', 0o600)
    s = Shell(a, env={'KRB5_CONFIG': kdir + '/krb5.conf', 'KRB5CCNAME': 'FILE:' + kdir + '/ccache'})
    s.run("ssh -vv -o GSSAPIAuthentication=yes -p 22306 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of `ssh -vv -o GSSAPIAuthentication=yes` on a Kerberos client (a ticket cache we wrote, no KDC reachable): `Unspecified GSS failure` with its continuation lines, then public-key auth succeeds.', [
        run(line_no(data, '$ ssh -vv -o GSSAPIAuthentication=yes'), 'ssh', 2, 22306, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['gssapi-with-mic', 'publickey'], 'publickey', 'known', 'ok', True)], []


@case
def gssapi_vv_no_kerberos(ctx):
    a, srv = ctx.alice, ctx.srv['gss']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -vv -o GSSAPIAuthentication=yes -p 22306 pasteuser@127.0.0.1 'ls dropbox'")
    data = s.close()
    return data, 'A terminal paste of `ssh -vv -o GSSAPIAuthentication=yes` on a client without any Kerberos set-up: `No credentials were supplied` with its continuation lines (no GSSAPI packet is sent), then public-key auth succeeds.', [
        run(line_no(data, '$ ssh -vv -o GSSAPIAuthentication=yes'), 'ssh', 2, 22306, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


@case
def maxauthtries_agent(ctx):
    a, srv = ctx.alice, ctx.srv['maxauth']
    set_known_hosts(a, srv.known_hosts_lines())
    sock = os.path.join(SCRATCH, 'agent', 'agent.sock')
    os.makedirs(os.path.dirname(sock), exist_ok=True)
    os.chown(os.path.dirname(sock), a.pw_uid, a.pw_gid)
    if os.path.exists(sock):
        os.remove(sock)
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], cwd=a.pw_dir, env=client_env(a),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_user(a))
    try:
        for _ in range(50):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        keys = ['/home/alice/.ssh/keys/deploy_rsa', '/home/alice/.ssh/keys/backup_ecdsa', '/home/alice/.ssh/keys/old_ed25519']
        plain(a, ['ssh-add'] + keys, env={'SSH_AUTH_SOCK': sock})
        s = Shell(a, env={'SSH_AUTH_SOCK': sock})
        s.run('ssh-add -l')
        s.run("ssh -v -p 22304 pasteuser@127.0.0.1 'ls dropbox'")
        data = s.close()
    finally:
        agent.terminate()
        agent.wait(5)
    l0 = line_no(data, '$ ssh-add -l')
    first = line_no(data, '$ ssh -v -p 22304')
    return data, 'A terminal paste: `ssh-add -l` lists three agent keys, then `ssh -v` against a server with MaxAuthTries 2 is disconnected with Too many authentication failures.', [
        run(first, 'ssh', 1, 22304, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], None, 'known',
            'auth-failed', True, 'Too many authentication failures')], list(range(l0 + 1, first))


@case
def cut_mid_auth(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    data, rc = plain(a, ['ssh', '-vvv', '-p', '22301', 'pasteuser@127.0.0.1', 'ls dropbox'])
    assert rc == 0
    # keep the transcript up to (and including) the first `Offering public key:` line
    n = line_no(data, 'debug1: Offering public key:')
    data = b'\n'.join(lines_of(data)[:n]) + b'\n'
    return data, 'The first part of a real `ssh -vvv` transcript (saved with `2>&1`), cut by the user right after the client offers its public key.', [
        run(1, 'ssh', 3, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], None, 'known', 'incomplete', False)], []


@case
def mail_trailing_spaces(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    if os.path.exists(a.pw_dir + '/readme.txt'):
        os.remove(a.pw_dir + '/readme.txt')
    data, rc = plain(a, ['sftp', '-v', '-b', 'mail-batch.txt', '-P', '22301', 'pasteuser@127.0.0.1'])
    assert rc == 0
    # what the mail client did: a greeting and a signature around the pasted text,
    # and two spaces added at the end of every pasted line (before its CR LF / LF)
    body = re.sub(rb'(\r?\n)', rb'  \1', data)
    data = b'Hi,\nthis is what I get from the sftp job this morning:\n\n' + body + b'\nThanks,\nAlice\n'
    first = 4
    n = len(lines_of(data))
    return data, 'A real `sftp -v -b` transcript pasted into a mail: we added a greeting and a signature and two trailing spaces at the end of every pasted line, as a mail client does.', [
        run(first, 'sftp', 1, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True, ['publickey'], 'publickey', 'known', 'ok', True,
            sftp_ops=[{'op': 'ls', 'path': 'dropbox', 'ok': True}, {'op': 'get', 'path': 'dropbox/readme.txt', 'ok': True}])
    ], [1, 2, n - 2, n - 1]


@case
def vvvv(ctx):
    a, srv = ctx.alice, ctx.srv['main']
    set_known_hosts(a, srv.known_hosts_lines())
    s = Shell(a)
    s.run("ssh -vvvv -p 22301 pasteuser@127.0.0.1 'echo done'")
    data = s.close()
    return data, 'A terminal paste of `ssh -vvvv` (four v, which OpenSSH treats as three): the highest level shown is debug3.', [
        run(line_no(data, '$ ssh -vvvv -p 22301'), 'ssh', 3, 22301, 'pasteuser', 'authenticating', NEG_DEFAULT, True,
            ['publickey'], 'publickey', 'known', 'ok', True)], []


# ----------------------------------------------------------------- main

class Ctx:
    pass


PTY_NOTE = 'typed into bash (Debian bash %s) in a pseudo-terminal, the raw terminal bytes kept'
PLAIN_NOTE = "the client's stdout and stderr saved to one file, no terminal"
PLAIN_CASES = {'negfail_hostkey_dss', 'negfail_mac_md5', 'cut_mid_auth', 'mail_trailing_spaces'}
MADE_WITH_EXTRA = {
    'gssapi_vv': 'MIT Kerberos GSSAPI (Debian libgssapi-krb5-2 %s) with a krb5.conf naming an unreachable KDC and a ticket cache written by the generator (no KDC runs here)',
    'gssapi_vv_no_kerberos': 'MIT Kerberos GSSAPI (Debian libgssapi-krb5-2 %s), no Kerberos configuration',
    'maxauthtries_agent': 'ssh-agent holding three keys the server does not accept; sshd MaxAuthTries 2',
    'kbdint_pam_ok': 'sshd UsePAM yes, KbdInteractiveAuthentication yes, PasswordAuthentication no (pam_unix)',
    'kbdint_pam_fail': 'sshd UsePAM yes, KbdInteractiveAuthentication yes, PasswordAuthentication no (pam_unix)',
    'negfail_mac_md5': 'sshd Ciphers aes256-ctr,aes192-ctr,aes128-ctr and MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com',
    'shell_motd_logout': 'MOTD printed by pam_motd',
    'scp_killed': 'the sshd session process (sshd: pasteuser@notty) killed with SIGKILL about 6 s into the upload',
    'cut_mid_auth': 'transcript cut by us after its first `Offering public key:` line',
    'mail_trailing_spaces': 'greeting, signature and trailing spaces added by us',
    'sftp_batch_put_denied': 'sshd Subsystem internal-sftp; the readonly folder owned by root',
    'hostkey_changed': 'known_hosts line 1 holding another ED25519 key made with ssh-keygen',
}


def slug(fn):
    return 'real-sshd-' + fn.__name__.replace('_', '-')


def main(argv):
    global CLIENT_V, SERVER_V
    if os.geteuid() != 0:
        sys.exit('run as root (it creates users and starts sshd on 127.0.0.1)')
    want = set(argv)
    ctx = Ctx()
    ctx.alice, ctx.paste = setup()
    v = subprocess.run(['ssh', '-V'], stderr=subprocess.PIPE).stderr.decode().strip()
    CLIENT_V = v.split(',')[0]          # OpenSSH_9.2p1 Debian-2+deb12u10
    SERVER_V = CLIENT_V                 # same package build (checked against sshd's banner below)
    ctx.srv = {n: Server(n) for n in SERVERS}
    made_with = None
    try:
        for srv in ctx.srv.values():
            srv.start()
        banner = re.search(r'Local version string SSH-2\.0-(.*)', subprocess.run(
            ['ssh', '-v', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
             '-p', '22301', 'nobody@127.0.0.1', 'true'], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL).stderr.decode())
        assert banner and banner.group(1).strip() == CLIENT_V, banner
        srv_v = re.search(r'remote software version (.*)', ctx.srv['main'].text(0)).group(1).strip()
        SERVER_V = srv_v
        sshd_pkg = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'openssh-server'], stdout=subprocess.PIPE).stdout.decode()
        cli_pkg = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'openssh-client'], stdout=subprocess.PIPE).stdout.decode()
        made_with = '%s client (Debian openssh-client %s) against OpenSSH sshd %s (Debian openssh-server %s, LogLevel DEBUG3) on 127.0.0.1, Debian 12' % (
            CLIENT_V, cli_pkg, SERVER_V, sshd_pkg)
        bash_v = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'bash'], stdout=subprocess.PIPE).stdout.decode()
        krb_v = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', 'libgssapi-krb5-2'], stdout=subprocess.PIPE).stdout.decode()
        global PTY_NOTE
        PTY_NOTE = PTY_NOTE % bash_v
        MADE_WITH_EXTRA['gssapi_vv'] = MADE_WITH_EXTRA['gssapi_vv'] % krb_v
        MADE_WITH_EXTRA['gssapi_vv_no_kerberos'] = MADE_WITH_EXTRA['gssapi_vv_no_kerberos'] % krb_v
        os.makedirs(OUT, exist_ok=True)
        problems = []
        for fn in CASES:
            name = slug(fn)
            if want and name not in want and fn.__name__ not in want:
                continue
            log(name)
            marks = {s.port: (s, s.mark()) for s in ctx.srv.values()}
            data, description, runs, unparsed = fn(ctx)
            time.sleep(0.5)
            segs = {p: s.text(m) for p, (s, m) in marks.items()}
            data = rewrite(data)
            how = PLAIN_NOTE if fn.__name__ in PLAIN_CASES else PTY_NOTE
            mw = '; '.join([made_with, how] + ([MADE_WITH_EXTRA[fn.__name__]] if fn.__name__ in MADE_WITH_EXTRA else []))
            truth = {'case': name, 'description': description, 'origin': 'real', 'made_with': mw,
                     'runs': runs, 'unparsed_lines': unparsed}
            problems += ['%s: %s' % (name, p) for p in cross_check(name, truth, segs)]
            with open(os.path.join(OUT, name + '.log'), 'wb') as f:
                f.write(data)
            with open(os.path.join(OUT, name + '.truth.json'), 'w') as f:
                json.dump(truth, f, indent=2)
                f.write('\n')
            with open(os.path.join(SCRATCH, name + '.sshd.log'), 'w') as f:
                for p, t in segs.items():
                    if t.strip():
                        f.write('==== port %d\n%s' % (p, t))
        for p in problems:
            log('CHECK: ' + p)
    finally:
        for srv in ctx.srv.values():
            srv.stop()
        if os.path.exists('/etc/pam.d/' + PAM_SERVICE):   # written again by the next run's setup()
            os.remove('/etc/pam.d/' + PAM_SERVICE)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
