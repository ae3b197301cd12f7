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

static PyObject *make_str(const uint8_t *p, Py_ssize_t n) {
    if (n == 0) return PyUnicode_FromStringAndSize(NULL, 0);
    if (n > STR_CACHE_MAX_LEN) return PyUnicode_DecodeUTF8((const char *)p, n, NULL);
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    StrSlot *s = &str_cache[h & (STR_CACHE_SIZE - 1)];
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
        default:
            continue; /* unknown field: skipped, as protobuf keeps but never reads it */
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

/* ---- module -------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"decode_span", decode_span, METH_O, decode_span_doc},
    {"split_traces", split_traces, METH_O, split_traces_doc},
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
