/* Status names and the per-handle error message.  A message says what went
 * wrong first, then where: "[chip 0, cycle 5, VXM0 `add` row 1]", so Python can
 * show it as is and add the source line from the program's line table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

const char *tsp_strerror(int code)
{
    switch (code) {
    case TSP_OK: return "ok";
    case TSP_E_NOMEM: return "out of memory";
    case TSP_E_ARG: return "bad argument";
    case TSP_E_IMAGE: return "malformed program";
    case TSP_E_STATE: return "not allowed in this state";
    case TSP_E_SCHEDULE: return "schedule error";
    case TSP_E_FAULT: return "address fault";
    case TSP_E_UNIMPLEMENTED: return "not implemented";
    case TSP_E_DEADLOCK: return "deadlock";
    case TSP_E_SNAPSHOT: return "bad snapshot";
    default: return "unknown status";
    }
}

const char *tsp_sid_name(unsigned sid, char buf[8])
{
    snprintf(buf, 8, "S%u%c", sid & TSP_STREAM_NUMBER_MASK, TSP_SID_WEST(sid) ? 'W' : 'E');
    return buf;
}

void tsp_where_ctx(const tsp_ctx *cx, const tsp_insn *in, tsp_error_info *w)
{
    memset(w, 0, sizeof *w);
    w->chip = (int32_t)cx->chip_id;
    w->cycle = cx->cycle;
    w->slot = (int32_t)cx->slot;
    w->row = in ? (int32_t)in->row : -1;
    w->repeat = in ? (int64_t)in->rep : 0;
    w->slot2 = w->row2 = -1;
}

/* "[chip 0, cycle 5, VXM0 `add` row 1, repeat 2]" */
static void where_text(char *buf, size_t n, const tsp_error_info *w, const char *insn)
{
    int k = snprintf(buf, n, " [chip %d, cycle %llu", (int)w->chip, (unsigned long long)w->cycle);
    if (w->slot >= 0 && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - k, ", %s", tsp_queue_name((unsigned)w->slot));
    if (insn && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - k, " `%s`", insn);
    if (w->row >= 0 && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - k, " row %d", (int)w->row);
    if (w->repeat > 0 && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - k, ", repeat %lld", (long long)w->repeat);
    if (k >= 0 && (size_t)k < n)
        snprintf(buf + k, n - k, "]");
}

static void compose(char *out, size_t n, const tsp_error_info *w, const char *insn, const char *fmt,
                    va_list ap)
{
    char what[TSP_ERR_LEN / 2], where[TSP_ERR_LEN / 4];
    vsnprintf(what, sizeof what, fmt, ap);
    where_text(where, sizeof where, w, insn);
    snprintf(out, n, "%s%s", what, where);
}

static int vfail(tsp_machine *m, int code, const tsp_error_info *w, const char *insn, const char *fmt,
                 va_list ap)
{
    compose(m->err, sizeof m->err, w, insn, fmt, ap);
    m->err_info = *w;
    m->err_info.code = code;
    return code;
}

int tsp_fail_at(tsp_machine *m, int code, const tsp_error_info *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(m, code, w, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int tsp_fail(tsp_ctx *cx, const tsp_insn *in, int code, const char *fmt, ...)
{
    tsp_error_info w;
    va_list ap;
    tsp_where_ctx(cx, in, &w);
    va_start(ap, fmt);
    vfail(cx->m, code, &w, in ? in->op->name : NULL, fmt, ap);
    va_end(ap);
    return code;
}

static int record(tsp_machine *m, const tsp_error_info *w, const char *insn, const char *fmt, va_list ap)
{
    tsp_hazard_rec *rec;
    char text[TSP_ERR_LEN];
    if (m->hazard_mode == TSP_HAZARDS_STOP)
        return vfail(m, TSP_E_SCHEDULE, w, insn, fmt, ap);
    m->nhazards++;
    if (m->hazards_n >= TSP_HAZARDS_KEPT)
        return TSP_OK;  /* counted; only the first ones keep their text */
    if (m->hazards_n == m->hazards_cap) {
        size_t cap = m->hazards_cap ? 2 * m->hazards_cap : 16;
        tsp_hazard_rec *grown = realloc(m->hazards, cap * sizeof *grown);
        if (!grown)
            return TSP_OK;  /* losing a warning's text is better than failing the run */
        m->hazards = grown;
        m->hazards_cap = cap;
    }
    compose(text, sizeof text, w, insn, fmt, ap);
    rec = &m->hazards[m->hazards_n++];
    rec->info = *w;
    rec->info.code = TSP_E_SCHEDULE;
    rec->message = malloc(strlen(text) + 1);
    if (rec->message)
        strcpy(rec->message, text);
    return TSP_OK;
}

int tsp_hazard_at(tsp_machine *m, const tsp_error_info *w, const char *fmt, ...)
{
    int rc;
    va_list ap;
    va_start(ap, fmt);
    rc = record(m, w, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int tsp_hazard(tsp_ctx *cx, const tsp_insn *in, const char *fmt, ...)
{
    tsp_error_info w;
    int rc;
    va_list ap;
    tsp_where_ctx(cx, in, &w);
    va_start(ap, fmt);
    rc = record(cx->m, &w, in ? in->op->name : NULL, fmt, ap);
    va_end(ap);
    return rc;
}

void tsp_hazards_free(tsp_machine *m)
{
    size_t i;
    for (i = 0; i < m->hazards_n; i++)
        free(m->hazards[i].message);
    free(m->hazards);
    m->hazards = NULL;
    m->nhazards = 0;
    m->hazards_n = m->hazards_cap = 0;
}

int tsp_hazard_count(const tsp_machine *m, uint64_t *out)
{
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->nhazards;
    return TSP_OK;
}

int tsp_hazard_get(const tsp_machine *m, uint64_t index, char *message, size_t size, tsp_error_info *info)
{
    const tsp_hazard_rec *rec;
    if (!m || index >= m->hazards_n)
        return TSP_E_ARG;
    rec = &m->hazards[index];
    if (message && size) {
        snprintf(message, size, "%s", rec->message ? rec->message : "(message lost: out of memory)");
    }
    if (info)
        *info = rec->info;
    return TSP_OK;
}

const char *tsp_last_error(const tsp_machine *m)
{
    return m ? m->err : "no machine";
}

int tsp_last_error_info(const tsp_machine *m, tsp_error_info *out)
{
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->err_info;
    return TSP_OK;
}
