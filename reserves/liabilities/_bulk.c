/*
 * reserves.liabilities._bulk: the hot loops of publish and audit, compiled.
 *
 * Each function does, for a range of rows, exactly what the pure-Python reference in
 * reserves.liabilities.tree / reserves.liabilities.secret / reserves.encoding does for one row (the tests check
 * them against each other), but in one C loop with the GIL released, so that a Python
 * thread per core runs them side by side. SHA-256 is OpenSSL's (the same library as
 * Python's hashlib), with each tag prefix absorbed once and its state copied per row.
 *
 * Buffers come from numpy: contiguous, sizes checked here before any row is touched.
 * Nothing here decides an error message: a function reports the first bad row (or the
 * first overflowing sum) and the Python caller explains it.
 *
 * Each compiled function, the plain-Python reference it must agree with, and the tests
 * that hold them together:
 *
 *   parse_amounts   encoding.parse_amount             test_liabilities_columnar: grammar, bounds
 *   scan_text       csv_file's line and CR checks     test_liabilities_columnar: fast vs reference
 *   check_records   csv.reader(strict=True)           test_liabilities_columnar: hypothesis
 *   line_start      bytes.find(b"\n")                 test_liabilities_columnar: parts
 *   id_digests      a filter; repeats compared exactly  test_liabilities_columnar: collisions
 *   account_hashes  secret.order_key, tree.account_commitment  test_liabilities_columnar
 *   leaf_records    tree.leaf                         test_levels (bulk_tree against tree)
 *   parent_records  tree.parent, exact u128 sums      test_levels: carries, overflow at 2^128
 *
 * The constants the Python side holds too are exported (MAX_DECIMALS, MAX_LP_BYTES,
 * CSV_FIELD_LIMIT) and a test asserts they are equal.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_hashing.h" /* OpenSSL's SHA-256, stdint, string */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "reserves.liabilities._bulk assumes a little-endian machine"
#endif

typedef unsigned __int128 u128;

enum { MAX_DECIMALS = 36 };    /* encoding.MAX_DECIMALS */
enum { MAX_LP_BYTES = 65535 }; /* encoding.MAX_LP_BYTES: lp() prefixes a u16 length */

static u128 get_u128(const unsigned char *in) { return ((u128)get_u64(in) << 64) | get_u64(in + 8); }

static void put_u128(unsigned char *out, u128 value) {
    put_u64(out, (uint64_t)(value >> 64));
    put_u64(out + 8, (uint64_t)value);
}

static int check_range(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t count) {
    if (start < 0 || stop < start || stop > count) {
        PyErr_SetString(PyExc_ValueError, "row range out of bounds");
        return -1;
    }
    return 0;
}

/* Offsets (int64, rows + 1) into data: their count, in *rows. */
static int count_offsets(const Py_buffer *offsets, Py_ssize_t *rows) {
    if (offsets->len % 8 || offsets->len < 8) {
        PyErr_SetString(PyExc_ValueError, "offsets must be int64, rows + 1 of them");
        return -1;
    }
    *rows = offsets->len / 8 - 1;
    return 0;
}

/* Rows start … stop-1 lie inside data: their offsets ascend from >= 0 to <= len(data). */
static int check_rows(const Py_buffer *offsets, const Py_buffer *data, Py_ssize_t start, Py_ssize_t stop) {
    const int64_t *at = offsets->buf;
    if (at[start] < 0 || at[stop] > data->len) {
        PyErr_SetString(PyExc_ValueError, "offsets point outside the data");
        return -1;
    }
    for (Py_ssize_t i = start; i < stop; i++) {
        if (at[i + 1] < at[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets must not decrease");
            return -1;
        }
    }
    return 0;
}

/* Every row of offsets lies inside data; their count in *rows. */
static int check_offsets(const Py_buffer *offsets, const Py_buffer *data, Py_ssize_t *rows) {
    return count_offsets(offsets, rows) < 0 ? -1 : check_rows(offsets, data, 0, *rows);
}

/*
 * parse_amounts(columns, decimals, out) -> int
 *
 * `columns` is a list of (offsets, data) pairs, one per asset: row i's text is
 * data[offsets[i]:offsets[i+1]]. Each value in smallest units is written as u128
 * big-endian at out[i * 16 * assets + 16 * asset]. The grammar is FORMAT §2:
 * 0|[1-9][0-9]* then optionally '.' and 1 to `decimals` digits; the value must be below
 * 2^128. Returns -1 when every value is valid, else the row of the first invalid one
 * found (out is then partly written and must be discarded).
 */
static u128 pow10_128[39], limit_128[39]; /* 10^k, and the largest value that can be scaled by it */

static void init_powers(void) {
    pow10_128[0] = 1;
    for (int k = 1; k < 39; k++) pow10_128[k] = pow10_128[k - 1] * 10;
    for (int k = 0; k < 39; k++) limit_128[k] = ~(u128)0 / pow10_128[k];
}

/* The value of one amount text, or 0 for a text that breaks the grammar or reaches 2^128. */
static int parse_amount(const unsigned char *text, const unsigned char *end, int decimals, u128 *out) {
    Py_ssize_t length = end - text;
    if (length == 0 || (text[0] == '0' && length > 1 && text[1] != '.')) return 0;
    uint64_t small = 0; /* the first 19 digits: no overflow possible */
    u128 value = 0;
    int digits = 0, fraction = -1; /* digits after the dot; -1 before it */
    for (const unsigned char *c = text; c < end; c++) {
        if (*c == '.') {
            if (fraction >= 0 || c == text || decimals == 0) return 0;
            fraction = 0;
            continue;
        }
        unsigned digit = (unsigned)(*c - '0');
        if (digit > 9) return 0;
        if (fraction >= 0 && ++fraction > decimals) return 0;
        if (++digits <= 19) {
            small = small * 10 + digit;
            if (digits == 19) value = small;
        } else {
            if (value > limit_128[1] || (value == limit_128[1] && digit > (unsigned)(~(u128)0 % 10))) return 0;
            value = value * 10 + digit;
        }
    }
    if (fraction == 0) return 0; /* a trailing dot */
    if (digits < 19) value = small;
    int scale = fraction < 0 ? decimals : decimals - fraction;
    if (value > limit_128[scale]) return 0;
    *out = value * pow10_128[scale];
    return 1;
}

enum { ROW_BLOCK = 256 }; /* rows parsed across all columns before moving on: the output stays in cache */

static Py_ssize_t parse_columns(Py_ssize_t assets, const int64_t **offsets, const unsigned char **data,
                                const int *decimals, Py_ssize_t rows, unsigned char *out) {
    Py_ssize_t width = 16 * assets;
    for (Py_ssize_t block = 0; block < rows; block += ROW_BLOCK) {
        Py_ssize_t stop = block + ROW_BLOCK < rows ? block + ROW_BLOCK : rows;
        /* The block is read column by column: a bad value ends the later columns' reads
           before its row, so the block's first bad row is found, whichever column it is in. */
        for (Py_ssize_t a = 0; a < assets; a++) {
            const int64_t *at = offsets[a];
            for (Py_ssize_t row = block; row < stop; row++) {
                u128 value;
                if (!parse_amount(data[a] + at[row], data[a] + at[row + 1], decimals[a], &value)) {
                    stop = row;
                    break;
                }
                put_u128(out + row * width + 16 * a, value);
            }
        }
        if (stop < (block + ROW_BLOCK < rows ? block + ROW_BLOCK : rows)) return stop;
    }
    return -1;
}

static PyObject *parse_amounts(PyObject *self, PyObject *args) {
    PyObject *columns, *decimal_list;
    Py_buffer out;
    if (!PyArg_ParseTuple(args, "O!O!w*", &PyList_Type, &columns, &PyList_Type, &decimal_list, &out)) return NULL;
    Py_ssize_t assets = PyList_GET_SIZE(columns), rows = -1, bad = -1, held = 0;
    PyObject *result = NULL;
    Py_buffer *buffers = PyMem_Calloc((size_t)(2 * assets + 1), sizeof(Py_buffer));
    const int64_t **offsets = PyMem_Calloc((size_t)assets + 1, sizeof(*offsets));
    const unsigned char **data = PyMem_Calloc((size_t)assets + 1, sizeof(*data));
    int *decimals = PyMem_Calloc((size_t)assets + 1, sizeof(int));
    if (!buffers || !offsets || !data || !decimals) {
        PyErr_NoMemory();
        goto done;
    }
    if (assets == 0 || PyList_GET_SIZE(decimal_list) != assets) {
        PyErr_SetString(PyExc_ValueError, "one decimals value per column, at least one column");
        goto done;
    }
    for (Py_ssize_t a = 0; a < assets; a++) {
        Py_ssize_t column_rows;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(columns, a), "y*y*", &buffers[2 * a], &buffers[2 * a + 1])) goto done;
        held = a + 1;
        if (check_offsets(&buffers[2 * a], &buffers[2 * a + 1], &column_rows) < 0) goto done;
        if (rows >= 0 && column_rows != rows) {
            PyErr_SetString(PyExc_ValueError, "columns differ in length");
            goto done;
        }
        rows = column_rows;
        offsets[a] = buffers[2 * a].buf;
        data[a] = buffers[2 * a + 1].buf;
        decimals[a] = (int)PyLong_AsLong(PyList_GET_ITEM(decimal_list, a));
        if (decimals[a] < 0 || decimals[a] > MAX_DECIMALS) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "decimals are 0 to 36");
            goto done;
        }
    }
    if (out.len != rows * 16 * assets) {
        PyErr_SetString(PyExc_ValueError, "out must hold 16 bytes per value");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    bad = parse_columns(assets, offsets, data, decimals, rows, out.buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(bad);
done:
    for (Py_ssize_t a = 0; a < held; a++) {
        PyBuffer_Release(&buffers[2 * a]);
        PyBuffer_Release(&buffers[2 * a + 1]);
    }
    PyBuffer_Release(&out);
    PyMem_Free(buffers);
    PyMem_Free(offsets);
    PyMem_Free(data);
    PyMem_Free(decimals);
    return result;
}

/*
 * scan_text(data) -> (line_feeds, lone_carriage_returns, quotes)
 *
 * How many line feeds, carriage returns not followed by a line feed, and double quotes
 * `data` holds: the CSV reader's plan (where rows may start, whether the file is one the
 * reference parser refuses outright, whether fields may be quoted) comes from these.
 */
static Py_ssize_t count_byte(const unsigned char *at, Py_ssize_t length, int byte, int unless_before_lf) {
    Py_ssize_t count = 0;
    const unsigned char *end = at + length;
    while (at < end && (at = memchr(at, byte, (size_t)(end - at))) != NULL) { /* libc's memchr: SIMD */
        count += !unless_before_lf || at + 1 == end || at[1] != '\n';
        at++;
    }
    return count;
}

static PyObject *scan_text(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) return NULL;
    Py_ssize_t line_feeds = 0, lone_carriage_returns = 0, quotes = 0;
    Py_BEGIN_ALLOW_THREADS
    line_feeds = count_byte(data.buf, data.len, '\n', 0);
    lone_carriage_returns = count_byte(data.buf, data.len, '\r', 1);
    quotes = count_byte(data.buf, data.len, '"', 0);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return Py_BuildValue("nnn", line_feeds, lone_carriage_returns, quotes);
}

/*
 * check_records(data, commas) -> (record, offset, kind, quoted_line_feeds)
 *
 * Walks CSV text (after the header) as Python's csv module reads it with strict=True
 * (the excel dialect: ',' separates, '"' quotes, "" is a quote inside quotes, a quote
 * inside an unquoted field is a plain character, a record ends at a line feed or
 * carriage return outside quotes) and stops at the first record that is:
 *   1  blank,
 *   2  not exactly `commas` + 1 fields,
 *   3  badly quoted (anything but a separator or a line end after a closing quote, or a
 *      quote still open at the end of the text),
 *   4  holding a field longer than the csv module's limit (counted here in bytes, which
 *      the caller treats as a doubt, not a verdict).
 * Returns that record's number (from 0), the offset where it starts and its kind, or
 * (-1, -1, 0) when every record is well formed; and how many line feeds lay inside
 * quotes before it (0: every record so far is one line).
 */
enum { FIELD_LIMIT = 131072 }; /* the default of csv.field_size_limit() */
enum { START_RECORD, START_FIELD, IN_FIELD, IN_QUOTED, QUOTE_IN_QUOTED };

static void walk_records(const unsigned char *text, Py_ssize_t length, Py_ssize_t commas, Py_ssize_t *record_out,
                         Py_ssize_t *offset_out, int *kind_out, Py_ssize_t *inside_out) {
    Py_ssize_t record = 0, start = 0, separators = 0, field = 0, inside = 0;
    int state = START_RECORD, kind = 0;
    for (Py_ssize_t i = 0; i < length && !kind; i++) {
        unsigned char c = text[i];
        int line_end = c == '\n' || c == '\r';
        if (state == START_RECORD) {
            if (line_end) {
                kind = 1;
                break;
            }
            state = START_FIELD;
        }
        if (state == START_FIELD) field = 0;
        if (line_end && state != IN_QUOTED) {
            if (separators != commas) {
                kind = 2;
                break;
            }
            if (c == '\r' && i + 1 < length && text[i + 1] == '\n') i++;
            record++;
            start = i + 1;
            separators = 0;
            state = START_RECORD;
            continue;
        }
        switch (state) {
        case START_FIELD:
            if (c == '"') state = IN_QUOTED;
            else if (c == ',') separators++;
            else {
                field = 1;
                state = IN_FIELD;
            }
            break;
        case IN_FIELD:
            if (c == ',') {
                separators++;
                state = START_FIELD;
            } else if (++field > FIELD_LIMIT) kind = 4;
            break;
        case IN_QUOTED:
            if (c == '"') state = QUOTE_IN_QUOTED;
            else {
                inside += c == '\n';
                if (++field > FIELD_LIMIT) kind = 4;
            }
            break;
        case QUOTE_IN_QUOTED:
            if (c == '"') {
                state = IN_QUOTED;
                if (++field > FIELD_LIMIT) kind = 4;
            } else if (c == ',') {
                separators++;
                state = START_FIELD;
            } else kind = 3;
            break;
        }
    }
    if (!kind && state == IN_QUOTED) kind = 3; /* unexpected end of data */
    if (!kind && state != START_RECORD && separators != commas) kind = 2; /* the last line, without a line feed */
    *record_out = kind ? record : -1;
    *offset_out = kind ? start : -1;
    *kind_out = kind;
    *inside_out = inside;
}

static PyObject *check_records(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t commas, record, offset, inside;
    int kind;
    if (!PyArg_ParseTuple(args, "y*n", &data, &commas)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    walk_records(data.buf, data.len, commas, &record, &offset, &kind, &inside);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return Py_BuildValue("nnin", record, offset, kind, inside);
}

/*
 * line_start(data, line) -> int
 *
 * Where line `line` (counted from 0) starts in `data`, or -1 if it has fewer lines.
 */
static PyObject *line_start(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t line, offset = 0;
    if (!PyArg_ParseTuple(args, "y*n", &data, &line)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *text = data.buf, *at = text, *end = text + data.len;
    for (Py_ssize_t number = 0; number < line && offset >= 0; number++) {
        const unsigned char *stop = memchr(at, '\n', (size_t)(end - at));
        if (stop == NULL) offset = -1;
        else at = stop + 1;
    }
    if (offset >= 0) offset = at < end ? at - text : -1;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return PyLong_FromSsize_t(offset);
}

/*
 * id_digests(offsets, data, out)
 *
 * A 64-bit digest of each row's bytes (FNV-1a, then the splitmix64 finalizer), for
 * finding repeated ids in bulk: equal ids have equal digests. Not cryptographic: rows
 * that share a digest are compared byte for byte by the caller.
 */
static void digest_rows(const int64_t *offsets, const unsigned char *data, Py_ssize_t rows, uint64_t *out) {
    for (Py_ssize_t row = 0; row < rows; row++) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (int64_t at = offsets[row]; at < offsets[row + 1]; at++) h = (h ^ data[at]) * 0x100000001b3ULL;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        out[row] = h ^ (h >> 31);
    }
}

static PyObject *id_digests(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, out;
    Py_ssize_t rows;
    if (!PyArg_ParseTuple(args, "y*y*w*", &offsets, &data, &out)) return NULL;
    PyObject *result = NULL;
    if (check_offsets(&offsets, &data, &rows) < 0) goto done;
    if (out.len != rows * 8) {
        PyErr_SetString(PyExc_ValueError, "out holds one uint64 a row");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    digest_rows(offsets.buf, data.buf, rows, out.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

/*
 * account_hashes(offsets, data, key, account_prefix, out, start, stop)
 *
 * For each id row in [start, stop) (UTF-8 text as for parse_amounts, already checked to
 * be 1 to 256 bytes), writes 64 bytes at out[row * 64]:
 *   order_key = HMAC-SHA256(key, "order" || lp(id))
 *   account   = TH("reserves/v1/account", ctx || lp(id) || HMAC-SHA256(key, "salt" || lp(id)))
 * `account_prefix` is the tag prefix followed by ctx.
 */
static PyObject *account_hashes(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, key, prefix, out;
    Py_ssize_t start, stop, rows;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*nn", &offsets, &data, &key, &prefix, &out, &start, &stop)) return NULL;
    PyObject *result = NULL;
    if (count_offsets(&offsets, &rows) < 0 || check_range(start, stop, rows) < 0) goto done;
    if (check_rows(&offsets, &data, start, stop) < 0) goto done;
    if (key.len != 32 || out.len < rows * 64) {
        PyErr_SetString(PyExc_ValueError, "the key is 32 bytes and out holds 64 bytes a row");
        goto done;
    }
    const int64_t *at = offsets.buf;
    for (Py_ssize_t row = start; row < stop; row++) {
        if (at[row + 1] - at[row] > MAX_LP_BYTES) {
            PyErr_SetString(PyExc_ValueError, "an id is longer than 65535 bytes");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    hmac_state order, salt;
    hmac_init(&order, key.buf, 32, (const unsigned char *)"order", 5);
    hmac_init(&salt, key.buf, 32, (const unsigned char *)"salt", 4);
    SHA256_CTX account_state;
    prefixed(&account_state, &prefix);
    unsigned char lp_id[2 + MAX_LP_BYTES], salt_bytes[32];
    for (Py_ssize_t row = start; row < stop; row++) {
        size_t length = (size_t)(at[row + 1] - at[row]);
        lp_id[0] = (unsigned char)(length >> 8);
        lp_id[1] = (unsigned char)length;
        memcpy(lp_id + 2, (const unsigned char *)data.buf + at[row], length);
        unsigned char *target = (unsigned char *)out.buf + row * 64;
        hmac_finish(&order, lp_id, length + 2, target);
        hmac_finish(&salt, lp_id, length + 2, salt_bytes);
        SHA256_CTX account = account_state;
        SHA256_Update(&account, lp_id, length + 2);
        SHA256_Update(&account, salt_bytes, 32);
        SHA256_Final(target + 32, &account);
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

/*
 * leaf_records(leaf_prefix, hashes, amounts, slot_rows, first_slot, out, width[, first_row])
 *
 * Leaf records for slots first_slot … first_slot + len(out)/record - 1, where the account
 * in slot first_slot + i is file row slot_rows[first_row + i] (first_row defaults to
 * first_slot: slot_rows covers every slot; a builder holding only a range of slots passes
 * that range and its own first_row): its commitment is hashes[row * 64 + 32 …] (see
 * account_hashes) and its balances amounts[row] (u128 big-endian per asset). Each record
 * is hash || balances with
 *   hash = TH("reserves/v1/leaf", ctx || u64(slot) || account || balances).
 */
static PyObject *leaf_records(PyObject *self, PyObject *args) {
    Py_buffer prefix, hashes, amounts, slot_rows, out;
    Py_ssize_t first_slot, width, first_row = -1;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nw*n|n", &prefix, &hashes, &amounts, &slot_rows, &first_slot, &out, &width,
                          &first_row))
        return NULL;
    PyObject *result = NULL;
    if (first_row < 0) first_row = first_slot;
    Py_ssize_t rows = hashes.len / 64, record = 32 + width, count = record ? out.len / record : 0;
    const int64_t *row_of = (const int64_t *)slot_rows.buf + first_row;
    if (width <= 0 || width % 16 || out.len % record || amounts.len != rows * width || slot_rows.len % 8 ||
        first_slot < 0 || first_row + count > slot_rows.len / 8) {
        PyErr_SetString(PyExc_ValueError, "inconsistent sizes for leaf records");
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (row_of[i] < 0 || row_of[i] >= rows) {
            PyErr_SetString(PyExc_ValueError, "a slot names a row that does not exist");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    SHA256_CTX leaf_state;
    prefixed(&leaf_state, &prefix);
    unsigned char index[8];
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t row = row_of[i];
        if (i + 8 < count) { /* slots visit rows in a random order: fetch ahead */
            const unsigned char *ahead = (const unsigned char *)amounts.buf + row_of[i + 8] * width;
            for (Py_ssize_t line = 0; line < width; line += 64) __builtin_prefetch(ahead + line);
            __builtin_prefetch((const unsigned char *)hashes.buf + row_of[i + 8] * 64 + 32);
        }
        unsigned char *target = (unsigned char *)out.buf + i * record;
        const unsigned char *balances = (const unsigned char *)amounts.buf + row * width;
        memcpy(target + 32, balances, (size_t)width);
        put_u64(index, (uint64_t)(first_slot + i));
        SHA256_CTX leaf = leaf_state;
        SHA256_Update(&leaf, index, 8);
        SHA256_Update(&leaf, (const unsigned char *)hashes.buf + row * 64 + 32, 32);
        SHA256_Update(&leaf, balances, (size_t)width);
        SHA256_Final(target, &leaf);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&amounts);
    PyBuffer_Release(&slot_rows);
    PyBuffer_Release(&out);
    return result;
}

/*
 * parent_records(node_prefix, level, first_index, children, out, record) -> int
 *
 * The records at `level`, indexes first_index …, over `children` (pairs of records of the
 * level below, left then right; each record `record` bytes: hash || u128 sums):
 *   hash = TH("reserves/v1/node", ctx || u8(level) || u64(index) || left || right)
 *   sums = left.sums + right.sums
 * Returns -1, or p * assets + a when the sum of asset a in parent p reaches 2^128 (out is
 * then partly written and must be discarded).
 */
static Py_ssize_t parent_rows(const Py_buffer *prefix, int level, Py_ssize_t first_index,
                              const unsigned char *children, unsigned char *out, Py_ssize_t count,
                              Py_ssize_t record) {
    Py_ssize_t assets = (record - 32) / 16;
    SHA256_CTX node_state;
    prefixed(&node_state, prefix);
    unsigned char header[9];
    header[0] = (unsigned char)level;
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *left = children + 2 * i * record, *right = left + record;
        unsigned char *target = out + i * record;
        for (Py_ssize_t a = 0; a < assets; a++) {
            u128 x = get_u128(left + 32 + 16 * a), y = get_u128(right + 32 + 16 * a), sum = x + y;
            if (sum < x) return i * assets + a;
            put_u128(target + 32 + 16 * a, sum);
        }
        put_u64(header + 1, (uint64_t)(first_index + i));
        SHA256_CTX node = node_state;
        SHA256_Update(&node, header, 9);
        SHA256_Update(&node, left, (size_t)(2 * record));
        SHA256_Final(target, &node);
    }
    return -1;
}

/*
 * parents_at(node_prefix, level, indexes, children, out, record) -> int
 *
 * As parent_records, for parents that need not be side by side: parent i is node
 * (level, indexes[i]) over children[2i], children[2i+1] (bulk proofs climb many paths at once).
 */
static PyObject *parents_at(PyObject *self, PyObject *args) {
    Py_buffer prefix, indexes, children, out;
    int level;
    Py_ssize_t record, overflow = -1;
    if (!PyArg_ParseTuple(args, "y*iy*y*w*n", &prefix, &level, &indexes, &children, &out, &record)) return NULL;
    PyObject *result = NULL;
    if (record < 48 || (record - 32) % 16 || out.len % record || children.len != 2 * out.len || level < 1 ||
        level > 64 || indexes.len != (Py_ssize_t)sizeof(int64_t) * (out.len / record)) {
        PyErr_SetString(PyExc_ValueError, "inconsistent sizes for parent records");
        goto done;
    }
    Py_ssize_t count = out.len / record, assets = (record - 32) / 16;
    const int64_t *at = indexes.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (at[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "a node index is never negative");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && overflow < 0; i++) {
        const unsigned char *pair = (const unsigned char *)children.buf + 2 * i * record;
        unsigned char *target = (unsigned char *)out.buf + i * record;
        Py_ssize_t found = parent_rows(&prefix, level, at[i], pair, target, 1, record);
        if (found >= 0) overflow = i * assets + found;
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(overflow);
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&indexes);
    PyBuffer_Release(&children);
    PyBuffer_Release(&out);
    return result;
}

static PyObject *parent_records(PyObject *self, PyObject *args) {
    Py_buffer prefix, children, out;
    int level;
    Py_ssize_t first_index, record, overflow = -1;
    if (!PyArg_ParseTuple(args, "y*iny*w*n", &prefix, &level, &first_index, &children, &out, &record)) return NULL;
    PyObject *result = NULL;
    if (record < 48 || (record - 32) % 16 || out.len % record || out.len == 0 || children.len != 2 * out.len ||
        level < 1 || level > 64 || first_index < 0) {
        PyErr_SetString(PyExc_ValueError, "inconsistent sizes for parent records");
        goto done;
    }
    Py_ssize_t count = out.len / record;
    Py_BEGIN_ALLOW_THREADS
    overflow = parent_rows(&prefix, level, first_index, children.buf, out.buf, count, record);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(overflow);
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&children);
    PyBuffer_Release(&out);
    return result;
}

/*
 * nodes_json(records, record, decimals, names, with_hash, indent=-1) -> list[str]
 *
 * Each record (hash || u128 sums) as json.dumps writes the proof's JSON for it: with_hash,
 * {"hash": "<hex>", "sums": {...}}; else the sums object alone, {"BTC": "1.5", ...}: each
 * amount spelled by encoding.format_amount (the shortest whole-unit spelling). `names` holds
 * each asset's key as JSON writes it, quoted, with its separator (b'"BTC": '). On one line
 * (indent -1), or as json.dumps(indent=2) lays out an object whose brace stands `indent`
 * spaces deep (0 to 64).
 */
static Py_ssize_t spell_amount(u128 value, int decimals, char *out) {
    char digits[48];
    Py_ssize_t count = 0;
    const uint64_t ten19 = 10000000000000000000ULL; /* u64 digits are far cheaper than u128 ones */
    uint64_t low = (uint64_t)(value % ten19), high = (uint64_t)(value / ten19 % ten19), top = (uint64_t)(value / ten19 / ten19);
    for (int part = 0; part < 3; part++) {
        uint64_t chunk = part == 0 ? low : part == 1 ? high : top;
        int more = part == 0 ? (high || top) : part == 1 ? top != 0 : 0; /* a lower chunk holds all 19 digits */
        int written = 0;
        do {
            digits[count++] = (char)('0' + (int)(chunk % 10));
            chunk /= 10;
            written++;
        } while (chunk || (more && written < 19));
        if (!more) break;
    }
    while (count <= decimals) digits[count++] = '0'; /* at least one whole digit */
    Py_ssize_t lowest = decimals; /* digits[] is least significant first: the lowest fraction digit kept */
    for (Py_ssize_t i = 0; i < decimals; i++) {
        if (digits[i] != '0') {
            lowest = i;
            break;
        }
    }
    Py_ssize_t length = 0;
    for (Py_ssize_t i = count - 1; i >= decimals; i--) out[length++] = digits[i];
    if (lowest < decimals) {
        out[length++] = '.';
        for (Py_ssize_t i = decimals - 1; i >= lowest; i--) out[length++] = digits[i];
    }
    return length;
}

/* a line break and `depth` spaces at text[at]; returns the new end */
static Py_ssize_t line_break(char *text, Py_ssize_t at, int depth) {
    text[at++] = '\n';
    memset(text + at, ' ', (size_t)depth);
    return at + depth;
}

/* after an item: "," then a space (one line) or a line break at `depth` */
static Py_ssize_t separator(char *text, Py_ssize_t at, int indent, int depth) {
    text[at++] = ',';
    if (indent < 0) {
        text[at++] = ' ';
        return at;
    }
    return line_break(text, at, depth);
}

static PyObject *nodes_json(PyObject *self, PyObject *args) {
    Py_buffer records;
    Py_ssize_t record;
    PyObject *decimals, *names;
    int with_hash, indent = -1;
    if (!PyArg_ParseTuple(args, "y*nO!O!p|i", &records, &record, &PyTuple_Type, &decimals, &PyTuple_Type, &names,
                          &with_hash, &indent))
        return NULL;
    PyObject *result = NULL;
    char *text = NULL;
    int *places = NULL;
    Py_ssize_t assets = (record - 32) / 16;
    if (record < 48 || (record - 32) % 16 || records.len % record || PyTuple_GET_SIZE(decimals) != assets ||
        PyTuple_GET_SIZE(names) != assets || indent < -1 || indent > 64) {
        PyErr_SetString(PyExc_ValueError, "inconsistent sizes for node JSON");
        goto done;
    }
    int sums_depth = with_hash ? indent + 2 : indent; /* where the sums object's brace stands */
    Py_ssize_t room = 96 + 4 * (indent + 4);
    places = PyMem_Malloc(sizeof(int) * (size_t)(assets + 1));
    if (places == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t a = 0; a < assets; a++) {
        PyObject *name = PyTuple_GET_ITEM(names, a);
        places[a] = (int)PyLong_AsLong(PyTuple_GET_ITEM(decimals, a));
        if (!PyBytes_Check(name) || places[a] < 0 || places[a] > MAX_DECIMALS) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "names are bytes, decimals 0 to 36");
            goto done;
        }
        room += PyBytes_GET_SIZE(name) + 48 + 4 + (indent + 8);
    }
    text = PyMem_Malloc((size_t)room);
    Py_ssize_t count = records.len / record;
    result = PyList_New(count);
    if (text == NULL || result == NULL) {
        Py_CLEAR(result);
        PyErr_NoMemory();
        goto done;
    }
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *node = (const unsigned char *)records.buf + i * record;
        Py_ssize_t at = 0;
        if (with_hash) {
            text[at++] = '{';
            if (indent >= 0) at = line_break(text, at, indent + 2);
            memcpy(text + at, "\"hash\": \"", 9);
            at += 9;
            for (int b = 0; b < 32; b++) {
                text[at++] = hex[node[b] >> 4];
                text[at++] = hex[node[b] & 15];
            }
            text[at++] = '"';
            at = separator(text, at, indent, indent + 2);
            memcpy(text + at, "\"sums\": ", 8);
            at += 8;
        }
        text[at++] = '{';
        for (Py_ssize_t a = 0; a < assets; a++) {
            PyObject *name = PyTuple_GET_ITEM(names, a);
            if (a) at = separator(text, at, indent, sums_depth + 2);
            else if (indent >= 0) at = line_break(text, at, sums_depth + 2);
            memcpy(text + at, PyBytes_AS_STRING(name), (size_t)PyBytes_GET_SIZE(name));
            at += PyBytes_GET_SIZE(name);
            text[at++] = '"';
            at += spell_amount(get_u128(node + 32 + 16 * a), places[a], text + at);
            text[at++] = '"';
        }
        if (indent >= 0) at = line_break(text, at, sums_depth);
        text[at++] = '}';
        if (with_hash) {
            if (indent >= 0) at = line_break(text, at, indent);
            text[at++] = '}';
        }
        PyObject *item = PyUnicode_DecodeASCII(text, at, NULL);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    PyMem_Free(places);
    PyMem_Free(text);
    PyBuffer_Release(&records);
    return result;
}

static PyMethodDef methods[] = {
    {"parse_amounts", parse_amounts, METH_VARARGS, "Amount texts to u128 big-endian; -1 or the first bad row."},
    {"scan_text", scan_text, METH_VARARGS, "Counts of line feeds, lone carriage returns and quotes in a buffer."},
    {"check_records", check_records, METH_VARARGS, "The first malformed CSV record, as Python's strict csv reads it."},
    {"line_start", line_start, METH_VARARGS, "Where a line starts, or -1."},
    {"id_digests", id_digests, METH_VARARGS, "A 64-bit non-cryptographic digest of each row, for finding repeats."},
    {"account_hashes", account_hashes, METH_VARARGS, "order_key || account commitment of each id row."},
    {"leaf_records", leaf_records, METH_VARARGS, "Leaf records (hash || balances) of a range of slots."},
    {"parent_records", parent_records, METH_VARARGS, "Parent records over pairs; -1 or the first overflow."},
    {"nodes_json", nodes_json, METH_VARARGS, "Records as the JSON a proof writes for them."},
    {"parents_at", parents_at, METH_VARARGS, "Parent records over pairs at the given indexes; -1 or the first overflow."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reserves.liabilities._bulk",
    .m_doc = "The hot loops of publish and audit, compiled.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__bulk(void) {
    init_powers();
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) return NULL;
    if (PyModule_AddIntConstant(created, "MAX_DECIMALS", MAX_DECIMALS) < 0 ||
        PyModule_AddIntConstant(created, "MAX_LP_BYTES", MAX_LP_BYTES) < 0 ||
        PyModule_AddIntConstant(created, "CSV_FIELD_LIMIT", FIELD_LIMIT) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
