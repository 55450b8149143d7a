# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Read QAPI schema files (QEMU's schema language, a subset) into a model.

The language: a sequence of JSON-like expressions with single-quoted strings and
'#' comments; each expression is one of
  { 'include': 'file.json' }
  { 'enum': 'Name', 'data': ['a', {'name': 'b', 'features': [...]}], 'prefix': 'P',
    'c-header': 'block/block-common.h' }
    (c-header, a Godwit extension: the C enum, with these values in this order
    and a P__MAX, is defined by that header; we generate only the lookup table)
  { 'struct': 'Name', 'data': {'member': 'type', '*optional': ['type']}, 'base': 'B' }
  { 'union': 'Name', 'base': 'B' | {...}, 'discriminator': 'm', 'data': {'value': 'Branch'} }
  { 'alternate': 'Name', 'data': {'name': 'type'} }
  { 'command': 'name', 'data': 'Type' | {...}, 'returns': 'T', 'boxed': true,
    'allow-oob': true, 'coroutine': true, 'features': [...] }
  { 'event': 'NAME', 'data': 'Type' | {...}, 'boxed': true }
Any expression may carry 'features' and 'if' (conditions are ignored: we build
everything we declare). Doc comments are skipped.
"""

import os
import re

BUILTINS = {
    # name: (C type, JSON meta for introspection, is_pointer)
    'str': ('char *', 'str', True),
    'number': ('double', 'number', False),
    'int': ('int64_t', 'int', False),
    'int8': ('int8_t', 'int', False),
    'int16': ('int16_t', 'int', False),
    'int32': ('int32_t', 'int', False),
    'int64': ('int64_t', 'int', False),
    'uint8': ('uint8_t', 'int', False),
    'uint16': ('uint16_t', 'int', False),
    'uint32': ('uint32_t', 'int', False),
    'uint64': ('uint64_t', 'int', False),
    'size': ('uint64_t', 'int', False),
    'bool': ('bool', 'bool', False),
    'null': ('QNull *', 'null', True),
    'any': ('QObject *', 'value', True),
}


class SchemaError(Exception):
    pass


def tokenize(text, fname):
    """Yield (kind, value, line) tokens of one schema file."""
    pos, line = 0, 1
    n = len(text)
    while pos < n:
        c = text[pos]
        if c == '\n':
            line += 1
            pos += 1
        elif c in ' \t\r':
            pos += 1
        elif c == '#':
            while pos < n and text[pos] != '\n':
                pos += 1
        elif c in '{}[]:,':
            yield (c, c, line)
            pos += 1
        elif c == "'":
            end = pos + 1
            buf = []
            while end < n and text[end] != "'":
                if text[end] == '\\':
                    end += 1
                if text[end] == '\n':
                    raise SchemaError('%s:%d: newline in string' % (fname, line))
                buf.append(text[end])
                end += 1
            if end >= n:
                raise SchemaError('%s:%d: unterminated string' % (fname, line))
            yield ('str', ''.join(buf), line)
            pos = end + 1
        else:
            m = re.match(r'true|false', text[pos:])
            if not m:
                raise SchemaError('%s:%d: stray %r' % (fname, line, c))
            yield ('bool', m.group(0) == 'true', line)
            pos += m.end()


def parse_file(fname):
    """Return the list of top-level expressions of one file (dicts)."""
    with open(fname, encoding='utf-8') as f:
        toks = list(tokenize(f.read(), fname))
    exprs, i = [], 0

    def value(i):
        kind, val, line = toks[i]
        if kind in ('str', 'bool'):
            return val, i + 1
        if kind == '[':
            out, i = [], i + 1
            while toks[i][0] != ']':
                v, i = value(i)
                out.append(v)
                if toks[i][0] == ',':
                    i += 1
            return out, i + 1
        if kind == '{':
            out, i = {}, i + 1
            while toks[i][0] != '}':
                if toks[i][0] != 'str':
                    raise SchemaError('%s:%d: expected key' % (fname, toks[i][2]))
                key = toks[i][1]
                if toks[i + 1][0] != ':':
                    raise SchemaError('%s:%d: expected ":"' % (fname, toks[i][2]))
                v, i = value(i + 2)
                out[key] = v
                if toks[i][0] == ',':
                    i += 1
            return out, i + 1
        raise SchemaError('%s:%d: unexpected %r' % (fname, line, val))

    while i < len(toks):
        line = toks[i][2]
        expr, i = value(i)
        if not isinstance(expr, dict):
            raise SchemaError('%s:%d: expression must be an object' % (fname, line))
        expr['__loc'] = '%s:%d' % (fname, line)
        exprs.append(expr)
    return exprs


def camel_to_upper(name):
    """QEMU's enum prefix rule: CamelCase -> CAMEL_CASE (BlockdevOnError -> BLOCKDEV_ON_ERROR)."""
    out = []
    prev = ''
    for i, ch in enumerate(name):
        nxt = name[i + 1] if i + 1 < len(name) else ''
        if ch.isupper() and out and prev != '_' and (not prev.isupper() or nxt.islower()):
            out.append('_')
        out.append(ch)
        prev = ch
    return re.sub(r'[^A-Za-z0-9_]', '_', ''.join(out)).upper()


def c_name(name, protect=True):
    """A schema name as a C identifier ('node-name' -> node_name)."""
    n = re.sub(r'[^A-Za-z0-9_]', '_', name)
    if protect and n in ('default', 'if', 'for', 'while', 'char', 'int', 'bool', 'unsigned',
                         'signed', 'static', 'auto', 'case', 'switch', 'return', 'struct',
                         'union', 'enum', 'type', 'errno', 'unix', 'linux', 'i386',
                         'mips', 'sparc'):
        n = 'q_' + n
    return n


class Member:
    def __init__(self, name, typ, optional, features=()):
        self.name = name
        self.type = typ            # a type name; '[T]' lists resolved to 'TList'
        self.optional = optional
        self.features = list(features)
        self.c = c_name(name)


class Type:
    """enum, struct, union, alternate, list or builtin."""
    def __init__(self, meta, name, expr=None):
        self.meta = meta
        self.name = name
        self.expr = expr or {}
        self.members = []          # struct/union base members, alternate variants
        self.values = []           # enum
        self.base = None           # struct/union base type name
        self.discriminator = None
        self.branches = {}         # union: enum value -> type name
        self.element = None        # list element type name
        self.prefix = None         # enum C prefix
        self.features = []


class Entity:
    """command or event."""
    def __init__(self, meta, name, expr):
        self.meta = meta
        self.name = name
        self.expr = expr
        self.arg_type = None       # struct type name (possibly implicit) or None
        self.ret_type = None
        self.boxed = expr.get('boxed', False)
        self.allow_oob = expr.get('allow-oob', False)
        self.coroutine = expr.get('coroutine', False)
        self.features = [f if isinstance(f, str) else f['name'] for f in expr.get('features', [])]


class Schema:
    def __init__(self, main_file):
        self.types = {}
        self.order = []            # type names in definition order
        self.commands = []
        self.events = []
        for b, (ctype, meta, ptr) in BUILTINS.items():
            t = Type('builtin', b)
            t.json = meta
            self.types[b] = t
        self._seen_files = set()
        self._load(main_file)
        self._check()

    # -- loading ---------------------------------------------------------
    def _load(self, fname):
        fname = os.path.normpath(fname)
        if fname in self._seen_files:
            return
        self._seen_files.add(fname)
        for expr in parse_file(fname):
            if 'include' in expr:
                self._load(os.path.join(os.path.dirname(fname), expr['include']))
            elif 'pragma' in expr:
                pass
            else:
                self._define(expr)

    def _add_type(self, t):
        if t.name in self.types:
            raise SchemaError('%s: %s defined twice' % (t.expr.get('__loc', '?'), t.name))
        self.types[t.name] = t
        self.order.append(t.name)

    def _type_ref(self, spec, owner, member):
        """Resolve a member type spec: 'T', ['T'] or an inline dict (implicit struct)."""
        if isinstance(spec, list):
            return self._list_of(self._type_ref(spec[0], owner, member))
        if isinstance(spec, dict):
            name = 'q_obj_%s_%s' % (c_name(owner, False), c_name(member, False))
            self._struct_from_data(name, spec, {'__loc': '?'})
            return name
        return spec

    def _list_of(self, elem):
        name = elem + 'List'
        if name not in self.types:
            t = Type('list', name)
            t.element = elem
            self.types[name] = t
            self.order.append(name)
        return name

    def _members(self, data, owner):
        out = []
        for key, spec in data.items():
            feats = []
            if isinstance(spec, dict) and 'type' in spec:
                feats = [f if isinstance(f, str) else f['name'] for f in spec.get('features', [])]
                spec = spec['type']
            optional = key.startswith('*')
            name = key[1:] if optional else key
            out.append(Member(name, self._type_ref(spec, owner, name), optional, feats))
        return out

    def _struct_from_data(self, name, data, expr, base=None):
        t = Type('struct', name, expr)
        t.base = base
        t.members = self._members(data, name)
        self._add_type(t)
        return t

    def _define(self, expr):
        feats = [f if isinstance(f, str) else f['name'] for f in expr.get('features', [])]
        if 'enum' in expr:
            t = Type('enum', expr['enum'], expr)
            t.values = [v if isinstance(v, str) else v['name'] for v in expr['data']]
            t.prefix = expr.get('prefix', camel_to_upper(t.name))
            t.features = feats
            self._add_type(t)
        elif 'struct' in expr:
            t = self._struct_from_data(expr['struct'], expr.get('data', {}), expr, expr.get('base'))
            t.features = feats
        elif 'union' in expr:
            t = Type('union', expr['union'], expr)
            base = expr['base']
            if isinstance(base, dict):
                bname = 'q_obj_%s_base' % c_name(t.name, False)
                self._struct_from_data(bname, base, expr)
                base = bname
            t.base = base
            t.discriminator = expr['discriminator']
            t.branches = {k: (v['type'] if isinstance(v, dict) else v)
                          for k, v in expr['data'].items()}
            t.features = feats
            self._add_type(t)
        elif 'alternate' in expr:
            t = Type('alternate', expr['alternate'], expr)
            t.members = self._members(expr['data'], t.name)
            self._add_type(t)
        elif 'command' in expr:
            e = Entity('command', expr['command'], expr)
            e.arg_type = self._entity_data(e, expr.get('data'))
            if 'returns' in expr:
                e.ret_type = self._type_ref(expr['returns'], e.name, 'ret')
            self.commands.append(e)
        elif 'event' in expr:
            e = Entity('event', expr['event'], expr)
            e.arg_type = self._entity_data(e, expr.get('data'))
            self.events.append(e)
        else:
            raise SchemaError('%s: unknown expression' % expr.get('__loc'))

    def _entity_data(self, e, data):
        if data is None:
            return None
        if isinstance(data, str):
            return data
        name = 'q_obj_%s_arg' % c_name(e.name, False)
        self._struct_from_data(name, data, e.expr)
        return name

    # -- checking --------------------------------------------------------
    def _check(self):
        for name in self.order:
            t = self.types[name]
            refs = [m.type for m in t.members]
            if t.base:
                refs.append(t.base)
            refs += list(t.branches.values())
            if t.element:
                refs.append(t.element)
            for r in refs:
                if r not in self.types:
                    raise SchemaError('%s: %s uses unknown type %s' % (t.expr.get('__loc', '?'), name, r))
            if t.meta == 'union':
                disc = [m for m in self.all_members(t) if m.name == t.discriminator]
                if not disc or self.types[disc[0].type].meta != 'enum':
                    raise SchemaError('%s: discriminator of %s must be an enum member of its base' % (t.expr.get('__loc'), name))
        for e in self.commands + self.events:
            for r in (e.arg_type, e.ret_type):
                if r and r not in self.types:
                    raise SchemaError('%s: %s uses unknown type %s' % (e.expr.get('__loc'), e.name, r))

    def all_members(self, t):
        """Members including those inherited from the base, base first."""
        out = []
        if t.base:
            out += self.all_members(self.types[t.base])
        if t.meta in ('struct',):
            out += t.members
        return out

    def discriminator_enum(self, t):
        for m in self.all_members(t):
            if m.name == t.discriminator:
                return self.types[m.type]
        return None
