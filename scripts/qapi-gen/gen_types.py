# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 The Godwit authors
"""Emit C types for a schema: enums with lookup tables, structs, unions,
alternates, lists, and their free functions.

C representation (DESIGN/STYLE §10):
  - str -> char *, any -> QObject *, null -> QNull *; other builtins by value;
  - enums by value; structs, unions and alternates by pointer;
  - lists are linked: FooList { FooList *next; <elem> value; };
  - an optional member gets `bool has_x` only if its C type is not a pointer:
    an absent pointer member is simply NULL;
  - a union embeds its base members, then `union { Branch name; ... } u;` with the
    branch structs by value; an alternate is { QType type; union { ... } u; }.
"""

from schema import BUILTINS, c_name


def is_pointer(schema, tname):
    t = schema.types[tname]
    if t.meta == 'builtin':
        return BUILTINS[tname][2]
    return t.meta in ('struct', 'union', 'alternate', 'list')


def c_type(schema, tname, const=False):
    """C type of a member/variable of schema type tname."""
    t = schema.types[tname]
    if t.meta == 'builtin':
        ct = BUILTINS[tname][0]
        if const and tname == 'str':
            return 'const char *'
        return ct
    if t.meta == 'enum':
        return tname
    return '%s *' % tname


def needs_has(schema, m):
    return m.optional and not is_pointer(schema, m.type)


def member_decls(schema, members, indent='    '):
    out = []
    for m in members:
        if needs_has(schema, m):
            out.append('%sbool has_%s;' % (indent, m.c))
        ct = c_type(schema, m.type)
        sep = '' if ct.endswith('*') else ' '
        out.append('%s%s%s%s;' % (indent, ct, sep, m.c))
    return out


def enum_value_c(t, value):
    return '%s_%s' % (t.prefix, c_name(value, False).upper())


def by_value_order(schema):
    """Type names with every type embedded by value (union branches, alternate
    object branches) before the type that embeds it."""
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        t = schema.types[name]
        deps = list(t.branches.values()) if t.meta == 'union' else []
        if t.meta == 'alternate':
            deps = [m.type for m in t.members
                    if schema.types[m.type].meta in ('struct', 'union')]
        for d in deps:
            visit(d)
        order.append(name)

    for name in schema.order:
        visit(name)
    return order


def gen_header(schema):
    out = []
    # forward declarations so types can refer to each other in any order
    for name in schema.order:
        t = schema.types[name]
        if t.meta in ('struct', 'union', 'alternate', 'list'):
            out.append('typedef struct %s %s;' % (name, name))
    out.append('')
    for name in schema.order:
        t = schema.types[name]
        if t.meta == 'enum' and t.expr.get('c-header'):
            # Defined by a C header of the subsystem (same values, same order,
            # with a PREFIX__MAX); we only add the lookup table and _str().
            out.append('#include "%s"' % t.expr['c-header'])
            out.append('extern const char *const %s_lookup[];' % name)
            out.append('static inline const char *%s_str(%s v)' % (name, name))
            out.append('{')
            out.append('    return (unsigned)v < %s__MAX ? %s_lookup[v] : "?";' % (t.prefix, name))
            out.append('}')
            out.append('')
        elif t.meta == 'enum':
            out.append('typedef enum %s {' % name)
            for v in t.values:
                out.append('    %s,' % enum_value_c(t, v))
            out.append('    %s__MAX,' % t.prefix)
            out.append('} %s;' % name)
            out.append('extern const char *const %s_lookup[];' % name)
            out.append('static inline const char *%s_str(%s v)' % (name, name))
            out.append('{')
            out.append('    return (unsigned)v < %s__MAX ? %s_lookup[v] : "?";' % (t.prefix, name))
            out.append('}')
            out.append('')
    for name in by_value_order(schema):
        t = schema.types[name]
        if t.meta == 'struct':
            out.append('struct %s {' % name)
            out += member_decls(schema, schema.all_members(t))
            if not schema.all_members(t):
                out.append('    char qapi_dummy_for_empty_struct;')
            out.append('};')
        elif t.meta == 'union':
            out.append('struct %s {' % name)
            out += member_decls(schema, schema.all_members(schema.types[t.base]))
            if t.branches:
                out.append('    union {')
                for value, branch in t.branches.items():
                    out.append('        %s %s;' % (branch, c_name(value)))
                out.append('    } u;')
            out.append('};')
        elif t.meta == 'alternate':
            out.append('struct %s {' % name)
            out.append('    QType type;')
            out.append('    union {')
            for m in t.members:
                bt = schema.types[m.type]
                if bt.meta in ('struct', 'union'):
                    out.append('        %s %s;' % (m.type, m.c))
                else:
                    ct = c_type(schema, m.type)
                    sep = '' if ct.endswith('*') else ' '
                    out.append('        %s%s%s;' % (ct, sep, m.c))
            out.append('    } u;')
            out.append('};')
        elif t.meta == 'list':
            out.append('struct %s {' % name)
            out.append('    %s *next;' % name)
            ct = c_type(schema, t.element)
            sep = '' if ct.endswith('*') else ' '
            out.append('    %s%svalue;' % (ct, sep))
            out.append('};')
        else:
            continue
        out.append('void qapi_free_%s(%s *obj);' % (name, name))
        out.append('void qapi_free_members_%s(%s *obj);' % (name, name))
        out.append('G_DEFINE_AUTOPTR_CLEANUP_FUNC(%s, qapi_free_%s)' % (name, name))
        out.append('')
    return '\n'.join(out)


def free_member_stmt(schema, tname, expr, indent):
    """Statement freeing the value `expr` of schema type tname (a member's storage)."""
    t = schema.types[tname]
    if t.meta == 'builtin':
        if tname == 'str':
            return ['%sg_free(%s);' % (indent, expr)]
        if tname in ('any', 'null'):
            return ['%sif (%s) {' % (indent, expr),
                    '%s    qobject_unref(%s);' % (indent, expr),
                    '%s}' % indent]
        return []
    if t.meta == 'enum':
        return []
    return ['%sqapi_free_%s(%s);' % (indent, tname, expr)]


def gen_source(schema):
    out = []
    for name in schema.order:
        t = schema.types[name]
        if t.meta == 'enum':
            out.append('const char *const %s_lookup[] = {' % name)
            for v in t.values:
                out.append('    [%s] = "%s",' % (enum_value_c(t, v), v))
            out.append('    NULL,')
            out.append('};')
            if t.expr.get('c-header'):
                out.append('G_STATIC_ASSERT(%s__MAX == %d);' % (t.prefix, len(t.values)))
            out.append('')
            continue
        if t.meta not in ('struct', 'union', 'alternate', 'list'):
            continue
        out.append('void qapi_free_members_%s(%s *obj)' % (name, name))
        out.append('{')
        if t.meta in ('struct', 'union'):
            base_members = schema.all_members(t) if t.meta == 'struct' else \
                schema.all_members(schema.types[t.base])
            for m in base_members:
                out += free_member_stmt(schema, m.type, 'obj->%s' % m.c, '    ')
            if t.meta == 'union' and t.branches:
                disc = [m for m in base_members if m.name == t.discriminator][0]
                enum = schema.types[disc.type]
                out.append('    switch (obj->%s) {' % disc.c)
                for value, branch in t.branches.items():
                    out.append('    case %s:' % enum_value_c(enum, value))
                    out.append('        qapi_free_members_%s(&obj->u.%s);' % (branch, c_name(value)))
                    out.append('        break;')
                out.append('    default:')
                out.append('        break;')
                out.append('    }')
        elif t.meta == 'alternate':
            out.append('    switch (obj->type) {')
            for m in t.members:
                bt = schema.types[m.type]
                out.append('    case %s:' % qtype_of(schema, m.type))
                if bt.meta in ('struct', 'union'):
                    out.append('        qapi_free_members_%s(&obj->u.%s);' % (m.type, m.c))
                else:
                    out += free_member_stmt(schema, m.type, 'obj->u.%s' % m.c, '        ')
                out.append('        break;')
            out.append('    default:')
            out.append('        break;')
            out.append('    }')
        elif t.meta == 'list':
            out.append('    while (obj) {')
            out.append('        %s *next = obj->next;' % name)
            out += free_member_stmt(schema, t.element, 'obj->value', '        ')
            out.append('        g_free(obj);')
            out.append('        obj = next;')
            out.append('    }')
        out.append('}')
        out.append('')
        out.append('void qapi_free_%s(%s *obj)' % (name, name))
        out.append('{')
        if t.meta == 'list':
            out.append('    qapi_free_members_%s(obj);' % name)
        else:
            out.append('    if (obj) {')
            out.append('        qapi_free_members_%s(obj);' % name)
            out.append('        g_free(obj);')
            out.append('    }')
        out.append('}')
        out.append('')
    return '\n'.join(out)


def qtype_of(schema, tname):
    """The QType an alternate branch of type tname is chosen by."""
    t = schema.types[tname]
    if t.meta in ('struct', 'union'):
        return 'QTYPE_QDICT'
    if t.meta == 'list':
        return 'QTYPE_QLIST'
    if t.meta == 'enum' or tname == 'str':
        return 'QTYPE_QSTRING'
    if tname == 'bool':
        return 'QTYPE_QBOOL'
    if tname == 'null':
        return 'QTYPE_QNULL'
    return 'QTYPE_QNUM'
