/*
 * Symbols and DWARF through elfutils' libdwfl (symbols.h). libdwfl maps
 * the modules of a live process from /proc/PID/maps and applies each
 * one's load bias; DWARF addresses are link-time addresses, so every
 * lookup subtracts the module's bias and every answer adds it back.
 *
 * Variables: the location expressions handled are those of unoptimised
 * code (gcc and clang -O0): DW_OP_fbreg N from a frame base that is
 * DW_OP_call_frame_cfa (the CFA from the call-frame information) or a
 * register, DW_OP_bregN, DW_OP_addr. Anything else is refused by name.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"
#include "tracer.h" /* MD_ERR_MAX */

#define ERR(...) md_err(err, __VA_ARGS__)

struct md_syms {
    Dwfl *dwfl;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

md_syms *md_syms_open(pid_t pid, char *err)
{
    md_syms *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        ERR("out of memory");
        return NULL;
    }
    s->dwfl = dwfl_begin(&callbacks);
    if (s->dwfl == NULL || dwfl_linux_proc_report(s->dwfl, pid) != 0 ||
        dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
        ERR("cannot read the modules of pid %d: %s", (int)pid, dwfl_errmsg(-1));
        md_syms_close(s);
        return NULL;
    }
    return s;
}

void md_syms_close(md_syms *s)
{
    if (s == NULL)
        return;
    dwfl_end(s->dwfl);
    free(s);
}

/* The compilation unit of @p addr. libdw finds it through .debug_aranges,
 * which clang does not write by default: then each unit's own ranges. */
static Dwarf_Die *cu_at(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
    if (cu != NULL)
        return cu;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL) {
        if (dwarf_haspc(cu, addr - *bias) > 0)
            return cu;
    }
    return NULL;
}

/* ---- functions ---------------------------------------------------------- */

typedef struct fn_find {
    const char *name;
    uint64_t addr;
    Dwfl_Module *mod;
} fn_find;

static int fn_find_in(Dwfl_Module *mod, void **ud, const char *mname, Dwarf_Addr start,
                      void *arg)
{
    fn_find *f = arg;
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
        if (name != NULL && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
            sym.st_shndx != SHN_UNDEF && strcmp(name, f->name) == 0) {
            f->addr = addr;
            f->mod = mod;
            return DWARF_CB_ABORT;
        }
    }
    return DWARF_CB_OK;
}

/* The first line-table row after @p entry inside its function: where
 * the prologue ends (what gdb does without a prologue_end flag). */
static uint64_t after_prologue(Dwfl_Module *mod, uint64_t entry)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = cu_at(mod, entry, &bias);
    Dwarf_Die *scopes = NULL;
    if (cu == NULL)
        return entry;
    int n = dwarf_getscopes(cu, entry - bias, &scopes);
    Dwarf_Addr low = 0, high = 0;
    for (int i = 0; i < n; i++) {
        if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
            dwarf_lowpc(&scopes[i], &low);
            dwarf_highpc(&scopes[i], &high);
            break;
        }
    }
    free(scopes);
    Dwarf_Lines *lines;
    size_t nlines;
    if (low != entry - bias || high <= low || dwarf_getsrclines(cu, &lines, &nlines) != 0)
        return entry;
    Dwarf_Addr best = 0;
    for (size_t i = 0; i < nlines; i++) {
        Dwarf_Line *l = dwarf_onesrcline(lines, i);
        Dwarf_Addr a;
        bool stmt = false;
        if (l == NULL || dwarf_lineaddr(l, &a) != 0)
            continue;
        dwarf_linebeginstatement(l, &stmt);
        if (stmt && a > low && a < high && (best == 0 || a < best))
            best = a;
    }
    return best != 0 ? best + bias : entry;
}

int md_syms_function(md_syms *s, const char *name, uint64_t *entry, uint64_t *at, char *err)
{
    fn_find f = {name, 0, NULL};
    dwfl_getmodules(s->dwfl, fn_find_in, &f, 0);
    if (f.mod == NULL)
        return ERR("no function '%s' in the process", name);
    *entry = f.addr;
    *at = after_prologue(f.mod, f.addr);
    return 0;
}

void md_syms_name(md_syms *s, uint64_t addr, char *buf, size_t cap)
{
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
    GElf_Off off;
    GElf_Sym sym;
    const char *name = mod != NULL ? dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL,
                                                          NULL)
                                   : NULL;
    if (name == NULL)
        snprintf(buf, cap, "??");
    else if (off == 0)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "%s+0x%" PRIx64, name, (uint64_t)off);
}

/* ---- variables ---------------------------------------------------------- */

/* DWARF register @p n of x86-64 (the psABI's numbering). */
static int reg_value(const struct user_regs_struct *r, unsigned n, uint64_t *v)
{
    const unsigned long long regs[] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi,
                                       r->rbp, r->rsp, r->r8,  r->r9,  r->r10, r->r11,
                                       r->r12, r->r13, r->r14, r->r15, r->rip};
    if (n >= sizeof(regs) / sizeof(regs[0]))
        return -1;
    *v = regs[n];
    return 0;
}

/* The canonical frame address at the pc: the call-frame information's rule,
 * a register plus an offset. */
static int frame_cfa(Dwfl_Module *mod, const struct user_regs_struct *r, uint64_t *cfa,
                     char *err)
{
    Dwarf_Addr bias;
    Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
    if (cfi == NULL)
        cfi = dwfl_module_dwarf_cfi(mod, &bias);
    Dwarf_Frame *frame = NULL;
    if (cfi == NULL || dwarf_cfi_addrframe(cfi, r->rip - bias, &frame) != 0)
        return ERR("no call-frame information at 0x%llx", (unsigned long long)r->rip);
    Dwarf_Op *ops;
    size_t nops;
    int rv = dwarf_frame_cfa(frame, &ops, &nops);
    uint64_t base;
    int64_t off;
    /* libdw gives a register rule as DW_OP_bregx (register, offset) */
    if (rv == 0 && nops == 1 && ops[0].atom == DW_OP_bregx &&
        reg_value(r, (unsigned)ops[0].number, &base) == 0) {
        off = (int64_t)ops[0].number2;
    } else if (rv == 0 && nops == 1 && ops[0].atom >= DW_OP_breg0 &&
               ops[0].atom <= DW_OP_breg16 &&
               reg_value(r, ops[0].atom - DW_OP_breg0, &base) == 0) {
        off = (int64_t)ops[0].number;
    } else {
        free(frame);
        return ERR("a frame address rule this debugger does not evaluate");
    }
    *cfa = base + (uint64_t)off;
    free(frame);
    return 0;
}

/* Evaluate a one-operation location @p op; @p fbase NULL when there is no
 * frame base (evaluating it). */
static int eval_loc(Dwfl_Module *mod, Dwarf_Addr bias, const struct user_regs_struct *r,
                    Dwarf_Attribute *at, Dwarf_Op *op, size_t n, const uint64_t *fbase,
                    uint64_t *addr, char *err)
{
    Dwarf_Attribute ax;
    Dwarf_Addr a;
    /* DWARF 5 (clang): an index into .debug_addr, which libdw resolves */
    if (n == 1 && (op->atom == DW_OP_addrx || op->atom == DW_OP_GNU_addr_index) &&
        dwarf_getlocation_attr(at, op, &ax) == 0 && dwarf_formaddr(&ax, &a) == 0) {
        *addr = a + bias;
        return 0;
    }
    if (n == 1 && op->atom == DW_OP_call_frame_cfa)
        return frame_cfa(mod, r, addr, err);
    if (n == 1 && op->atom == DW_OP_addr) {
        *addr = op->number + bias;
        return 0;
    }
    if (n == 1 && op->atom == DW_OP_fbreg && fbase != NULL) {
        *addr = *fbase + (uint64_t)(int64_t)op->number;
        return 0;
    }
    uint64_t v;
    if (n == 1 && op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg16 &&
        reg_value(r, op->atom - DW_OP_breg0, &v) == 0) {
        *addr = v + (uint64_t)(int64_t)op->number;
        return 0;
    }
    if (n == 1 && op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg16 && fbase == NULL &&
        reg_value(r, op->atom - DW_OP_reg0, &v) == 0) { /* a frame base in a register */
        *addr = v;
        return 0;
    }
    return ERR("a location this debugger does not evaluate (DWARF op 0x%x)",
               n > 0 ? op->atom : 0);
}

/* Skip typedefs and qualifiers. */
static int type_of(Dwarf_Die *die, Dwarf_Die *type)
{
    Dwarf_Attribute at;
    if (dwarf_attr_integrate(die, DW_AT_type, &at) == NULL || dwarf_formref_die(&at, type) == NULL)
        return -1;
    for (int i = 0; i < 16; i++) {
        int tag = dwarf_tag(type);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type)
            return 0;
        if (dwarf_attr_integrate(type, DW_AT_type, &at) == NULL ||
            dwarf_formref_die(&at, type) == NULL)
            return -1;
    }
    return -1;
}

/* Print @p size bytes at @p buf as @p type. */
static int print_value(Dwarf_Die *type, const uint8_t *buf, size_t size, md_var *v, char *err)
{
    Dwarf_Attribute at;
    Dwarf_Word enc = 0;
    int tag = dwarf_tag(type);
    const char *tname = dwarf_diename(type);
    if (tag == DW_TAG_pointer_type) {
        uint64_t p = 0;
        memcpy(&p, buf, size < 8 ? size : 8);
        snprintf(v->type, sizeof(v->type), "pointer");
        snprintf(v->text, sizeof(v->text), "0x%" PRIx64, p);
        return 0;
    }
    if (tag != DW_TAG_base_type || dwarf_attr(type, DW_AT_encoding, &at) == NULL ||
        dwarf_formudata(&at, &enc) != 0 || size > 8)
        return ERR("a type this debugger does not print (DWARF tag 0x%x)", (unsigned)tag);
    snprintf(v->type, sizeof(v->type), "%s", tname != NULL ? tname : "?");
    uint64_t u = 0;
    memcpy(&u, buf, size); /* x86-64 is little-endian */
    if (enc == DW_ATE_float && size == 8) {
        double d;
        memcpy(&d, buf, 8);
        snprintf(v->text, sizeof(v->text), "%.17g", d);
    } else if (enc == DW_ATE_float && size == 4) {
        float f;
        memcpy(&f, buf, 4);
        snprintf(v->text, sizeof(v->text), "%.9g", (double)f);
    } else if (enc == DW_ATE_signed || enc == DW_ATE_signed_char) {
        unsigned bits = (unsigned)size * 8;
        int64_t sv = bits < 64 && (u >> (bits - 1)) & 1 ? (int64_t)(u | (~0ull << bits))
                                                         : (int64_t)u;
        snprintf(v->text, sizeof(v->text), "%" PRId64, sv);
    } else if (enc == DW_ATE_unsigned || enc == DW_ATE_unsigned_char ||
               enc == DW_ATE_boolean) {
        snprintf(v->text, sizeof(v->text), "%" PRIu64, u);
    } else {
        return ERR("a base type this debugger does not print (encoding %u)", (unsigned)enc);
    }
    return 0;
}

/* The variable or parameter @p name directly inside @p scope. */
static int child_named(Dwarf_Die *scope, const char *name, Dwarf_Die *out)
{
    if (dwarf_child(scope, out) != 0)
        return 0;
    do {
        int tag = dwarf_tag(out);
        const char *n = dwarf_diename(out);
        if ((tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) && n != NULL &&
            strcmp(n, name) == 0)
            return 1;
    } while (dwarf_siblingof(out, out) == 0);
    return 0;
}

int md_syms_var(md_syms *s, const struct user_regs_struct *r, const char *name,
                md_read_fn read, void *arg, md_var *out, char *err)
{
    Dwarf_Addr bias;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, r->rip);
    Dwarf_Die *cu = mod != NULL ? cu_at(mod, r->rip, &bias) : NULL;
    if (cu == NULL)
        return ERR("no debugging information at 0x%llx (built without -g?)",
                   (unsigned long long)r->rip);
    Dwarf_Die *scopes = NULL, var, *fn = NULL;
    int n = dwarf_getscopes(cu, r->rip - bias, &scopes);
    int found = -1;
    for (int i = 0; i < n && found < 0; i++)
        if (child_named(&scopes[i], name, &var))
            found = i;
    for (int i = 0; i < n && fn == NULL; i++)
        if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
            fn = &scopes[i];
    int rv = -1;
    Dwarf_Attribute at;
    Dwarf_Op *expr;
    size_t len;
    uint64_t fbase, addr;
    Dwarf_Die type;
    Dwarf_Word size;
    if (found < 0) {
        ERR("no variable '%s' in scope at 0x%llx", name, (unsigned long long)r->rip);
    } else if (dwarf_attr_integrate(&var, DW_AT_location, &at) == NULL ||
               dwarf_getlocation_addr(&at, r->rip - bias, &expr, &len, 1) != 1) {
        ERR("'%s' has no location here (optimised out?)", name);
    } else {
        Dwarf_Attribute fat;
        Dwarf_Op *fexpr;
        size_t flen;
        int have_fbase =
            fn != NULL && dwarf_attr_integrate(fn, DW_AT_frame_base, &fat) != NULL &&
            dwarf_getlocation_addr(&fat, r->rip - bias, &fexpr, &flen, 1) == 1 &&
            eval_loc(mod, bias, r, &fat, fexpr, flen, NULL, &fbase, err) == 0;
        uint8_t buf[8];
        if (eval_loc(mod, bias, r, &at, expr, len, have_fbase ? &fbase : NULL, &addr,
                     err) != 0)
            ; /* err says why */
        else if (type_of(&var, &type) != 0)
            ERR("'%s' has no type", name);
        else if (dwarf_aggregate_size(&type, &size) != 0 || size == 0 || size > sizeof(buf))
            ERR("'%s' is not a scalar this debugger prints", name);
        else if (read(arg, addr, buf, size) != 0)
            ERR("cannot read '%s' at 0x%llx", name, (unsigned long long)addr);
        else if (print_value(&type, buf, size, out, err) == 0)
            rv = 0;
    }
    free(scopes);
    if (rv == 0) {
        out->addr = addr;
        out->size = size;
    }
    return rv;
}
