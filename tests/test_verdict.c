/*
 * The check's verdicts as pure functions (verdict.c), the time-alone estimate
 * (accounting.c), and the baseline reader and reference rows (baseline.c,
 * reference.c) on texts written here. Every expected value is written out by
 * hand from the rule the README states, not recomputed by the code's formula.
 */
#include "accounting.h"
#include "baseline.h"
#include "exit_status.h"
#include "reference.h"
#include "tap.h"
#include "verdict.h"

#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct pimc_timing timing(double best, double baseline_best, double lost, double stolen)
{
    return (struct pimc_timing){.best = best, .raw = best, .median = best, .lost_share = lost,
                                .stolen_share = stolen, .baseline_best = baseline_best,
                                .baseline_median = baseline_best, .runs = 5, .baseline_rows = 3};
}

static enum pimc_verdict timing_verdict(double best, double baseline_best, double lost, double stolen)
{
    struct pimc_metric m = {.name = "t"};
    struct pimc_timing x = timing(best, baseline_best, lost, stolen);
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    return m.verdict;
}

static void timing_verdicts(void)
{
    /* Tolerance 10%: the floor of a baseline of 1.0 is 0.9. */
    tap_ok(timing_verdict(1.2, 1.0, 0, 0) == PIMC_PASS, "faster than the baseline: PASS");
    tap_ok(timing_verdict(0.9, 1.0, 0, 0) == PIMC_PASS, "at the floor, baseline x (1 - tolerance): PASS");
    tap_ok(timing_verdict(0.89, 1.0, 0, 0) == PIMC_FAIL, "just below the floor on a quiet machine: FAIL");
    tap_ok(timing_verdict(0.5, 1.0, 0.75, 0) == PIMC_FAIL, "other work took 75%% (the limit, not past it): FAIL");
    tap_ok(timing_verdict(0.5, 1.0, 0.76, 0) == PIMC_INCONCLUSIVE, "other work took 76%%: INCONCLUSIVE");
    tap_ok(timing_verdict(0.5, 1.0, 0, 0.11) == PIMC_INCONCLUSIVE, "the host stole 11%% of our CPUs: INCONCLUSIVE");
    tap_ok(timing_verdict(0.5, 1.0, 0, 0.10) == PIMC_FAIL, "the host stole 10%% (the limit): FAIL");
    tap_ok(timing_verdict(0.95, 1.0, 0.9, 0.5) == PIMC_PASS, "a busy machine that still meets the floor: PASS");

    struct pimc_metric m = {.name = "t"};
    struct pimc_timing x = timing(0.8, 1.0, 0, 0);
    pimc_judge_timing(&m, &x, 0.10, "x", 2);
    tap_ok(m.has_values && m.measured == 0.8 && m.baseline == 1.0 && strstr(m.text, "0.80x (best of 5") == m.text &&
               strstr(m.text, ": 20% below the baseline") != NULL,
           "a FAIL says how far below: '%s'", m.text);
    x = timing(0.5, 1.0, 0.8, 0);
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(strstr(m.text, "less 80% taken by other work") != NULL &&
               strstr(m.text, "other work took too much of the machine to tell") != NULL,
           "an INCONCLUSIVE says why: '%s'", m.text);
    x = timing(1.5, 1.0, 0, 0);
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_PASS && strstr(m.text, "the baseline is 33% below this run") != NULL,
           "a baseline far below the run (1.5 against 1.0, past 1 + 2 x tolerance) is flagged: '%s'", m.text);
}

/* The rules that keep a check from being talked into PASS: the raw time
 * decides PASS, legs under 10 ms decide nothing, and another model's rows pass
 * nothing. */
static void raw_rules(void)
{
    struct pimc_metric m = {.name = "t"};
    /* Tolerance 10%, baseline 1.0: the floor is 0.9. */
    struct pimc_timing x = timing(0.95, 1.0, 0.40, 0);
    x.raw = 0.57; /* 0.95 with the 40% other work took discounted */
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE && m.measured == 0.57 &&
               strstr(m.text, "passes only when the 40% of its time taken by other work is discounted: rerun on a "
                              "quieter machine") != NULL,
           "raw 0.57 fails, discounted 0.95 passes: INCONCLUSIVE, never PASS: '%s'", m.text);
    x.lost_share = 0.99;
    x.best = 57.0;
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE, "however much is discounted (99%%): INCONCLUSIVE");
    x = timing(0.95, 1.0, 0.99, 0.5);
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_PASS && m.measured == 0.95, "raw 0.95 passes on the busiest machine: PASS");
    x = timing(0.6, 1.0, 0.40, 0);
    x.raw = 0.5;
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_FAIL && strstr(m.text, ": 50% below the baseline") != NULL,
           "raw and discounted both below, other work 40%% (under the limit): FAIL '%s'", m.text);

    x = timing(0.5, 1.0, 0, 0);
    x.shortest_leg = "the baseline's parallel leg";
    x.shortest_leg_s = 0.0003;
    pimc_judge_timing(&m, &x, 0.10, " Gthrows/s", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE &&
               strstr(m.text, ": the baseline's parallel leg took 0.30 ms, too short to time (under 10 ms): record a "
                              "baseline with more throws") != NULL,
           "a baseline leg of 0.3 ms, half as fast: INCONCLUSIVE, not FAIL: '%s'", m.text);
    x.raw = x.best = 2.0;
    x.shortest_leg = "this run's 1-thread leg";
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE && strstr(m.text, "this run's 1-thread leg took 0.30 ms") != NULL,
           "a leg of this run of 0.3 ms, twice as fast: INCONCLUSIVE, not PASS");
    x.raw = x.best = 0.5;
    x.shortest_leg_s = PIMC_SHORTEST_TIMED_S;
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_FAIL, "a leg of 10 ms (the limit, not under it) is timed: FAIL");
    x.shortest_leg_s = NAN;
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_FAIL, "a leg not timed (NAN) is not a short one");

    x = timing(1.2, 1.0, 0, 0);
    x.other_model = "the rows are another CPU model's";
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE &&
               strstr(m.text, ": meets the baseline, but the rows are another CPU model's") != NULL,
           "another model's rows, met: INCONCLUSIVE, not PASS: '%s'", m.text);
    x.raw = x.best = 0.5;
    pimc_judge_timing(&m, &x, 0.10, "", 3);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE && strstr(m.text, ": 50% below the baseline, but the rows") != NULL,
           "another model's rows, not met: INCONCLUSIVE, not FAIL: '%s'", m.text);
    x.other_model_can_fail = true;
    x.raw = x.best = 0.4;
    pimc_judge_timing(&m, &x, 0.50, "x", 2);
    tap_ok(m.verdict == PIMC_FAIL, "other_model_can_fail: half the baseline and below still convicts");
    x.raw = x.best = 1.2;
    pimc_judge_timing(&m, &x, 0.50, "x", 2);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE, "other_model_can_fail: but met, still no PASS");
    x.shortest_leg = "the baseline's serial leg";
    x.shortest_leg_s = 0.002;
    pimc_judge_timing(&m, &x, 0.50, "x", 2);
    tap_ok(m.verdict == PIMC_INCONCLUSIVE && strstr(m.text, "serial leg took 2.00 ms") != NULL &&
               strstr(m.text, "; besides, the rows are another CPU model's") != NULL,
           "a short leg against another model's rows names both reasons: '%s'", m.text);
}

static void hits_verdicts(void)
{
    struct pimc_hits_evidence e = {.hits = 785398, .runs_agree = true, .verified = true, .seed = 1,
                                   .throws = 1000000, .witnesses = 2, .baseline_hits = 785398};
    struct pimc_metric m = {.name = "hits"};
    pimc_judge_hits(&m, &e);
    tap_ok(m.verdict == PIMC_PASS && strcmp(m.text, "785398 = baseline (seed 1, 1000000 throws, 2 rows)") == 0,
           "equal hits: PASS '%s'", m.text);
    e.baseline_hits = 785399;
    pimc_judge_hits(&m, &e);
    tap_ok(m.verdict == PIMC_FAIL && strstr(m.text, "785398 != baseline 785399") == m.text, "other hits: FAIL");
    e.witnesses = 0;
    pimc_judge_hits(&m, &e);
    tap_ok(m.verdict == PIMC_SKIPPED && !m.has_values, "no row of that seed and throws: SKIPPED");
    e.verified = false;
    e.z_score = -6.25;
    pimc_judge_hits(&m, &e);
    tap_ok(m.verdict == PIMC_FAIL && strstr(m.text, "6.2 standard errors from pi") != NULL,
           "an estimate 6.25 standard errors off fails even without witnesses: '%s'", m.text);
    e.runs_agree = false;
    pimc_judge_hits(&m, &e);
    tap_ok(m.verdict == PIMC_FAIL && strstr(m.text, "different hits") != NULL, "runs that disagree: FAIL");
}

static void kernel_verdicts(void)
{
    struct pimc_metric m = {.name = "kernel"};
    pimc_judge_kernel(&m, PIMC_KERNEL_AVX2, PIMC_KERNEL_AVX2, true, false);
    tap_ok(m.verdict == PIMC_PASS && strcmp(m.text, "avx2 (baseline avx2)") == 0, "the same path: PASS");
    pimc_judge_kernel(&m, PIMC_KERNEL_SCALAR, PIMC_KERNEL_AVX2, true, false);
    tap_ok(m.verdict == PIMC_FAIL, "another path on the same CPU model: FAIL");
    pimc_judge_kernel(&m, PIMC_KERNEL_SCALAR, PIMC_KERNEL_AVX2, false, false);
    tap_ok(m.verdict == PIMC_SKIPPED, "another path on another CPU model: SKIPPED");
}

static void overall(void)
{
    struct pimc_metric m[3] = {{.name = "a", .verdict = PIMC_PASS}, {.name = "b", .verdict = PIMC_SKIPPED},
                               {.name = "c", .verdict = PIMC_PASS}};
    struct pimc_check_outcome o = pimc_check_outcome_of(m, 3);
    tap_ok(strcmp(o.final, "PASS") == 0 && o.exit_status == 0, "PASS and SKIPPED: PASS, exit 0");
    m[1].verdict = PIMC_INCONCLUSIVE;
    o = pimc_check_outcome_of(m, 3);
    tap_ok(strcmp(o.final, "INCONCLUSIVE") == 0 && o.exit_status == 0 && strcmp(o.unsure, "b") == 0,
           "an INCONCLUSIVE metric: INCONCLUSIVE (b), exit 0");
    m[0].verdict = m[2].verdict = PIMC_FAIL;
    o = pimc_check_outcome_of(m, 3);
    tap_ok(strcmp(o.final, "REGRESSION") == 0 && o.exit_status == 1 && strcmp(o.failing, "a, c") == 0,
           "FAILs win over INCONCLUSIVE: REGRESSION (a, c), exit 1");
}

static void time_alone(void)
{
    /* One thread, 1.0 s timed; the kernel says it ran 0.6 s and waited 0.4 s. */
    struct pimc_accounts before = {.tasks = 1, .task = {{0, 10.0, 5.0}}, .steal = 0};
    struct pimc_accounts after = {.tasks = 1, .task = {{0, 10.6, 5.4}}, .steal = 0};
    double stolen;
    double alone = pimc_time_alone(&before, &after, false, 1.0, 1.0, 1, 2, &stolen);
    tap_ok(fabs(alone - 0.6) < 1e-12 && stolen == 0, "1 thread waiting 0.4 of 1.0 s: alone 0.6 s (got %.3f)", alone);
    /* It slept 0.3 s of it (ran 0.6, waited 0.1): sleeping is not excused. */
    after.task[0] = (struct pimc_task_account){0, 10.6, 5.1};
    alone = pimc_time_alone(&before, &after, false, 1.0, 1.0, 1, 2, &stolen);
    tap_ok(fabs(alone - 0.9) < 1e-12, "1 thread that slept 0.3 s and waited 0.1 s: alone 0.9 s (got %.3f)", alone);
    /* Two workers each waited 0.2 s in a 1.0 s run: 0.4 / 2 threads off. */
    struct pimc_accounts b2 = {.tasks = 2, .task = {{11, 1.0, 0.0}, {12, 1.0, 0.0}}, .steal = 0};
    struct pimc_accounts a2 = {.tasks = 2, .task = {{11, 1.8, 0.2}, {12, 1.8, 0.2}}, .steal = 4.0 / 100};
    alone = pimc_time_alone(&b2, &a2, true, 1.0, 1.0, 2, 2, &stolen);
    tap_ok(fabs(alone - 0.8) < 1e-12, "2 threads each waiting 0.2 s: alone 0.8 s (got %.3f)", alone);
    tap_ok(fabs(stolen - 0.02) < 1e-12, "0.04 s stolen from 2 CPUs in 1 s: 2%% (got %.4f)", stolen);
    struct pimc_accounts none = {.tasks = 0, .steal = NAN};
    alone = pimc_time_alone(&none, &none, true, 1.0, 1.0, 2, 2, &stolen);
    tap_ok(alone == 1.0 && stolen == 0, "no accounts: the time as timed");
}

/* ---- the baseline reader and the reference rows -------------------------- */

#define HEADER "timestamp,cpu_model,kernel,threads,throws,seed,hits,status,parallel_s,parallel_min_s,serial_s,mode"

static bool parse(const char *text, struct pimc_baseline *b, char *why, size_t size)
{
    return pimc_baseline_parse(text, strlen(text), PIMC_BASELINE_ANY, b, why, size);
}

static void reader(void)
{
    struct pimc_baseline b;
    char why[512];
    bool ok = parse(HEADER "\n2026-01-01T00:00:00Z,\"CPU, \"\"X\"\"\",avx2,2,1000000,1,785398,complete,0.5,,1.0,single\n"
                           "\n2026-01-02T00:00:00Z,CPU Y,scalar,1,1000000,1,785398,partial,0.7,0.6,,single\r\n",
                    &b, why, sizeof why);
    tap_ok(ok && b.count == 2 && strcmp(b.rows[0].cpu_model, "CPU, \"X\"") == 0 && b.rows[0].threads == 2 &&
               b.rows[0].hits == 785398 && b.rows[0].reference && isnan(b.rows[0].parallel_min_s) &&
               b.rows[0].serial_s == 1.0 && b.rows[1].where == 4 && !b.rows[1].complete &&
               b.rows[1].parallel_min_s == 0.6,
           "CSV: quoted commas and quotes, a blank line, CRLF, empty cells as NAN (%s)", ok ? "read" : why);
    tap_ok(ok && strcmp(b.rows[0].rng, "philox4x32-10") == 0, "no rng column: philox4x32-10, the only generator there was");
    pimc_baseline_free(&b);

    ok = parse("[{\"cpu_model\": \"C\", \"kernel\": \"avx512\", \"threads\": 4, \"throws\": 100, \"seed\": 9, "
               "\"hits\": 80, \"status\": \"complete\", \"parallel_s\": 0.25, \"serial_s\": null, \"rng\": "
               "\"ars4x32-5\", \"unknown\": true}]\n{\"cpu_model\": \"C\", \"kernel\": \"scalar\", \"threads\": 1, "
               "\"throws\": 100, \"seed\": 9, \"hits\": 80, \"status\": \"complete\", \"parallel_s\": 1e-3}",
               &b, why, sizeof why);
    tap_ok(ok && b.count == 2 && b.rows[0].threads == 4 && b.rows[0].parallel_s == 0.25 && isnan(b.rows[0].serial_s) &&
               strcmp(b.rows[0].rng, "ars4x32-5") == 0 && strcmp(b.unit, "object") == 0 &&
               b.rows[1].parallel_s == 1e-3 && b.rows[1].where == 2,
           "JSON: an array then an object, null as empty, unknown keys ignored, rng read (%s)", ok ? "read" : why);
    pimc_baseline_free(&b);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"timestamp,timestamp,cpu_model\n1,2,3\n", "line 1: column 'timestamp' appears twice"},
        {HEADER "\n1,C,avx2,2,100,1,80,complete,0.5,,,single,extra\n", "line 2 has 13 fields where the header has 12"},
        {HEADER "\n1,C,avx2,2,100,1,80,complete,0.5,,,\"single\n", "line 2: a quoted field is never closed"},
        {HEADER "\n1,C,avx2,2,100,1,8\"0,complete,0.5,,,single\n", "line 2: a quote inside an unquoted field"},
        {HEADER "\n1,C,avx2,2,100,1,800,complete,0.5,,,single\n", "line 2: 800 hits of 100 throws"},
        {HEADER "\n1,C,sse,2,100,1,80,complete,0.5,,,single\n", "line 2: kernel 'sse' is not a kernel path"},
        {HEADER "\n1,C,avx2,2,100,1,80,complete,-0.5,,,single\n", "line 2: parallel_s '-0.5' is not a time"},
        {HEADER "\n1,C,avx2,2,100,1,80,partial,0.5,,,single\n", "no complete row to compare with"},
        {"name,value\n", "no column 'cpu_model'"},
        {" \n\t\n", "it is empty"},
        {"{\"cpu_model\": \"C\", \"threads\": {\"a\": 1}}", "JSON: object 1: 'threads' holds an object or array"},
        {"[1, 2]", "JSON: object 1: an array must hold objects"},
        {"{\"seed\": 18446744073709551615}", "JSON: too big integer"},
        {"{\"a\": 1} x", "JSON: expected an object or an array of objects at byte 9"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why[0] = '\0';
        ok = parse(bad[i].text, &b, why, sizeof why);
        tap_ok(!ok && strstr(why, bad[i].why) == why, "refused: '%s' (wanted '%s')", why, bad[i].why);
        pimc_baseline_free(&b);
    }
}

static void reference_rows(void)
{
    /* The same configuration twice, once per generator; the ARS row is the
     * latest and faster, and must not be the reference of a Philox run. */
    const char *text = HEADER ",rng\n"
                              "2026-01-01T00:00:00Z,C,avx2,2,1000000,1,785398,complete,0.5,0.4,1.0,single,philox4x32-10\n"
                              "2026-01-03T00:00:00Z,C,avx2,2,1000000,1,785001,complete,0.1,0.1,0.2,single,ars4x32-5\n"
                              "2026-01-02T00:00:00Z,C,avx2,2,1000000,1,785398,complete,0.6,0.5,1.2,single,\n";
    struct pimc_baseline b;
    struct pimc_reference ref;
    char why[512];
    bool ok = parse(text, &b, why, sizeof why);
    struct pimc_reference_request request = {.cpu = {.model = "C"}, .rng = "philox4x32-10"};
    ok = ok && pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.rows == 2 && ref.parallel_best == 0.4 && ref.parallel_median == 0.55 && ref.hits == 785398 &&
               ref.hits_rows == 2 && ref.same_cpu,
           "Philox rows only (an empty rng is Philox): 2 rows, best 0.4 s, median 0.55 s, hits of 2 witnesses (%s)",
           ok ? "chosen" : why);
    request.rng = "ars4x32-5";
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.rows == 1 && ref.parallel_best == 0.1 && ref.hits == 785001, "ARS rows only: 1 row, its hits");
    request.rng = "other";
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(!ok && strstr(why, "no complete row of generator other") == why, "no row of the generator: '%s'", why);
    request = (struct pimc_reference_request){.cpu = {.model = "D"}, .rng = "philox4x32-10", .threads_given = true,
                                              .given = {.threads = 1}};
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(!ok && strstr(why, "no complete row for kernel avx2, 1 thread, 1000000 throws") == why,
           "--threads 1 with no such row: '%s'", why);
    pimc_baseline_free(&b);
}

/* Two CPUs behind one name (a cloud "AMD EPYC": Zen 3 without AVX-512, Zen 4
 * with it), and rows from before the cpu_signature column. */
static void cpu_identity(void)
{
    const char *text = HEADER ",rng,cpu_signature\n"
                              "2026-01-01T00:00:00Z,EPYC,avx512,2,1000000,1,785398,complete,0.2,0.2,0.4,single,,\n"
                              "2026-01-02T00:00:00Z,EPYC,avx512,2,1000000,1,785398,complete,0.3,0.3,0.6,single,,"
                              "family 25 model 17 stepping 1\n"
                              "2026-01-03T00:00:00Z,EPYC,avx2,2,1000000,1,785398,complete,0.5,0.5,1.0,single,,"
                              "family 25 model 1 stepping 1\n"
                              "2026-01-04T00:00:00Z,EPYC,avx2,2,1000000,1,785398,complete,0.7,0.7,1.4,single,,\n";
    struct pimc_baseline b;
    struct pimc_reference ref;
    char why[512];
    bool ok = parse(text, &b, why, sizeof why);
    tap_ok(ok && b.count == 4 && strcmp(b.rows[0].cpu_signature, "") == 0 &&
               strcmp(b.rows[1].cpu_signature, "family 25 model 17 stepping 1") == 0,
           "cpu_signature read; empty in a row without one (%s)", ok ? "read" : why);
    if (!ok)
        return;
    const struct pimc_cpu zen3 = {"EPYC", "family 25 model 1 stepping 1", 1u << PIMC_KERNEL_AVX512, false},
                          zen4 = {"EPYC", "family 25 model 17 stepping 1", 0, false}, unsigned_zen3 = {"EPYC", "", 1u << PIMC_KERNEL_AVX512, false},
                          other = {"Xeon", "family 25 model 1 stepping 1", 0, false};
    tap_ok(!pimc_measured_on(&b.rows[1], &zen3) && pimc_measured_on(&b.rows[2], &zen3) &&
               pimc_measured_on(&b.rows[1], &zen4) && !pimc_measured_on(&b.rows[2], &zen4),
           "same name, other signature: another CPU, both ways");
    tap_ok(!pimc_measured_on(&b.rows[0], &zen3) && pimc_measured_on(&b.rows[3], &zen3) &&
               pimc_measured_on(&b.rows[0], &zen4),
           "no signature in the row: this CPU's when it can run the row's kernel");
    tap_ok(!pimc_measured_on(&b.rows[1], &unsigned_zen3) && pimc_measured_on(&b.rows[2], &unsigned_zen3),
           "no signature here: the same rule, by kernel");
    tap_ok(!pimc_measured_on(&b.rows[2], &other), "another name: another CPU, whatever the signature");

    const struct pimc_cpu zen3_sure = {"EPYC", "family 25 model 1 stepping 1", 0, true};
    tap_ok(!pimc_measured_on(&b.rows[3], &zen3_sure) && pimc_measured_on(&b.rows[2], &zen3_sure),
           "signed_rows_only: an unsigned row is not this CPU's, a signed one still is");

    struct pimc_reference_request request = {.cpu = zen3, .rng = "philox4x32-10"};
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.same_cpu && ref.config.kernel == PIMC_KERNEL_AVX2 && ref.rows == 1 && ref.parallel_best == 0.5,
           "on the Zen 3: its own avx2 row alone; the unsigned ones are only likely its (%s)", ok ? "chosen" : why);
    tap_ok(ref.own_model_rows == 1 && ref.other_signature_rows == 1 && ref.unsigned_name_rows == 2,
           "on the Zen 3: 1 row of its own model, 1 of another signature, 2 unsigned (%d, %d, %d)",
           ref.own_model_rows, ref.other_signature_rows, ref.unsigned_name_rows);
    request.cpu = zen4;
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.same_cpu && ref.config.kernel == PIMC_KERNEL_AVX512 && ref.rows == 1 && ref.parallel_best == 0.3,
           "on the Zen 4: its own avx512 row, not the newer unsigned avx2 one (%s)", ok ? "chosen" : why);
    request.cpu = (struct pimc_cpu){"EPYC", "family 25 model 97 stepping 2", 0, false};
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.same_cpu && ref.config.kernel == PIMC_KERNEL_AVX2 && ref.rows == 1 && ref.parallel_best == 0.7,
           "a signature no row has: the unsigned rows it can run, the latest first (%s)", ok ? "chosen" : why);
    tap_ok(ref.own_model_rows == 0 && ref.other_signature_rows == 2 && ref.unsigned_name_rows == 2,
           "a signature no row has: no rows of its own model, 2 of other signatures, 2 unsigned (%d, %d, %d)",
           ref.own_model_rows, ref.other_signature_rows, ref.unsigned_name_rows);
    request.cpu = unsigned_zen3;
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && ref.same_cpu && ref.config.kernel == PIMC_KERNEL_AVX2 && ref.rows == 2 && ref.parallel_best == 0.5,
           "no signature here: every avx2 row of the name, by kernel (%s)", ok ? "chosen" : why);
    tap_ok(ref.own_model_rows == 4 && ref.other_signature_rows == 0 && ref.unsigned_name_rows == 0,
           "no signature here: every row of its name is its own model's (%d, %d, %d)", ref.own_model_rows,
           ref.other_signature_rows, ref.unsigned_name_rows);
    request = (struct pimc_reference_request){.cpu = other, .rng = "philox4x32-10"};
    ok = pimc_choose_reference(&b, &request, &ref, why, sizeof why);
    tap_ok(ok && !ref.same_cpu && ref.rows == 2 && ref.parallel_best == 0.5 && ref.cpu_signature[0] == '\0',
           "on another model: the latest row's CPU, unsigned, so every avx2 row of its name (%s)",
           ok ? "chosen" : why);
    pimc_baseline_free(&b);
}

/* ---- what the writers write, the reader reads back whole ----------------- */

static void round_trip(void)
{
    static char places[5001];
    memset(places, 'p', sizeof places - 1);
    places[0] = '{';
    const char *model = "CPU \"Quoted\", with commas,\r\nand lines";
    struct pimc_context context = {.host = "h", .compiler = "cc", .openmp = "omp", .omp_proc_bind = "",
                                   .omp_places = places, .omp_schedule = "", .slurm_job_id = "", .version = "v",
                                   .usable_cpus = 2, .online_cpus = 2, .ranks_on_host = 1, .nodes = 1};
    snprintf(context.cpu_model, sizeof context.cpu_model, "%s", model);
    struct pimc_outcome outcome = {.throws_requested = 1000, .throws = 1000, .hits = 785, .hits_agree = true,
                                   .threads = 2, .ranks = 1, .parallel = {.runs = 1, .median_s = 0.5, .min_s = 0.5,
                                                                          .max_s = 0.5}};
    struct pimc_record record = {.context = &context, .outcome = &outcome, .kernel = PIMC_KERNEL_SCALAR,
                                 .seed = UINT64_C(9223372036854775807), .repeats = 1, .threads_source = "option",
                                 .timestamp = "2026-01-01T00:00:00Z", .mode = "single", .run = "0",
                                 .rng = "ars4x32-5"};
    record.figures = pimc_figures_of(&outcome, PIMC_STRONG);
    char path[] = "/tmp/pimc-test-XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    unlink(path);
    struct pimc_csv csv;
    char why[512];
    struct pimc_baseline b;
    bool ok = pimc_csv_open(&csv, path, why, sizeof why) == 0 && pimc_csv_append(&csv, &record, why, sizeof why) == 0;
    pimc_csv_close(&csv);
    ok = ok && pimc_baseline_read(path, &b, why, sizeof why);
    tap_ok(ok && b.count == 1 && strcmp(b.rows[0].cpu_model, model) == 0 && b.rows[0].seed == record.seed &&
               strcmp(b.rows[0].rng, "ars4x32-5") == 0 && b.rows[0].hits == 785 && b.rows[0].parallel_s == 0.5,
           "CSV written by libcsv, read back by libcsv: quotes, commas, CR LF and seed 2^63-1 whole (%s)",
           ok ? "read" : why);
    pimc_baseline_free(&b);
    FILE *f = fopen(path, "r");
    static char text[16384];
    const size_t n = f != NULL ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    text[n] = '\0';
    tap_ok(strstr(text, places) != NULL, "an OMP_PLACES of 5000 characters is in the CSV whole");
    unlink(path);

    f = fopen(path, "w");
    record.seed = UINT64_MAX;
    pimc_print_json(f, &record);
    record.seed = UINT64_C(9223372036854775807);
    pimc_print_json(f, &record);
    fclose(f);
    f = fopen(path, "r");
    const size_t m = f != NULL ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    text[m] = '\0';
    tap_ok(strstr(text, "\"seed\": \"18446744073709551615\",") != NULL &&
               strstr(text, "\"seed\": 9223372036854775807,") != NULL && strstr(text, places) != NULL,
           "JSON: a seed of 2^64-1 written as a string of its digits, 2^63-1 as a number, and the long value whole");
    const char *second = strchr(text, '\n') + 1;
    ok = pimc_baseline_parse(second, strlen(second), PIMC_BASELINE_JSON, &b, why, sizeof why);
    tap_ok(ok && b.count == 1 && strcmp(b.rows[0].cpu_model, model) == 0 && b.rows[0].seed == record.seed,
           "JSON written by jansson, read back by jansson: the same text and seed 2^63-1 (%s)", ok ? "read" : why);
    pimc_baseline_free(&b);
    ok = pimc_baseline_read(path, &b, why, sizeof why);
    tap_ok(ok && b.count == 2 && b.rows[0].seed == UINT64_MAX && b.rows[1].seed == record.seed,
           "both read back: the seed past 2^63-1 from its string, exactly (%s)", ok ? "read" : why);
    pimc_baseline_free(&b);
    /* A bare number past 2^63-1 (another writer's) is refused, saying how pimc-omp writes it. */
    static const char bare[] = "{\"seed\": 18446744073709551615}";
    ok = pimc_baseline_parse(bare, strlen(bare), PIMC_BASELINE_JSON, &b, why, sizeof why);
    tap_ok(!ok && strstr(why, "too big integer") != NULL && strstr(why, "as a string") != NULL,
           "a JSON seed past 2^63-1 as a bare number is refused by name: '%s'", why);
    pimc_baseline_free(&b);
    unlink(path);
}

int main(void)
{
    timing_verdicts();
    raw_rules();
    hits_verdicts();
    kernel_verdicts();
    overall();
    time_alone();
    reader();
    reference_rows();
    cpu_identity();
    round_trip();
    return tap_done();
}
