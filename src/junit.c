#include "junit.h"

#include "error_message.h"
#include "exit_status.h"
#include "file_io.h"
#include "report.h"
#include "sysinfo.h"

#include <errno.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* xmlwriter's calls return -1 on failure: any one spoils the report. */
struct writer {
    xmlTextWriterPtr w;
    bool failed;
};

static void start(struct writer *x, const char *element)
{
    x->failed |= xmlTextWriterStartElement(x->w, BAD_CAST element) < 0;
}

static void end(struct writer *x)
{
    x->failed |= xmlTextWriterEndElement(x->w) < 0;
}

static void attribute(struct writer *x, const char *name, const char *value)
{
    x->failed |= xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST(value != NULL ? value : "")) < 0;
}

static void attribute_count(struct writer *x, const char *name, int value)
{
    x->failed |= xmlTextWriterWriteFormatAttribute(x->w, BAD_CAST name, "%d", value) < 0;
}

static void attribute_seconds(struct writer *x, const char *name, double value)
{
    x->failed |= xmlTextWriterWriteFormatAttribute(x->w, BAD_CAST name, "%.3f", value > 0 ? value : 0.0) < 0;
}

static void text(struct writer *x, const char *value)
{
    x->failed |= xmlTextWriterWriteString(x->w, BAD_CAST value) < 0;
}

static void write_suite(struct writer *x, const struct pimc_junit_suite *s)
{
    int failures = 0, skipped = 0;
    for (int i = 0; i < s->count; i++) {
        failures += s->cases[i].verdict == PIMC_FAIL;
        skipped += s->cases[i].verdict == PIMC_SKIPPED || s->cases[i].verdict == PIMC_INCONCLUSIVE;
    }
    x->failed |= xmlTextWriterStartDocument(x->w, NULL, "UTF-8", NULL) < 0;
    start(x, "testsuites");
    attribute(x, "name", s->name);
    attribute_count(x, "tests", s->count);
    attribute_count(x, "failures", failures);
    attribute_count(x, "errors", 0);
    attribute_seconds(x, "time", s->seconds);
    start(x, "testsuite");
    attribute(x, "name", s->name);
    attribute_count(x, "tests", s->count);
    attribute_count(x, "failures", failures);
    attribute_count(x, "errors", 0);
    attribute_count(x, "skipped", skipped);
    attribute_seconds(x, "time", s->seconds);
    attribute(x, "timestamp", s->timestamp);
    attribute(x, "hostname", s->hostname);
    if (s->property_count > 0) {
        start(x, "properties");
        for (int i = 0; i < s->property_count; i++) {
            start(x, "property");
            attribute(x, "name", s->properties[i].name);
            attribute(x, "value", s->properties[i].value);
            end(x);
        }
        end(x);
    }
    for (int i = 0; i < s->count; i++) {
        const struct pimc_junit_case *c = &s->cases[i];
        start(x, "testcase");
        attribute(x, "name", c->name);
        attribute(x, "classname", s->classname);
        attribute_seconds(x, "time", 0.0); /* the metrics are judged together, over all rounds */
        if (c->verdict != PIMC_PASS) {
            /* GitLab shows the message; Jenkins the element's text: both get the figures. */
            start(x, c->verdict == PIMC_FAIL ? "failure" : "skipped");
            attribute(x, "type", pimc_verdict_name(c->verdict));
            attribute(x, "message", c->detail);
            text(x, c->detail);
            end(x);
        }
        end(x);
    }
    if (s->system_out != NULL) {
        start(x, "system-out");
        text(x, s->system_out);
        end(x);
    }
    end(x);
    end(x);
    x->failed |= xmlTextWriterEndDocument(x->w) < 0;
}

int pimc_junit_write(const char *path, const struct pimc_junit_suite *suite, char *error, size_t size)
{
    xmlBufferPtr buffer = xmlBufferCreate();
    struct writer x = {.w = buffer != NULL ? xmlNewTextWriterMemory(buffer, 0) : NULL};
    if (x.w == NULL) {
        xmlBufferFree(buffer);
        pimc_error_message(error, size, "cannot write JUnit report '%s': out of memory", path);
        return PIMC_EXIT_CANNOT_WRITE;
    }
    xmlTextWriterSetIndent(x.w, 1);
    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
    write_suite(&x, suite);
    xmlFreeTextWriter(x.w); /* flushes into the buffer */
    if (x.failed) {
        xmlBufferFree(buffer);
        pimc_error_message(error, size, "cannot write JUnit report '%s': the XML writer failed", path);
        return PIMC_EXIT_CANNOT_WRITE;
    }

    /* Whole or not at all: a temp file beside FILE, renamed over it (file_io.c). */
    const int status = pimc_replace_file(path, "JUnit report", (const char *)xmlBufferContent(buffer),
                                         (size_t)xmlBufferLength(buffer), error, size);
    xmlBufferFree(buffer);
    return status == 0 ? 0 : PIMC_EXIT_CANNOT_WRITE;
}

int pimc_junit_write_check(const char *path, const struct pimc_check_summary *summary,
                           const struct pimc_context *context, double seconds, char *error, size_t size)
{
    struct pimc_junit_case cases[8];
    const int count = summary->metric_count < 8 ? summary->metric_count : 8;
    for (int i = 0; i < count; i++)
        cases[i] = (struct pimc_junit_case){.name = summary->metrics[i].name,
                                            .verdict = summary->metrics[i].verdict,
                                            .detail = summary->metrics[i].text};
    char threads[16], throws[32], seed[32], tolerance[16], timestamp[32];
    snprintf(threads, sizeof threads, "%d", summary->threads);
    snprintf(throws, sizeof throws, "%llu", (unsigned long long)summary->throws);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)summary->seed);
    snprintf(tolerance, sizeof tolerance, "%g", summary->tolerance);
    pimc_utc_timestamp(timestamp, sizeof timestamp);
    const struct pimc_junit_property properties[] = {
        {"baseline", summary->baseline_path}, {"version", context->version},
        {"kernel", pimc_kernel_name(summary->kernel)}, {"threads", threads}, {"throws", throws}, {"seed", seed},
        {"tolerance", tolerance}, {"cpu_model", context->cpu_model},
    };
    const struct pimc_junit_suite suite = {
        .name = "pimc-omp --check",
        .classname = "pimc-omp.check",
        .timestamp = timestamp,
        .hostname = context->host,
        .seconds = seconds,
        .cases = cases,
        .count = count,
        .properties = properties,
        .property_count = (int)(sizeof properties / sizeof *properties),
    };
    return pimc_junit_write(path, &suite, error, size);
}
