#!/usr/bin/env python3
"""Build the documentation-shaped SFTPPlus pastes in samples/pastes/sftpplus/.

Every excerpt is written from the SFTPPlus event catalogue's wordings (the
variant documented for the version the excerpt claims) filled with our own
values: accounts, hosts in 192.0.2.0/24, 198.51.100.0/24 and 2001:db8::/32,
paths, times. Only the *shapes* come from the public SFTPPlus documentation
(line blocks, wrapped continuation lines, client-shell transcripts, HTTP
event-handler requests); no text is copied from it.

Each excerpt gets NAME.txt and NAME.truth.json (format: samples/pastes/README.md).
The truth is written from what the builder put where, then checked against the
text: every event's physical lines, with bars, quote marks and indentation
removed and joined by one space, must give back its header and message.

Deterministic. Usage (from the repository root):
    python3 samples/pastes/tools/make-sftpplus-pastes.py [CATALOGUE.jsonl]
The catalogue defaults to /work/shared/reference/sftpplus-events.jsonl.
"""
import datetime
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'sftpplus')
CATALOGUE = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/reference/sftpplus-events.jsonl'

CAT = {}
for _l in open(CATALOGUE, encoding='utf-8'):
    _o = json.loads(_l)
    CAT[_o['id']] = _o


def vtuple(v):
    return tuple(int(x) for x in re.findall(r'\d+', v.split('.dev')[0]))


def T(event_id, version, /, **values):
    """The message of `event_id` as documented for `version`, holes filled.

    3.x versions have no snapshot of their own: the 4.0.0.dev0 snapshot (the
    3.x-era wordings) is used, and the ID must exist from that version on."""
    snap = '4.0.0.dev0' if version.startswith('3.') else version
    found = [v for v in CAT[event_id]['variants'] if snap in v['documented_in']]
    assert len(found) == 1, (event_id, version, len(found))
    v = found[0]
    if version.startswith('3.'):
        assert vtuple(v['from_version']) <= vtuple(version), (event_id, v['from_version'], version)
    if v['to_version']:
        assert vtuple(version) < vtuple(v['to_version']), (event_id, v['to_version'], version)
    assert sorted(values) == sorted(set(v['fields'])), (event_id, sorted(values), v['fields'])
    return v['template'] % values


# --------------------------------------------------------------------------
# Document model

class Doc:
    def __init__(self, name, description, crlf=False):
        self.name = name
        self.description = description
        self.crlf = crlf
        self.lines = []          # physical lines, no line end
        self.events = []         # truth events
        self.other = []          # (line, kind)
        self.unparsed = []       # line numbers
        self.starts = {}         # line -> what starts there (for the check)
        self.absorbed = set()    # lines inside a JSON body (not records themselves)
        self.checks = []         # (first line, last line, expected joined text, strip)

    def n(self):
        return len(self.lines) + 1   # number the next line will get

    def blank(self, text=''):
        assert text.strip() == ''
        self.lines.append(text)

    def raw(self, text, kind):
        """One physical line that is a record of `kind` ('unparsed', 'sftpplus.prompt', ...)."""
        ln = self.n()
        self.lines.append(text)
        self.starts[ln] = kind
        if kind == 'unparsed':
            self.unparsed.append(ln)
        else:
            self.other.append((ln, kind))
        return ln

    def item(self, first, conts, kind, strip, expect):
        """A record with continuation lines (a shell command wrapped, a third-party
        line-block line wrapped). `expect` is the joined text for the check."""
        ln = self.raw(first, kind)
        self.lines.extend(conts)
        self.checks.append((ln, ln + len(conts), expect, strip))
        return ln

    def json_line(self, text):
        """A line inside an HTTP/JSON body: part of the JSON document, no record of its own."""
        self.absorbed.add(self.n())
        self.lines.append(text)

    def add_event(self, ln, event_id, ts, component, account, address, port, message):
        self.events.append({
            'line': ln, 'event_id': event_id, 'ts': ts, 'component': component,
            'account': account, 'peer_address': address, 'peer_port': port,
            'message': message})
        self.starts[ln] = 'event'

    def event(self, layout, event_id, ts, component, account, peer, message,
              lead, cont, width=78, breaks=None, strip=''):
        """A text-layout event written at `lead`, wrapped onto `cont` lines.

        layout: 'id' (ID-first), 'ts' (timestamp-first), 'short'.
        peer: 'address:port' or None. component/account: None when left out.
        breaks: word counts of the first physical lines; the rest is wrapped greedily."""
        assert '  ' not in message, message
        if layout == 'id':
            head = [event_id, ts] + [x for x in (component, account, peer) if x is not None]
        elif layout == 'ts':
            head = [ts, event_id] + [x for x in (component, account, peer) if x is not None]
        elif layout == 'short':
            assert component is None and account is None and peer is None
            head = [ts, event_id]
        else:
            raise ValueError(layout)
        words = ' '.join(head).split(' ') + message.split(' ')
        rows = []
        i = 0
        for b in breaks or []:
            assert i + b <= len(words), (breaks, len(words), message)
            rows.append(' '.join(words[i:i + b]))
            i += b
        row = ''
        for w in words[i:]:
            limit = width - len(lead if not rows else cont)
            if row and len(row) + 1 + len(w) > limit:
                rows.append(row)
                row = w
            else:
                row = w if not row else row + ' ' + w
        if row:
            rows.append(row)
        ln = self.n()
        self.lines.append(lead + rows[0])
        for r in rows[1:]:
            self.lines.append(cont + r)
        if layout == 'id' or layout == 'short':
            norm = ts.replace(' ', 'T', 1)
        else:
            norm = ts
        address, port = None, None
        if peer is not None:
            address, _, p = peer.rpartition(':')
            port = int(p)
        self.add_event(ln, event_id, norm, component, account, address, port, message)
        self.checks.append((ln, ln + len(rows) - 1, ' '.join(head) + ' ' + message, strip))
        return ln

    def trail(self, spaces):
        """Add trailing spaces to the given lines ({line: '   '})."""
        for ln, sp in spaces.items():
            assert sp.strip() == ''
            self.lines[ln - 1] += sp

    # ----------------------------------------------------------------------
    def check(self):
        text_lines = self.lines
        for first, last, expect, strip in self.checks:
            parts = []
            for ln in range(first, last + 1):
                s = text_lines[ln - 1].rstrip(' \t')
                if strip and s.startswith(strip):
                    s = s[len(strip):]
                s = s.lstrip(' \t')
                if ln == first and s.startswith('| '):
                    s = s[2:]
                elif ln == first and s.startswith('|'):
                    s = s[1:].lstrip()
                parts.append(s)
                assert ln == first or ln not in self.starts, (self.name, ln)
            got = ' '.join(parts)
            assert got == expect, (self.name, first, got, expect)
        # Every non-blank line is a record start, a continuation covered by a check,
        # or a line of a JSON body.
        covered = set()
        for first, last, _, _ in self.checks:
            covered.update(range(first, last + 1))
        for i, s in enumerate(text_lines, 1):
            if s.strip() == '':
                assert i not in self.starts, (self.name, i)
                continue
            assert i in self.starts or i in covered or i in self.absorbed, (self.name, i, s)
        lines = [e['line'] for e in self.events]
        assert lines == sorted(lines)

    def write(self):
        self.check()
        eol = '\r\n' if self.crlf else '\n'
        body = eol.join(self.lines) + eol
        with open(os.path.join(OUT, self.name + '.txt'), 'w', encoding='utf-8', newline='') as f:
            f.write(body)
        truth = {
            'case': self.name,
            'description': self.description,
            'parse_options': {},
            'events': self.events,
            'other_records': [{'line': ln, 'kind': k} for ln, k in sorted(self.other)],
            'unparsed_lines': sorted(self.unparsed),
        }
        with open(os.path.join(OUT, self.name + '.truth.json'), 'w', encoding='utf-8', newline='\n') as f:
            f.write(json.dumps(truth, indent=1, ensure_ascii=False) + '\n')


DOCS = []


def doc(name, description, crlf=False):
    d = Doc(name, description, crlf)
    DOCS.append(d)
    return d


# Our own values -------------------------------------------------------------
LDAP_UUID = 'c5a7e2f0-6d1b-4e8a-9c3f-1b2d3e4f5a60'
RES_UUID = '9b2e6c1a-0d47-4c85-b3f9-6e1a2d8c5f07'
XFER_UUID = '7d3c9a52-1e4b-4f60-8a2d-5c9e0b7f1a34'
XFER2_UUID = '2e8b4f16-93c0-4d7a-a1e5-6f0c2b9d4a88'
HOOK_UUID = '5d7f1b3e-82a4-4c19-9e6d-0a3b5c7d9e21'
SHELL_UUID = '8c0f2d4e-5a61-47b3-9d02-e4f6a8b0c2d5'
SERVER_UUID = '3a9e5c71-0b2d-4f84-a6c3-d1e7f9b0a245'
ACCT_UUIDS = {
    'b.okafor': 'f2c4e6a8-1b3d-4f50-8e7a-9c0b2d4f6e18',
    'reports-bot': '6a1c3e5f-7b9d-4e02-b4a6-c8e0f2a4b6d9',
    'partner-gw': '0d2f4b6c-8e1a-4c3e-9f5b-7a9c1e3d5f70',
    'Unknown': 'peer-account',
}
PERMS = "[['allow-full-control']]"
PERMS_IN = "[['allow-read', 'allow-list'], ['/inbound/*', 'allow-full-control']]"
SSH_ALGOS = dict(host_key='ssh-ed25519', key_exchange='curve25519-sha256@libssh.org',
                 in_hmac='hmac-sha2-256-etm@openssh.com', in_cipher='aes256-ctr',
                 out_hmac='hmac-sha2-256-etm@openssh.com', out_cipher='aes256-ctr',
                 in_compression='none', out_compression='none')
SSH_ALGOS_OLD = dict(host_key='ssh-rsa', key_exchange='diffie-hellman-group14-sha1',
                     in_hmac='hmac-sha2-256', in_cipher='aes128-ctr',
                     out_hmac='hmac-sha2-256', out_cipher='aes128-ctr',
                     in_compression='none', out_compression='none')


# ==========================================================================
# 1. `::` literal block, `| ` line block indented 4, ID-first 3.x with the
#    short `date time id message` copies interleaved (as an article showed).
V = '3.48.0'
d = doc('rst-literal-id-first-3.48',
        'An rST literal block of 4-space-indented line blocks from an SFTPPlus 3.48 server: ID-first events wrapped '
        'onto deeper continuation lines (one split between account and address), each followed by its short copy.')
L4, C4 = '    | ', '      '
P = '198.51.100.23:50112'
d.raw('Logs of the partner gateway connecting to the SFTP service (SFTPPlus 3.48.0)::', 'unparsed')
d.blank()
m = T('30014', V)
d.event('id', '30014', '2019-09-03 08:41:17', 'sftp-1', 'Unknown', P, m, L4, C4, breaks=[6])
d.event('short', '30014', '2019-09-03 08:41:17', None, None, None, m, L4, C4)
m = T('20142', V, method_name='Corporate LDAP', username='partner-gw', details='Invalid credentials.')
d.event('id', '20142', '2019-09-03 08:41:18', LDAP_UUID, 'Unknown', P, m, L4, C4, breaks=[5])
d.event('short', '20142', '2019-09-03 08:41:18', None, None, None, m, L4, C4)
m = T('20137', V, account_name='partner-gw', account_type='application', group_name='DEFAULT_GROUP',
      username='partner-gw', method_name='Application Accounts', method_type='application',
      credentials_type='ssh-key')
d.event('id', '20137', '2019-09-03 08:41:18', 'sftp-1', 'partner-gw', P, m, L4, C4)
d.event('short', '20137', '2019-09-03 08:41:18', None, None, None, m, L4, C4)
d.blank()
d.raw('Once logged in, the account lands in its home folder::', 'unparsed')
d.blank()
m = T('20182', V, account_name='partner-gw', permissions=PERMS_IN, upload_names='Same as the original file.')
d.event('id', '20182', '2019-09-03 08:41:19', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30011', V, service_name='SFTP', real_path='/srv/exchange/partner-gw/', virtual_path='/', **SSH_ALGOS_OLD)
d.event('id', '30011', '2019-09-03 08:41:19', 'sftp-1', 'partner-gw', P, m, L4, C4)
d.event('short', '30011', '2019-09-03 08:41:19', None, None, None, m, L4, C4)
m = T('30060', V, path='.')
d.event('id', '30060', '2019-09-03 08:41:19', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30019', V, path='/inbound')
d.event('id', '30019', '2019-09-03 08:41:20', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30020', V, path='/inbound')
d.event('id', '30020', '2019-09-03 08:41:20', 'sftp-1', 'partner-gw', P, m, L4, C4)
d.event('short', '30020', '2019-09-03 08:41:20', None, None, None, m, L4, C4)
d.blank()
d.raw('The upload of the daily orders file::', 'unparsed')
d.blank()
m = T('30043', V, path='/srv/exchange/partner-gw/inbound/orders-0903.csv', mode='writing',
      requested_path='/inbound/orders-0903.csv')
d.event('id', '30043', '2019-09-03 08:41:21', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30068', V, path='/srv/exchange/partner-gw/inbound/orders-0903.csv', total_write='48213',
      write_speed='192852.0', duration='0.25')
d.event('id', '30068', '2019-09-03 08:41:21', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30012', V, client_version='3')
d.event('id', '30012', '2019-09-03 08:41:22', 'sftp-1', 'partner-gw', P, m, L4, C4)
m = T('30015', V, client_version='SSH-2.0-OpenSSH_7.9p1 Debian-10', **SSH_ALGOS_OLD)
d.event('id', '30015', '2019-09-03 08:41:22', 'sftp-1', 'partner-gw', P, m, L4, C4)
d.event('short', '30015', '2019-09-03 08:41:22', None, None, None, m, L4, C4)


# ==========================================================================
# 2. `.. code-block::` directive, blocks indented 3, timestamp-first 4.22, IPv6 peers.
V = '4.22.0'
d = doc('rst-code-block-ts-first-4.22',
        'Two rST code-block directives holding 3-space-indented line blocks of timestamp-first SFTPPlus 4.22 HTTPS '
        'events from an IPv6 peer, wrapped onto 5-space continuation lines.')
L3, C3 = '   | ', '     '
P6 = '2001:db8:40::1c:52210'
d.raw('.. code-block:: none', 'unparsed')
d.blank()
m = T('40007', V, real_path='/srv/web/hsato', virtual_path='/')
d.event('ts', '40007', '2021-10-05T14:22:09.731+01:00', 'https-1', 'hsato', P6, m, L3, C3)
m = T('40006', V, path='/reports/2021-10')
d.event('ts', '40006', '2021-10-05T14:22:10.002+01:00', 'https-1', 'hsato', P6, m, L3, C3)
m = T('40021', V, path='/srv/web/hsato/reports/2021-10/q3-summary.pdf',
      requested_path='/reports/2021-10/q3-summary.pdf')
d.event('ts', '40021', '2021-10-05T14:22:12.417+01:00', 'https-1', 'hsato', P6, m, L3, C3)
m = T('40017', V, path='/srv/web/hsato/reports/2021-10/q3-summary.pdf', total_write='2621440',
      write_speed='1745231.7', duration='1.502')
d.event('ts', '40017', '2021-10-05T14:22:13.921+01:00', 'https-1', 'hsato', P6, m, L3, C3)
d.blank()
d.raw('.. code-block:: text', 'unparsed')
d.blank()
m = T('40012', V, path='/srv/web/hsato/reports/2021-10/q3-draft.pdf')
d.event('ts', '40012', '2021-10-05T14:23:40.118+01:00', 'https-1', 'hsato', P6, m, L3, C3)
m = T('40013', V, path='/srv/web/hsato/reports/2021-10/locked.xlsx',
      details='[Errno 13] Permission denied: /srv/web/hsato/reports/2021-10/locked.xlsx')
d.event('ts', '40013', '2021-10-05T14:23:41.006+01:00', 'https-1', 'hsato', P6, m, L3, C3)


# ==========================================================================
# 3. Tab-indented line blocks, short form and ID-first, client-side 4.16.
V = '4.16.0'
d = doc('tab-indented-short-form-4.16',
        'Tab-indented line blocks from an SFTPPlus 4.16 client-side transfer: short-form lines and ID-first lines, '
        'wrapped onto continuation lines indented by a tab and two spaces or by two tabs.')
LT, CT, CT2 = '\t| ', '\t  ', '\t\t'
d.raw('Transfer log (short form, as the local file handler wrote it):', 'unparsed')
d.blank()
src = 'C:\\Exports\\ledger\\2020-12-07.csv'
m = T('60003', V, path=src)
d.event('short', '60003', '2020-12-08 09:03:41', None, None, None, m, LT, CT)
m = T('60010', V, transfer_type='push', path=src, size='884736')
d.event('short', '60010', '2020-12-08 09:03:42', None, None, None, m, LT, CT)
m = T('60055', V, path='/ledger/incoming/2020-12-07.csv', location='bank-sftp')
d.event('short', '60055', '2020-12-08 09:03:43', None, None, None, m, LT, CT)
m = T('60035', V, path='/ledger/incoming/2020-12-07.csv', location='bank-sftp', mode='writing',
      read_size='0', write_size='884736')
d.event('short', '60035', '2020-12-08 09:03:44', None, None, None, m, LT, CT2)
m = T('60012', V, transfer_type='push', path=src, destination_path='/ledger/incoming/2020-12-07.csv',
      size='884736', transferred_size='884736', duration='1.73', speed='499.4')
d.event('short', '60012', '2020-12-08 09:03:44', None, None, None, m, LT, CT2)
d.blank()
d.raw('The same transfer in the ID-first log:', 'unparsed')
d.blank()
m = T('60010', V, transfer_type='push', path=src, size='884736')
d.event('id', '60010', '2020-12-08 09:03:42', XFER_UUID, 'Process', '0.0.0.0:0', m, LT, CT)
m = T('60012', V, transfer_type='push', path=src, destination_path='/ledger/incoming/2020-12-07.csv',
      size='884736', transferred_size='884736', duration='1.73', speed='499.4')
d.event('id', '60012', '2020-12-08 09:03:44', XFER_UUID, 'Process', '0.0.0.0:0', m, LT, CT2)
m = T('60017', V, paths="['C:\\\\Exports\\\\ledger\\\\2020-12-07.csv']",
      destination_paths="['/ledger/incoming/2020-12-07.csv']")
d.event('id', '60017', '2020-12-08 09:03:44', XFER_UUID, 'Process', '0.0.0.0:0', m, LT, CT)


# ==========================================================================
# 4. Markdown list, blocks indented 2 and 4 spaces, timestamp-first 5.10 with Z.
V = '5.10.0'
d = doc('markdown-list-ts-first-5.10',
        'A Markdown issue whose numbered and bulleted list items hold line blocks indented 4 and 2 spaces: '
        'timestamp-first SFTPPlus 5.10 events in UTC (Z), wrapped.')
P = '192.0.2.77:61022'
d.raw('**Steps to reproduce**', 'unparsed')
d.blank()
d.raw('1. The partner connects and logs in with its key:', 'unparsed')
d.blank()
L4b, C4b = '    | ', '      '
m = T('30014', V)
d.event('ts', '30014', '2023-02-14T07:55:02.118Z', 'sftp-1', 'Unknown', P, m, L4b, C4b)
m = T('20182', V, account_name='mkowalczyk', permissions=PERMS_IN, upload_names='Same as the original file.')
d.event('ts', '20182', '2023-02-14T07:55:03.551Z', 'sftp-1', 'mkowalczyk', P, m, L4b, C4b)
m = T('30011', V, service_name='SFTP', real_path='/data/partners/mkowalczyk/', virtual_path='/',
      host_key='ssh-ed25519', key_exchange='curve25519-sha256', in_hmac='hmac-sha2-512-etm@openssh.com',
      in_cipher='aes256-gcm@openssh.com', in_compression='none')
d.event('ts', '30011', '2023-02-14T07:55:03.560Z', 'sftp-1', 'mkowalczyk', P, m, L4b, C4b)
d.blank()
d.raw('2. The upload to `/outbound` is refused:', 'unparsed')
d.blank()
d.raw('- first attempt', 'unparsed')
d.blank()
L2, C2 = '  | ', '    '
m = T('30044', V, path='/data/partners/mkowalczyk/outbound/po-88213.xml', mode='writing',
      requested_path='/outbound/po-88213.xml', details='Permission denied.')
d.event('ts', '30044', '2023-02-14T07:55:09.903Z', 'sftp-1', 'mkowalczyk', P, m, L2, C2)
d.blank()
d.raw('- second attempt, after a reconnect', 'unparsed')
d.blank()
m = T('30044', V, path='/data/partners/mkowalczyk/outbound/po-88213.xml', mode='writing',
      requested_path='/outbound/po-88213.xml', details='Permission denied.')
d.event('ts', '30044', '2023-02-14T07:56:30.274Z', 'sftp-1', 'mkowalczyk', '192.0.2.77:61040', m, L2, C2)
m = T('30050', V, details='Client sent SSH_MSG_DISCONNECT.')
d.event('ts', '30050', '2023-02-14T07:56:31.010Z', 'sftp-1', 'mkowalczyk', '192.0.2.77:61040', m, L2, C2)
m = T('30015', V, client_version='SSH-2.0-WinSCP_release_5.21.7', **SSH_ALGOS)
d.event('ts', '30015', '2023-02-14T07:56:31.012Z', 'sftp-1', 'mkowalczyk', '192.0.2.77:61040', m, L2, C2)


# ==========================================================================
# 5. E-mail quoting: `> ` before each line of a quoted line block (FTPS 4.29).
V = '4.29.0'
d = doc('email-quoted-ftps-4.29',
        'An e-mail reply quoting two line blocks of timestamp-first SFTPPlus 4.29 FTPS events, each line behind '
        '"> " (one block kept at its 4-space indentation), with unquoted prose around them.')
P = '192.0.2.140:60431'
d.raw('Hi Ines,', 'unparsed')
d.blank()
d.raw('the disk on the gateway was full, it is cleaned up now.', 'unparsed')
d.blank()
d.raw('On Tue, 9 Nov 2021 at 16:20, Ines Duarte <ines.duarte@example.org> wrote:', 'unparsed')
Q4, QC4 = '>     | ', '>       '
m = T('10033', V)
d.event('ts', '10033', '2021-11-09T15:58:40.227+01:00', 'ftps-explicit', 'Unknown', P, m, Q4, QC4,
        breaks=[5], strip='>')
m = T('10024', V)
d.event('ts', '10024', '2021-11-09T15:58:40.351+01:00', 'ftps-explicit', 'Unknown', P, m, Q4, QC4,
        breaks=[5], strip='>')
m = T('10059', V, real_path='/srv/ftps/b.okafor', virtual_path='/',
      encryption='TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384', certificate='None')
d.event('ts', '10059', '2021-11-09T15:58:41.090+01:00', 'ftps-explicit', 'b.okafor', P, m, Q4, QC4, strip='>')
m = T('10022', V, port='40213')
d.event('ts', '10022', '2021-11-09T15:58:41.412+01:00', 'ftps-explicit', 'b.okafor', P, m, Q4, QC4, strip='>')
Q, QC = '> | ', '>   '
m = T('10077', V, path='/outbox/statement-2021-11.pdf')
d.event('ts', '10077', '2021-11-09T15:58:41.530+01:00', 'ftps-explicit', 'b.okafor', P, m, Q, QC, strip='>')
m = T('10079', V, path='/srv/ftps/b.okafor/outbox/statement-2021-11.pdf',
      details='[Errno 28] No space left on device')
d.event('ts', '10079', '2021-11-09T15:58:44.876+01:00', 'ftps-explicit', 'b.okafor', P, m, Q, QC, strip='>')
m = T('10034', V, encryption='TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384', certificate='None')
d.event('ts', '10034', '2021-11-09T15:58:45.002+01:00', 'ftps-explicit', 'b.okafor', P, m, Q, QC, strip='>')
d.blank()
d.raw('Regards,', 'unparsed')
d.raw('Bola', 'unparsed')


# ==========================================================================
# 6. Continuation lines that are new events; bars missing on some lines.
V = '4.25.0'
d = doc('continuation-new-event-missing-bar-4.25',
        'A line block of SFTPPlus 4.25 events where some lines at continuation depth start with an event ID or '
        'timestamp and are new events, some event lines lack the bar, and continuations start with plain numbers.')
P = '198.51.100.61:49830'
d.raw('Download of the June reports by hsato (SFTPPlus 4.25.0)::', 'unparsed')
d.blank()
m = T('30019', V, path='/reports/2021-06')
d.event('ts', '30019', '2021-06-30T11:02:15.004+02:00', 'sftp-1', 'hsato', P, m, L4, C4, breaks=[6])
m = T('30020', V, path='/reports/2021-06')
d.event('ts', '30020', '2021-06-30T11:02:15.019+02:00', 'sftp-1', 'hsato', P, m, C4, C4, breaks=[6])
m = T('30043', V, path='/srv/reports/hsato/2021-06/summary.pdf', mode='reading',
      requested_path='/reports/2021-06/summary.pdf')
d.event('ts', '30043', '2021-06-30T11:02:16.220+02:00', 'sftp-1', 'hsato', P, m, L4, C4)
m = T('30067', V, path='/srv/reports/hsato/2021-06/summary.pdf', total_read='1048576',
      read_speed='2097152.0', duration='0.5')
d.event('ts', '30067', '2021-06-30T11:02:16.901+02:00', 'sftp-1', 'hsato', P, m, L4, C4, breaks=[6, 4])
m = T('30043', V, path='/srv/reports/hsato/2021-06/annex-b.csv', mode='reading',
      requested_path='/reports/2021-06/annex-b.csv')
d.event('ts', '30043', '2021-06-30T11:02:17.113+02:00', 'sftp-1', 'hsato', P, m, '    ', C4)
m = T('30067', V, path='/srv/reports/hsato/2021-06/annex-b.csv', total_read='30020',
      read_speed='60040.0', duration='0.5')
d.event('ts', '30067', '2021-06-30T11:02:17.622+02:00', 'sftp-1', 'hsato', P, m, '    ', C4, breaks=[6, 4])
d.blank()
d.raw('The same lines from the ID-first log, pasted with some bars lost::', 'unparsed')
d.blank()
m = T('30019', V, path='/reports/2021-06')
d.event('id', '30019', '2021-06-30 11:02:15', 'sftp-1', 'hsato', P, m, L4, C4, breaks=[7])
m = T('30020', V, path='/reports/2021-06')
d.event('id', '30020', '2021-06-30 11:02:15', 'sftp-1', 'hsato', P, m, C4, C4, breaks=[8])
m = T('30043', V, path='/srv/reports/hsato/2021-06/summary.pdf', mode='reading',
      requested_path='/reports/2021-06/summary.pdf')
d.event('short', '30043', '2021-06-30 11:02:16', None, None, None, m, C4, C4)
m = T('30067', V, path='/srv/reports/hsato/2021-06/summary.pdf', total_read='1048576',
      read_speed='2097152.0', duration='0.5')
d.event('id', '30067', '2021-06-30 11:02:16', 'sftp-1', 'hsato', P, m, '    ', C4, breaks=[7, 4])
m = T('30012', V, client_version='3')
d.event('id', '30012', '2021-06-30 11:02:18', 'sftp-1', 'hsato', P, m, L4, C4)
m = T('30015', V, client_version='SSH-2.0-paramiko_2.7.2', **SSH_ALGOS)
d.event('id', '30015', '2021-06-30 11:02:18', 'sftp-1', 'hsato', P, m, '    ', C4)


# ==========================================================================
# 7. Events lacking the component or the account before address:port (3.x ID-first).
V = '3.48.0'
d = doc('missing-component-or-account-3.48',
        'Line blocks of SFTPPlus 3.48 ID-first events written by handlers whose format leaves out the component, '
        'the account or both before address:port; the missing fields are null.')
P = '192.0.2.15:40918'
d.raw('Handler without the component (id, time, account, peer, message)::', 'unparsed')
d.blank()
m = T('30014', V)
d.event('id', '30014', '2019-11-21 19:07:55', None, 'Unknown', P, m, L4, C4)
m = T('20137', V, account_name='anna.weiss', account_type='os', group_name='DEFAULT_GROUP',
      username='anna.weiss', method_name='Operating System Accounts', method_type='os', credentials_type='password')
d.event('id', '20137', '2019-11-21 19:07:57', None, 'Unknown', P, m, L4, C4)
m = T('20182', V, account_name='anna.weiss', permissions=PERMS, upload_names='Same as the original file.')
d.event('id', '20182', '2019-11-21 19:07:57', None, 'anna.weiss', P, m, L4, C4)
m = T('30011', V, service_name='SFTP', real_path='/home/anna.weiss/', virtual_path='/', **SSH_ALGOS_OLD)
d.event('id', '30011', '2019-11-21 19:07:57', None, 'anna.weiss', P, m, L4, C4)
d.blank()
d.raw('Handler without the account (id, time, component, peer, message)::', 'unparsed')
d.blank()
m = T('30014', V)
d.event('id', '30014', '2019-11-21 19:07:55', 'sftp-1', None, P, m, L4, C4)
m = T('20142', V, method_name='Head office LDAP', username='anna.weiss', details='Invalid credentials.')
d.event('id', '20142', '2019-11-21 19:07:56', LDAP_UUID, None, P, m, L4, C4, breaks=[4])
m = T('30019', V, path='/')
d.event('id', '30019', '2019-11-21 19:07:58', 'sftp-1', None, P, m, L4, C4)
m = T('30020', V, path='/')
d.event('id', '30020', '2019-11-21 19:07:58', 'sftp-1', None, P, m, L4, C4)
d.blank()
d.raw('Handler with neither (id, time, peer, message)::', 'unparsed')
d.blank()
m = T('30012', V, client_version='3')
d.event('id', '30012', '2019-11-21 19:09:02', None, None, P, m, L4, C4)
m = T('30015', V, client_version='SSH-2.0-FileZilla_3.46.3', **SSH_ALGOS_OLD)
d.event('id', '30015', '2019-11-21 19:09:02', None, None, P, m, L4, C4)


# ==========================================================================
# 8. Client-shell session in line blocks (3.x): shell start, banner, prompts,
#    events on their own lines and on a prompt's continuation line, attributes.
V = '3.48.0'
d = doc('client-shell-line-block-3.48',
        'An SFTPPlus 3.48 client-shell session in a line block: the wrapped shell command, the banner, prompts each '
        'followed by ID-first events (two on the prompt item\'s continuation line) and a name: value listing.')
LOC = 'partner-sftp'
PP = '0.0.0.0:0'
d.raw('Pushing last night\'s archive with the client shell::', 'unparsed')
d.blank()
d.item('    | $ ./bin/client-shell.sh sftp://tz-archive@198.51.100.40:22',
       ['      --ssh-private-key=keys/tz-archive_ed25519 --ssh-server-fingerprint',
        '      SHA256:q3VbX8kLm2Zr7tYw0pNc5HdJf9GsAe4Ui1Ox6Kv2Bjg'],
       'sftpplus.shell', '',
       '$ ./bin/client-shell.sh sftp://tz-archive@198.51.100.40:22 --ssh-private-key=keys/tz-archive_ed25519 '
       '--ssh-server-fingerprint SHA256:q3VbX8kLm2Zr7tYw0pNc5HdJf9GsAe4Ui1Ox6Kv2Bjg')
d.raw('    | SFTPPlus (3.48.0) file transfer client shell', 'sftpplus.banner')
d.raw('    | > connect', 'sftpplus.prompt')
m = T('20140', V, name=LOC)
d.event('id', '20140', '2019-10-14 10:12:31', RES_UUID, 'Process', PP, m, L4, C4, breaks=[5])
m = T('30072', V, name=LOC)
d.event('id', '30072', '2019-10-14 10:12:32', 'Process', 'tz-archive', '198.51.100.40:22', m, L4, C4)
m = T('30076', V, name=LOC)
d.event('id', '30076', '2019-10-14 10:12:32', 'Process', 'tz-archive', '198.51.100.40:22', m, L4, C4)
m = T('20141', V, name=LOC)
d.event('id', '20141', '2019-10-14 10:12:32', RES_UUID, 'Process', PP, m, L4, C4, breaks=[5])
m = T('20156', V, family='location', name=LOC, type='sftp')
d.event('id', '20156', '2019-10-14 10:12:32', RES_UUID, 'Process', PP, m, L4, C4, breaks=[5])
d.raw('    | > put /var/archive/2019-10-13.tar.gz /incoming/2019-10-13.tar.gz', 'sftpplus.prompt')
m = T('60055', V, path='/incoming/2019-10-13.tar.gz', location=LOC)
d.event('id', '60055', '2019-10-14 10:12:35', 'Process', 'Process', PP, m, C4, C4)
m = T('60035', V, path='/incoming/2019-10-13.tar.gz', location=LOC, mode='writing')
d.event('id', '60035', '2019-10-14 10:13:51', 'Process', 'Process', PP, m, L4, C4)
d.raw('    | > gattrs /incoming/2019-10-13.tar.gz', 'sftpplus.prompt')
m = T('60071', V, path='/incoming/2019-10-13.tar.gz', location=LOC)
d.event('id', '60071', '2019-10-14 10:14:02', 'Process', 'Process', PP, m, L4, C4)
for a in ['name: 2019-10-13.tar.gz', 'path: /incoming/2019-10-13.tar.gz', 'size: 73400320',
          'modified: 2019-10-14 10:13:51', 'is_file: True', 'is_folder: False']:
    d.raw('    | ' + a, 'sftpplus.attribute')
d.raw('    | > get /incoming/2019-10-12.tar.gz.md5', 'sftpplus.prompt')
m = T('60054', V, path='/incoming/2019-10-12.tar.gz.md5', location=LOC, details='No such file')
d.event('id', '60054', '2019-10-14 10:14:20', 'Process', 'Process', PP, m, C4, C4)
d.raw('    | > close', 'sftpplus.prompt')
m = T('30077', V, name=LOC)
d.event('id', '30077', '2019-10-14 10:14:25', 'Process', 'tz-archive', '198.51.100.40:22', m, L4, C4)
d.raw('    | > exit', 'sftpplus.prompt')


# ==========================================================================
# 9. Client-shell transcript in a plain literal block (no bars), 4.30.
V = '4.30.1'
d = doc('client-shell-plain-options-4.30',
        'An SFTPPlus 4.30 client-shell transcript in a plain literal block: set/show commands with name: value '
        'answers, an empty prompt, a comment prompt, and timestamp-first events wrapped onto deeper lines.')
LOC = 'reports-sftp'
PP = '0.0.0.0:0'
S, SC = '    ', '      '
d.raw('Same upload, options typed in the shell::', 'unparsed')
d.blank()
d.raw('    $ ./bin/client-shell.sh', 'sftpplus.shell')
d.raw('    SFTPPlus (4.30.1) file transfer client shell', 'sftpplus.banner')
for c in ['set protocol sftp', 'set address 198.51.100.40', 'set port 2222', 'set username reports-bot',
          'set ssh_private_key keys/reports-bot.ed25519', 'show protocol']:
    d.raw('    > ' + c, 'sftpplus.prompt')
d.raw('    protocol: sftp', 'sftpplus.attribute')
d.raw('    > show port', 'sftpplus.prompt')
d.raw('    port: 2222', 'sftpplus.attribute')
d.raw('    > open', 'sftpplus.prompt')
m = T('20140', V, name=LOC)
d.event('ts', '20140', '2022-05-23T09:14:02.551+03:00', SHELL_UUID, 'Process', PP, m, S, SC)
m = T('30072', V, name=LOC)
d.event('ts', '30072', '2022-05-23T09:14:02.930+03:00', SHELL_UUID, 'reports-bot', '198.51.100.40:2222', m, S, SC)
m = T('30076', V, name=LOC, credentials_type='ssh-key')
d.event('ts', '30076', '2022-05-23T09:14:03.104+03:00', SHELL_UUID, 'reports-bot', '198.51.100.40:2222', m, S, SC)
m = T('20141', V, name=LOC)
d.event('ts', '20141', '2022-05-23T09:14:03.106+03:00', SHELL_UUID, 'Process', PP, m, S, SC)
d.raw('    >', 'sftpplus.prompt')
d.raw('    > # Upload with a new name on the remote side.', 'sftpplus.prompt')
d.raw('    > put out/weekly.xlsx /reports/weekly-2022-21.xlsx', 'sftpplus.prompt')
m = T('60055', V, path='/reports/weekly-2022-21.xlsx', location=LOC)
d.event('ts', '60055', '2022-05-23T09:14:11.387+03:00', SHELL_UUID, 'Process', PP, m, S, SC)
m = T('60035', V, path='/reports/weekly-2022-21.xlsx', location=LOC, mode='writing', read_size='0',
      write_size='18432')
d.event('ts', '60035', '2022-05-23T09:14:11.840+03:00', SHELL_UUID, 'Process', PP, m, S, SC)
d.raw('    > ls /reports', 'sftpplus.prompt')
m = T('60051', V, path='/reports', location=LOC)
d.event('ts', '60051', '2022-05-23T09:14:15.212+03:00', SHELL_UUID, 'Process', PP, m, S, SC)
d.raw('    > close', 'sftpplus.prompt')
m = T('30077', V, name=LOC)
d.event('ts', '30077', '2022-05-23T09:14:19.003+03:00', SHELL_UUID, 'reports-bot', '198.51.100.40:2222', m, S, SC)
d.raw('    > exit', 'sftpplus.prompt')


# ==========================================================================
# HTTP event handler: JSON bodies.

def unix_ts(iso_utc, frac):
    dt = datetime.datetime.fromisoformat(iso_utc).replace(tzinfo=datetime.timezone.utc)
    sec = int(dt.timestamp())
    return '%d.%s' % (sec, frac) if frac else str(sec), dt.strftime('%Y-%m-%d %H:%M:%S'), \
        iso_utc + ('.' + frac if frac else '') + 'Z'


def jstr(s):
    return json.dumps(s, ensure_ascii=False)


def event_object(ev, ind, hanging, ts_as_string=True, omit=(), data_elided=False):
    """Lines of one event object, in the documentation's layout when `hanging`
    (closing braces indented at the level of the members they close).
    Returns (lines, truth) with truth minus 'line'."""
    u, cwa, ts_truth = unix_ts(ev['utc'], ev['frac'])
    i1 = ind + '  '
    i2 = i1 + '  '
    i3 = i2 + '  '
    close1 = i2 if hanging else i1
    close2 = i3 if hanging else i2
    tsval = jstr(u) if ts_as_string else u
    members = []
    members.append([i1 + '"id": ' + jstr(ev['id'])])
    if 'message' not in omit:
        members.append([i1 + '"message": ' + jstr(ev['message'])])
    members.append([i1 + '"timestamp": {',
                    i2 + '"timestamp": ' + tsval + ',',
                    i2 + '"cwa_14051": ' + jstr(cwa),
                    close1 + '}'])
    acct = ev['account']
    addr, port = ev['peer']
    fam = 'IPv6' if ':' in addr else 'IPv4'
    members.append([i1 + '"account": {',
                    i2 + '"uuid": ' + jstr(ACCT_UUIDS.get(acct, 'process-account')) + ',',
                    i2 + '"name": ' + jstr(acct) + ',',
                    i2 + '"peer": {',
                    i3 + '"address": ' + jstr(addr) + ',',
                    i3 + '"port": ' + str(port) + ',',
                    i3 + '"family": ' + jstr(fam) + ',',
                    i3 + '"protocol": "TCP"',
                    close2 + '}',
                    close1 + '}'])
    comp = ev['component']
    members.append([i1 + '"component": {',
                    i2 + '"uuid": ' + jstr(comp[0]) + ',',
                    i2 + '"type": ' + jstr(comp[1]) + ',',
                    i2 + '"name": ' + jstr(comp[2]),
                    close1 + '}'])
    if ev.get('server'):
        members.append([i1 + '"server": {',
                        i2 + '"uuid": ' + jstr(SERVER_UUID) + ',',
                        i2 + '"name": "mft-dmz-02"',
                        close1 + '}'])
    if data_elided:
        members.append([i1 + '"data": { ... }'])
    elif ev.get('data') is not None:
        items = list(ev['data'].items())
        block = [i1 + '"data": {']
        for k, (key, val) in enumerate(items):
            block.append(i2 + jstr(key) + ': ' + jstr(val) + (',' if k < len(items) - 1 else ''))
        block.append(close1 + '}')
        members.append(block)
    lines = [ind + '{']
    for k, block in enumerate(members):
        if k < len(members) - 1:
            block = block[:-1] + [block[-1] + ',']
        lines.extend(block)
    lines.append((i1 if hanging else ind) + '}')
    truth = {'event_id': ev['id'], 'ts': ts_truth, 'component': comp[0], 'account': acct,
             'peer_address': addr, 'peer_port': port,
             'message': None if 'message' in omit else ev['message']}
    return lines, truth


def body_length(lines, indent):
    text = '\n'.join(l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines) + '\n'
    return len(text.encode('utf-8'))


def put_event_object(doc_, lines, truth):
    ln = doc_.n()
    for l in lines:
        doc_.json_line(l)
    doc_.absorbed.discard(ln)
    doc_.add_event(ln, truth['event_id'], truth['ts'], truth['component'], truth['account'],
                   truth['peer_address'], truth['peer_port'], truth['message'])


# 10. Valid pretty-printed batch in the documentation's layout (5.22).
V = '5.22.0'
d = doc('http-post-json-batch-5.22',
        'An HTTP POST from the SFTPPlus 5.22 HTTP event handler as documentation shows it: request line, headers, '
        'a blank line and a pretty-printed {"events": [...]} batch of two HTTPS events with hanging braces.')
HTTPS = ('https-1', 'http', 'HTTPS for partners')
evs = [
    dict(id='40007', utc='2023-07-03T10:02:01', frac='482', account='b.okafor', peer=('2001:db8:7:3::15', 51744),
         component=HTTPS, server=True,
         message=T('40007', V, real_path='/srv/web/b.okafor', virtual_path='/'),
         data={'real_path': '/srv/web/b.okafor', 'virtual_path': '/'}),
    dict(id='40017', utc='2023-07-03T10:02:04', frac='107', account='b.okafor', peer=('2001:db8:7:3::15', 51744),
         component=HTTPS, server=True,
         message=T('40017', V, path='/srv/web/b.okafor/invoices/INV-2023-0714.pdf', total_write='311296',
                   write_speed='1223712.6', duration='0.254'),
         data={'path': '/srv/web/b.okafor/invoices/INV-2023-0714.pdf', 'total_write': '311296',
               'write_speed': '1223712.6', 'duration': '0.254'}),
]
objs = [event_object(e, '        ', hanging=True) for e in evs]
body = ['    {', '      "events": [']
for k, (ls, _) in enumerate(objs):
    body.extend(ls[:-1] + [ls[-1] + (',' if k < len(objs) - 1 else '')])
body.extend(['        ]', '    }'])
d.raw('This is what our endpoint receives from the event handler::', 'unparsed')
d.blank()
d.raw('    POST /hooks/sftpplus/events HTTP/1.1', 'http.request')
d.raw('    Host: hooks.example.net', 'http.header')
d.raw('    Content-Type: application/json', 'http.header')
d.raw('    Content-Length: %d' % body_length(body, '    '), 'http.header')
d.blank()
d.json_line(body[0])
d.json_line(body[1])
for k, (ls, truth) in enumerate(objs):
    ls = ls[:-1] + [ls[-1] + (',' if k < len(objs) - 1 else '')]
    put_event_object(d, ls, truth)
d.json_line(body[-2])
d.json_line(body[-1])


# 11. Trailing commas and // comments (4.20), standard brace layout, numeric timestamps.
V = '4.20.0'
d = doc('http-post-json-trailing-commas-4.20',
        'An SFTPPlus 4.20 HTTP event-handler request annotated by hand: // comment lines and trailing commas '
        'inside a pretty-printed batch of three SFTP events whose intent stays unambiguous.')
SFTP = ('sftp-1', 'ssh', 'SFTP partners')
P = ('198.51.100.88', 40622)
evs = [
    dict(id='20137', utc='2022-01-18T06:30:12', frac='25', account='partner-gw', peer=P, component=SFTP,
         message=T('20137', V, account_name='partner-gw', account_type='application', group_name='partners',
                   method_name='Application Accounts', method_type='application', credentials_type='ssh-key',
                   username='partner-gw'),
         data={'account_name': 'partner-gw', 'method_type': 'application', 'credentials_type': 'ssh-key'}),
    dict(id='20182', utc='2022-01-18T06:30:12', frac='31', account='partner-gw', peer=P, component=SFTP,
         message=T('20182', V, account_name='partner-gw', permissions=PERMS_IN,
                   upload_names='Same as the original file.'),
         data=None),
    dict(id='30011', utc='2022-01-18T06:30:12', frac='47', account='partner-gw', peer=P, component=SFTP,
         message=T('30011', V, service_name='SFTP', real_path='/srv/exchange/partner-gw/', virtual_path='/',
                   **SSH_ALGOS),
         data={'service_name': 'SFTP', 'real_path': '/srv/exchange/partner-gw/', 'virtual_path': '/'}),
]
d.raw('Request captured on the receiving side (comments are mine)::', 'unparsed')
d.blank()
d.raw('    POST /sftpplus/hook HTTP/1.1', 'http.request')
d.raw('    Host: 192.0.2.200:8443', 'http.header')
d.raw('    Content-Type: application/json; charset=utf-8', 'http.header')
d.raw('    Accept: */*', 'http.header')
d.blank()
d.json_line('    {')
d.json_line('      "events": [')
d.json_line('        // login accepted')
ls, tr = event_object(evs[0], '        ', hanging=False, ts_as_string=False)
ls[-1] += ','
ls[-2] = ls[-2].replace('}', '},')          # trailing comma after the last member
put_event_object(d, ls, tr)
d.json_line('        // permissions, no "data" member in this one')
ls, tr = event_object(evs[1], '        ', hanging=False, ts_as_string=False)
ls[-1] += ','
put_event_object(d, ls, tr)
d.json_line('        // the SFTP subsystem starts')
ls, tr = event_object(evs[2], '        ', hanging=False, ts_as_string=False)
ls[-1] += ','                               # trailing comma after the last element
ls = [l + ',' if l.endswith('"virtual_path": "/"') else l for l in ls]
put_event_object(d, ls, tr)
d.json_line('      ],')
d.json_line('    }')


# 12. `# comments`, an elided `...` element and an elided data member (5.15);
#     request line without an HTTP version, as the documentation writes it.
V = '5.15.0'
d = doc('http-post-json-elided-5.15',
        'An SFTPPlus 5.15 HTTP event-handler request with no HTTP version on the request line, # comment lines, '
        'an elided "..." element and an elided data object; one event carries no message member.')
XF = (XFER2_UUID, 'transfer', 'ledger to bank')
PR = ('0.0.0.0', 0)
evs = [
    dict(id='60010', utc='2024-01-09T04:00:03', frac='5501', account='Process', peer=PR, component=XF,
         message=T('60010', V, transfer_type='push', path='/exports/ledger/2024-01-08.csv', size='1296384',
                   content_action='none')),
    dict(id='60012', utc='2024-01-09T04:00:06', frac='0914', account='Process', peer=PR, component=XF,
         message=T('60012', V, transfer_type='push', path='/exports/ledger/2024-01-08.csv',
                   destination_path='/incoming/2024-01-08.csv', size='1296384', transferred_size='1296384',
                   duration='2.53', speed='500.4'),
         data={'destination_path': '/incoming/2024-01-08.csv', 'source_path': '/exports/ledger/2024-01-08.csv'}),
    dict(id='60017', utc='2024-01-09T04:00:06', frac='1002', account='Process', peer=PR, component=XF,
         message='(not sent)',
         data={'paths': "['/exports/ledger/2024-01-08.csv']",
               'destination_paths': "['/incoming/2024-01-08.csv']"}),
]
d.raw('Example of the body sent for a transfer (trimmed)::', 'unparsed')
d.blank()
d.raw('    POST /remote/sftpplus-events', 'http.request')
d.raw('    Content-Type: application/json', 'http.header')
d.blank()
d.json_line('    {')
d.json_line('      "events": [')
d.json_line('        # the transfer starts')
ls, tr = event_object(evs[0], '        ', hanging=True, data_elided=True)
ls[-1] += ','
put_event_object(d, ls, tr)
d.json_line('        ...')
d.json_line('        # and ends')
ls, tr = event_object(evs[1], '        ', hanging=True)
ls[-1] += ','
put_event_object(d, ls, tr)
ls, tr = event_object(evs[2], '        ', hanging=True, omit=('message',))
put_event_object(d, ls, tr)
d.json_line('        ]')
d.json_line('    }')


# 13. A body too broken to read: every value cut at a fixed width (5.26),
#     then one event line the reporter added from the server log.
V = '5.26.0'
d = doc('http-post-json-too-broken-5.26',
        'An SFTPPlus 5.26 HTTP event-handler request whose JSON body was cut at a fixed column by a log shipper, '
        'too broken to read (one unparsed record per line of the body), followed by a readable timestamp-first event.')
d.raw('What the receiver logged (our log shipper cuts lines at 24 characters)::', 'unparsed')
d.blank()
d.raw('    POST /hooks/sftpplus HTTP/1.1', 'http.request')
d.raw('    Host: hooks.example.net', 'http.header')
d.raw('    Content-Type: application/json', 'http.header')
d.blank()
full = [
    '    {',
    '      "events": [',
    '        {',
    '          "id": "30014",',
    '          "message": "New SSH connection made.",',
    '          "timestamp": {',
    '            "timestamp": "1711954812.731",',
    '            "cwa_14051": "2024-04-01 07:00:12"',
    '            },',
    '          "account": {',
    '            "uuid": "peer-account",',
    '            "name": "Unknown",',
    '            "peer": {',
    '              "address": "198.51.100.9",',
    '              "port": 55102,',
    '              "protocol": "TCP"',
    '              }',
    '            },',
    '          "component": {',
    '            "uuid": "sftp-1",',
    '            "type": "ssh"',
    '            }',
    '          }',
    '        ]',
    '    }',
]
CUT = 24
# JSON that cannot be read is kept as one unparsed record per line, each
# naming the line where the JSON stops parsing.
for l in full:
    d.raw(l[:CUT], 'unparsed')
d.blank()
d.raw('and in the SFTPPlus log at the same time::', 'unparsed')
d.blank()
m = T('30014', V)
d.event('ts', '30014', '2024-04-01T07:00:12.731+00:00', 'sftp-1', 'Unknown', '198.51.100.9:55102', m, '    ', '      ')


# ==========================================================================
# 14. FTP client transcript beside SFTPPlus FTP service events (4.34).
V = '4.34.0'
d = doc('ftp-client-transcript-4.34',
        'A command-line FTP client transcript (ftp> commands, numbered replies, a passive-mode reply with bars) '
        'next to a line block of the SFTPPlus 4.34 FTP service events for the same upload.')
d.raw('Client side, from the workstation:', 'unparsed')
d.blank()
for l in ['ftp> open 198.51.100.20 2121',
          'Connected to 198.51.100.20.',
          '220 Welcome to the partner FTP service.',
          'Name (198.51.100.20:lvanterpool): lvanterpool',
          '331 Please specify the password.',
          'Password:',
          '230 Login successful.',
          'Remote system type is UNIX.',
          'Using binary mode to transfer files.',
          'ftp> put invoices-2022-11.zip',
          'local: invoices-2022-11.zip remote: invoices-2022-11.zip',
          '229 Entering Extended Passive Mode (|||40112|)',
          '150 Ok to send data.',
          '226 Transfer complete.',
          '209715 bytes sent in 0.04 secs (5.0 MB/s)',
          'ftp> bye',
          '221 Goodbye.']:
    d.raw('    ' + l, 'unparsed')
d.blank()
d.raw('Server side, same minute::', 'unparsed')
d.blank()
P = '198.51.100.77:53310'
FTPC = 'ftp-partners'
m = T('10033', V)
d.event('ts', '10033', '2022-11-30T16:40:03.115+00:00', FTPC, 'Unknown', P, m, L4, C4)
m = T('10059', V, real_path='/srv/ftp/lvanterpool', virtual_path='/')
d.event('ts', '10059', '2022-11-30T16:40:07.402+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10020', V)
d.event('ts', '10020', '2022-11-30T16:40:12.018+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10022', V, address='198.51.100.20', port='40112')
d.event('ts', '10022', '2022-11-30T16:40:12.020+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10077', V, path='/invoices-2022-11.zip')
d.event('ts', '10077', '2022-11-30T16:40:12.044+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10099', V, host='198.51.100.77', port='53318', command='STOR invoices-2022-11.zip',
      fqdn='ftp.partners.example.net')
d.event('ts', '10099', '2022-11-30T16:40:12.051+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10078', V, path='/invoices-2022-11.zip', total='209715', speed='5242875.0', duration='0.04')
d.event('ts', '10078', '2022-11-30T16:40:12.093+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10030', V, encryption='none', received='209715', sent='0', speed='5242875.0', duration='0.04',
      host_address='198.51.100.20', host_port='40112', peer_address='198.51.100.77', peer_port='53318',
      certificate='None')
d.event('ts', '10030', '2022-11-30T16:40:12.095+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10066', V)
d.event('ts', '10066', '2022-11-30T16:40:15.630+00:00', FTPC, 'lvanterpool', P, m, L4, C4)
m = T('10034', V, encryption='none', certificate='None')
d.event('ts', '10034', '2022-11-30T16:40:15.632+00:00', FTPC, 'lvanterpool', P, m, L4, C4)


# ==========================================================================
# 15. A webhook receiver's stdout and Python traceback beside SFTPPlus console lines (5.24).
V = '5.24.0'
d = doc('webhook-stdout-traceback-5.24',
        'A ticket pasting a webhook receiver\'s stdout (access lines quoting "POST ... HTTP/1.1") and a Python '
        'traceback in a line block, then SFTPPlus 5.24 console events from debug mode.')
d.raw('Output of our receiver on hooks.example.net:', 'unparsed')
d.blank()
for l in ['Serving HTTP on 0.0.0.0 port 8081 (http://0.0.0.0:8081/) ...',
          '192.0.2.201 - - [12/Jun/2024 08:30:11] "POST /hooks/sftpplus HTTP/1.1" 200 -',
          'got a batch with 2 events (30014, 30011)',
          '192.0.2.201 - - [12/Jun/2024 08:30:14] "POST /hooks/sftpplus HTTP/1.1" 500 -']:
    d.raw('    ' + l, 'unparsed')
d.blank()
d.raw('and the error it printed::', 'unparsed')
d.blank()
for l in ['Traceback (most recent call last):',
          '  File "/opt/hooks/receiver.py", line 57, in do_POST',
          '    batch = json.loads(self.rfile.read(length))',
          '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
          '    return _default_decoder.decode(s)',
          'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)']:
    d.raw('    | ' + l, 'unparsed')
d.blank()
d.raw('SFTPPlus console (./bin/admin-commands.sh debug) at the same time::', 'unparsed')
d.blank()
m = T('20189', V, event_id='30011', target_path='https://hooks.example.net:8081/hooks/sftpplus')
d.event('ts', '20189', '2024-06-12T08:30:11.204+00:00', HOOK_UUID, 'Process', '0.0.0.0:0', m, '    ', '      ')
m = T('20174', V, id='30015', name='partner-webhook', target_path='https://hooks.example.net:8081/hooks/sftpplus',
      details='Server returned 500:Internal Server Error')
d.event('ts', '20174', '2024-06-12T08:30:14.902+00:00', HOOK_UUID, 'Process', '0.0.0.0:0', m, '    ', '      ')


# ==========================================================================
# 16. CRLF line ends (4.15), ID-first in a line block, one short line.
V = '4.15.0'
d = doc('crlf-id-first-4.15',
        'A Windows copy with CRLF line ends: prose and a 4-space line block of wrapped SFTPPlus 4.15 ID-first SFTP '
        'events, with one short-form line.', crlf=True)
P = '192.0.2.33:50377'
d.raw('Session of the archive robot, copied from the Windows server (SFTPPlus 4.15.0)::', 'unparsed')
d.blank()
m = T('30014', V)
d.event('id', '30014', '2020-09-17 02:00:04', 'sftp-1', 'Unknown', P, m, L4, C4)
m = T('20137', V, account_name='tz-archive', account_type='application', group_name='robots',
      username='tz-archive', method_name='Application Accounts', method_type='application',
      credentials_type='ssh-key')
d.event('id', '20137', '2020-09-17 02:00:05', 'sftp-1', 'tz-archive', P, m, L4, C4)
m = T('20182', V, account_name='tz-archive', permissions=PERMS, upload_names='Same as the original file.')
d.event('id', '20182', '2020-09-17 02:00:05', 'sftp-1', 'tz-archive', P, m, L4, C4)
m = T('30011', V, service_name='SFTP', real_path='D:\\SFTP\\tz-archive\\', virtual_path='/', **SSH_ALGOS)
d.event('id', '30011', '2020-09-17 02:00:05', 'sftp-1', 'tz-archive', P, m, L4, C4)
m = T('30028', V, path='/2020/09/17')
d.event('id', '30028', '2020-09-17 02:00:06', 'sftp-1', 'tz-archive', P, m, L4, C4)
m = T('30029', V, path='/2020/09/17')
d.event('short', '30029', '2020-09-17 02:00:06', None, None, None, m, L4, C4)
m = T('30017', V, path='D:\\SFTP\\tz-archive\\2020\\09\\17\\db-full.bak', mode='writing', total_read='0',
      read_speed='0.0', total_write='734003200', write_speed='36700160.0', duration='20.0')
d.event('id', '30017', '2020-09-17 02:00:27', 'sftp-1', 'tz-archive', P, m, L4, C4)
m = T('30015', V, client_version='SSH-2.0-OpenSSH_for_Windows_7.7', **SSH_ALGOS)
d.event('id', '30015', '2020-09-17 02:00:28', 'sftp-1', 'tz-archive', P, m, L4, C4)


# ==========================================================================
# 17. Trailing spaces (4.18), timestamp-first in a line block.
V = '4.18.0'
d = doc('trailing-spaces-ts-first-4.18',
        'A line block of wrapped SFTPPlus 4.18 timestamp-first events pasted with trailing spaces on event lines, '
        'continuation lines, prose and a whitespace-only separator line; messages keep no trailing space.')
P = '2001:db8:a0::2b:40515'
d.raw('Login from the new office (SFTPPlus 4.18.0)::', 'unparsed')
d.blank()
m = T('30014', V)
first = d.event('ts', '30014', '2020-06-22T09:41:58.300+02:00', 'sftp-1', 'Unknown', P, m, L4, C4, breaks=[5])
m = T('20137', V, account_name='c.ferreira', account_type='os', group_name='staff', username='c.ferreira',
      method_name='Domain accounts', method_type='os', credentials_type='password')
e2 = d.event('ts', '20137', '2020-06-22T09:41:59.127+02:00', 'sftp-1', 'c.ferreira', P, m, L4, C4)
m = T('20182', V, account_name='c.ferreira', permissions=PERMS, upload_names='Same as the original file.')
e3 = d.event('ts', '20182', '2020-06-22T09:41:59.130+02:00', 'sftp-1', 'c.ferreira', P, m, L4, C4)
sep = d.n()
d.blank('    ')
m = T('30043', V, path='/home/c.ferreira/scans/contract-7731.pdf', mode='writing',
      requested_path='/scans/contract-7731.pdf')
e4 = d.event('ts', '30043', '2020-06-22T09:42:10.512+02:00', 'sftp-1', 'c.ferreira', P, m, L4, C4)
m = T('30068', V, path='/home/c.ferreira/scans/contract-7731.pdf', total_write='524288',
      write_speed='1048576.0', duration='0.5')
e5 = d.event('ts', '30068', '2020-06-22T09:42:11.020+02:00', 'sftp-1', 'c.ferreira', P, m, L4, C4)
d.trail({1: '  ', first: ' ', first + 1: '   ', e2: ' ', e2 + 1: '\t', e2 + 2: '  ', e3 + 1: ' ',
         e4: '    ', e5 + 1: ' ', e5 + 2: '  '})


# ==========================================================================
# 18. Third-party logs (an FTP server, a GUI client) in line blocks with
#     continuation lines, next to SFTPPlus client-side transfer events (5.10).
V = '5.10.0'
d = doc('third-party-logs-in-line-blocks-5.10',
        'Line blocks mixing SFTPPlus 5.10 client-side transfer events with a third-party FTP server\'s log and a '
        'GUI client\'s timestamped log, both wrapped onto continuation lines; only the SFTPPlus lines are events.')
PP = '0.0.0.0:0'
d.raw('Our transfer failed on the remote side::', 'unparsed')
d.blank()
m = T('60010', V, transfer_type='push', path='/exports/stock/stock-2023-03-20.xml', size='65536',
      content_action='none')
d.event('ts', '60010', '2023-03-20T11:04:50.118+01:00', XFER_UUID, 'Process', PP, m, L4, C4)
m = T('60036', V, path='/in/stock-2023-03-20.xml', location='wholesaler-ftps', mode='writing',
      details='550 Permission denied.')
d.event('ts', '60036', '2023-03-20T11:04:51.640+01:00', XFER_UUID, 'Process', PP, m, L4, C4)
m = T('60011', V, path='/exports/stock/stock-2023-03-20.xml', count='2', wait='30',
      details='550 Permission denied.')
d.event('ts', '60011', '2023-03-20T11:04:51.642+01:00', XFER_UUID, 'Process', PP, m, L4, C4)
d.blank()
d.raw('The wholesaler sent us their server log for the same minute::', 'unparsed')
d.blank()
d.item('    | (004211)20/03/2023 11:04:51 - stockfeed (192.0.2.58)>',
       ['      STOR stock-2023-03-20.xml'], 'unparsed', '',
       '(004211)20/03/2023 11:04:51 - stockfeed (192.0.2.58)> STOR stock-2023-03-20.xml')
d.item('    | (004211)20/03/2023 11:04:51 - stockfeed (192.0.2.58)>',
       ['      550 Permission denied.'], 'unparsed', '',
       '(004211)20/03/2023 11:04:51 - stockfeed (192.0.2.58)> 550 Permission denied.')
d.blank()
d.raw('and a colleague\'s GUI client showed::', 'unparsed')
d.blank()
d.raw('    | 2023-03-20 11:06:02.310 Access granted', 'unparsed')
d.item('    | 2023-03-20 11:06:02.311 Local directory: default, Remote',
       ['      directory: /in, Update: Yes, Cache: Yes'], 'unparsed', '',
       '2023-03-20 11:06:02.311 Local directory: default, Remote directory: /in, Update: Yes, Cache: Yes')
d.item('    | 2023-03-20 11:06:04.977 Copying 1 files/directories to remote',
       ['      directory "/in/"'], 'unparsed', '',
       '2023-03-20 11:06:04.977 Copying 1 files/directories to remote directory "/in/"')
d.raw('    | 2023-03-20 11:06:05.102 Permission denied.', 'unparsed')


if __name__ == '__main__':
    for d in DOCS:
        d.write()
    print('wrote %d pastes to %s' % (len(DOCS), os.path.relpath(OUT)))
