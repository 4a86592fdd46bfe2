/* The comparison suites' output: numbers, JSON records, targets (the
 * machine's description: posix/machine.c, win32/machine.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cmp.h"
#include "exec.h"
#include "harness.h"

void cmp_fmt_ns(char *buf, size_t cap, double ns)
{
    if (ns < 0)
        snprintf(buf, cap, "-");
    else if (ns < 1000)
        snprintf(buf, cap, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, cap, "%.3g us", ns / 1e3);
    else
        snprintf(buf, cap, "%.3g ms", ns / 1e6);
}

void cmp_fmt_rate(char *buf, size_t cap, double v, const char *unit)
{
    static const char *const prefix[] = {"", "k", "M", "G", "T"};
    int i = 0;
    if (v < 0) {
        snprintf(buf, cap, "-");
        return;
    }
    for (; v >= 1000 && i < 4; i++)
        v /= 1000;
    snprintf(buf, cap, "%.3g %s%s", v, prefix[i], unit);
}

const cmp_case *cmp_find(const cmp_case *cases, size_t n, const char *row, int rtt,
                         size_t size, unsigned subs, unsigned threads)
{
    for (size_t i = 0; i < n; i++) {
        const cmp_case *k = &cases[i];
        if (strcmp(k->row, row) == 0 && k->rtt == rtt && k->size == size &&
            (k->subs ? k->subs : 1) == (subs ? subs : 1) &&
            k->threads == threads)
            return k;
    }
    return NULL;
}

double cmp_value(const cmp_case *cases, size_t n, const char *row, int rtt,
                 size_t size, unsigned subs, unsigned threads)
{
    const cmp_case *k = cmp_find(cases, n, row, rtt, size, subs, threads);
    return k != NULL && k->state == CMP_OK ? k->value : -1;
}

static void cmp_json_record(FILE *f, const cmp_case *k, const char *transport,
                            const char *unit, double value, int *first)
{
    fprintf(f, "%s  {\"transport\": \"%s\", \"impl\": \"%s\", \"test\": \"%s\", "
               "\"size\": %zu, \"value\": %.10g, \"unit\": \"%s\"",
            *first ? "" : ",\n", transport, k->drv->impl, k->rtt ? "rtt" : "throughput",
            k->size, value, unit);
    *first = 0;
    if (k->p50 >= 0)
        fprintf(f, ", \"p50\": %.10g, \"p99\": %.10g", k->p50, k->p99);
    if (k->cpu_ns >= 0)
        fprintf(f, ", \"cpu_ns\": %.6g", k->cpu_ns);
    if (k->subs > 1 || strstr(transport, "pubsub") != NULL)
        fprintf(f, ", \"subscribers\": %u", k->subs ? k->subs : 1);
    if (k->threads > 0)
        fprintf(f, ", \"threads\": %u", k->threads);
    if (k->lost > 0)
        fprintf(f, ", \"lost\": %.6g", k->lost);
    if (bench_emulated() != NULL) {
        fputs(", \"emulated\": ", f);
        bench_json_str(f, bench_emulated());
    }
    fprintf(f, ", \"spread\": %.4f, \"reps\": %u, \"stable\": %s}", k->spread, k->reps,
            k->stable ? "true" : "false");
}

int cmp_json_write(FILE *f, const cmp_case *cases, size_t n)
{
    int first = 1;
    fputs("[\n", f);
    for (size_t i = 0; i < n; i++) {
        const cmp_case *k = &cases[i];
        if (k->state != CMP_OK)
            continue;
        const char *t = k->transport;
        if (k->rtt) {
            cmp_json_record(f, k, t, "ns", k->value, &first);
        } else {
            cmp_json_record(f, k, t, "msg/s", k->value, &first);
            if (k->size > 0)
                cmp_json_record(f, k, t, "B/s", k->value * (double)k->size, &first);
        }
    }
    fputs("\n]\n", f);
    return ferror(f) ? -1 : 0;
}

void cmp_report_missing(FILE *f, const cmp_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cmp_case *k = &cases[i];
        if (k->state == CMP_OK)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = cases[j].state == k->state && strcmp(cases[j].row, k->row) == 0 &&
                   strcmp(cases[j].why, k->why) == 0;
        if (seen)
            continue;
        char size[32];
        bench_fmt_size(size, sizeof(size), k->size);
        if (k->state == CMP_SKIPPED)
            fprintf(f, "skipped: %s: %s\n", k->row, k->why);
        else
            fprintf(f, "failed: %s %s %s: %s\n", k->row, k->rtt ? "rtt" : "throughput",
                    size, k->why);
    }
}

void cmp_target(FILE *f, const char *what, double r, int at_most, double limit)
{
    const char *verdict = r < 0 ? "n/a (not measured)"
                          : bench_emulated() ? "not judged: emulated"
                          : (at_most ? r <= limit : r >= limit) ? "met"
                                                                : "MISSED";
    if (r < 0)
        fprintf(f, "  %-58s %s %-5g %8s  %s\n", what, at_most ? "<=" : ">=", limit, "-",
                verdict);
    else
        fprintf(f, "  %-58s %s %-5g %8.3g  %s\n", what, at_most ? "<=" : ">=", limit, r,
                verdict);
}

double cmp_usage_foreign(const cmp_usage *a, const cmp_usage *b)
{
    if (a->total_s < 0 || b->total_s <= a->total_s || a->ours_s < 0 || b->ours_s < 0)
        return -1;
    double foreign = (b->busy_s - a->busy_s) - (b->ours_s - a->ours_s);
    double share = foreign / (b->total_s - a->total_s);
    return share < 0 ? 0 : share > 1 ? 1 : share;
}
