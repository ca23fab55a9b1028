/* Replays fuzz inputs through a target without libFuzzer: every file of the
 * directories (or files) given, so that the seed corpus and every crash the
 * fuzzers found run in every build as a unit test (TAP). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;
static FILE *tap; /* the TAP stream: a target may silence stdout */

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(tap, "not ok %d - cannot open %s\n", ++count, path);
        return 1;
    }
    size_t size = 0, capacity = 1 << 16;
    uint8_t *data = malloc(capacity);
    for (size_t got; data != NULL && (got = fread(data + size, 1, capacity - size, f)) > 0;) {
        size += got;
        if (size == capacity)
            data = realloc(data, capacity *= 2);
    }
    fclose(f);
    if (data == NULL)
        return 1;
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    /* A crash ends the process before this line: the test fails. */
    fprintf(tap, "ok %d - %s\n", ++count, path);
    fflush(tap);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int failures = 0;
    tap = fdopen(dup(1), "w");
    if (tap == NULL)
        return 1;
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            failures += replay_file(argv[i]);
            continue;
        }
        DIR *dir = opendir(argv[i]);
        char **names = NULL;
        size_t n = 0;
        for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;)
            if (e->d_name[0] != '.') {
                names = realloc(names, (n + 1) * sizeof *names);
                names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
                sprintf(names[n++], "%s/%s", argv[i], e->d_name);
            }
        if (dir != NULL)
            closedir(dir);
        qsort(names, n, sizeof *names, compare_names);
        for (size_t k = 0; k < n; k++) {
            failures += replay_file(names[k]);
            free(names[k]);
        }
        free(names);
    }
    fprintf(tap, "1..%d\n", count);
    fflush(tap);
    return failures != 0;
}
