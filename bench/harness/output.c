/* What the suites print and write (output.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "harness/exec.h"
#include "harness/output.h"

/* ---- the shm suite's table and JSON ------------------------------------------- */

void bench_fmt_size(char *buf, size_t cap, size_t size)
{
    if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", size / 1024);
    else
        snprintf(buf, cap, "%zu B", size);
}

/* "412.3" + "ns", "98.21" + "us", "12.35" + "GB/s": 4 significant digits. */
static void output_fmt_value(char *num, size_t ncap, char *unit, size_t ucap,
                             double v, const char *base)
{
    static const char *const time_units[] = {"ns", "us", "ms", "s"};
    static const char *const rate_prefix[] = {"", "k", "M", "G", "T"};
    int i = 0;
    if (strcmp(base, "ns") == 0) {
        for (; v >= 1000 && i < 3; i++)
            v /= 1000;
        snprintf(unit, ucap, "%s", time_units[i]);
    } else {
        for (; v >= 1000 && i < 4; i++)
            v /= 1000;
        snprintf(unit, ucap, "%s%s", rate_prefix[i], base);
    }
    snprintf(num, ncap, "%.4g", v);
}

void bench_table_head(FILE *f)
{
    fprintf(f, "%-10s %-4s %-10s %6s %8s %-6s %6s %-2s %6s %-2s %6s %4s\n",
            "transport", "impl", "test", "size", "median", "unit", "p50", "",
            "p99", "", "spread", "reps");
}

void bench_table_row(FILE *f, const bench_result *r)
{
    char size[32], num[32], unit[16];
    char p50[32] = "-", p50u[16] = "", p99[32] = "-", p99u[16] = "";
    bench_fmt_size(size, sizeof(size), r->size);
    output_fmt_value(num, sizeof(num), unit, sizeof(unit), r->value, r->unit);
    if (r->p50 >= 0)
        output_fmt_value(p50, sizeof(p50), p50u, sizeof(p50u), r->p50, r->unit);
    if (r->p99 >= 0)
        output_fmt_value(p99, sizeof(p99), p99u, sizeof(p99u), r->p99, r->unit);
    fprintf(f, "%-10s %-4s %-10s %6s %8s %-6s %6s %-2s %6s %-2s %5.1f%% %4u%s\n",
            r->transport, r->impl, r->test, size, num, unit, p50, p50u, p99, p99u,
            r->spread * 100, r->reps, r->emulated ? "  emulated" : "");
}

/* ---- JSON ------------------------------------------------------------------- */

void bench_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void output_json_field(FILE *f, const char *key, const char *val)
{
    bench_json_str(f, key);
    fputs(": ", f);
    bench_json_str(f, val);
}

int bench_json_write(FILE *f, const bench_result *r, size_t n)
{
    fputs("[\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("  {", f);
        output_json_field(f, "transport", r[i].transport);
        fputs(", ", f);
        output_json_field(f, "impl", r[i].impl);
        fputs(", ", f);
        output_json_field(f, "test", r[i].test);
        fprintf(f, ", \"size\": %zu, \"value\": %.10g, ", r[i].size, r[i].value);
        output_json_field(f, "unit", r[i].unit);
        if (r[i].p50 >= 0)
            fprintf(f, ", \"p50\": %.10g", r[i].p50);
        if (r[i].p99 >= 0)
            fprintf(f, ", \"p99\": %.10g", r[i].p99);
        fprintf(f, ", \"spread\": %.4f, \"reps\": %u", r[i].spread, r[i].reps);
        if (r[i].emulated != NULL) {
            fputs(", ", f);
            output_json_field(f, "emulated", r[i].emulated);
        }
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
    return ferror(f) ? -1 : 0;
}

/* ---- the comparison suites ----------------------------------------------------- */

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

static void cmp_json_record(FILE *f, const bench_case *k, const char *transport,
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

int cmp_json_write(FILE *f, const bench_case *cases, size_t n)
{
    int first = 1;
    fputs("[\n", f);
    for (size_t i = 0; i < n; i++) {
        const bench_case *k = &cases[i];
        if (k->state != BENCH_OK)
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

void cmp_report_missing(FILE *f, const bench_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const bench_case *k = &cases[i];
        if (k->state == BENCH_OK)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = cases[j].state == k->state && strcmp(cases[j].row, k->row) == 0 &&
                   strcmp(cases[j].why, k->why) == 0;
        if (seen)
            continue;
        char size[32];
        bench_fmt_size(size, sizeof(size), k->size);
        if (k->state == BENCH_SKIPPED)
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
