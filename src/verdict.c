#include "verdict.h"

#include "exit_status.h"
#include "run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pimc_verdict_name(enum pimc_verdict verdict)
{
    static const char *const names[] = {"PASS", "FAIL", "SKIPPED", "INCONCLUSIVE"};
    return names[verdict];
}

void pimc_say(struct pimc_metric *m, enum pimc_verdict verdict, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    m->verdict = verdict;
    vsnprintf(m->text, sizeof m->text, format, args);
    va_end(args);
}

void pimc_judge_hits(struct pimc_metric *m, const struct pimc_hits_evidence *e)
{
    m->has_values = e->witnesses > 0;
    m->measured = (double)e->hits;
    m->baseline = (double)e->baseline_hits;
    if (!e->runs_agree)
        pimc_say(m, PIMC_FAIL, "runs of the same throws gave different hits: this build miscounts");
    else if (!e->verified)
        pimc_say(m, PIMC_FAIL, "%llu: the estimate is %.1f standard errors from pi (limit %.0f)",
                 (unsigned long long)e->hits, fabs(e->z_score), PIMC_VERIFY_SIGMAS);
    else if (e->witnesses == 0)
        pimc_say(m, PIMC_SKIPPED, "%llu: no baseline row of seed %llu and %llu throws (the runs agree and the "
                                  "estimate verifies)",
                 (unsigned long long)e->hits, (unsigned long long)e->seed, (unsigned long long)e->throws);
    else if (e->hits != e->baseline_hits)
        pimc_say(m, PIMC_FAIL, "%llu != baseline %llu (seed %llu, %llu throws): this build miscounts",
                 (unsigned long long)e->hits, (unsigned long long)e->baseline_hits, (unsigned long long)e->seed,
                 (unsigned long long)e->throws);
    else
        pimc_say(m, PIMC_PASS, "%llu = baseline (seed %llu, %llu throws, %d row%s)", (unsigned long long)e->hits,
                 (unsigned long long)e->seed, (unsigned long long)e->throws, e->witnesses,
                 e->witnesses == 1 ? "" : "s");
}

void pimc_judge_kernel(struct pimc_metric *m, enum pimc_kernel used, enum pimc_kernel baseline, bool same_cpu,
                       bool forced)
{
    if (used == baseline)
        pimc_say(m, PIMC_PASS, "%s (baseline %s)%s", pimc_kernel_name(used), pimc_kernel_name(baseline),
                 forced ? ", forced by --kernel" : "");
    else if (same_cpu)
        pimc_say(m, PIMC_FAIL, "%s (baseline %s on this CPU model): the dispatch picks another path",
                 pimc_kernel_name(used), pimc_kernel_name(baseline));
    else
        pimc_say(m, PIMC_SKIPPED, "%s (baseline %s on another CPU model, which may have other paths)",
                 pimc_kernel_name(used), pimc_kernel_name(baseline));
}

void pimc_judge_timing(struct pimc_metric *m, const struct pimc_timing *x, double tolerance, const char *unit,
                       int decimals)
{
    char best[32], raw[32], median[32], base[32], base_median[32];
    snprintf(best, sizeof best, "%.*f", decimals, x->best);
    snprintf(raw, sizeof raw, "%.*f", decimals, x->raw);
    snprintf(median, sizeof median, "%.*f", decimals, x->median);
    snprintf(base, sizeof base, "%.*f", decimals, x->baseline_best);
    snprintf(base_median, sizeof base_median, "%.*f", decimals, x->baseline_median);
    const double floor = x->baseline_best * (1.0 - tolerance);
    const bool too_short = x->shortest_leg != NULL && x->shortest_leg_s < PIMC_SHORTEST_TIMED_S;
    const bool raw_passes = x->raw >= floor, discounted_passes = x->best >= floor;
    const bool busy = x->lost_share > PIMC_MAX_LOST_SHARE || x->stolen_share > PIMC_MAX_STOLEN_SHARE;
    /* INCONCLUSIVE unless the raw figure passes, or fails beyond every excuse (the rules in verdict.h). */
    enum pimc_verdict v = PIMC_INCONCLUSIVE;
    if (!too_short && raw_passes && x->other_model == NULL)
        v = PIMC_PASS;
    else if (!too_short && !raw_passes && !discounted_passes && !busy &&
             (x->other_model == NULL || x->other_model_can_fail))
        v = PIMC_FAIL;
    char stolen[48] = "";
    if (x->stolen_share >= 0.01)
        snprintf(stolen, sizeof stolen, ", %.0f%% of our CPUs stolen by the host", 100.0 * x->stolen_share);
    m->has_values = true;
    m->measured = x->raw; /* what the verdict rests on */
    m->baseline = x->baseline_best;
    pimc_say(m, v, "%s%s (best of %d, as timed; %s less %.0f%% taken by other work%s; median %s) vs baseline %s%s "
                   "(best of %d row%s; median %s), tolerance %.0f%%",
             raw, unit, x->runs, best, 100.0 * x->lost_share, stolen, median, base, unit, x->baseline_rows,
             x->baseline_rows == 1 ? "" : "s", base_median, 100.0 * tolerance);
    char *const end = m->text + strlen(m->text);
    const size_t room = sizeof m->text - (size_t)(end - m->text);
    if (too_short)
        snprintf(end, room, ": %s took %.2f ms, too short to time (under %.0f ms): record a baseline with more "
                            "throws (pimc-omp --csv BASELINE THROWS)",
                 x->shortest_leg, 1e3 * x->shortest_leg_s, 1e3 * PIMC_SHORTEST_TIMED_S);
    else if (raw_passes && x->other_model != NULL)
        snprintf(end, room, ": meets the baseline, but %s", x->other_model);
    else if (raw_passes)
        ; /* PASS: said below when the baseline is suspiciously slow */
    else if (discounted_passes)
        snprintf(end, room, ": %.0f%% below the baseline as timed; passes only when the %.0f%% of its time taken by "
                            "other work is discounted: rerun on a quieter machine",
                 100.0 * (1.0 - x->raw / x->baseline_best), 100.0 * x->lost_share);
    else if (busy)
        snprintf(end, room, ": other work took too much of the machine to tell");
    else if (v == PIMC_INCONCLUSIVE)
        snprintf(end, room, ": %.0f%% below the baseline, but %s", 100.0 * (1.0 - x->raw / x->baseline_best),
                 x->other_model);
    else
        snprintf(end, room, ": %.0f%% below the baseline", 100.0 * (1.0 - x->raw / x->baseline_best));
    /* Rows of another model are a reason of their own: a quieter machine or a
     * longer baseline alone would not make this metric pass. */
    if (x->other_model != NULL && (too_short || (!raw_passes && (discounted_passes || busy)))) {
        const size_t used = strlen(m->text);
        snprintf(m->text + used, sizeof m->text - used, "; besides, %s", x->other_model);
    }
    if (v == PIMC_PASS && x->raw > x->baseline_best * (1.0 + 2.0 * tolerance))
        snprintf(end, room, "; the baseline is %.0f%% below this run: recorded on a busy machine? then it hides "
                            "slowdowns; refresh it",
                 100.0 * (1.0 - x->baseline_best / x->raw));
}

struct pimc_check_outcome pimc_check_outcome_of(const struct pimc_metric *metrics, int count)
{
    struct pimc_check_outcome o = {.final = "PASS", .exit_status = PIMC_EXIT_OK};
    for (int i = 0; i < count; i++) {
        char *list = metrics[i].verdict == PIMC_FAIL           ? o.failing
                     : metrics[i].verdict == PIMC_INCONCLUSIVE ? o.unsure
                                                               : NULL;
        if (list != NULL)
            snprintf(list + strlen(list), sizeof o.failing - strlen(list), "%s%s", *list ? ", " : "",
                     metrics[i].name);
    }
    if (*o.failing) {
        o.final = "REGRESSION";
        o.exit_status = PIMC_EXIT_REGRESSION;
    } else if (*o.unsure) {
        o.final = "INCONCLUSIVE";
    }
    return o;
}
