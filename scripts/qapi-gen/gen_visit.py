# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Emit the input visitors (QObject -> C, with QEMU's error texts) and the output
visitors (C -> QObject, members in schema order so QDict prints QEMU's order).

Per type Foo:
  bool qapi_in_Foo(QObject *obj, const char *path, Foo **out, Error **errp)
       (enums: Foo *out by value)
  QObject *qapi_out_Foo(const Foo *obj)         (enums: Foo by value)
Structs and unions also get qapi_in_members_Foo / qapi_out_members_Foo that work on
a QDict, so bases, union branches and command arguments reuse them. `path` is the
member's full name for messages ("options.file", "bitmaps[2]"); NULL at the top.
Builtins are handled by qapi/qapi-visit-core.c (qapi_in_int8, qapi_out_str ...).
"""

from schema import BUILTINS, c_name
from gen_types import is_pointer, c_type, needs_has, enum_value_c, qtype_of

INT_RANGES = {
    'int': ('INT64_MIN', 'INT64_MAX'), 'int64': ('INT64_MIN', 'INT64_MAX'),
    'int8': ('INT8_MIN', 'INT8_MAX'), 'int16': ('INT16_MIN', 'INT16_MAX'),
    'int32': ('INT32_MIN', 'INT32_MAX'),
}
UINT_RANGES = {
    'uint8': 'UINT8_MAX', 'uint16': 'UINT16_MAX', 'uint32': 'UINT32_MAX',
    'uint64': 'UINT64_MAX', 'size': 'UINT64_MAX',
}


def in_fn(schema, tname):
    t = schema.types[tname]
    if t.meta == 'builtin':
        return 'qapi_in_' + tname
    return 'qapi_in_' + tname


def out_expr(schema, tname, expr):
    t = schema.types[tname]
    if t.meta == 'builtin':
        return 'qapi_out_%s(%s)' % (tname, expr)
    if t.meta == 'enum':
        return 'QOBJECT(qstring_from_str(%s_str(%s)))' % (tname, expr)
    return 'qapi_out_%s(%s)' % (tname, expr)


def gen_header(schema):
    out = []
    for name in schema.order:
        t = schema.types[name]
        if t.meta == 'enum':
            out.append('bool qapi_in_%s(QObject *obj, const char *path, %s *out, Error **errp);' % (name, name))
            continue
        out.append('bool qapi_in_%s(QObject *obj, const char *path, %s **out, Error **errp);' % (name, name))
        out.append('QObject *qapi_out_%s(const %s *obj);' % (name, name))
        if t.meta in ('struct', 'union'):
            out.append('bool qapi_in_members_%s(QDict *dict, const char *path, %s *obj, Error **errp);' % (name, name))
            out.append('void qapi_out_members_%s(QDict *dict, const %s *obj);' % (name, name))
    return '\n'.join(out)


def gen_member_in(schema, m, target, indent='    '):
    """Statements that read member m from `dict` into target (an lvalue prefix)."""
    o = []
    o.append('%sv = qdict_get(dict, "%s");' % (indent, m.name))
    o.append('%sif (v) {' % indent)
    o.append('%s    g_autofree char *p = qapi_path(path, "%s");' % (indent, m.name))
    o.append('%s    if (!%s(v, p, &%s%s, errp)) {' % (indent, in_fn(schema, m.type), target, m.c))
    o.append('%s        return false;' % indent)
    o.append('%s    }' % indent)
    if needs_has(schema, m):
        o.append('%s    %shas_%s = true;' % (indent, target, m.c))
    o.append('%s    qdict_del(dict, "%s");' % (indent, m.name))
    if not m.optional:
        o.append('%s} else {' % indent)
        o.append('%s    qapi_err_missing(errp, path, "%s");' % (indent, m.name))
        o.append('%s    return false;' % indent)
    o.append('%s}' % indent)
    return o


def gen_member_out(schema, m, src, indent='    '):
    o = []
    val = '%s%s' % (src, m.c)
    put = 'qdict_put_obj(dict, "%s", %s);' % (m.name, out_expr(schema, m.type, val))
    if m.optional:
        cond = val if is_pointer(schema, m.type) else '%shas_%s' % (src, m.c)
        o.append('%sif (%s) {' % (indent, cond))
        o.append('%s    %s' % (indent, put))
        o.append('%s}' % indent)
    else:
        o.append('%s%s' % (indent, put))
    return o


def gen_struct(schema, name, t):
    o = []
    members = t.members if t.meta == 'struct' else []
    base = t.base
    o.append('bool qapi_in_members_%s(QDict *dict, const char *path, %s *obj, Error **errp)' % (name, name))
    o.append('{')
    o.append('    QObject *v G_GNUC_UNUSED;')
    o.append('')
    if base:
        o.append('    if (!qapi_in_members_%s(dict, path, (%s *)obj, errp)) {' % (base, base))
        o.append('        return false;')
        o.append('    }')
    if t.meta == 'union':
        base_t = schema.types[base]
        disc = [m for m in schema.all_members(base_t) if m.name == t.discriminator][0]
        enum = schema.types[disc.type]
        if t.branches:
            o.append('    switch (obj->%s) {' % disc.c)
            for value, branch in t.branches.items():
                o.append('    case %s:' % enum_value_c(enum, value))
                o.append('        return qapi_in_members_%s(dict, path, &obj->u.%s, errp);' % (branch, c_name(value)))
            o.append('    default:')
            o.append('        break;')
            o.append('    }')
    for m in members:
        o += gen_member_in(schema, m, 'obj->')
    o.append('    return true;')
    o.append('}')
    o.append('')
    o.append('bool qapi_in_%s(QObject *obj, const char *path, %s **out, Error **errp)' % (name, name))
    o.append('{')
    o.append('    QDict *dict = qapi_in_dict(obj, path, errp);')
    o.append('    %s *val;' % name)
    o.append('')
    o.append('    *out = NULL;')
    o.append('    if (!dict) {')
    o.append('        return false;')
    o.append('    }')
    o.append('    val = g_new0(%s, 1);' % name)
    o.append('    if (!qapi_in_members_%s(dict, path, val, errp) ||' % name)
    o.append('        !qapi_check_unexpected(dict, path, errp)) {')
    o.append('        qobject_unref(dict);')
    o.append('        qapi_free_%s(val);' % name)
    o.append('        return false;')
    o.append('    }')
    o.append('    qobject_unref(dict);')
    o.append('    *out = val;')
    o.append('    return true;')
    o.append('}')
    o.append('')
    o.append('void qapi_out_members_%s(QDict *dict, const %s *obj)' % (name, name))
    o.append('{')
    if base:
        o.append('    qapi_out_members_%s(dict, (const %s *)obj);' % (base, base))
    if t.meta == 'union' and t.branches:
        base_t = schema.types[base]
        disc = [m for m in schema.all_members(base_t) if m.name == t.discriminator][0]
        enum = schema.types[disc.type]
        o.append('    switch (obj->%s) {' % disc.c)
        for value, branch in t.branches.items():
            o.append('    case %s:' % enum_value_c(enum, value))
            o.append('        qapi_out_members_%s(dict, &obj->u.%s);' % (branch, c_name(value)))
            o.append('        break;')
        o.append('    default:')
        o.append('        break;')
        o.append('    }')
    for m in members:
        o += gen_member_out(schema, m, 'obj->')
    o.append('}')
    o.append('')
    o.append('QObject *qapi_out_%s(const %s *obj)' % (name, name))
    o.append('{')
    o.append('    QDict *dict = qdict_new();')
    o.append('')
    o.append('    qapi_out_members_%s(dict, obj);' % name)
    o.append('    return QOBJECT(dict);')
    o.append('}')
    o.append('')
    return o


def gen_enum(schema, name, t):
    return [
        'bool qapi_in_%s(QObject *obj, const char *path, %s *out, Error **errp)' % (name, name),
        '{',
        '    int v;',
        '',
        '    if (!qapi_in_enum(obj, path, %s_lookup, %s__MAX, &v, errp)) {' % (name, t.prefix),
        '        return false;',
        '    }',
        '    *out = (%s)v;' % name,
        '    return true;',
        '}',
        '',
    ]


def gen_list(schema, name, t):
    elem = t.element
    o = []
    o.append('bool qapi_in_%s(QObject *obj, const char *path, %s **out, Error **errp)' % (name, name))
    o.append('{')
    o.append('    QList *list = qobject_to(QList, obj);')
    o.append('    %s *head = NULL, **tail = &head;' % name)
    o.append('    int i = 0;')
    o.append('')
    o.append('    *out = NULL;')
    o.append('    if (!list) {')
    o.append('        qapi_err_type(errp, path, "array");')
    o.append('        return false;')
    o.append('    }')
    o.append('    for (const QListEntry *e = qlist_first(list); e; e = qlist_next(e), i++) {')
    o.append('        g_autofree char *p = qapi_path_index(path, i);')
    o.append('        *tail = g_new0(%s, 1);' % name)
    o.append('        if (!%s(qlist_entry_obj(e), p, &(*tail)->value, errp)) {' % in_fn(schema, elem))
    o.append('            qapi_free_%s(head);' % name)
    o.append('            return false;')
    o.append('        }')
    o.append('        tail = &(*tail)->next;')
    o.append('    }')
    o.append('    *out = head;')
    o.append('    return true;')
    o.append('}')
    o.append('')
    o.append('QObject *qapi_out_%s(const %s *obj)' % (name, name))
    o.append('{')
    o.append('    QList *list = qlist_new();')
    o.append('')
    o.append('    for (; obj; obj = obj->next) {')
    o.append('        qlist_append_obj(list, %s);' % out_expr(schema, elem, 'obj->value'))
    o.append('    }')
    o.append('    return QOBJECT(list);')
    o.append('}')
    o.append('')
    return o


def gen_alternate(schema, name, t):
    o = []
    o.append('bool qapi_in_%s(QObject *obj, const char *path, %s **out, Error **errp)' % (name, name))
    o.append('{')
    o.append('    %s *val = g_new0(%s, 1);' % (name, name))
    o.append('    bool ok = false;')
    o.append('')
    o.append('    *out = NULL;')
    o.append('    val->type = qobject_type(obj);')
    o.append('    switch (val->type) {')
    seen = set()
    for m in t.members:
        qt = qtype_of(schema, m.type)
        if qt in seen:
            continue
        seen.add(qt)
        bt = schema.types[m.type]
        o.append('    case %s:' % qt)
        if bt.meta in ('struct', 'union'):
            o.append('    {')
            o.append('        QDict *dict = qapi_in_dict(obj, path, errp);')
            o.append('        ok = dict && qapi_in_members_%s(dict, path, &val->u.%s, errp) &&' % (m.type, m.c))
            o.append('             qapi_check_unexpected(dict, path, errp);')
            o.append('        qobject_unref(dict);')
            o.append('        break;')
            o.append('    }')
        else:
            o.append('        ok = %s(obj, path, &val->u.%s, errp);' % (in_fn(schema, m.type), m.c))
            o.append('        break;')
    o.append('    default:')
    o.append('        qapi_err_type(errp, path, "%s");' % name)
    o.append('        break;')
    o.append('    }')
    o.append('    if (!ok) {')
    o.append('        qapi_free_%s(val);     /* frees what the branch parsed so far */' % name)
    o.append('        return false;')
    o.append('    }')
    o.append('    *out = val;')
    o.append('    return true;')
    o.append('}')
    o.append('')
    o.append('QObject *qapi_out_%s(const %s *obj)' % (name, name))
    o.append('{')
    o.append('    switch (obj->type) {')
    seen = set()
    for m in t.members:
        qt = qtype_of(schema, m.type)
        if qt in seen:
            continue
        seen.add(qt)
        bt = schema.types[m.type]
        o.append('    case %s:' % qt)
        if bt.meta in ('struct', 'union'):
            o.append('        return qapi_out_%s(&obj->u.%s);' % (m.type, m.c))
        else:
            o.append('        return %s;' % out_expr(schema, m.type, 'obj->u.%s' % m.c))
    o.append('    default:')
    o.append('        return QOBJECT(qnull());')
    o.append('    }')
    o.append('}')
    o.append('')
    return o


def gen_source(schema):
    o = []
    for name in schema.order:
        t = schema.types[name]
        if t.meta == 'enum':
            o += gen_enum(schema, name, t)
        elif t.meta in ('struct', 'union'):
            o += gen_struct(schema, name, t)
        elif t.meta == 'list':
            o += gen_list(schema, name, t)
        elif t.meta == 'alternate':
            o += gen_alternate(schema, name, t)
    return '\n'.join(o)
