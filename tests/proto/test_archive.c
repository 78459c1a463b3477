/* Tests for proto/archive: a header and entries round-trip through a file with each
 * genome's bytes intact; a file cut at every offset of its last entry reads the entries
 * before it and reports the cut (a clean end exactly at a boundary); a flipped byte in an
 * entry is a checksum error naming its offset; a header of another format or a torn
 * header is refused on open. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "proto/archive.h"
#include "tests/proto/proto_test.h"
#include "tests/testutil.h"

static char dir[256], path[512];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/archive.msgpack", dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(archive, .init = setup, .fini = teardown);

#define NENTRIES 3

/* A header and NENTRIES entries of random genomes in out; each genome document in docs[i]
 * and the file offset where each entry ends in ends[i]. */
static void build(qs_bytes_t *out, qs_bytes_t docs[NENTRIES], size_t ends[NENTRIES])
{
    qs_archive_header_t h = {.seed = 42, .mode = QS_ARCHIVE_SURVIVORS, .every = 5};
    memset(h.run_id, 'a', QS_RUN_ID_LEN);
    snprintf(h.run_name, sizeof h.run_name, "quick");
    qs_bytes_init(out);
    qs_archive_header_encode(&h, out);
    for (int i = 0; i < NENTRIES; i++) {
        qs_genome_t g;
        pt_random_genome(&g, 100 + (uint64_t)i, 1);
        qs_bytes_init(&docs[i]);
        qs_genome_encode(&g, &docs[i]);
        qs_archive_entry_t e = {.generation = 5u * (uint32_t)i,
                                .id = g.id,
                                .parent = (uint64_t)i,
                                .born = (uint32_t)i,
                                .fitness = 0.5 + i,
                                .accuracy = 0.25,
                                .r2 = -1.5,
                                .genome = docs[i].data,
                                .genome_len = docs[i].len};
        snprintf(e.species, sizeof e.species, "sp%d", i);
        qs_archive_entry_encode(&e, out);
        ends[i] = out->len;
        qs_genome_destroy(&g);
    }
}

static void release(qs_bytes_t *file, qs_bytes_t docs[NENTRIES])
{
    qs_bytes_destroy(file);
    for (int i = 0; i < NENTRIES; i++)
        qs_bytes_destroy(&docs[i]);
}

Test(archive, round_trips_header_and_entries)
{
    qs_bytes_t file, docs[NENTRIES];
    size_t ends[NENTRIES];
    build(&file, docs, ends);
    tu_write_file(path, file.data, file.len);
    qs_archive_reader_t rd;
    qs_error_t err = {0};
    cr_assert_eq(qs_archive_open(&rd, path, &err), 0, "%s", err.msg);
    cr_expect_eq(rd.header.mode, QS_ARCHIVE_SURVIVORS);
    cr_expect_eq(rd.header.every, 5);
    cr_expect_eq(rd.header.seed, 42);
    cr_expect_str_eq(rd.header.run_name, "quick");
    cr_expect_eq(strlen(rd.header.run_id), QS_RUN_ID_LEN);
    qs_archive_entry_t e;
    for (int i = 0; i < NENTRIES; i++) {
        cr_assert_eq(qs_archive_next(&rd, &e, &err), 1, "%s", err.msg);
        cr_expect_eq(e.generation, 5u * (uint32_t)i);
        cr_expect_eq(e.parent, (uint64_t)i);
        cr_expect_eq(e.fitness, 0.5 + i);
        char sp[8];
        snprintf(sp, sizeof sp, "sp%d", i);
        cr_expect_str_eq(e.species, sp);
        cr_assert_eq(e.genome_len, docs[i].len);
        cr_expect_eq(memcmp(e.genome, docs[i].data, docs[i].len), 0, "genome bytes intact");
        qs_genome_t g;
        cr_assert_eq(qs_genome_decode(&g, e.genome, e.genome_len, &err), 0, "%s", err.msg);
        cr_expect_eq(g.id, e.id);
        qs_genome_destroy(&g);
        cr_expect_eq(rd.pos, ends[i]);
    }
    cr_expect_eq(qs_archive_next(&rd, &e, &err), 0, "a clean end");
    qs_archive_close(&rd);
    release(&file, docs);
}

Test(archive, every_cut_of_the_last_entry_is_reported)
{
    qs_bytes_t file, docs[NENTRIES];
    size_t ends[NENTRIES];
    build(&file, docs, ends);
    size_t from = ends[NENTRIES - 2];
    /* every offset of the frame header, then a spread through the payload */
    for (size_t cut = from; cut < file.len; cut += cut < from + 16 ? 1 : 97) {
        tu_write_file(path, file.data, cut);
        qs_archive_reader_t rd;
        qs_error_t err = {0};
        cr_assert_eq(qs_archive_open(&rd, path, &err), 0, "%s", err.msg);
        qs_archive_entry_t e;
        int n = 0, rc;
        while ((rc = qs_archive_next(&rd, &e, &err)) > 0)
            n++;
        cr_assert_eq(n, NENTRIES - 1, "cut at %zu", cut);
        if (cut == from) {
            cr_expect_eq(rc, 0, "cut at a boundary is a clean end");
        } else {
            cr_expect_eq(rc, QS_ERR(TRUNCATED), "cut at %zu: %s", cut, err.msg);
            cr_expect(strstr(err.msg, "cut short") && strstr(err.msg, path), "%s", err.msg);
        }
        cr_expect_eq(rd.pos, from);
        qs_archive_close(&rd);
    }
    release(&file, docs);
}

Test(archive, flipped_byte_is_a_checksum_error_at_its_record)
{
    qs_bytes_t file, docs[NENTRIES];
    size_t ends[NENTRIES];
    build(&file, docs, ends);
    file.data[ends[0] + 40] ^= 0x10; /* inside entry 1's payload */
    tu_write_file(path, file.data, file.len);
    qs_archive_reader_t rd;
    qs_error_t err = {0};
    cr_assert_eq(qs_archive_open(&rd, path, &err), 0, "%s", err.msg);
    qs_archive_entry_t e;
    cr_assert_eq(qs_archive_next(&rd, &e, &err), 1);
    cr_expect_eq(qs_archive_next(&rd, &e, &err), QS_ERR(CHECKSUM), "%s", err.msg);
    char at[64];
    snprintf(at, sizeof at, "offset %zu", ends[0]);
    cr_expect(strstr(err.msg, at), "%s", err.msg);
    qs_archive_close(&rd);
    release(&file, docs);
}

Test(archive, other_files_and_torn_headers_are_refused)
{
    qs_bytes_t file, docs[NENTRIES];
    size_t ends[NENTRIES];
    build(&file, docs, ends);
    qs_archive_reader_t rd;
    qs_error_t err = {0};
    tu_write_file(path, file.data, 20); /* a torn header */
    cr_expect_eq(qs_archive_open(&rd, path, &err), QS_ERR(TRUNCATED), "%s", err.msg);
    cr_expect(strstr(err.msg, "not a readable quinesim archive"), "%s", err.msg);
    tu_write_file(path, "", 0);
    cr_expect_eq(qs_archive_open(&rd, path, &err), QS_ERR(FORMAT), "%s", err.msg);
    /* a lineage log is framed too, but its header is not an archive's */
    qs_bytes_t other;
    qs_bytes_init(&other);
    qs_archive_entry_t e = {.id = 1, .genome = docs[0].data, .genome_len = docs[0].len};
    qs_archive_entry_encode(&e, &other); /* an entry where the header should be */
    tu_write_file(path, other.data, other.len);
    cr_expect_eq(qs_archive_open(&rd, path, &err), QS_ERR(FORMAT), "%s", err.msg);
    cr_expect(strstr(err.msg, "where a 'header' was expected"), "%s", err.msg);
    qs_bytes_destroy(&other);
    release(&file, docs);
}
