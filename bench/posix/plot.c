/*
 * --plot FILE.svg|.png: round trip and throughput per mechanism, log
 * scales, drawn by gnuplot(1) from a data file and a script written to a
 * temporary directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/machine.h"
#include "harness/runner.h"
#include "suites/compare.h"

static void plot_num(FILE *f, const bench_case *k, double scale)
{
    if (k == NULL || k->state != BENCH_OK || k->value <= 0)
        fputs("\t?", f);
    else
        fprintf(f, "\t%.6g", k->value * scale);
}

static int plot_data(const cmp_suite *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    for (size_t r = 0; r < s->nrows; r++) {
        const cmp_row *row = &s->rows[r];
        if (!(row->tests & CMP_T_CHANNEL))
            continue;
        const bench_case *rt = cmp_find(s->cases, s->n, row->row, 1, 64, row->subs, 0);
        fprintf(f, "%s (%s)", row->row, row->drv->impl);
        plot_num(f, rt, 1e-3);
        if (rt != NULL && rt->state == BENCH_OK && rt->p99 > 0)
            fprintf(f, "\t%.6g", rt->p99 * 1e-3);
        else
            fputs("\t?", f);
        plot_num(f, cmp_find(s->cases, s->n, row->row, 0, 64, row->subs, 0), 64);
        plot_num(f, cmp_find(s->cases, s->n, row->row, 0, 4096, row->subs, 0), 4096);
        plot_num(f, cmp_find(s->cases, s->n, row->row, 0, 65536, row->subs, 0), 65536);
        fputc('\n', f);
    }
    return fclose(f);
}

static int plot_script(const cmp_suite *s, const char *path, const char *data,
                       const char *out)
{
    const char *dot = strrchr(out, '.');
    int png = dot != NULL && strcmp(dot, ".png") == 0;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    char machine[200];
    cmp_machine(machine, sizeof(machine));
    fprintf(f, "%s\n", png ? "set terminal pngcairo size 1400,1000 font 'sans,10'"
                           : "set terminal svg size 1400,1000 dynamic font 'sans,10' "
                             "background '#ffffff'");
    fprintf(f, "set output '%s'\n", out);
    fprintf(f, "set datafile separator '\\t'\nset datafile missing '?'\n"
               "set multiplot layout 2,1 title 'xipc bench %s --%s: %s'\n"
               "set style data histogram\nset style histogram clustered gap 1\n"
               "set style fill solid 0.85 border -1\nset logscale y\n"
               "set grid ytics mytics\nset xtics rotate by -30 scale 0 font ',9'\n"
               "set key top left\nset bmargin 6\n"
               "set ylabel 'round trip, 64 B (us, log scale; lower is better)'\n"
               "plot '%s' using 2:xtic(1) title 'median', '' using 3 title 'p99'\n"
               "set ylabel 'throughput (bytes/s, log scale; higher is better)'\n"
               "plot '%s' using 4:xtic(1) title '64 B', '' using 5 title '4 KiB', "
               "'' using 6 title '64 KiB'\nunset multiplot\n",
            s->name, s->plan.mode, machine, data, data);
    return fclose(f);
}

int cmp_plot(const cmp_suite *s, const char *file)
{
    const char *dot = strrchr(file, '.');
    if (dot == NULL || (strcmp(dot, ".svg") != 0 && strcmp(dot, ".png") != 0)) {
        bench_set_error("the file name must end in .svg or .png");
        return -1;
    }
    if (strchr(file, '\'') != NULL) {
        bench_set_error("no quotes in the file name, please");
        return -1;
    }
    char dir[] = "/tmp/xipc-plot.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        bench_set_error("mkdtemp failed");
        return -1;
    }
    char data[64], script[64], cmd[256];
    snprintf(data, sizeof(data), "%s/data.tsv", dir);
    snprintf(script, sizeof(script), "%s/plot.gp", dir);
    int rc = -1;
    if (plot_data(s, data) != 0 || plot_script(s, script, data, file) != 0) {
        bench_set_error("cannot write in %s", dir);
    } else {
        snprintf(cmd, sizeof(cmd), "gnuplot %s 2>%s/err", script, dir);
        int st = system(cmd);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
            bench_set_error("gnuplot not found (Debian: gnuplot-nox)");
        else if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bench_set_error("gnuplot failed (see %s and %s/err)", script, dir);
        else
            rc = 0;
    }
    if (rc == 0) {
        char err[80];
        snprintf(err, sizeof(err), "%s/err", dir);
        unlink(err);
        unlink(data);
        unlink(script);
        rmdir(dir);
    }
    return rc;
}
