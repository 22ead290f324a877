#!/usr/bin/env python3
"""Make the OpenSSH client transcripts that `watch`'s host-key rules are tested on.

Real programs, run here: an AsyncSSH server on 127.0.0.1:22420 (no
authentication asked, `exit` on any command) with host keys made by
ssh-keygen, and Debian's OpenSSH client (`ssh -v`). Four runs, one
transcript each (stderr of ssh, the scratch folder's path rewritten to
/srv/watch):

  hostkey-1-first.log       ed25519 key K1, empty known_hosts: the key is added
  hostkey-2-client-warns.log ed25519 key K2, the same known_hosts: the client
                            prints its REMOTE HOST IDENTIFICATION HAS CHANGED warning
  hostkey-3-other-key.log   ed25519 key K2, a new known_hosts: the client adds it
                            silently; only history (K1 seen before) tells
  hostkey-4-new-type.log    RSA key K3 only, a new known_hosts: a key type never
                            seen for the host

Needs: pip install asyncssh; ssh and ssh-keygen.
Usage: python3 make-hostkey-transcripts.py
"""
import asyncio, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 22420


def serve(key_path):
    import asyncssh

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username):
            return False  # no authentication

    async def handle(process):
        process.exit(0)

    async def main():
        await asyncssh.create_server(Server, '127.0.0.1', PORT, server_host_keys=[key_path], process_factory=handle)
        await asyncio.Event().wait()

    asyncio.run(main())


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'serve':
        serve(sys.argv[2])
        return
    scratch = tempfile.mkdtemp(prefix='sftplog-watch-keys-')
    keys = {}
    for name, kind in [('k1', 'ed25519'), ('k2', 'ed25519'), ('k3', 'rsa')]:
        path = os.path.join(scratch, name)
        subprocess.run(['ssh-keygen', '-q', '-t', kind, '-N', '', '-f', path], check=True)
        keys[name] = path
    runs = [('hostkey-1-first', 'k1', 'kh-a'), ('hostkey-2-client-warns', 'k2', 'kh-a'),
            ('hostkey-3-other-key', 'k2', 'kh-b'), ('hostkey-4-new-type', 'k3', 'kh-c')]
    for name, key, kh in runs:
        server = subprocess.Popen([sys.executable, __file__, 'serve', keys[key]], stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.5)
            argv = ['ssh', '-v', '-p', str(PORT), '-o', 'UserKnownHostsFile=' + os.path.join(scratch, kh),
                    '-o', 'StrictHostKeyChecking=accept-new', '-o', 'BatchMode=yes', '-o', 'GlobalKnownHostsFile=/dev/null',
                    '-F', '/dev/null', 'watcher@127.0.0.1', 'true']
            out = subprocess.run(argv, capture_output=True, timeout=30)
            text = out.stderr.decode('utf-8', 'surrogateescape').replace(scratch, '/srv/watch')
            with open(os.path.join(HERE, name + '.log'), 'w', encoding='utf-8', errors='surrogateescape') as f:
                f.write(text)
            print(name, 'exit', out.returncode)
        finally:
            server.terminate()
            server.wait()
    shutil.rmtree(scratch)


if __name__ == '__main__':
    main()
