/* archive: the records of archive.msgpack and a reader that tells a clean end from a
 * torn or damaged record (see archive.h; field tables in proto/PROTOCOL.md). */
#include "proto/archive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/mp.h"

static const char *const mode_table[] = {"none", "best", "survivors", "all"};
const qs_names_t qs_archive_mode_names = QS_NAMES(mode_table);

const char *qs_archive_mode_name(qs_archive_mode_t m)
{
    return qs_name_of(mode_table, QS_ARRAY_LEN(mode_table), (unsigned)m);
}

static const char *nm_mode(int i)
{
    return qs_archive_mode_name((qs_archive_mode_t)i);
}

enum { REC_HEADER = 1, REC_ORGANISM, REC_LAST = REC_ORGANISM };
static const char *const rec_names[] = {NULL, "header", "organism"};

/* ---- Encoding ---------------------------------------------------------------------------- */

static void open_rec(msgpack_packer *pk, int type, size_t n)
{
    msgpack_pack_map(pk, n + 2);
    qs_mp_kv_str(pk, "type", rec_names[type]);
    qs_mp_kv_u64(pk, "v", QS_ARCHIVE_VERSION);
}

void qs_archive_header_encode(const qs_archive_header_t *h, qs_bytes_t *out)
{
    size_t start = qs_frame_begin(out);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    open_rec(&pk, REC_HEADER, 6);
    qs_mp_kv_str(&pk, "format", QS_ARCHIVE_FORMAT);
    qs_mp_kv_str(&pk, "run_id", h->run_id);
    qs_mp_kv_str(&pk, "run_name", h->run_name);
    qs_mp_kv_u64(&pk, "seed", h->seed);
    qs_mp_kv_str(&pk, "mode", qs_archive_mode_name(h->mode));
    qs_mp_kv_u64(&pk, "every", h->every);
    qs_frame_finish(out, start);
}

void qs_archive_entry_encode(const qs_archive_entry_t *e, qs_bytes_t *out)
{
    size_t start = qs_frame_begin(out);
    msgpack_packer pk;
    qs_mp_packer_init(&pk, out);
    open_rec(&pk, REC_ORGANISM, 9);
    qs_mp_kv_u64(&pk, "generation", e->generation);
    qs_mp_kv_u64(&pk, "id", e->id);
    qs_mp_kv_u64(&pk, "parent", e->parent);
    qs_mp_kv_u64(&pk, "born", e->born);
    qs_mp_kv_str(&pk, "species", e->species);
    qs_mp_kv_f64(&pk, "fitness", e->fitness);
    qs_mp_kv_f64(&pk, "accuracy", e->accuracy);
    qs_mp_kv_f64(&pk, "r2", e->r2);
    qs_mp_kv_bin(&pk, "genome", e->genome, e->genome_len);
    qs_frame_finish(out, start);
}

/* ---- Decoding ---------------------------------------------------------------------------- */

static int read_header(const msgpack_object *map, qs_archive_header_t *h, qs_error_t *err)
{
    enum { FORMAT, RUN_ID, RUN, SEED, MODE, EVERY, NK };
    static const char *const keys[NK] = {"format", "run_id", "run_name", "seed", "mode", "every"};
    const char *what = "archive header";
    const msgpack_object *v[NK];
    int rc, mode = 0;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    if (!v[FORMAT] || !qs_mp_str_eq(v[FORMAT], QS_ARCHIVE_FORMAT)) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: field 'format' is not '%s'", what,
                          QS_ARCHIVE_FORMAT);
        goto out;
    }
    TRY(qs_mp_hex(v[RUN_ID], what, "run_id", QS_RUN_ID_LEN, h->run_id, err));
    TRY(qs_mp_str(v[RUN], what, "run_name", h->run_name, sizeof h->run_name, err));
    TRY(qs_mp_u64(v[SEED], what, "seed", 0, UINT64_MAX, &h->seed, err));
    TRY(qs_mp_enum(v[MODE], what, "mode", nm_mode, QS_ARCHIVE_BEST, 3, &mode, err));
    h->mode = (qs_archive_mode_t)mode;
    TRY(qs_mp_u32(v[EVERY], what, "every", 1, UINT32_MAX, &h->every, err));
out:
    return rc;
}

static int read_entry(const msgpack_object *map, qs_archive_entry_t *e, qs_error_t *err)
{
    enum { GEN, ID, PARENT, BORN, SPECIES, FITNESS, ACC, R2, GENOME, NK };
    static const char *const keys[NK] = {"generation", "id",       "parent", "born",  "species",
                                         "fitness",    "accuracy", "r2",     "genome"};
    const char *what = "archive entry";
    const msgpack_object *v[NK];
    int rc;
    TRY(qs_mp_fields(map, keys, NK, v, what, err));
    TRY(qs_mp_u32(v[GEN], what, "generation", 0, UINT32_MAX, &e->generation, err));
    TRY(qs_mp_u64(v[ID], what, "id", 1, UINT64_MAX, &e->id, err));
    TRY(qs_mp_u64(v[PARENT], what, "parent", 0, UINT64_MAX, &e->parent, err));
    TRY(qs_mp_u32(v[BORN], what, "born", 0, e->generation, &e->born, err));
    TRY(qs_mp_str(v[SPECIES], what, "species", e->species, sizeof e->species, err));
    TRY(qs_mp_f64(v[FITNESS], what, "fitness", &e->fitness, err));
    TRY(qs_mp_f64(v[ACC], what, "accuracy", &e->accuracy, err));
    TRY(qs_mp_f64(v[R2], what, "r2", &e->r2, err));
    TRY(qs_mp_bin(v[GENOME], what, "genome", -1, &e->genome, &e->genome_len, err));
out:
    return rc;
}

/* Decode the frame payload in rd->buf as a record of the expected type. */
static int decode(qs_archive_reader_t *rd, const uint8_t *payload, size_t len, int want,
                  qs_archive_entry_t *e, qs_error_t *err)
{
    static const qs_mp_kind_t kind = {.what = "archive record",
                                      .version_of = "version",
                                      .verb = "reads",
                                      .names = rec_names,
                                      .last = REC_LAST,
                                      .version = QS_ARCHIVE_VERSION};
    qs_mp_doc_t doc;
    int type = 0;
    int rc = qs_mp_doc_parse(&doc, payload, len, "archive record", err);
    if (rc < 0)
        return rc;
    TRY(qs_mp_typed_head(doc.root, &kind, &type, err));
    if (type != want) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "a '%s' record where a '%s' was expected",
                          rec_names[type], rec_names[want]);
        goto out;
    }
    if (type == REC_HEADER) {
        qs_archive_header_t h;
        memset(&h, 0, sizeof h);
        TRY(read_header(doc.root, &h, err));
        rd->header = h;
    } else {
        qs_archive_entry_t t;
        memset(&t, 0, sizeof t);
        TRY(read_entry(doc.root, &t, err));
        *e = t; /* its genome points into rd->buf, which outlives doc */
    }
out:
    qs_mp_doc_release(&doc);
    return rc;
}

/* ---- Reader ------------------------------------------------------------------------------ */

/* Read the frame at rd->pos into rd->buf: 1 with *payload and *plen, 0 at the end of the file,
 * or a negative error (err without the file's name). */
static int read_frame(qs_archive_reader_t *rd, const uint8_t **payload, size_t *plen,
                      qs_error_t *err)
{
    uint64_t left = rd->size - rd->pos;
    if (left == 0)
        return 0;
    uint8_t head[QS_FRAME_HEADER];
    size_t n = fread(head, 1, (size_t)QS_MIN(left, (uint64_t)sizeof head), rd->f);
    if (ferror(rd->f))
        return qs_error_set(err, QS_ERR(IO), "read: %s", strerror(errno));
    size_t frame_len = 0;
    int rc = qs_frame_parse(head, n, QS_ARCHIVE_MAX_RECORD, payload, plen, &frame_len, err);
    if (rc < 0)
        return rc;
    if (n < sizeof head || frame_len > left)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "a record cut short: %llu bytes of %zu (a torn last write)",
                            (unsigned long long)left, n < sizeof head ? sizeof head : frame_len);
    qs_bytes_clear(&rd->buf);
    qs_bytes_append(&rd->buf, head, sizeof head);
    qs_bytes_reserve(&rd->buf, frame_len - sizeof head);
    n = fread(rd->buf.data + rd->buf.len, 1, frame_len - sizeof head, rd->f);
    rd->buf.len += n;
    if (n != frame_len - sizeof head)
        return qs_error_set(err, QS_ERR(IO), "read: %s",
                            ferror(rd->f) ? strerror(errno) : "the file shrank while read");
    rc = qs_frame_parse(rd->buf.data, rd->buf.len, QS_ARCHIVE_MAX_RECORD, payload, plen, &frame_len,
                        err);
    return rc < 0 ? rc : 1;
}

int qs_archive_open(qs_archive_reader_t *rd, const char *path, qs_error_t *err)
{
    memset(rd, 0, sizeof *rd);
    qs_bytes_init(&rd->buf);
    if (strlen(path) >= sizeof rd->path)
        return qs_error_set(err, QS_ERR(INVAL), "%s: path too long", path);
    snprintf(rd->path, sizeof rd->path, "%s", path);
    struct stat st;
    if (!(rd->f = qs_fopen_regular(path, &st, err)))
        return err ? err->code : QS_ERR(IO);
    rd->size = (uint64_t)st.st_size;
    const uint8_t *payload;
    size_t plen;
    qs_error_t e = {0};
    int rc = read_frame(rd, &payload, &plen, &e);
    if (rc == 0)
        rc = qs_error_set(&e, QS_ERR(FORMAT), "empty file");
    if (rc > 0 && (rc = decode(rd, payload, plen, REC_HEADER, NULL, &e)) == 0) {
        rd->pos = rd->buf.len;
        return 0;
    }
    qs_error_set(err, rc, "%s: not a readable quinesim archive: %s", path, e.msg);
    qs_archive_close(rd);
    return rc;
}

int qs_archive_next(qs_archive_reader_t *rd, qs_archive_entry_t *e, qs_error_t *err)
{
    const uint8_t *payload;
    size_t plen;
    qs_error_t why = {0};
    if (fseeko(rd->f, (off_t)rd->pos, SEEK_SET) != 0)
        return qs_error_set(err, QS_ERR(IO), "%s: seek: %s", rd->path, strerror(errno));
    int rc = read_frame(rd, &payload, &plen, &why);
    if (rc > 0 && (rc = decode(rd, payload, plen, REC_ORGANISM, e, &why)) == 0) {
        rd->pos += rd->buf.len;
        rd->entries++;
        return 1;
    }
    if (rc == 0)
        return 0;
    return qs_error_set(err, rc,
                        "%s: the record at offset %llu: %s (the %llu entries before it are "
                        "whole)",
                        rd->path, (unsigned long long)rd->pos, why.msg,
                        (unsigned long long)rd->entries);
}

void qs_archive_close(qs_archive_reader_t *rd)
{
    if (rd->f)
        fclose(rd->f);
    rd->f = NULL;
    qs_bytes_destroy(&rd->buf);
}
