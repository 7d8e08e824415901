/*
 * reserves.liabilities._private: format v2's hot loops (FORMAT-2 §4, §5), compiled.
 *
 * Each function does, for many nodes, what reserves.liabilities.private_sums.tree does for
 * one (the tests hold them byte for byte against it and against the plain reference), in
 * one C loop with the GIL released, so that a Python thread per core runs them side by side.
 *
 * The curve is libsecp256k1's public API, never our own arithmetic: Python hands this module
 * the functions of a libsecp256k1 it has loaded (`load`: coincurve's build, else the one
 * embit bundles) and it calls
 *   secp256k1_ec_pubkey_create   r·G
 *   secp256k1_ec_pubkey_combine  sums of points (v·H from a table of the library's points)
 *   secp256k1_ec_pubkey_tweak_mul the table's rows, 256^k·H, once per asset
 *   secp256k1_ec_pubkey_parse / _serialize  SEC1
 * Points travel between calls in the library's own 64-byte `secp256k1_pubkey` form (within
 * this process only; files hold SEC1).
 *
 * Records are what the store holds: hash (32) || C (33, SEC1) || u64(v) || u256(r).
 *
 *   generator_table  256^k·b·H for k < 8, b < 256        (v·H is one combine of 8 of them)
 *   account_hashes   tree.account_commitment, PrivateSecrets.account_key
 *   order_keys       PrivateSecrets.order_key
 *   leaves           tree.leaf with PrivateSecrets.blinding
 *   parents          tree.parent (C_L + C_R, v_L + v_R, r_L + r_R mod n)
 *   points           SEC1 -> the library's form (for padding nodes made in Python)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_hashing.h" /* OpenSSL's SHA-256, stdint, string */

enum { RECORD = 105, POINT = 64, TABLE_ROWS = 8, MAX_LP_BYTES = 65535 };
enum { COMPRESSED = 0x102 }; /* SECP256K1_EC_COMPRESSED */

typedef struct {
    unsigned char data[64];
} point;

static void *context;
static int (*pubkey_create)(const void *, point *, const unsigned char *);
static int (*pubkey_parse)(const void *, point *, const unsigned char *, size_t);
static int (*pubkey_serialize)(const void *, unsigned char *, size_t *, const point *, unsigned int);
static int (*pubkey_combine)(const void *, point *, const point *const *, size_t);
static int (*pubkey_tweak_mul)(const void *, point *, const unsigned char *);

/* n, the group order, and n - 1, big-endian */
static const unsigned char ORDER[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static int compare256(const unsigned char *a, const unsigned char *b) { return memcmp(a, b, 32); }

/* out = a - b (big-endian, a >= b) */
static void subtract256(unsigned char *out, const unsigned char *a, const unsigned char *b) {
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)a[i] - (int)b[i] - borrow;
        borrow = d < 0;
        out[i] = (unsigned char)(d + (borrow << 8));
    }
}

/* out = a + b; returns the carry */
static int add256(unsigned char *out, const unsigned char *a, const unsigned char *b) {
    int carry = 0;
    for (int i = 31; i >= 0; i--) {
        int s = (int)a[i] + (int)b[i] + carry;
        out[i] = (unsigned char)s;
        carry = s >> 8;
    }
    return carry;
}

/* r = 1 + (x mod (n - 1)) for a 256-bit x < 2(n - 1): FORMAT-2 §4's blinding */
static void blinding_of(unsigned char *r, const unsigned char *x) {
    static const unsigned char ONE[32] = {[31] = 1};
    unsigned char order_less_one[32];
    subtract256(order_less_one, ORDER, ONE);
    memcpy(r, x, 32);
    if (compare256(r, order_less_one) >= 0) subtract256(r, r, order_less_one);
    add256(r, r, ONE);
}

/* r = a + b mod n for a, b < n */
static void add_mod_order(unsigned char *r, const unsigned char *a, const unsigned char *b) {
    int carry = add256(r, a, b);
    if (carry || compare256(r, ORDER) >= 0) subtract256(r, r, ORDER); /* wraps correctly with the carry */
}

static int loaded(void) {
    if (context == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "call load() with libsecp256k1's functions first");
        return 0;
    }
    return 1;
}

/*
 * load(context, create, parse, serialize, combine, tweak_mul): the addresses of a
 * secp256k1_context and of libsecp256k1's functions, from a library Python has loaded
 * (coincurve's build, or embit's); they stay valid while that library is loaded, which is
 * for the life of the process.
 */
static PyObject *load(PyObject *self, PyObject *args) {
    unsigned long long addresses[6];
    if (!PyArg_ParseTuple(args, "KKKKKK", &addresses[0], &addresses[1], &addresses[2], &addresses[3], &addresses[4],
                          &addresses[5]))
        return NULL;
    for (int i = 0; i < 6; i++) {
        if (addresses[i] == 0) {
            PyErr_SetString(PyExc_ValueError, "a null address");
            return NULL;
        }
    }
    context = (void *)(uintptr_t)addresses[0];
    *(void **)&pubkey_create = (void *)(uintptr_t)addresses[1];
    *(void **)&pubkey_parse = (void *)(uintptr_t)addresses[2];
    *(void **)&pubkey_serialize = (void *)(uintptr_t)addresses[3];
    *(void **)&pubkey_combine = (void *)(uintptr_t)addresses[4];
    *(void **)&pubkey_tweak_mul = (void *)(uintptr_t)addresses[5];
    Py_RETURN_NONE;
}

static void serialize(unsigned char *out, const point *p) {
    size_t length = 33;
    pubkey_serialize(context, out, &length, p, COMPRESSED);
}

/*
 * generator_table(h_sec1) -> bytes: row k, column b holds b·256^k·H (column 0 unused), so
 * that v·H for a 64-bit v is the combine of at most 8 entries, one per non-zero byte of v.
 */
static PyObject *generator_table(PyObject *self, PyObject *args) {
    Py_buffer sec1;
    if (!PyArg_ParseTuple(args, "y*", &sec1)) return NULL;
    PyObject *table = NULL;
    point h;
    if (!loaded() || sec1.len != 33 || !pubkey_parse(context, &h, sec1.buf, 33)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "not a SEC1 point");
        goto done;
    }
    table = PyBytes_FromStringAndSize(NULL, TABLE_ROWS * 256 * POINT);
    if (table == NULL) goto done;
    point *entries = (point *)PyBytes_AS_STRING(table);
    memset(entries, 0, TABLE_ROWS * 256 * POINT);
    int ok = 1;
    for (int k = 0; k < TABLE_ROWS && ok; k++) {
        unsigned char scalar[32] = {0};
        scalar[31 - k] = 1; /* 256^k */
        point base = h;
        ok = pubkey_tweak_mul(context, &base, scalar);
        entries[k * 256 + 1] = base;
        for (int b = 2; b < 256 && ok; b++) {
            const point *pair[2] = {&entries[k * 256 + b - 1], &base};
            ok = pubkey_combine(context, &entries[k * 256 + b], pair, 2);
        }
    }
    if (!ok) {
        Py_CLEAR(table);
        PyErr_SetString(PyExc_ValueError, "the generator table reached the point at infinity");
    }
done:
    PyBuffer_Release(&sec1);
    return table;
}

static int id_bounds(const Py_buffer *offsets, const Py_buffer *data, int64_t row, size_t *length) {
    const int64_t *at = offsets->buf;
    int64_t rows = offsets->len / 8 - 1;
    if (row < 0 || row >= rows || at[row] < 0 || at[row + 1] < at[row] || at[row + 1] > data->len ||
        at[row + 1] - at[row] > MAX_LP_BYTES)
        return 0;
    *length = (size_t)(at[row + 1] - at[row]);
    return 1;
}

/* lp(id) of file row `row` into `out` (2 + length bytes) */
static size_t lp_of(const Py_buffer *offsets, const Py_buffer *data, int64_t row, unsigned char *out) {
    const int64_t *at = offsets->buf;
    size_t length = (size_t)(at[row + 1] - at[row]);
    out[0] = (unsigned char)(length >> 8);
    out[1] = (unsigned char)length;
    memcpy(out + 2, (const unsigned char *)data->buf + at[row], length);
    return length + 2;
}

static int check_rows(const Py_buffer *offsets, const Py_buffer *data, const int64_t *rows, Py_ssize_t count) {
    size_t length;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!id_bounds(offsets, data, rows[i], &length)) {
            PyErr_SetString(PyExc_ValueError, "a row is outside the id offsets");
            return 0;
        }
    }
    return 1;
}

/*
 * account_hashes(offsets, data, key, account_prefix, out): for every file row, 64 bytes:
 *   TH("reserves/v2/account", ctx2 || lp(id) || HMAC(key, "salt/2" || lp(id)))
 *   HMAC(key, "account/2" || lp(id))
 */
static PyObject *account_hashes(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, key, prefix, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*", &offsets, &data, &key, &prefix, &out)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t rows = offsets.len / 8 - 1;
    size_t length;
    for (Py_ssize_t row = 0; row < rows; row++) {
        if (!id_bounds(&offsets, &data, row, &length)) {
            PyErr_SetString(PyExc_ValueError, "inconsistent id offsets");
            goto done;
        }
    }
    if (key.len != 32 || out.len != rows * 64) {
        PyErr_SetString(PyExc_ValueError, "the key is 32 bytes and out holds 64 bytes a row");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    hmac_state salt, account_key;
    hmac_init(&salt, key.buf, 32, (const unsigned char *)"salt/2", 6);
    hmac_init(&account_key, key.buf, 32, (const unsigned char *)"account/2", 9);
    SHA256_CTX account_state;
    prefixed(&account_state, &prefix);
    unsigned char lp_id[2 + MAX_LP_BYTES], salt_bytes[32];
    for (Py_ssize_t row = 0; row < rows; row++) {
        size_t size = lp_of(&offsets, &data, row, lp_id);
        unsigned char *target = (unsigned char *)out.buf + row * 64;
        hmac_finish(&salt, lp_id, size, salt_bytes);
        SHA256_CTX account = account_state;
        SHA256_Update(&account, lp_id, size);
        SHA256_Update(&account, salt_bytes, 32);
        SHA256_Final(target, &account);
        hmac_finish(&account_key, lp_id, size, target + 32);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&key);
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&out);
    return result;
}

/* order_keys(offsets, data, rows, key, label, out): HMAC(key, label || lp(id)) per row of `rows`
 * (int64), 32 bytes each; label is "order/2" || u16(a). */
static PyObject *order_keys(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, rows, key, label, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*", &offsets, &data, &rows, &key, &label, &out)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t count = rows.len / 8;
    if (key.len != 32 || out.len != count * 32 || !check_rows(&offsets, &data, rows.buf, count)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "inconsistent sizes for order keys");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    hmac_state state;
    hmac_init(&state, key.buf, 32, label.buf, (size_t)label.len);
    unsigned char lp_id[2 + MAX_LP_BYTES];
    const int64_t *row = rows.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        size_t size = lp_of(&offsets, &data, row[i], lp_id);
        hmac_finish(&state, lp_id, size, (unsigned char *)out.buf + i * 32);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&rows);
    PyBuffer_Release(&key);
    PyBuffer_Release(&label);
    PyBuffer_Release(&out);
    return result;
}

/* v·H + r·G into `out` from the table and the library's r·G; 0 if the sum is infinity */
static int commitment(point *out, const point *table, uint64_t value, const unsigned char *blinding) {
    point terms[1 + TABLE_ROWS];
    const point *pointers[1 + TABLE_ROWS];
    size_t count = 0;
    if (!pubkey_create(context, &terms[0], blinding)) return 0;
    pointers[count] = &terms[0];
    count++;
    for (int k = 0; k < TABLE_ROWS; k++) {
        unsigned int digit = (unsigned int)((value >> (8 * k)) & 0xff);
        if (digit) pointers[count++] = &table[k * 256 + digit];
    }
    if (count == 1) {
        *out = terms[0];
        return 1;
    }
    return pubkey_combine(context, out, pointers, count);
}

/*
 * leaves(offsets, data, slot_rows, values, accounts, key, blind_label, leaf_prefix, asset_u16,
 *        table, first_slot, out_records, out_points)
 * For slot first_slot + i (file row slot_rows[i], balance values[i] as native u64):
 *   r = 1 + HMAC(key, blind_label || lp(id)) mod (n - 1); C = r·G + v·H
 *   hash = TH("reserves/v2/leaf", ctx2 || u16(a) || u64(slot) || accounts[row][0:32] || C)
 * Returns the position of the first leaf whose commitment failed, or -1.
 */
static PyObject *leaves(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, slot_rows, values, accounts, key, label, prefix, asset, table, records, points;
    Py_ssize_t first_slot;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*nw*w*", &offsets, &data, &slot_rows, &values, &accounts, &key,
                          &label, &prefix, &asset, &table, &first_slot, &records, &points))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t count = slot_rows.len / 8, rows = offsets.len / 8 - 1, failed = -1;
    if (!loaded() || values.len != count * 8 || accounts.len != rows * 64 || key.len != 32 || asset.len != 2 ||
        table.len != TABLE_ROWS * 256 * POINT || records.len != count * RECORD || points.len != count * POINT ||
        !check_rows(&offsets, &data, slot_rows.buf, count)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "inconsistent sizes for leaves");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    hmac_state blind;
    hmac_init(&blind, key.buf, 32, label.buf, (size_t)label.len);
    SHA256_CTX leaf_state;
    prefixed(&leaf_state, &prefix);
    SHA256_Update(&leaf_state, asset.buf, 2);
    unsigned char lp_id[2 + MAX_LP_BYTES], digest[32], index[8];
    const int64_t *row = slot_rows.buf;
    const uint64_t *value = values.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        unsigned char *record = (unsigned char *)records.buf + i * RECORD;
        point *c = (point *)((unsigned char *)points.buf + i * POINT);
        size_t size = lp_of(&offsets, &data, row[i], lp_id);
        hmac_finish(&blind, lp_id, size, digest);
        blinding_of(record + 73, digest);
        if (!commitment(c, table.buf, value[i], record + 73)) {
            failed = i;
            break;
        }
        serialize(record + 32, c);
        put_u64(record + 65, value[i]);
        put_u64(index, (uint64_t)(first_slot + i));
        SHA256_CTX leaf = leaf_state;
        SHA256_Update(&leaf, index, 8);
        SHA256_Update(&leaf, (const unsigned char *)accounts.buf + row[i] * 64, 32);
        SHA256_Update(&leaf, record + 32, 33);
        SHA256_Final(record, &leaf);
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(failed);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&slot_rows);
    PyBuffer_Release(&values);
    PyBuffer_Release(&accounts);
    PyBuffer_Release(&key);
    PyBuffer_Release(&label);
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&asset);
    PyBuffer_Release(&table);
    PyBuffer_Release(&records);
    PyBuffer_Release(&points);
    return result;
}

/*
 * parents(node_prefix, asset_u16, level, first_index, child_records, child_points, out_records, out_points)
 * Node first_index + i at `level` over children 2i and 2i + 1 of the given (even) count:
 *   C = C_L + C_R; v = v_L + v_R; r = r_L + r_R mod n
 *   hash = TH("reserves/v2/node", ctx2 || u16(a) || u8(level) || u64(index) || L.hash || L.C || R.hash || R.C)
 * Returns the position of the first parent that is the point at infinity, or -1.
 */
static PyObject *parents(PyObject *self, PyObject *args) {
    Py_buffer prefix, asset, children, child_points, records, points;
    int level;
    Py_ssize_t first_index;
    if (!PyArg_ParseTuple(args, "y*y*iny*y*w*w*", &prefix, &asset, &level, &first_index, &children, &child_points,
                          &records, &points))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t count = records.len / RECORD, failed = -1;
    if (!loaded() || asset.len != 2 || records.len % RECORD || children.len != 2 * count * RECORD ||
        child_points.len != 2 * count * POINT || points.len != count * POINT || level < 1 || level > 64) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "inconsistent sizes for parents");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    SHA256_CTX node_state;
    prefixed(&node_state, &prefix);
    unsigned char header[2 + 1 + 8];
    memcpy(header, asset.buf, 2);
    header[2] = (unsigned char)level;
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *left = (const unsigned char *)children.buf + 2 * i * RECORD, *right = left + RECORD;
        const point *pair[2] = {(const point *)((const unsigned char *)child_points.buf + 2 * i * POINT),
                                (const point *)((const unsigned char *)child_points.buf + (2 * i + 1) * POINT)};
        unsigned char *record = (unsigned char *)records.buf + i * RECORD;
        point *c = (point *)((unsigned char *)points.buf + i * POINT);
        if (!pubkey_combine(context, c, pair, 2)) {
            failed = i;
            break;
        }
        serialize(record + 32, c);
        put_u64(record + 65, get_u64(left + 65) + get_u64(right + 65));
        add_mod_order(record + 73, left + 73, right + 73);
        put_u64(header + 3, (uint64_t)(first_index + i));
        SHA256_CTX node = node_state;
        SHA256_Update(&node, header, sizeof header);
        SHA256_Update(&node, left, 65);
        SHA256_Update(&node, right, 65);
        SHA256_Final(record, &node);
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(failed);
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&asset);
    PyBuffer_Release(&children);
    PyBuffer_Release(&child_points);
    PyBuffer_Release(&records);
    PyBuffer_Release(&points);
    return result;
}

/* points(records) -> bytes: the library's form of each record's SEC1 commitment */
static PyObject *points(PyObject *self, PyObject *args) {
    Py_buffer records;
    if (!PyArg_ParseTuple(args, "y*", &records)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t count = records.len / RECORD;
    if (!loaded() || records.len % RECORD) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "records are 105 bytes each");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, count * POINT);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *sec1 = (const unsigned char *)records.buf + i * RECORD + 32;
        if (!pubkey_parse(context, (point *)(PyBytes_AS_STRING(result) + i * POINT), sec1, 33)) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_ValueError, "a record's commitment is not a point");
            goto done;
        }
    }
done:
    PyBuffer_Release(&records);
    return result;
}

static PyMethodDef methods[] = {
    {"load", load, METH_VARARGS, "Take a secp256k1 context and libsecp256k1's functions by address."},
    {"generator_table", generator_table, METH_VARARGS, "b·256^k·H for k < 8, b < 256."},
    {"account_hashes", account_hashes, METH_VARARGS, "v2 account hashes and store keys, 64 bytes a row."},
    {"order_keys", order_keys, METH_VARARGS, "HMAC order keys of the given rows."},
    {"leaves", leaves, METH_VARARGS, "Leaf records and points of a run of slots."},
    {"parents", parents, METH_VARARGS, "Parent records and points over pairs of children."},
    {"points", points, METH_VARARGS, "The library's form of records' commitments."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reserves.liabilities._private",
    .m_doc = "Format v2's hot loops, compiled, on libsecp256k1's public API.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__private(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "RECORD", RECORD) < 0 || PyModule_AddIntConstant(m, "POINT", POINT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
