#!/usr/bin/env python3
"""Render the ts-first SFTPPlus sample into the other layouts SFTPPlus writes
(RFC 3164 syslog, JSON lines, HTTP-handler JSON batches, a custom entry_content,
the short form, a mixed CRLF file), each with a truth file of its records.

Deterministic: the same input gives byte-identical output.
Usage: python3 samples/tools/render-layouts.py   (from the repository root)
"""
import datetime, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SFTPPLUS = os.path.join(HERE, '..', 'sftpplus')
src = json.load(open(os.path.join(SFTPPLUS, 'dev-ts-first-5.26.truth.json')))
raw_lines = open(os.path.join(SFTPPLUS, 'dev-ts-first-5.26.log'), encoding='utf-8').read().split('\n')
OFFSET = datetime.timedelta(hours=2)
# Rendered copies live in layouts/, out of the demo glob (they repeat the same sessions).
SUBDIR = {n: 'layouts' for n in ['syslog-5.26', 'json-lines-5.26', 'json-batch-5.26', 'entry-format-5.26', 'short-5.26', 'mixed-layouts']}
MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()


def parse_local(ts):
    return datetime.datetime.fromisoformat(ts)


def component_of(i):
    return raw_lines[i].split(' ')[2]


def truth_record(r, ts, **extra):
    t = {'event_id': r['event_id'], 'ts': ts, 'account': r['account'], 'peer_address': r['peer_address'],
         'peer_port': r['peer_port'], 'message': r['message'], 'fields': r['fields']}
    t.update(extra)
    return t


def write(name, lines, records, layout, parse_options, crlf=False, note=''):
    end = '\r\n' if crlf else '\n'
    with open(os.path.join(SFTPPLUS, SUBDIR.get(name, ''), name + '.log'), 'w', encoding='utf-8', newline='') as f:
        f.write(end.join(lines) + end)
    truth = {'case': name, 'layout': layout, 'sftpplus_version': src['sftpplus_version'], 'crlf': crlf,
             'parse_options': parse_options, 'generated_from': 'dev-ts-first-5.26 by samples/tools/render-layouts.py',
             'note': note, 'records': records}
    with open(os.path.join(SFTPPLUS, SUBDIR.get(name, ''), name + '.truth.json'), 'w', encoding='utf-8') as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
        f.write('\n')


def epoch(r):
    local = parse_local(r['ts'])
    return (local - OFFSET).replace(tzinfo=datetime.timezone.utc).timestamp()


recs = src['records']

# 1. RFC 3164 syslog, as the syslog handler writes it: id, account, peer, message.
lines, out = [], []
for r in recs:
    t = parse_local(r['ts'])
    stamp = '%s %2d %02d:%02d:%02d' % (MONTHS[t.month - 1], t.day, t.hour, t.minute, t.second)
    lines.append('<30>%s mft01 sftpplus[2211]: %s %s %s:%d %s' % (stamp, r['event_id'], r['account'], r['peer_address'], r['peer_port'], r['message']))
    out.append(truth_record(r, t.strftime('%Y-%m-%dT%H:%M:%S')))
write('syslog-5.26', lines, out, 'syslog', {'year': 2025}, note='RFC 3164 has no year and no fraction; --year 2025')

# 2. JSON objects, one per line: timestamp.timestamp is the instant.
def json_event(i, r):
    t = parse_local(r['ts'])
    e = {'id': r['event_id'], 'message': r['message'],
         'timestamp': {'timestamp': round(epoch(r), 3), 'cwa_14051': t.strftime('%Y-%m-%d %H:%M:%S')},
         'account': {'name': r['account'], 'uuid': 'acc-' + r['account'].lower(),
                     'peer': {'address': r['peer_address'], 'port': r['peer_port'], 'protocol': 'sftp'}},
         'component': {'uuid': component_of(i), 'type': 'ssh', 'name': 'SFTP service'},
         'data': r['fields']}
    return e


def utc_iso(r):
    u = datetime.datetime.fromtimestamp(round(epoch(r), 3), datetime.timezone.utc)
    return u.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (u.microsecond // 1000)


lines = [json.dumps(json_event(i, r), ensure_ascii=False, sort_keys=True) for i, r in enumerate(recs)]
write('json-lines-5.26', lines, [truth_record(r, utc_iso(r)) for r in recs], 'json', {},
      note='ts is timestamp.timestamp rendered in UTC')

# 3. HTTP handler batches: {"events": [...]} with up to 8 events per line.
lines = []
for k in range(0, len(recs), 8):
    lines.append(json.dumps({'events': [json_event(i, recs[i]) for i in range(k, min(k + 8, len(recs)))]}, ensure_ascii=False, sort_keys=True))
write('json-batch-5.26', lines, [truth_record(r, utc_iso(r)) for r in recs], 'json', {},
      note='several records share a line; ts is timestamp.timestamp in UTC')

# 4. A configured entry_content.
fmt = '{timestamp.cwa_14051} | {id} | {account.name} | {account.peer.address}:{account.peer.port} | {message}'
lines, out = [], []
for r in recs:
    t = parse_local(r['ts'])
    lines.append('%s | %s | %s | %s:%d | %s' % (t.strftime('%Y-%m-%d %H:%M:%S'), r['event_id'], r['account'], r['peer_address'], r['peer_port'], r['message']))
    out.append(truth_record(r, t.strftime('%Y-%m-%dT%H:%M:%S')))
write('entry-format-5.26', lines, out, 'entry-format', {'entry_format': fmt})

# 5. Short form: `date time id message` (no component, account or peer).
lines, out = [], []
for r in recs:
    t = parse_local(r['ts'])
    lines.append('%s %s %s' % (t.strftime('%Y-%m-%d %H:%M:%S'), r['event_id'], r['message']))
    out.append(truth_record(r, t.strftime('%Y-%m-%dT%H:%M:%S'), account=None, peer_address=None, peer_port=None))
write('short-5.26', lines, out, 'short', {})

# 6. Mixed layouts in one CRLF file: ID-first, ts-first (space, UTC `Z`, no fraction), short and JSON.
lines, out = [], []
for i, r in enumerate(recs[:40]):
    t = parse_local(r['ts'])
    k = i % 4
    if k == 0:
        lines.append('%s %s %s %s %s:%d %s' % (r['event_id'], t.strftime('%Y-%m-%d %H:%M:%S'), component_of(i), r['account'], r['peer_address'], r['peer_port'], r['message']))
        out.append(truth_record(r, t.strftime('%Y-%m-%dT%H:%M:%S')))
    elif k == 1:
        u = (t - OFFSET)
        lines.append('%sZ %s %s %s %s:%d %s' % (u.strftime('%Y-%m-%d %H:%M:%S'), r['event_id'], component_of(i), r['account'], r['peer_address'], r['peer_port'], r['message']))
        out.append(truth_record(r, u.strftime('%Y-%m-%dT%H:%M:%S') + 'Z'))
    elif k == 2:
        lines.append('%s %s %s' % (t.strftime('%Y-%m-%d %H:%M:%S'), r['event_id'], r['message']))
        out.append(truth_record(r, t.strftime('%Y-%m-%dT%H:%M:%S'), account=None, peer_address=None, peer_port=None))
    else:
        lines.append(json.dumps(json_event(i, r), ensure_ascii=False, sort_keys=True))
        out.append(truth_record(r, utc_iso(r)))
write('mixed-layouts', lines, out, 'mixed', {}, crlf=True)
print('rendered 6 layouts from', len(recs), 'records')
