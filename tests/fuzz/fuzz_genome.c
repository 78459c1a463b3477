/* fuzz_genome: the genome decoder on arbitrary bytes. Whatever it accepts must be
 * consistent (weight count = the spec's N) and survive encode -> decode unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/genome.h"
#include "proto/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_genome_t g, h;
    qs_error_t err;
    char fmt[QS_NAME_MAX];
    (void)qs_inspect_peek_format(data, size, fmt, sizeof fmt, &err);
    if (qs_genome_decode(&g, data, size, &err) < 0)
        return 0;
    if (g.nweights != qs_quine_nparams(&g.spec) || g.nparents > QS_MAX_PARENTS ||
        strlen(g.species) >= QS_NAME_MAX)
        abort();
    qs_bytes_t b;
    qs_bytes_init(&b);
    qs_genome_encode(&g, &b);
    if (qs_genome_decode(&h, b.data, b.len, &err) < 0)
        abort();
    if (h.nweights != g.nweights || memcmp(h.weights, g.weights, (size_t)g.nweights * 4) != 0 ||
        h.id != g.id || memcmp(&h.spec, &g.spec, sizeof g.spec) != 0 ||
        strcmp(h.species, g.species) != 0)
        abort();
    qs_bytes_destroy(&b);
    qs_genome_destroy(&g);
    qs_genome_destroy(&h);
    return 0;
}
