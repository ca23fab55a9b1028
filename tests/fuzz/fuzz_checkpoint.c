/* libFuzzer target for the checkpoint reader: any bytes give a checkpoint or a
 * one-line message, never a crash, a leak or undefined behaviour; and whatever
 * it accepts, written out again, reads back the same.
 *   clang -g -fsanitize=fuzzer,address,undefined -Isrc src/checkpoint.c \
 *       tests/fuzz/fuzz_checkpoint.c -ljansson -lm -o fuzz_checkpoint */
#include "checkpoint.h"

#include <stdlib.h>
#include <string.h>

static bool same(const struct pimc_checkpoint *a, const struct pimc_checkpoint *b)
{
    if (a->seed != b->seed || a->throws != b->throws || strcmp(a->generator, b->generator) != 0 ||
        a->stream_version != b->stream_version || a->hits != b->hits || a->compute_s != b->compute_s ||
        a->segments != b->segments || a->done_count != b->done_count)
        return false;
    for (size_t i = 0; i < a->done_count; i++)
        if (a->done[i].first != b->done[i].first || a->done[i].end != b->done[i].end)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char error[512];
    struct pimc_checkpoint cp, again;
    enum pimc_checkpoint_status status = pimc_checkpoint_parse("fuzz", (const char *)data, size, &cp, error,
                                                               sizeof error);
    if (status != PIMC_CHECKPOINT_OK) {
        if (strchr(error, '\n') != NULL || strstr(error, "fuzz") == NULL)
            abort(); /* the message is one line and names the file */
        return 0;
    }
    if (pimc_checkpoint_throws_done(&cp) > cp.throws || cp.hits > pimc_checkpoint_throws_done(&cp))
        abort();
    char *text = pimc_checkpoint_format(&cp);
    if (text == NULL)
        abort();
    if (pimc_checkpoint_parse("fuzz", text, strlen(text), &again, error, sizeof error) != PIMC_CHECKPOINT_OK ||
        !same(&cp, &again))
        abort();
    free(text);
    pimc_checkpoint_free(&again);
    pimc_checkpoint_free(&cp);
    return 0;
}
