#!/usr/bin/env python3
"""Brings kiosk/translations/<lang>/LC_MESSAGES/kiosk.po up to date with the @tr() strings of
kiosk/ui/*.slint: keeps every existing translation, adds new strings untranslated, drops
strings no screen uses any more. Run it after changing a screen, then translate what is empty
(`grep -B1 'msgstr ""$'`). The build fails on nothing; untranslated strings show in English."""
import pathlib, re

root = pathlib.Path(__file__).resolve().parent.parent
TR = re.compile(r'@tr\("((?:[^"\\]|\\.)*)"')
ids = []
for f in sorted((root / "ui").glob("*.slint")):
    for m in TR.finditer(f.read_text()):
        if m.group(1) not in ids:
            ids.append(m.group(1))

def read_po(path):
    out = {}
    if not path.exists():
        return out
    msgid = None
    for line in path.read_text().splitlines():
        if line.startswith("msgid "):
            msgid = line[7:-1]
        elif line.startswith("msgstr ") and msgid is not None:
            out[msgid] = line[8:-1]
            msgid = None
    return out

for lang, plural in (("ar", "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"),
                     ("ckb", "nplurals=2; plural=(n != 1);")):
    path = root / "translations" / lang / "LC_MESSAGES" / "kiosk.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = read_po(path)
    lines = ['msgid ""', 'msgstr ""', f'"Language: {lang}\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"',
             f'"Plural-Forms: {plural}\\n"', ""]
    for i in ids:
        lines += [f'msgid "{i}"', f'msgstr "{old.get(i, "")}"', ""]
    path.write_text("\n".join(lines))
    missing = [i for i in ids if not old.get(i)]
    print(f"{lang}: {len(ids)} strings, {len(missing)} untranslated")
