#!/usr/bin/env python3
"""Builds samples/pastes/openssh/made-*.log + .truth.json from tools/made-src/*.src.

Every client line (tag c) is checked against the OpenSSH client message
catalogue (openssh-messages.jsonl; path in $OPENSSH_MESSAGES) for the release
and verbosity set by the last "#! ver=... v=..." line; run with -w to also list
lines that only match a format with almost no literal text.

src format: one physical paste line per src line, "TAG|text".
  tags: c  client line, checked against the release's catalogue formats
        k  continuation of the previous client message (multi-line message)
        p  client output not in the upstream catalogue (distro/port patch,
           library text), not checked
        x  other typed text (shell prompt, remote output, annotation, markup, elision, tty echo)
        s  like x but written on stdout (LF in eol=mixed files)
        u  unparsed (another program's output)
  a tag followed by '*' starts a new run (its first_line);
  a tag followed by 'W' is cut into 80-column physical lines (terminal wrap).
  an empty src line is an empty paste line.
  "<SP>" at the end of a line stands for a trailing space.
  "#! ver=X v=N" sets the release/verbosity the checker uses from there on.
  "#! eol=lf|crlf|mixed" (first line).
  "#! truth" ... "#! end": truth JSON (first_line and unparsed_lines filled in).
"""
import json, re, os, functools
CATALOG=os.environ.get('OPENSSH_MESSAGES','/work/shared/reference/openssh-messages.jsonl')
ROWS=[json.loads(l) for l in open(CATALOG)] if os.path.exists(CATALOG) else None
CONV=re.compile(r'%(%|FUNC|[-+ #0]*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|z|j|t|q|L)?([diouxXsScpfgeE]))')
def fmt_to_re(fmt, func):
    out=[]; pos=0; lit=0
    for m in CONV.finditer(fmt):
        s=fmt[pos:m.start()]; out.append(re.escape(s)); lit+=len(s.strip())
        tok=m.group(1)
        if tok=='%': out.append('%'); lit+=1
        elif tok=='FUNC': out.append(re.escape(func)); lit+=len(func)
        else:
            c=m.group(6)
            if c in 'di': out.append(r' *-?\d+')
            elif c=='u': out.append(r' *\d+')
            elif c in 'xX': out.append(r'[0-9a-fA-F]+')
            elif c in 'fgeE': out.append(r'-?[\d.]+')
            elif c=='c': out.append('.')
            elif c=='p': out.append(r'(0x)?[0-9a-fA-F]+')
            else: out.append('.*?')
        pos=m.end()
    s=fmt[pos:]; out.append(re.escape(s)); lit+=len(s.strip())
    return ''.join(out), lit
@functools.lru_cache(None)
def table(ver):
    t=[]
    for r in ROWS:
        if ver not in r['versions']: continue
        f=r['format'].replace('\r','')
        parts=[p for p in f.split('\n') if p.strip()] if '\n' in f.strip('\n') else [f.strip('\n')]
        for p in parts:
            rx,lit=fmt_to_re(p, r['function'])
            t.append((re.compile('^'+rx+'$'), lit, r['level'], r['format'], r['function']))
    return t
LEVELNUM={'debug1':1,'debug2':2,'debug3':3}
def check(line, ver, verbosity):
    """(ok, best match or reason); (True, None) when no catalogue is at hand."""
    if ROWS is None: return (True, None)
    m=re.match(r'^debug([123]): (.*)$', line)
    if m:
        lvl='debug'+m.group(1); body=m.group(2)
        if int(m.group(1))>verbosity: return (False, 'level above verbosity')
    else:
        lvl=None; body=line
    best=None
    for rx,lit,level,fmt,func in table(ver):
        if lvl and level!=lvl: continue
        if not lvl and level.startswith('debug'): continue
        if not lvl and level=='verbose' and verbosity<1: continue
        if rx.match(body):
            if best is None or lit>best[0]: best=(lit,level,fmt,func)
    if best is None: return (False,'no format')
    return (True,best)

import json, re, sys, os
HERE=os.path.dirname(os.path.abspath(__file__))
OUT=os.path.join(HERE,'..','openssh')
SRC=os.path.join(HERE,'made-src')
def build(path, verbose=False):
    name=os.path.basename(path)[:-4]
    src=open(path, encoding='utf-8').read().split('\n')
    if src and src[-1]=='': src.pop()
    eol='lf'; ver=None; v=3; truth_txt=None; intruth=False
    phys=[]  # (text, stdout)
    starts=[]; unparsed=[]; problems=[]; prev_client=None
    for i,raw in enumerate(src):
        if intruth:
            if raw.strip()=='#! end': intruth=False
            else: truth_txt.append(raw)
            continue
        if raw.startswith('#! '):
            d=raw[3:].strip()
            if d=='truth': intruth=True; truth_txt=[]; continue
            for kv in d.split():
                k,val=kv.split('=')
                if k=='eol': eol=val
                elif k=='ver': ver=val
                elif k=='v': v=int(val)
            continue
        if raw=='':
            phys.append(('',False)); prev_client=None; continue
        tag,_,text=raw.partition('|')
        text=text.replace('<SP>',' ')
        star='*' in tag; wrap='W' in tag; t=tag.replace('*','').replace('W','')
        lineno=len(phys)+1
        if star: starts.append(lineno)
        if t=='u': unparsed.append(lineno)
        pieces=[text[j:j+80] for j in range(0,len(text),80)] if wrap and len(text)>80 else [text]
        for pc in pieces: phys.append((pc, t=='s'))
        if t=='c':
            body=text.replace('[email]','').replace('[/email]','')
            ok,best=check(body, ver, v)
            if not ok: problems.append((lineno, text, best))
            elif best is not None and best[0] < 6 and verbose: problems.append((lineno, text, 'weak: %r'%(best,)))
    truth=json.loads('\n'.join(truth_txt))
    truth['case']=name
    runs=truth['runs']
    if len(runs)!=len(starts): problems.append((0,'runs %d != starts %d'%(len(runs),len(starts)),''))
    for r,s in zip(runs,starts): r['first_line']=s
    truth['unparsed_lines']=unparsed
    # order keys as in the README
    keys=['first_line','tool','verbosity','client_version','server_version','peer','user','user_source','negotiated','derived','strict_kex','auth','host_key_check','outcome','closed','reason','sftp_ops']
    truth['runs']=[{k:r[k] for k in keys} for r in runs]
    t2={k:truth[k] for k in ['case','description','origin','made_with','runs','unparsed_lines']}
    out=[]
    for text,stdout in phys:
        e='\r\n' if eol=='crlf' or (eol=='mixed' and not stdout) else '\n'
        out.append(text+e)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT,name+'.log'),'w',encoding='utf-8',newline='') as f: f.write(''.join(out))
    with open(os.path.join(OUT,name+'.truth.json'),'w',encoding='utf-8') as f: f.write(json.dumps(t2, indent=2, ensure_ascii=False)+'\n')
    return name, problems
if __name__=='__main__':
    verbose='-w' in sys.argv
    files=[a for a in sys.argv[1:] if not a.startswith('-')] or sorted(os.path.join(SRC,f) for f in os.listdir(SRC) if f.endswith('.src'))
    for p in files:
        name,probs=build(p, verbose)
        bad=[pr for pr in probs if not str(pr[2]).startswith('weak')]
        print(('FAIL ' if bad else 'OK   ')+name)
        for pr in probs: print('   ',pr)
