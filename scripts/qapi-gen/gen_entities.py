# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Emit command marshallers + the dispatch table, event emitters, and the
introspection document behind query-qmp-schema.

Handlers are hand-written elsewhere:
    RetType *qmp_<name>(<args>, Error **errp);
<args> are the argument members in schema order: `const char *` for str, a pointer
for structs/lists/any (NULL when an optional one is absent), and `bool has_x, T x`
for optional scalars and enums. With 'boxed': true the handler takes the argument
struct instead.
"""

import json

from schema import c_name, BUILTINS
from gen_types import c_type, needs_has, is_pointer
from gen_visit import out_expr


def handler_params(schema, e):
    if e.arg_type is None:
        return []
    if e.boxed:
        return ['%s *arg' % e.arg_type]
    params = []
    for m in schema.all_members(schema.types[e.arg_type]):
        if needs_has(schema, m):
            params.append('bool has_%s' % m.c)
        ct = c_type(schema, m.type, const=True)
        sep = '' if ct.endswith('*') else ' '
        params.append('%s%s%s' % (ct, sep, m.c))
    return params


def handler_args(schema, e, src):
    if e.arg_type is None:
        return []
    if e.boxed:
        return [src]
    args = []
    for m in schema.all_members(schema.types[e.arg_type]):
        if needs_has(schema, m):
            args.append('%s->has_%s' % (src, m.c))
        args.append('%s->%s' % (src, m.c))
    return args


def ret_c_type(schema, e):
    if not e.ret_type:
        return 'void'
    return c_type(schema, e.ret_type)


def handler_name(e):
    return 'qmp_' + c_name(e.name, False)


def gen_commands_header(schema):
    o = []
    for e in schema.commands:
        params = handler_params(schema, e) + ['Error **errp']
        rt = ret_c_type(schema, e)
        sep = '' if rt.endswith('*') else ' '
        o.append('%s%s%s(%s);' % (rt, sep, handler_name(e), ', '.join(params)))
    o.append('')
    o.append('extern const QmpCommand qmp_commands[];')
    o.append('extern const size_t qmp_commands_count;')
    return '\n'.join(o)


def free_ret(schema, tname, expr):
    t = schema.types[tname]
    if t.meta == 'builtin':
        if tname == 'str':
            return 'g_free(%s);' % expr
        if tname in ('any', 'null'):
            return 'qobject_unref(%s);' % expr
        return ''
    if t.meta == 'enum':
        return ''
    return 'qapi_free_%s(%s);' % (tname, expr)


def gen_commands_source(schema):
    o = []
    for e in schema.commands:
        fn = 'qmp_marshal_' + c_name(e.name, False)
        o.append('static void %s(QDict *args, QObject **ret, Error **errp)' % fn)
        o.append('{')
        o.append('    Error *err = NULL;')
        if e.arg_type:
            o.append('    %s *arg = NULL;' % e.arg_type)
        if e.ret_type:
            rt = ret_c_type(schema, e)
            sep = '' if rt.endswith('*') else ' '
            o.append('    %s%sretval;' % (rt, sep))
        o.append('')
        if e.arg_type:
            o.append('    if (!qapi_in_%s(QOBJECT(args), NULL, &arg, errp)) {' % e.arg_type)
        else:
            o.append('    if (!qapi_check_unexpected(args, NULL, errp)) {')
        o.append('        return;')
        o.append('    }')
        call = '%s(%s)' % (handler_name(e), ', '.join(handler_args(schema, e, 'arg') + ['&err']))
        if e.ret_type:
            o.append('    retval = %s;' % call)
        else:
            o.append('    %s;' % call)
        o.append('    if (err) {')
        o.append('        error_propagate(errp, err);')
        o.append('    } else {')
        if e.ret_type:
            o.append('        *ret = %s;' % out_expr(schema, e.ret_type, 'retval'))
            fr = free_ret(schema, e.ret_type, 'retval')
            if fr:
                o.append('        %s' % fr)
        else:
            o.append('        *ret = QOBJECT(qdict_new());')
        o.append('    }')
        if e.arg_type:
            o.append('    qapi_free_%s(arg);' % e.arg_type)
        o.append('}')
        o.append('')
    o.append('const QmpCommand qmp_commands[] = {')
    for e in sorted(schema.commands, key=lambda e: e.name):
        flags = []
        if e.allow_oob:
            flags.append('QCO_ALLOW_OOB')
        if e.coroutine:
            flags.append('QCO_COROUTINE')
        if 'deprecated' in e.features:
            flags.append('QCO_DEPRECATED')
        o.append('    { "%s", qmp_marshal_%s, %s },' % (e.name, c_name(e.name, False),
                                                       ' | '.join(flags) or '0'))
    o.append('};')
    o.append('const size_t qmp_commands_count = G_N_ELEMENTS(qmp_commands);')
    return '\n'.join(o)


def gen_events_header(schema):
    o = ['typedef enum QAPIEvent {']
    for e in schema.events:
        o.append('    QAPI_EVENT_%s,' % c_name(e.name, False).upper())
    o.append('    QAPI_EVENT__MAX,')
    o.append('} QAPIEvent;')
    o.append('extern const char *const QAPIEvent_lookup[];')
    o.append('')
    for e in schema.events:
        params = handler_params(schema, e) or ['void']
        o.append('void qapi_event_send_%s(%s);' % (c_name(e.name, False).lower(), ', '.join(params)))
    return '\n'.join(o)


def gen_events_source(schema):
    o = ['const char *const QAPIEvent_lookup[] = {']
    for e in schema.events:
        o.append('    [QAPI_EVENT_%s] = "%s",' % (c_name(e.name, False).upper(), e.name))
    o.append('    NULL,')
    o.append('};')
    o.append('')
    for e in schema.events:
        params = handler_params(schema, e) or ['void']
        o.append('void qapi_event_send_%s(%s)' % (c_name(e.name, False).lower(), ', '.join(params)))
        o.append('{')
        ev = 'QAPI_EVENT_%s' % c_name(e.name, False).upper()
        if e.arg_type is None:
            o.append('    qapi_event_emit(%s, NULL);' % ev)
        else:
            o.append('    QDict *data = qdict_new();')
            if e.boxed:
                o.append('    qapi_out_members_%s(data, arg);' % e.arg_type)
            else:
                o.append('    %s param = {' % e.arg_type)
                for m in schema.all_members(schema.types[e.arg_type]):
                    if needs_has(schema, m):
                        o.append('        .has_%s = has_%s,' % (m.c, m.c))
                    cast = '(%s)' % c_type(schema, m.type) if is_pointer(schema, m.type) else ''
                    o.append('        .%s = %s%s,' % (m.c, cast, m.c))
                o.append('    };')
                o.append('')
                o.append('    qapi_out_members_%s(data, &param);' % e.arg_type)
            o.append('    qapi_event_emit(%s, data);' % ev)
        o.append('}')
        o.append('')
    return '\n'.join(o)


class Introspector:
    """Build the SchemaInfo list: entities first, then every type they reach.
    Non-builtin type names are replaced by numbers, as QEMU does."""

    def __init__(self, schema):
        self.schema = schema
        self.names = {}
        self.queue = []
        self.done = set()

    def ref(self, tname):
        t = self.schema.types[tname]
        if t.meta == 'list':
            inner = self.ref(t.element)
            name = '[%s]' % inner
            if name not in self.done:
                self.done.add(name)
                self.queue.append(('array', name, inner))
            return name
        if t.meta == 'builtin':
            if tname not in self.done:
                self.done.add(tname)
                self.queue.append(('builtin', tname, None))
            return tname
        if tname not in self.names:
            self.names[tname] = str(len(self.names))
            self.queue.append(('type', tname, None))
        return self.names[tname]

    def empty(self):
        if '__empty' not in self.names:
            self.names['__empty'] = str(len(self.names))
            self.queue.append(('empty', '__empty', None))
        return self.names['__empty']

    def members(self, members):
        out = []
        for m in members:
            d = {'name': m.name, 'type': self.ref(m.type)}
            if m.optional:
                d['default'] = None
            if m.features:
                d['features'] = m.features
            out.append(d)
        return out

    def build(self):
        infos = []
        for e in self.schema.commands:
            d = {'name': e.name, 'meta-type': 'command',
                 'arg-type': self.ref(e.arg_type) if e.arg_type else self.empty(),
                 'ret-type': self.ref(e.ret_type) if e.ret_type else self.empty()}
            if e.allow_oob:
                d['allow-oob'] = True
            if e.features:
                d['features'] = e.features
            infos.append(d)
        for e in self.schema.events:
            d = {'name': e.name, 'meta-type': 'event',
                 'arg-type': self.ref(e.arg_type) if e.arg_type else self.empty()}
            infos.append(d)
        while self.queue:
            kind, name, extra = self.queue.pop(0)
            if kind == 'empty':
                infos.append({'name': self.names[name], 'meta-type': 'object', 'members': []})
            elif kind == 'builtin':
                infos.append({'name': name, 'meta-type': 'builtin',
                              'json-type': BUILTINS[name][1]})
            elif kind == 'array':
                infos.append({'name': name, 'meta-type': 'array', 'element-type': extra})
            else:
                infos.append(self.type_info(name))
        return infos

    def type_info(self, tname):
        t = self.schema.types[tname]
        d = {'name': self.names[tname]}
        if t.meta == 'enum':
            d['meta-type'] = 'enum'
            d['members'] = [{'name': v} for v in t.values]
            d['values'] = list(t.values)
        elif t.meta == 'struct':
            d['meta-type'] = 'object'
            d['members'] = self.members(self.schema.all_members(t))
        elif t.meta == 'union':
            d['meta-type'] = 'object'
            d['members'] = self.members(self.schema.all_members(self.schema.types[t.base]))
            d['tag'] = t.discriminator
            d['variants'] = [{'case': k, 'type': self.ref(v)} for k, v in t.branches.items()]
        elif t.meta == 'alternate':
            d['meta-type'] = 'alternate'
            d['members'] = [{'type': self.ref(m.type)} for m in t.members]
        if t.features:
            d['features'] = t.features
        return d


def gen_introspect_source(schema):
    infos = Introspector(schema).build()
    text = json.dumps(infos, separators=(',', ':'))
    # split into string literal chunks of reasonable length
    chunks = [text[i:i + 100] for i in range(0, len(text), 100)]
    lits = '\n'.join('    "%s"' % c.replace('\\', '\\\\').replace('"', '\\"') for c in chunks)
    return 'const char qmp_schema_json[] =\n%s;\n' % lits
