/*
 * otel_tokenwatch.otlp._wirec: the OTLP wire reads the hot path makes for every span.
 *
 * Why C: bench/relay.py's profile showed the normalize stage spending most of its
 * time turning a span's attributes into Python values through protobuf wrapper
 * objects (about 7 us of 27 per span), and the assembler re-serializing every span
 * it had just parsed. Both are mechanical wire-format reads with no rule in them, so
 * they live here; every rule stays in Python. The pure-Python path in wire.py does
 * the same through protobuf and is used when this module is absent or when the input
 * is one this reader declines (see below); tests check that both agree.
 *
 * The reader is deliberately narrow. It raises ValueError, and the caller falls back
 * to protobuf, for anything beyond the common encoding: groups, a known field with an
 * unexpected wire type, a singular message field sent twice (protobuf would merge the
 * parts), invalid UTF-8, nesting deeper than 64. So its answers are either exactly
 * protobuf's or absent.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* ---- wire primitives ------------------------------------------------------------ */

typedef struct {
    uint32_t num;
    int wt;
    uint64_t v;           /* varint, fixed64 or fixed32 value */
    const uint8_t *data;  /* length-delimited payload */
    Py_ssize_t len;
} Field;

static int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = x;
            return 0;
        }
    }
    return -1;
}

/* 1: a field was read, 0: end of message, -1: malformed (no exception set) */
static int next_field(const uint8_t **pp, const uint8_t *end, Field *f) {
    if (*pp >= end) return 0;
    uint64_t tag;
    if (read_varint(pp, end, &tag) < 0) return -1;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    if (f->num == 0 || (tag >> 3) > 0x1fffffff) return -1;
    const uint8_t *p = *pp;
    switch (f->wt) {
    case 0:
        if (read_varint(pp, end, &f->v) < 0) return -1;
        return 1;
    case 1:
        if (end - p < 8) return -1;
        memcpy(&f->v, p, 8); /* little-endian hosts only: checked at import */
        *pp = p + 8;
        return 1;
    case 2: {
        uint64_t n;
        if (read_varint(pp, end, &n) < 0) return -1;
        p = *pp;
        if (n > (uint64_t)(end - p)) return -1;
        f->data = p;
        f->len = (Py_ssize_t)n;
        *pp = p + n;
        return 1;
    }
    case 5: {
        if (end - p < 4) return -1;
        uint32_t v32;
        memcpy(&v32, p, 4);
        f->v = v32;
        *pp = p + 4;
        return 1;
    }
    default:
        return -1; /* groups (3, 4) and reserved types: left to protobuf */
    }
}

static PyObject *declined(const char *why) {
    PyErr_SetString(PyExc_ValueError, why);
    return NULL;
}

/* ---- a small cache of short strings ----------------------------------------------
 * Attribute keys and most short values (operation names, models, tool names) recur
 * span after span; handing out the same str object saves the allocation and, for
 * keys, the hash that every dict insertion and lookup needs. Direct-mapped, bounded.
 */
#define STR_CACHE_SIZE 8192
#define STR_CACHE_MAX_LEN 64
typedef struct {
    PyObject *str;
    Py_ssize_t len;
    uint8_t bytes[STR_CACHE_MAX_LEN];
} StrSlot;
static StrSlot str_cache[STR_CACHE_SIZE];

/* The slot of a short string: its length and three 8-byte words (first, middle, last; all of it under 8
 * bytes) mixed, not every byte: keys that share a prefix differ in length, in their tail or in the index
 * in their middle. A collision only costs a miss (the bytes are compared before a slot is used). */
static inline uint64_t load8(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t slot_hash(const uint8_t *p, Py_ssize_t n) {
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull;
    if (n >= 8) {
        h = (h ^ load8(p)) * 0xff51afd7ed558ccdull;
        h = (h ^ load8(p + n - 8)) * 0xc4ceb9fe1a85ec53ull;
        if (n > 16) h = (h ^ load8(p + (n >> 1) - 4)) * 0xff51afd7ed558ccdull;
    } else {
        uint64_t v = 0;
        memcpy(&v, p, (size_t)n);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
    }
    return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

static PyObject *make_str(const uint8_t *p, Py_ssize_t n) {
    if (n == 0) return PyUnicode_FromStringAndSize(NULL, 0);
    if (n > STR_CACHE_MAX_LEN) return PyUnicode_DecodeUTF8((const char *)p, n, NULL);
    StrSlot *s = &str_cache[slot_hash(p, n) & (STR_CACHE_SIZE - 1)];
    if (s->str != NULL && s->len == n && memcmp(s->bytes, p, (size_t)n) == 0) {
        Py_INCREF(s->str);
        return s->str;
    }
    PyObject *u = PyUnicode_DecodeUTF8((const char *)p, n, NULL);
    if (u == NULL) return NULL;
    Py_XDECREF(s->str);
    Py_INCREF(u);
    s->str = u;
    s->len = n;
    memcpy(s->bytes, p, (size_t)n);
    return u;
}

/* ---- AnyValue, KeyValue ------------------------------------------------------------ */

static PyObject *decode_any(const uint8_t *p, Py_ssize_t n, int depth);
static int decode_key_values_into(PyObject *dict, const uint8_t *p, Py_ssize_t n, uint32_t field, int depth);

/* One KeyValue into dict[key] = value (the last value of a repeated key wins, as protobuf readers do). */
static int decode_key_value(PyObject *dict, const uint8_t *p, Py_ssize_t n, int depth) {
    const uint8_t *end = p + n;
    const uint8_t *key = (const uint8_t *)"";
    Py_ssize_t key_len = 0;
    const uint8_t *val = NULL;
    Py_ssize_t val_len = 0;
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.num == 1) {
            if (f.wt != 2) goto decline;
            key = f.data;
            key_len = f.len;
        } else if (f.num == 2) {
            if (f.wt != 2 || val != NULL) goto decline; /* a second value would be merged */
            val = f.data;
            val_len = f.len;
        } else {
            goto decline; /* key_strindex (3) of newer protos, or unknown: left to protobuf */
        }
    }
    if (r < 0) goto decline;
    PyObject *k = make_str(key, key_len);
    if (k == NULL) return -1;
    PyObject *v;
    if (val == NULL) {
        v = Py_None;
        Py_INCREF(v);
    } else {
        v = decode_any(val, val_len, depth + 1);
        if (v == NULL) {
            Py_DECREF(k);
            return -1;
        }
    }
    int rc = PyDict_SetItem(dict, k, v);
    Py_DECREF(k);
    Py_DECREF(v);
    return rc;
decline:
    PyErr_SetString(PyExc_ValueError, "KeyValue outside the common encoding");
    return -1;
}

static int decode_key_values_into(PyObject *dict, const uint8_t *p, Py_ssize_t n, uint32_t field, int depth) {
    const uint8_t *end = p + n;
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.num == field) {
            if (f.wt != 2) goto decline;
            if (decode_key_value(dict, f.data, f.len, depth) < 0) return -1;
        }
    }
    if (r < 0) goto decline;
    return 0;
decline:
    PyErr_SetString(PyExc_ValueError, "message outside the common encoding");
    return -1;
}

static PyObject *decode_any(const uint8_t *p, Py_ssize_t n, int depth) {
    if (depth > 64) return declined("AnyValue nested too deeply");
    const uint8_t *end = p + n;
    Field f = {0}, last = {0};
    int have = 0, nested = 0;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        switch (f.num) {
        case 1: case 5: case 6: case 7:
            if (f.wt != 2) return declined("AnyValue field with an unexpected wire type");
            if (f.num == 5 || f.num == 6) {
                if (nested) return declined("AnyValue with a repeated nested value");
                nested = 1;
            }
            break;
        case 2: case 3:
            if (f.wt != 0) return declined("AnyValue field with an unexpected wire type");
            break;
        case 4:
            if (f.wt != 1) return declined("AnyValue field with an unexpected wire type");
            break;
        default: /* e.g. string_value_strindex (8), a oneof member of newer protos: left to protobuf */
            return declined("AnyValue with a field this reader does not know");
        }
        last = f;
        have = 1;
    }
    if (r < 0) return declined("malformed AnyValue");
    if (!have) Py_RETURN_NONE;
    switch (last.num) {
    case 1:
        return make_str(last.data, last.len);
    case 2:
        return PyBool_FromLong(last.v != 0);
    case 3:
        return PyLong_FromLongLong((long long)(int64_t)last.v);
    case 4: {
        double d;
        memcpy(&d, &last.v, 8);
        return PyFloat_FromDouble(d);
    }
    case 7:
        return PyBytes_FromStringAndSize((const char *)last.data, last.len);
    case 5: {
        PyObject *list = PyList_New(0);
        if (list == NULL) return NULL;
        const uint8_t *q = last.data, *qend = last.data + last.len;
        Field g;
        int rr;
        while ((rr = next_field(&q, qend, &g)) == 1) {
            if (g.num != 1) continue;
            if (g.wt != 2) {
                Py_DECREF(list);
                return declined("ArrayValue outside the common encoding");
            }
            PyObject *item = decode_any(g.data, g.len, depth + 1);
            if (item == NULL || PyList_Append(list, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(item);
        }
        if (rr < 0) {
            Py_DECREF(list);
            return declined("malformed ArrayValue");
        }
        return list;
    }
    default: { /* 6: kvlist */
        PyObject *dict = PyDict_New();
        if (dict == NULL) return NULL;
        if (decode_key_values_into(dict, last.data, last.len, 1, depth + 1) < 0) {
            Py_DECREF(dict);
            return NULL;
        }
        return dict;
    }
    }
}

/* ---- Span ---------------------------------------------------------------------------- */

static PyTypeObject SpanFieldsType;
static PyStructSequence_Field span_fields_fields[] = {
    {"name", "Span.name"},
    {"kind", "Span.kind (enum value)"},
    {"start_time_unix_nano", NULL},
    {"end_time_unix_nano", NULL},
    {"status_code", "Span.status.code (enum value)"},
    {NULL, NULL},
};
static PyStructSequence_Desc span_fields_desc = {
    "otel_tokenwatch.otlp._wirec.SpanFields",
    "The scalar fields of a span that stages read.",
    span_fields_fields,
    5,
};

PyDoc_STRVAR(decode_span_doc,
"decode_span(data: bytes) -> tuple[SpanFields, dict]\n\n"
"An encoded Span's scalar fields and its attributes as plain values\n"
"(arrays as lists, key-value lists as dicts). ValueError: left to protobuf.");

static PyObject *decode_span(PyObject *self, PyObject *arg) {
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *p = buf.buf, *end = p + buf.len;
    const uint8_t *name = (const uint8_t *)"";
    Py_ssize_t name_len = 0;
    uint64_t kind = 0, start = 0, stop = 0, code = 0;
    int status_seen = 0;
    PyObject *attrs = PyDict_New();
    PyObject *fields = NULL, *out = NULL;
    if (attrs == NULL) goto done;
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        switch (f.num) {
        case 1: case 2: case 3: case 4: case 11: case 13:
            if (f.wt != 2) goto decline;
            break;
        case 5:
            if (f.wt != 2) goto decline;
            name = f.data;
            name_len = f.len;
            break;
        case 6: case 10: case 12: case 14:
            if (f.wt != 0) goto decline;
            if (f.num == 6) kind = f.v;
            break;
        case 7: case 8:
            if (f.wt != 1) goto decline;
            if (f.num == 7) start = f.v; else stop = f.v;
            break;
        case 9:
            if (f.wt != 2) goto decline;
            if (decode_key_value(attrs, f.data, f.len, 0) < 0) goto done;
            break;
        case 15: {
            if (f.wt != 2 || status_seen) goto decline; /* a second status would be merged */
            status_seen = 1;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            Field g;
            int rr;
            while ((rr = next_field(&q, qend, &g)) == 1) {
                if (g.num == 3) {
                    if (g.wt != 0) goto decline;
                    code = g.v;
                } else if (g.num == 2 && g.wt != 2) {
                    goto decline;
                }
            }
            if (rr < 0) goto decline;
            break;
        }
        case 16:
            if (f.wt != 5) goto decline;
            break;
        default:
            break;
        }
    }
    if (r < 0) goto decline;
    fields = PyStructSequence_New(&SpanFieldsType);
    if (fields == NULL) goto done;
    PyObject *v;
    if ((v = make_str(name, name_len)) == NULL) goto done;
    PyStructSequence_SET_ITEM(fields, 0, v);
    /* enums are int32 on the wire (negative values sign-extended to 64 bits) */
    if ((v = PyLong_FromLong((long)(int32_t)kind)) == NULL) goto done;
    PyStructSequence_SET_ITEM(fields, 1, v);
    if ((v = PyLong_FromUnsignedLongLong(start)) == NULL) goto done;
    PyStructSequence_SET_ITEM(fields, 2, v);
    if ((v = PyLong_FromUnsignedLongLong(stop)) == NULL) goto done;
    PyStructSequence_SET_ITEM(fields, 3, v);
    if ((v = PyLong_FromLong((long)(int32_t)code)) == NULL) goto done;
    PyStructSequence_SET_ITEM(fields, 4, v);
    out = PyTuple_Pack(2, fields, attrs);
    goto done;
decline:
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "Span outside the common encoding");
done:
    Py_XDECREF(fields);
    Py_XDECREF(attrs);
    PyBuffer_Release(&buf);
    return out;
}

/* ---- ExportTraceServiceRequest ------------------------------------------------------ */

/* The span's ids, read from its top-level fields (last occurrence wins, as in protobuf). */
static PyObject *span_entry(const uint8_t *p, Py_ssize_t n) {
    const uint8_t *end = p + n;
    const uint8_t *ids[3] = {NULL, NULL, NULL};
    Py_ssize_t lens[3] = {0, 0, 0};
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        int slot = f.num == 1 ? 0 : f.num == 2 ? 1 : f.num == 4 ? 2 : -1;
        if (slot < 0) continue;
        if (f.wt != 2) return declined("Span id with an unexpected wire type");
        ids[slot] = f.data;
        lens[slot] = f.len;
    }
    if (r < 0) return declined("malformed Span");
    PyObject *t = PyTuple_New(4);
    if (t == NULL) return NULL;
    PyObject *data = PyBytes_FromStringAndSize((const char *)(end - n), n);
    if (data == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, data);
    for (int i = 0; i < 3; i++) {
        PyObject *b = PyBytes_FromStringAndSize(ids[i] ? (const char *)ids[i] : "", lens[i]);
        if (b == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i + 1, b);
    }
    return t;
}

/* ScopeSpans or ResourceSpans: (message bytes of field 1, schema_url, [children of field 2]) */
static PyObject *split_group(const uint8_t *p, Py_ssize_t n, int spans_level) {
    const uint8_t *end = p + n;
    const uint8_t *head = (const uint8_t *)"", *schema = (const uint8_t *)"";
    Py_ssize_t head_len = 0, schema_len = 0;
    int head_seen = 0;
    PyObject *children = PyList_New(0);
    if (children == NULL) return NULL;
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.num > 3) continue;
        if (f.wt != 2) goto decline;
        if (f.num == 1) {
            if (head_seen) goto decline; /* a second resource/scope would be merged */
            head_seen = 1;
            head = f.data;
            head_len = f.len;
        } else if (f.num == 3) {
            schema = f.data;
            schema_len = f.len;
        } else {
            PyObject *c = spans_level ? span_entry(f.data, f.len) : split_group(f.data, f.len, 1);
            if (c == NULL || PyList_Append(children, c) < 0) {
                Py_XDECREF(c);
                Py_DECREF(children);
                return NULL;
            }
            Py_DECREF(c);
        }
    }
    if (r < 0) goto decline;
    PyObject *hb = PyBytes_FromStringAndSize((const char *)head, head_len);
    PyObject *su = hb ? PyUnicode_DecodeUTF8((const char *)schema, schema_len, NULL) : NULL;
    if (su == NULL) {
        Py_XDECREF(hb);
        Py_DECREF(children);
        return NULL;
    }
    PyObject *t = PyTuple_New(3);
    if (t == NULL) {
        Py_DECREF(hb);
        Py_DECREF(su);
        Py_DECREF(children);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, hb);
    PyTuple_SET_ITEM(t, 1, su);
    PyTuple_SET_ITEM(t, 2, children);
    return t;
decline:
    Py_DECREF(children);
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "message outside the common encoding");
    return NULL;
}

PyDoc_STRVAR(split_traces_doc,
"split_traces(data: bytes) -> list[tuple[bytes, str, list[tuple[bytes, str, list[tuple[bytes, bytes, bytes, bytes]]]]]]\n\n"
"An encoded ExportTraceServiceRequest as (resource bytes, schema_url, scopes), each scope\n"
"(scope bytes, schema_url, spans), each span (span bytes as sent, trace_id, span_id,\n"
"parent_span_id). ValueError: left to protobuf.");

static PyObject *split_traces(PyObject *self, PyObject *arg) {
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *p = buf.buf, *end = p + buf.len;
    PyObject *out = PyList_New(0);
    Field f;
    int r;
    if (out == NULL) goto fail;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.num != 1) continue;
        if (f.wt != 2) {
            PyErr_SetString(PyExc_ValueError, "ResourceSpans with an unexpected wire type");
            goto fail;
        }
        PyObject *g = split_group(f.data, f.len, 0);
        if (g == NULL || PyList_Append(out, g) < 0) {
            Py_XDECREF(g);
            goto fail;
        }
        Py_DECREF(g);
    }
    if (r < 0) {
        PyErr_SetString(PyExc_ValueError, "malformed ExportTraceServiceRequest");
        goto fail;
    }
    PyBuffer_Release(&buf);
    return out;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&buf);
    return NULL;
}



/* ---- validation ------------------------------------------------------------------------
 * check_traces walks a whole ExportTraceServiceRequest against the schema of the installed
 * protobuf descriptors (handed over once by set_schema, so the two cannot drift), checking
 * what protobuf's parser checks: wire structure, UTF-8 of every string field, nesting. It
 * answers "valid" only where protobuf would parse the request; anything it does not model
 * (groups, a known field with an unexpected wire type, deep nesting) is declined
 * (ValueError) and protobuf decides. Valid requests then need no protobuf parse at all.
 */
enum { C_VARINT = 0, C_FIXED64 = 1, C_BYTES = 2, C_STRING = 3, C_MESSAGE = 4, C_FIXED32 = 5, C_UNKNOWN = 0xff };
typedef struct {
    uint8_t code;
    int32_t sub;
} FieldSpec;
typedef struct {
    uint32_t max_field;
    FieldSpec *fields; /* by field number, 0..max_field */
} MsgSpec;
static MsgSpec *schema = NULL;
static Py_ssize_t schema_len = 0;
static int root_msg = -1, span_msg = -1;
static uint32_t span_attrs_field = 0, span_id_field = 0;

typedef struct {
    Py_ssize_t spans, max_attrs, max_size;
    const uint8_t *attrs_id, *size_id;
    Py_ssize_t attrs_id_len, size_id_len;
} Stats;

static int utf8_ok(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
        else return 0;
        if (n - i - 1 < need) return 0;
        for (int k = 1; k <= need; k++) {
            uint8_t d = s[i + k];
            if ((d & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += need + 1;
    }
    return 1;
}

static int validate(const uint8_t *p, Py_ssize_t n, int msg, int depth, Stats *st) {
    if (depth > 64) return -1;
    const MsgSpec *m = &schema[msg];
    const uint8_t *end = p + n;
    int is_span = msg == span_msg;
    Py_ssize_t attrs = 0;
    const uint8_t *sid = NULL;
    Py_ssize_t sid_len = 0;
    Field f = {0};
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        const FieldSpec *fs = f.num <= m->max_field ? &m->fields[f.num] : NULL;
        int code = fs ? fs->code : C_UNKNOWN;
        switch (code) {
        case C_UNKNOWN:
            continue; /* kept by protobuf as an unknown field; next_field checked its framing */
        case C_VARINT: case C_FIXED64: case C_FIXED32:
            if (f.wt != code) return -1;
            break;
        case C_BYTES:
            if (f.wt != 2) return -1;
            break;
        case C_STRING:
            if (f.wt != 2 || !utf8_ok(f.data, f.len)) return -1;
            break;
        default: /* C_MESSAGE */
            if (f.wt != 2 || validate(f.data, f.len, fs->sub, depth + 1, st) < 0) return -1;
            break;
        }
        if (is_span) {
            if (f.num == span_attrs_field) attrs++;
            else if (f.num == span_id_field) {
                sid = f.data;
                sid_len = f.len;
            }
        }
    }
    if (r < 0) return -1;
    if (is_span) {
        st->spans++;
        if (attrs > st->max_attrs) {
            st->max_attrs = attrs;
            st->attrs_id = sid;
            st->attrs_id_len = sid_len;
        }
        if (n > st->max_size) {
            st->max_size = n;
            st->size_id = sid;
            st->size_id_len = sid_len;
        }
    }
    return 0;
}

PyDoc_STRVAR(set_schema_doc,
"set_schema(messages, root, span, span_attributes_field, span_id_field) -> None\n\n"
"messages: one list per message type of (field number, code, message index) with code\n"
"0 varint, 1 fixed64, 5 fixed32, 2 bytes, 3 string, 4 message (built from descriptors).");

static PyObject *set_schema(PyObject *self, PyObject *args) {
    PyObject *messages;
    int root, span;
    unsigned int attrs_field, id_field;
    if (!PyArg_ParseTuple(args, "O!iiII", &PyList_Type, &messages, &root, &span, &attrs_field, &id_field))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(messages);
    if (root < 0 || root >= n || span < 0 || span >= n) {
        PyErr_SetString(PyExc_ValueError, "root and span must index messages");
        return NULL;
    }
    MsgSpec *specs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(MsgSpec));
    if (specs == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *fields = PyList_GET_ITEM(messages, i);
        if (!PyList_Check(fields)) goto bad;
        uint32_t maxf = 0;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(fields); j++) {
            unsigned int num, code;
            int sub;
            if (!PyArg_ParseTuple(PyList_GET_ITEM(fields, j), "IIi", &num, &code, &sub)) goto fail;
            if (num == 0 || num > 4096) goto bad;
            if (num > maxf) maxf = num;
        }
        specs[i].max_field = maxf;
        specs[i].fields = PyMem_Malloc(sizeof(FieldSpec) * (maxf + 1));
        if (specs[i].fields == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        for (uint32_t k = 0; k <= maxf; k++) specs[i].fields[k].code = C_UNKNOWN;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(fields); j++) {
            unsigned int num, code;
            int sub;
            PyArg_ParseTuple(PyList_GET_ITEM(fields, j), "IIi", &num, &code, &sub);
            if (code > 5 || (code == C_MESSAGE && (sub < 0 || sub >= n))) goto bad;
            specs[i].fields[num].code = (uint8_t)code;
            specs[i].fields[num].sub = sub;
        }
    }
    for (Py_ssize_t i = 0; i < schema_len; i++) PyMem_Free(schema[i].fields);
    PyMem_Free(schema);
    schema = specs;
    schema_len = n;
    root_msg = root;
    span_msg = span;
    span_attrs_field = attrs_field;
    span_id_field = id_field;
    Py_RETURN_NONE;
bad:
    PyErr_SetString(PyExc_ValueError, "malformed schema");
fail:
    for (Py_ssize_t i = 0; i < n; i++) PyMem_Free(specs[i].fields);
    PyMem_Free(specs);
    return NULL;
}

PyDoc_STRVAR(check_traces_doc,
"check_traces(data: bytes) -> tuple[int, int, bytes, int, bytes]\n\n"
"Validate an ExportTraceServiceRequest as protobuf would parse it: (spans, the most\n"
"attributes on one span and that span's id, the largest span's encoded size and its id).\n"
"ValueError: not valid, or outside what this reader models; parse it with protobuf.");

static PyObject *check_traces(PyObject *self, PyObject *arg) {
    if (schema == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "set_schema was not called");
        return NULL;
    }
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    Stats st = {0, 0, 0, NULL, NULL, 0, 0};
    PyObject *out = NULL;
    if (validate(buf.buf, buf.len, root_msg, 0, &st) < 0) {
        PyErr_SetString(PyExc_ValueError, "request declined by the compiled check");
    } else {
        out = Py_BuildValue("(nny#ny#)", st.spans, st.max_attrs, st.attrs_id ? (const char *)st.attrs_id : "",
                            st.attrs_id_len, st.max_size, st.size_id ? (const char *)st.size_id : "", st.size_id_len);
    }
    PyBuffer_Release(&buf);
    return out;
}

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
    int fixed; /* buf is a bytes object's storage sized in advance: never reallocated */
} Out;

static int out_reserve(Out *o, Py_ssize_t more) {
    if (o->len + more <= o->cap) return 0;
    if (o->fixed) {
        PyErr_SetString(PyExc_RuntimeError, "encode_request: size mismatch");
        return -1;
    }
    Py_ssize_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + more) cap *= 2;
    char *b = PyMem_Realloc(o->buf, (size_t)cap);
    if (b == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = b;
    o->cap = cap;
    return 0;
}

static int varint_size(uint64_t v);

static int put_varint(Out *o, uint64_t v) {
    if (out_reserve(o, varint_size(v)) < 0) return -1; /* exactly: a fixed buffer has no slack */
    while (v >= 0x80) {
        o->buf[o->len++] = (char)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    o->buf[o->len++] = (char)v;
    return 0;
}

static int varint_size(uint64_t v) {
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static int put_bytes(Out *o, const char *p, Py_ssize_t n) {
    if (out_reserve(o, n) < 0) return -1;
    memcpy(o->buf + o->len, p, (size_t)n);
    o->len += n;
    return 0;
}

/* tag and length of a length-delimited field */
static int put_header(Out *o, uint32_t field, Py_ssize_t len) {
    if (put_varint(o, ((uint64_t)field << 3) | 2) < 0) return -1;
    return put_varint(o, (uint64_t)len);
}

/* One AnyValue for str/bool/int/float; 1 = written, 0 = not a scalar this writer handles, -1 = error. */
static int put_scalar_any(Out *o, PyObject *v) {
    if (PyBool_Check(v)) {
        if (out_reserve(o, 2) < 0) return -1;
        o->buf[o->len++] = 0x10;
        o->buf[o->len++] = v == Py_True ? 1 : 0;
        return 1;
    }
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow) return 0;
        if (x == -1 && PyErr_Occurred()) return -1;
        if (out_reserve(o, 1) < 0) return -1;
        o->buf[o->len++] = 0x18;
        return put_varint(o, (uint64_t)x) < 0 ? -1 : 1;
    }
    if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        if (out_reserve(o, 9) < 0) return -1;
        o->buf[o->len++] = 0x21;
        memcpy(o->buf + o->len, &d, 8);
        o->len += 8;
        return 1;
    }
    if (PyUnicode_CheckExact(v)) {
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(v, &n);
        if (u == NULL) return -1;
        if (put_header(o, 1, n) < 0 || put_bytes(o, u, n) < 0) return -1;
        return 1;
    }
    return 0;
}

PyDoc_STRVAR(encode_attributes_doc,
"encode_attributes(items, field: int) -> bytes | None\n\n"
"(key, value) pairs as repeated KeyValue entries of ``field``, ready to append to a message.\n"
"Values: str, bool, int (int64), float. None when a value is of another type (the caller\n"
"encodes those through protobuf).");

static PyObject *encode_attributes(PyObject *self, PyObject *args) {
    PyObject *items;
    unsigned int field;
    if (!PyArg_ParseTuple(args, "OI", &items, &field)) return NULL;
    PyObject *it = PyObject_GetIter(items);
    if (it == NULL) return NULL;
    Out o = {NULL, 0, 0, 0}, kv = {NULL, 0, 0, 0};
    PyObject *pair, *result = NULL;
    while ((pair = PyIter_Next(it)) != NULL) {
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(pair, 0))) {
            Py_DECREF(pair);
            PyErr_SetString(PyExc_TypeError, "items must be (str, value) pairs");
            goto done;
        }
        Py_ssize_t kn;
        const char *k = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 0), &kn);
        if (k == NULL) {
            Py_DECREF(pair);
            goto done;
        }
        Out av = {NULL, 0, 0, 0};
        int r = put_scalar_any(&av, PyTuple_GET_ITEM(pair, 1));
        Py_DECREF(pair);
        if (r <= 0) {
            PyMem_Free(av.buf);
            if (r == 0) {
                result = Py_None;
                Py_INCREF(result);
            }
            goto done;
        }
        kv.len = 0;
        int bad = put_header(&kv, 1, kn) < 0 || put_bytes(&kv, k, kn) < 0 || put_header(&kv, 2, av.len) < 0 ||
                  put_bytes(&kv, av.buf, av.len) < 0 || put_header(&o, field, kv.len) < 0 ||
                  put_bytes(&o, kv.buf, kv.len) < 0;
        PyMem_Free(av.buf);
        if (bad) goto done;
    }
    if (PyErr_Occurred()) goto done;
    result = PyBytes_FromStringAndSize(o.buf ? o.buf : "", o.len);
done:
    Py_DECREF(it);
    PyMem_Free(o.buf);
    PyMem_Free(kv.buf);
    return result;
}

/* a span given as bytes, or as a tuple of bytes pieces that make one span (its bytes, then additions) */
static Py_ssize_t span_len(PyObject *sp) {
    if (PyBytes_CheckExact(sp)) return PyBytes_GET_SIZE(sp);
    if (!PyTuple_Check(sp)) {
        PyErr_SetString(PyExc_TypeError, "a span is bytes or a tuple of bytes");
        return -1;
    }
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(sp); i++) {
        PyObject *b = PyTuple_GET_ITEM(sp, i);
        if (!PyBytes_CheckExact(b)) {
            PyErr_SetString(PyExc_TypeError, "a span is bytes or a tuple of bytes");
            return -1;
        }
        n += PyBytes_GET_SIZE(b);
    }
    return n;
}

static int put_span(Out *o, PyObject *sp) {
    if (PyBytes_CheckExact(sp)) return put_bytes(o, PyBytes_AS_STRING(sp), PyBytes_GET_SIZE(sp));
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(sp); i++) {
        PyObject *b = PyTuple_GET_ITEM(sp, i);
        if (put_bytes(o, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b)) < 0) return -1;
    }
    return 0;
}

/* the encoded size of (head message, schema_url) framing: field 1 head, field 3 schema when non-empty */
static Py_ssize_t framed(Py_ssize_t n) {
    return varint_size((uint64_t)n) + 1 + n;
}

PyDoc_STRVAR(encode_request_doc,
"encode_request(resources) -> bytes\n\n"
"An ExportTraceServiceRequest from [(resource bytes, schema_url, [(scope bytes, schema_url,\n"
"[span, ...]), ...]), ...], a span being bytes or a tuple of bytes pieces (its bytes, then\n"
"appended attributes). Each span's bytes are copied once, into the one result.");

static PyObject *encode_request(PyObject *self, PyObject *resources) {
    if (!PyList_Check(resources)) {
        PyErr_SetString(PyExc_TypeError, "resources must be a list");
        return NULL;
    }
    /* pass 1: sizes (nested lengths precede their payloads) */
    Py_ssize_t nres = PyList_GET_SIZE(resources), total = 0;
    Py_ssize_t *rs_len = PyMem_Calloc((size_t)(nres ? nres : 1), sizeof(Py_ssize_t));
    if (rs_len == NULL) return PyErr_NoMemory();
    PyObject *result = NULL;
    const char *su;
    Py_ssize_t sun;
    for (Py_ssize_t r = 0; r < nres; r++) {
        PyObject *rt = PyList_GET_ITEM(resources, r);
        PyObject *rbytes, *rschema, *scopes;
        if (!PyArg_ParseTuple(rt, "SUO!", &rbytes, &rschema, &PyList_Type, &scopes)) goto done;
        Py_ssize_t n = framed(PyBytes_GET_SIZE(rbytes));
        if ((su = PyUnicode_AsUTF8AndSize(rschema, &sun)) == NULL) goto done;
        if (sun) n += framed(sun);
        for (Py_ssize_t s = 0; s < PyList_GET_SIZE(scopes); s++) {
            PyObject *sbytes, *sschema, *spans;
            if (!PyArg_ParseTuple(PyList_GET_ITEM(scopes, s), "SUO!", &sbytes, &sschema, &PyList_Type, &spans))
                goto done;
            Py_ssize_t m = framed(PyBytes_GET_SIZE(sbytes));
            if ((su = PyUnicode_AsUTF8AndSize(sschema, &sun)) == NULL) goto done;
            if (sun) m += framed(sun);
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans); i++) {
                Py_ssize_t l = span_len(PyList_GET_ITEM(spans, i));
                if (l < 0) goto done;
                m += framed(l);
            }
            n += framed(m);
        }
        rs_len[r] = n;
        total += framed(n);
    }
    /* pass 2: write into one buffer of the exact size */
    result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL) goto done;
    Out o = {PyBytes_AS_STRING(result), 0, total, 1};
#define W(x) do { if ((x) < 0) goto fail; } while (0)
    for (Py_ssize_t r = 0; r < nres; r++) {
        PyObject *rt = PyList_GET_ITEM(resources, r);
        PyObject *rbytes = PyTuple_GET_ITEM(rt, 0), *rschema = PyTuple_GET_ITEM(rt, 1);
        PyObject *scopes = PyTuple_GET_ITEM(rt, 2);
        W(put_header(&o, 1, rs_len[r]));
        W(put_header(&o, 1, PyBytes_GET_SIZE(rbytes)));
        W(put_bytes(&o, PyBytes_AS_STRING(rbytes), PyBytes_GET_SIZE(rbytes)));
        for (Py_ssize_t s = 0; s < PyList_GET_SIZE(scopes); s++) {
            PyObject *st = PyList_GET_ITEM(scopes, s);
            PyObject *sbytes = PyTuple_GET_ITEM(st, 0), *sschema = PyTuple_GET_ITEM(st, 1);
            PyObject *spans = PyTuple_GET_ITEM(st, 2);
            Py_ssize_t m = framed(PyBytes_GET_SIZE(sbytes));
            if ((su = PyUnicode_AsUTF8AndSize(sschema, &sun)) == NULL) goto fail;
            if (sun) m += framed(sun);
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans); i++) m += framed(span_len(PyList_GET_ITEM(spans, i)));
            W(put_header(&o, 2, m));
            W(put_header(&o, 1, PyBytes_GET_SIZE(sbytes)));
            W(put_bytes(&o, PyBytes_AS_STRING(sbytes), PyBytes_GET_SIZE(sbytes)));
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans); i++) {
                PyObject *sp = PyList_GET_ITEM(spans, i);
                W(put_header(&o, 2, span_len(sp)));
                W(put_span(&o, sp));
            }
            if (sun) {
                W(put_header(&o, 3, sun));
                W(put_bytes(&o, su, sun));
            }
        }
        if ((su = PyUnicode_AsUTF8AndSize(rschema, &sun)) == NULL) goto fail;
        if (sun) {
            W(put_header(&o, 3, sun));
            W(put_bytes(&o, su, sun));
        }
    }
#undef W
    if (o.len == total) goto done;
    PyErr_SetString(PyExc_RuntimeError, "encode_request: size mismatch");
fail:
    Py_CLEAR(result);
done:
    PyMem_Free(rs_len);
    return result;
}


/* ---- a tree's spans as a request -------------------------------------------------------
 * encode_entries does what tree.encode_spans does in Python, for the common case: every
 * span's additions are scalars and none replaces a key the span already had. It answers
 * None otherwise (and for spans never decoded), and the Python path handles the tree.
 */
static PyObject *s_data, *s_added, *s_attrs, *s_resource, *s_scope, *s_schema_url;

typedef struct {
    PyObject *res, *scope; /* borrowed: the entries hold them */
    Py_ssize_t first_span, count;
} Group;

static int encode_added(Out *o, PyObject *added, PyObject *attrs, int *fallback) {
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    Out av = {NULL, 0, 0, 0};
    while (PyDict_Next(added, &pos, &k, &v)) {
        int has = PyDict_Contains(attrs, k);
        if (has != 0 || !PyUnicode_Check(k)) { /* a replaced key (or an error): the Python path */
            PyMem_Free(av.buf);
            if (has < 0) return -1;
            *fallback = 1;
            return 0;
        }
        Py_ssize_t kn;
        const char *ks = PyUnicode_AsUTF8AndSize(k, &kn);
        if (ks == NULL) {
            PyMem_Free(av.buf);
            return -1;
        }
        av.len = 0;
        int r = put_scalar_any(&av, v);
        if (r <= 0) {
            PyMem_Free(av.buf);
            if (r < 0) return -1;
            *fallback = 1;
            return 0;
        }
        Py_ssize_t kv_len = framed(kn) + framed(av.len);
        if (put_header(o, 9, kv_len) < 0 || put_header(o, 1, kn) < 0 || put_bytes(o, ks, kn) < 0 ||
            put_header(o, 2, av.len) < 0 || put_bytes(o, av.buf, av.len) < 0) {
            PyMem_Free(av.buf);
            return -1;
        }
    }
    PyMem_Free(av.buf);
    return 0;
}

PyDoc_STRVAR(encode_entries_doc,
"encode_entries(entries: list[SpanEntry]) -> bytes | None\n\n"
"tree.encode_spans for spans whose additions are scalars under new keys: grouped by resource\n"
"then scope in first-seen order, each span its bytes plus its additions. None: use Python.");

static PyObject *encode_entries(PyObject *self, PyObject *entries) {
    if (!PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "entries must be a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    PyObject *result = NULL;
    Group *groups = NULL;
    Py_ssize_t ngroups = 0, cap = 0;
    Py_ssize_t *order = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));   /* span index by group */
    Py_ssize_t *grp = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));     /* group of each span */
    Py_ssize_t *add_off = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n + 1));     /* additions of span i */
    PyObject **datas = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
    Out adds = {NULL, 0, 0, 0};
    int fallback = 0;
    if (order == NULL || grp == NULL || add_off == NULL || datas == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i);
        PyObject *data = PyObject_GetAttr(e, s_data);
        if (data == NULL) goto done;
        datas[i] = data; /* owned, released at the end */
        if (!PyBytes_CheckExact(data)) {
            fallback = 1;
            goto done;
        }
        add_off[i] = adds.len;
        PyObject *added = PyObject_GetAttr(e, s_added);
        if (added == NULL) goto done;
        if (!PyDict_CheckExact(added)) {
            Py_DECREF(added);
            fallback = 1;
            goto done;
        }
        if (PyDict_GET_SIZE(added)) {
            PyObject *attrs = PyObject_GetAttr(e, s_attrs);
            if (attrs == NULL) {
                Py_DECREF(added);
                goto done;
            }
            int bad = 0;
            if (!PyDict_CheckExact(attrs)) fallback = 1; /* never decoded: the Python path decides clashes */
            else bad = encode_added(&adds, added, attrs, &fallback) < 0;
            Py_DECREF(attrs);
            if (bad || fallback) {
                Py_DECREF(added);
                goto done;
            }
        }
        Py_DECREF(added);
        PyObject *res = PyObject_GetAttr(e, s_resource), *scope = res ? PyObject_GetAttr(e, s_scope) : NULL;
        Py_XDECREF(res); /* borrowed from here on: the entry keeps both alive */
        Py_XDECREF(scope);
        if (res == NULL || scope == NULL) goto done;
        Py_ssize_t g = 0;
        while (g < ngroups && !(groups[g].res == res && groups[g].scope == scope)) g++;
        if (g == ngroups) {
            if (ngroups == cap) {
                cap = cap ? cap * 2 : 8;
                Group *ng = PyMem_Realloc(groups, sizeof(Group) * (size_t)cap);
                if (ng == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                groups = ng;
            }
            groups[ngroups].res = res;
            groups[ngroups].scope = scope;
            groups[ngroups].count = 0;
            ngroups++;
        }
        groups[g].count++;
        grp[i] = g;
    }
    add_off[n] = adds.len;
    /* spans in group order, first-seen order within a group */
    {
        Py_ssize_t at = 0;
        for (Py_ssize_t g = 0; g < ngroups; g++) {
            groups[g].first_span = at;
            at += groups[g].count;
            groups[g].count = 0;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            Group *gp = &groups[grp[i]];
            order[gp->first_span + gp->count++] = i;
        }
    }
    /* build [(res bytes, schema, [(scope bytes, schema, [pieces])])] and hand it to encode_request:
       resources in first-seen order, their scopes in first-seen order */
    {
        PyObject *resources = PyList_New(0);
        if (resources == NULL) goto done;
        PyObject *adds_bytes = PyBytes_FromStringAndSize(adds.buf ? adds.buf : "", adds.len);
        if (adds_bytes == NULL) {
            Py_DECREF(resources);
            goto done;
        }
        char *done_res = PyMem_Calloc((size_t)(ngroups ? ngroups : 1), 1);
        int ok = done_res != NULL;
        for (Py_ssize_t g = 0; ok && g < ngroups; g++) {
            if (done_res[g]) continue;
            PyObject *res = groups[g].res;
            PyObject *rdata = PyObject_GetAttr(res, s_data), *rschema = rdata ? PyObject_GetAttr(res, s_schema_url) : NULL;
            PyObject *scopes = rschema ? PyList_New(0) : NULL;
            PyObject *rt = scopes ? Py_BuildValue("(OOO)", rdata, rschema, scopes) : NULL;
            ok = rt != NULL && PyList_Append(resources, rt) == 0;
            Py_XDECREF(rt);
            for (Py_ssize_t h = g; ok && h < ngroups; h++) {
                if (groups[h].res != res) continue;
                done_res[h] = 1;
                PyObject *sc = groups[h].scope;
                PyObject *sdata = PyObject_GetAttr(sc, s_data), *sschema = sdata ? PyObject_GetAttr(sc, s_schema_url) : NULL;
                PyObject *spans = sschema ? PyList_New(groups[h].count) : NULL;
                for (Py_ssize_t j = 0; spans && j < groups[h].count; j++) {
                    Py_ssize_t i = order[groups[h].first_span + j];
                    PyObject *piece;
                    if (add_off[i + 1] == add_off[i]) {
                        piece = datas[i];
                        Py_INCREF(piece);
                    } else {
                        PyObject *extra = PyBytes_FromStringAndSize(adds.buf + add_off[i], add_off[i + 1] - add_off[i]);
                        piece = extra ? PyTuple_Pack(2, datas[i], extra) : NULL;
                        Py_XDECREF(extra);
                    }
                    if (piece == NULL) {
                        Py_CLEAR(spans);
                        break;
                    }
                    PyList_SET_ITEM(spans, j, piece);
                }
                PyObject *st = spans ? Py_BuildValue("(OOO)", sdata, sschema, spans) : NULL;
                ok = st != NULL && PyList_Append(scopes, st) == 0;
                Py_XDECREF(st);
                Py_XDECREF(spans);
                Py_XDECREF(sdata);
                Py_XDECREF(sschema);
            }
            Py_XDECREF(scopes);
            Py_XDECREF(rdata);
            Py_XDECREF(rschema);
        }
        PyMem_Free(done_res);
        Py_DECREF(adds_bytes);
        if (ok) result = encode_request(NULL, resources);
        else if (!PyErr_Occurred()) PyErr_NoMemory();
        Py_DECREF(resources);
    }
done:
    if (datas != NULL)
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(datas[i]);
    PyMem_Free(datas);
    PyMem_Free(order);
    PyMem_Free(grp);
    PyMem_Free(add_off);
    PyMem_Free(groups);
    PyMem_Free(adds.buf);
    if (fallback && result == NULL && !PyErr_Occurred()) Py_RETURN_NONE;
    return result;
}

/* ---- module -------------------------------------------------------------------------- */

/* ---- digit runs in a str ----------------------------------------------------------
 * coerce.parse_structured reads JSON with orjson, which reads integers past 64 bits as
 * floats where json keeps them exact; a text with no run of that many digits cannot hold
 * one. A regex scan cost as much as the parse it guarded. */
PyDoc_STRVAR(has_digit_run_doc,
"has_digit_run(s: str, n: int) -> bool\n\n"
"Whether s holds n or more ASCII digits in a row.");

static PyObject *has_digit_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "has_digit_run(s: str, n: int)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[1]);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (PyUnicode_READY(args[0]) < 0)
        return NULL;
    const int kind = PyUnicode_KIND(args[0]);
    const void *data = PyUnicode_DATA(args[0]);
    const Py_ssize_t len = PyUnicode_GET_LENGTH(args[0]);
    Py_ssize_t run = 0;
    if (n <= 0)
        Py_RETURN_TRUE;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= '0' && c <= '9') {
            if (++run >= n)
                Py_RETURN_TRUE;
        } else {
            run = 0;
        }
    }
    Py_RETURN_FALSE;
}

/* ---- repeated span ids ------------------------------------------------------------------ */

/* Whether two entries of a tree share a span id: a retried export's copies (tree.hold_copies). Each
 * released tree asks, and nearly every answer is no: a Python set of the ids paid a first hash of every
 * fresh id object (~420 instructions a span); an open-addressing table of the 8-byte ids here pays ~30.
 * Ids of another length (a broken exporter's) are compared as Python objects would be, by the caller. */
static PyObject *s_span_id;

PyDoc_STRVAR(repeated_ids_doc,
"repeated_ids(entries: list[SpanEntry]) -> bool | None\n\n"
"Whether two entries share a span id; None where an id is not 8 bytes (ask Python).");

static PyObject *repeated_ids(PyObject *self, PyObject *entries) {
    if (!PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "entries must be a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    if (n < 2) Py_RETURN_FALSE;
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap <<= 1;
    uint64_t stack[256];
    uint64_t *table = cap <= 128 ? stack : PyMem_Calloc(cap * 2, sizeof(uint64_t));
    if (table == NULL) return PyErr_NoMemory();
    if (table == stack) memset(stack, 0, cap * 2 * sizeof(uint64_t));
    /* a slot is (id + 1 marker, id): the marker word says the slot is taken, so an all-zero id is an id */
    PyObject *result = Py_False;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *sid = PyObject_GetAttr(PyList_GET_ITEM(entries, i), s_span_id);
        if (sid == NULL) {
            result = NULL;
            break;
        }
        if (!PyBytes_Check(sid) || PyBytes_GET_SIZE(sid) != 8) {
            Py_DECREF(sid);
            result = Py_None;
            break;
        }
        uint64_t v = load8((const uint8_t *)PyBytes_AS_STRING(sid));
        Py_DECREF(sid);
        size_t h = (size_t)((v * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
        for (;;) {
            if (!table[2 * h]) {
                table[2 * h] = 1;
                table[2 * h + 1] = v;
                break;
            }
            if (table[2 * h + 1] == v) {
                result = Py_True;
                goto done;
            }
            h = (h + 1) & (cap - 1);
        }
    }
done:
    if (table != stack) PyMem_Free(table);
    Py_XINCREF(result);
    return result;
}

static PyMethodDef methods[] = {
    {"repeated_ids", repeated_ids, METH_O, repeated_ids_doc},
    {"has_digit_run", (PyCFunction)(void (*)(void))has_digit_run, METH_FASTCALL, has_digit_run_doc},
    {"decode_span", decode_span, METH_O, decode_span_doc},
    {"split_traces", split_traces, METH_O, split_traces_doc},
    {"encode_attributes", encode_attributes, METH_VARARGS, encode_attributes_doc},
    {"set_schema", set_schema, METH_VARARGS, set_schema_doc},
    {"check_traces", check_traces, METH_O, check_traces_doc},
    {"encode_request", encode_request, METH_O, encode_request_doc},
    {"encode_entries", encode_entries, METH_O, encode_entries_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_wirec",
    "OTLP wire reads for the hot path (see wire.py for the protobuf equivalent).", -1, methods,
};

PyMODINIT_FUNC PyInit__wirec(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "_wirec reads fixed-width fields as little-endian");
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if ((s_data = PyUnicode_InternFromString("data")) == NULL || (s_added = PyUnicode_InternFromString("added")) == NULL ||
        (s_attrs = PyUnicode_InternFromString("_attrs")) == NULL ||
        (s_resource = PyUnicode_InternFromString("resource")) == NULL ||
        (s_scope = PyUnicode_InternFromString("scope")) == NULL ||
        (s_schema_url = PyUnicode_InternFromString("schema_url")) == NULL ||
        (s_span_id = PyUnicode_InternFromString("span_id")) == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyStructSequence_InitType2(&SpanFieldsType, &span_fields_desc) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&SpanFieldsType);
    if (PyModule_AddObject(m, "SpanFields", (PyObject *)&SpanFieldsType) < 0) {
        Py_DECREF(&SpanFieldsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
