/* logread: proto's lineage reader, driven to the end, its reports kept as regions. */
#include "analysis/logread.h"

#include <string.h>
#include <sys/stat.h>

const char *qs_skip_kind_name(qs_skip_kind_t k)
{
    switch (k) {
    case QS_SKIP_TAIL:
        return "torn tail";
    case QS_SKIP_CORRUPT:
        return "corrupt";
    case QS_SKIP_RECORD:
        return "bad record";
    }
    return "?";
}

int qs_logread_open(qs_logread_t *lr, const char *path, qs_error_t *err)
{
    memset(&lr->st, 0, sizeof lr->st);
    int rc = qs_lineage_open(&lr->rd, path, err);
    if (rc < 0)
        return rc;
    struct stat st;
    if (fstat(fileno(lr->rd.f), &st) == 0)
        lr->st.size = (uint64_t)st.st_size;
    return 0;
}

void qs_logread_close(qs_logread_t *lr)
{
    qs_lineage_close(&lr->rd);
}

static void add_skip(qs_logread_t *lr, uint64_t from, uint64_t len, qs_skip_kind_t kind,
                     const char *why)
{
    if (len == 0)
        return;
    lr->st.skipped_bytes += len;
    lr->st.nskips_total++;
    if (lr->st.nskips < QS_LOGREAD_MAX_SKIPS) {
        qs_skip_t *s = &lr->st.skips[lr->st.nskips++];
        s->offset = from;
        s->length = len;
        s->kind = kind;
        size_t n = strnlen(why, sizeof s->why - 1);
        memcpy(s->why, why, n);
        s->why[n] = '\0';
    }
}

int qs_logread_next(qs_logread_t *lr, qs_record_t *r, qs_error_t *err)
{
    for (;;) {
        /* Frames are contiguous: the next one starts where the last good one ended, or
         * where the reader resynchronised. */
        uint64_t start = lr->rd.frame_start, skipped = lr->rd.skipped;
        uint64_t good = lr->rd.good_bytes;
        qs_error_t e; /* not zeroed: 516 bytes per record would show in the profile */
        e.code = 0;
        e.msg[0] = '\0';
        int rc = qs_lineage_next(&lr->rd, r, &e);
        if (rc == 1) {
            lr->st.records++;
            lr->st.good_bytes += lr->rd.good_bytes - start;
            return 1;
        }
        if (rc == 0)
            return 0;
        if (rc == QS_ERR(IO)) {
            if (err)
                *err = e;
            return rc;
        }
        uint64_t lost = lr->rd.skipped - skipped;
        if (lost > 0)
            add_skip(lr, start, lost, rc == QS_ERR(TRUNCATED) ? QS_SKIP_TAIL : QS_SKIP_CORRUPT,
                     e.msg);
        else if (lr->rd.good_bytes > good)
            add_skip(lr, start, lr->rd.good_bytes - start, QS_SKIP_RECORD, e.msg);
        else if (lr->rd.done) /* nothing readable from start to the end */
            add_skip(lr, start, lr->st.size > start ? lr->st.size - start : 0, QS_SKIP_CORRUPT,
                     e.msg);
    }
}
