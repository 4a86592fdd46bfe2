/*
 * Shared memory for the Windows port: pagefile-backed sections, fixed in
 * size from creation (no call shrinks a section under a view: the SIGBUS
 * attack of docs/SECURITY.md has no Windows form), with a DACL for the
 * current user only, handed out by handle (DuplicateHandle).
 *
 * Each section gets a random name, "xipc-shm-" and 32 hex digits, in the
 * session's Local\ namespace. The name opens nothing another user could
 * (the DACL) and is no secret from the same user; it only keys the
 * wake-up events of win32_futex.c, so that every process mapping the
 * section finds the same event for the same word. A process that adopts
 * a section reads the name from the kernel (NtQueryObject), never from
 * the peer. This file keeps a registry of the views of this process
 * (base, size, name, the events opened for its words), which
 * xipc__win32_shm_event searches.
 */
#include <windows.h>
#include <winternl.h>
#include <aclapi.h>
#include <ntsecapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/win32/win32.h"
#include "platform/win32/win32_shm.h"

#define SHM_PREFIX "xipc-shm-"
#define SHM_TAG_LEN (sizeof(SHM_PREFIX) - 1 + 32) /* the name without Local\ */
#define SHM_SECTION_BASIC 0                       /* SectionBasicInformation */
#define SHM_OBJECT_BASIC 0                        /* ObjectBasicInformation */
#define SHM_OBJECT_NAME 1                         /* ObjectNameInformation */

/* What a reader's handle may do: map for reading, query, read the DACL. */
#define SHM_READER_ACCESS (SECTION_QUERY | SECTION_MAP_READ | READ_CONTROL)
/* Rights that would let a holder write the section, or grant itself that. */
#define SHM_WRITE_RIGHTS                                                                      \
    (SECTION_MAP_WRITE | SECTION_EXTEND_SIZE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE |      \
     GENERIC_ALL)

/* ---- ntdll --------------------------------------------------------------- */

static xipc__win32_nt shm_nt;
static INIT_ONCE shm_nt_once = INIT_ONCE_STATIC_INIT;

/* Cast through a function type without parameters: what GCC accepts
 * between unrelated function pointer types. */
#define SHM_NT_FN(mod, name) ((void (*)(void))GetProcAddress((mod), (name)))

static BOOL CALLBACK shm_nt_resolve(INIT_ONCE *once, void *arg, void **ctx)
{
    (void)once, (void)arg, (void)ctx;
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    if (nt == NULL)
        return TRUE;
    shm_nt.query_section = (LONG(NTAPI *)(HANDLE, int, void *, SIZE_T, SIZE_T *))SHM_NT_FN(
        nt, "NtQuerySection");
    shm_nt.query_object =
        (LONG(NTAPI *)(HANDLE, int, void *, ULONG, ULONG *))SHM_NT_FN(nt, "NtQueryObject");
    shm_nt.wait_one = (LONG(NTAPI *)(HANDLE, BOOLEAN, const LARGE_INTEGER *))SHM_NT_FN(
        nt, "NtWaitForSingleObject");
    shm_nt.wait_on_address =
        (LONG(NTAPI *)(const void *, const void *, SIZE_T, const LARGE_INTEGER *))SHM_NT_FN(
            nt, "RtlWaitOnAddress");
    shm_nt.wake_address_all = (void(NTAPI *)(const void *))SHM_NT_FN(nt, "RtlWakeAddressAll");
    return TRUE;
}

const xipc__win32_nt *xipc__win32_ntdll(void)
{
    InitOnceExecuteOnce(&shm_nt_once, shm_nt_resolve, NULL, NULL);
    return &shm_nt;
}

/* ---- security descriptors: the current user only --------------------------- */

typedef struct shm_sd {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    _Alignas(8) BYTE acl[256];
    _Alignas(8) BYTE user[256]; /* TOKEN_USER and its SID */
    _Alignas(8) BYTE owner_rights[SECURITY_MAX_SID_SIZE];
} shm_sd;

/*
 * Grant the current user @p access and nobody else anything. With
 * @p owner_rights, an OWNER RIGHTS entry (READ_CONTROL only) takes away
 * the owner's implicit right to rewrite the DACL.
 */
static xipc_err shm_sd_init(shm_sd *s, DWORD access, int owner_rights)
{
    HANDLE tok;
    DWORD len = 0, sidlen = sizeof(s->owner_rights);
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return xipc__win32_err(GetLastError());
    BOOL ok = GetTokenInformation(tok, TokenUser, s->user, sizeof(s->user), &len);
    DWORD e = GetLastError();
    CloseHandle(tok);
    if (!ok)
        return xipc__win32_err(e);
    PSID user = ((TOKEN_USER *)(void *)s->user)->User.Sid;
    if (!InitializeAcl((PACL)(void *)s->acl, sizeof(s->acl), ACL_REVISION) ||
        !AddAccessAllowedAce((PACL)(void *)s->acl, ACL_REVISION, access, user) ||
        (owner_rights &&
         (!CreateWellKnownSid(WinCreatorOwnerRightsSid, NULL, s->owner_rights, &sidlen) ||
          !AddAccessAllowedAce((PACL)(void *)s->acl, ACL_REVISION, READ_CONTROL,
                               s->owner_rights))) ||
        !InitializeSecurityDescriptor(&s->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&s->sd, TRUE, (PACL)(void *)s->acl, FALSE) ||
        !SetSecurityDescriptorControl(&s->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED))
        return xipc__win32_err(GetLastError());
    s->sa.nLength = sizeof(s->sa);
    s->sa.lpSecurityDescriptor = &s->sd;
    s->sa.bInheritHandle = FALSE;
    return XIPC_OK;
}

/* ---- the registry of this process's views ----------------------------------- */

typedef struct shm_word {
    size_t off;
    HANDLE ev;
} shm_word;

typedef struct shm_view {
    uintptr_t base;
    size_t size;
    char tag[SHM_TAG_LEN + 1]; /* the section's name, without Local\ */
    shm_word *words;           /* events opened for words of this view */
    size_t nwords;
} shm_view;

static SRWLOCK shm_lock = SRWLOCK_INIT;
static shm_view *shm_views; /* sorted by base; views never overlap */
static size_t shm_nviews, shm_capviews;

/* The index of the first view whose base is above @p a (under shm_lock). */
static size_t shm_upper(uintptr_t a)
{
    size_t lo = 0, hi = shm_nviews;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (shm_views[mid].base <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The view holding the 4 bytes at @p a, or NULL (under shm_lock). */
static shm_view *shm_find(uintptr_t a)
{
    size_t i = shm_upper(a);
    if (i == 0)
        return NULL;
    shm_view *v = &shm_views[i - 1];
    return a - v->base <= v->size && v->size - (a - v->base) >= 4 ? v : NULL;
}

static xipc_err shm_register(void *base, size_t size, const char *tag)
{
    xipc_err rv = XIPC_OK;
    AcquireSRWLockExclusive(&shm_lock);
    if (shm_nviews == shm_capviews) {
        size_t cap = shm_capviews ? shm_capviews * 2 : 16;
        shm_view *nv = realloc(shm_views, cap * sizeof(*nv));
        if (nv == NULL)
            rv = XIPC_ENOMEM;
        else {
            shm_views = nv;
            shm_capviews = cap;
        }
    }
    if (rv == XIPC_OK) {
        size_t i = shm_upper((uintptr_t)base);
        memmove(&shm_views[i + 1], &shm_views[i], (shm_nviews - i) * sizeof(*shm_views));
        shm_view *v = &shm_views[i];
        v->base = (uintptr_t)base;
        v->size = size;
        memcpy(v->tag, tag, SHM_TAG_LEN + 1);
        v->words = NULL;
        v->nwords = 0;
        shm_nviews++;
    }
    ReleaseSRWLockExclusive(&shm_lock);
    return rv;
}

static void shm_unregister(void *base)
{
    shm_word *words = NULL;
    size_t n = 0;
    AcquireSRWLockExclusive(&shm_lock);
    size_t i = shm_upper((uintptr_t)base);
    if (i > 0 && shm_views[i - 1].base == (uintptr_t)base) {
        words = shm_views[i - 1].words;
        n = shm_views[i - 1].nwords;
        memmove(&shm_views[i - 1], &shm_views[i], (shm_nviews - i) * sizeof(*shm_views));
        shm_nviews--;
    }
    ReleaseSRWLockExclusive(&shm_lock);
    for (size_t k = 0; k < n; k++)
        CloseHandle(words[k].ev);
    free(words);
}

/* Open or create the event of word @p off of section @p tag. */
static HANDLE shm_event_open(const char *tag, size_t off)
{
    wchar_t name[SHM_TAG_LEN + 32];
    shm_sd sd;
    swprintf(name, sizeof(name) / sizeof(name[0]), L"Local\\%hs-w%llx", tag,
             (unsigned long long)off);
    if (shm_sd_init(&sd, EVENT_ALL_ACCESS, 0) != XIPC_OK)
        return NULL;
    /* manual-reset: a SetEvent releases every sleeper at once */
    HANDLE ev = CreateEventW(&sd.sa, TRUE, FALSE, name);
    if (ev == NULL)
        xipc__win32_err(GetLastError()); /* recorded; the caller polls */
    return ev;
}

int xipc__win32_shm_event(const void *addr, HANDLE *ev)
{
    uintptr_t a = (uintptr_t)addr;
    char tag[SHM_TAG_LEN + 1];
    size_t off;
    *ev = NULL;
    AcquireSRWLockShared(&shm_lock);
    shm_view *v = shm_find(a);
    if (v != NULL) {
        off = a - v->base;
        memcpy(tag, v->tag, sizeof(tag));
        for (size_t k = 0; k < v->nwords && *ev == NULL; k++)
            if (v->words[k].off == off)
                *ev = v->words[k].ev;
    }
    ReleaseSRWLockShared(&shm_lock);
    if (v == NULL)
        return 0;
    if (*ev != NULL)
        return 1;
    HANDLE mine = shm_event_open(tag, off); /* a system call: not under the lock */
    if (mine == NULL)
        return 1;
    AcquireSRWLockExclusive(&shm_lock);
    v = shm_find(a);
    if (v != NULL && strcmp(v->tag, tag) == 0) {
        for (size_t k = 0; k < v->nwords && *ev == NULL; k++)
            if (v->words[k].off == off)
                *ev = v->words[k].ev; /* another thread was first */
        shm_word *nw;
        if (*ev == NULL &&
            (nw = realloc(v->words, (v->nwords + 1) * sizeof(*nw))) != NULL) {
            v->words = nw;
            nw[v->nwords].off = off;
            nw[v->nwords].ev = mine;
            v->nwords++;
            *ev = mine;
            mine = NULL;
        }
    }
    ReleaseSRWLockExclusive(&shm_lock);
    if (mine != NULL)
        CloseHandle(mine); /* not kept: the caller polls this once */
    return 1;
}

/* ---- mapping ---------------------------------------------------------------- */

void xipc_plat_shm_unmap(xipc_plat_shm *m)
{
    if (m->base != NULL) {
        shm_unregister(m->base);
        UnmapViewOfFile(m->base);
        if (m->handle != -1)
            CloseHandle((HANDLE)m->handle);
    }
    m->base = NULL;
    m->size = 0;
    m->handle = -1;
}

/* Map @p size bytes of section @p h and register the view under @p tag. */
static xipc_err shm_map(xipc_plat_shm *m, HANDLE h, size_t size, int writable,
                        const char *tag)
{
    void *p = MapViewOfFile(h, FILE_MAP_READ | (writable ? FILE_MAP_WRITE : 0), 0, 0, size);
    if (p == NULL) {
        DWORD e = GetLastError();
        /* a handle or section that does not allow it */
        return e == ERROR_ACCESS_DENIED ? (xipc__set_syserr((int)e), XIPC_EPROTO)
                                        : xipc__win32_err(e);
    }
    xipc_err rv = shm_register(p, size, tag);
    if (rv != XIPC_OK) {
        UnmapViewOfFile(p);
        return rv;
    }
    m->base = p;
    m->size = size;
    m->handle = -1;
    return XIPC_OK;
}

xipc_err xipc_plat_shm_anon(xipc_plat_shm *m, size_t size, int readonly_later)
{
    if (size == 0 || size > (SIZE_MAX >> 1))
        return XIPC_EINVAL;
    /* with readonly_later the user may only read it: the handle returned
     * to us at creation is the one writable handle there ever is */
    shm_sd sd;
    xipc_err rv = shm_sd_init(&sd, readonly_later ? SHM_READER_ACCESS : SECTION_ALL_ACCESS,
                              readonly_later);
    if (rv != XIPC_OK)
        return rv;
    char tag[SHM_TAG_LEN + 1];
    HANDLE h = NULL;
    for (int tries = 0; h == NULL; tries++) {
        uint64_t r[2];
        if (tries == 8 || !RtlGenRandom(r, sizeof(r)))
            return tries == 8 ? XIPC_EADDRINUSE : xipc__win32_err(GetLastError());
        snprintf(tag, sizeof(tag), SHM_PREFIX "%016llx%016llx", (unsigned long long)r[0],
                 (unsigned long long)r[1]);
        wchar_t name[SHM_TAG_LEN + 8];
        swprintf(name, sizeof(name) / sizeof(name[0]), L"Local\\%hs", tag);
        uint64_t sz = (uint64_t)size;
        h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sd.sa, PAGE_READWRITE | SEC_COMMIT,
                               (DWORD)(sz >> 32), (DWORD)sz, name);
        if (h == NULL)
            return xipc__win32_err(GetLastError());
        if (GetLastError() == ERROR_ALREADY_EXISTS) { /* someone else's: never use it */
            CloseHandle(h);
            h = NULL;
        }
    }
    rv = shm_map(m, h, size, 1, tag);
    if (rv != XIPC_OK) {
        CloseHandle(h);
        return rv;
    }
    if (readonly_later) { /* keep a reader's handle: only our view writes now */
        HANDLE ro;
        BOOL ok = DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &ro,
                                  SHM_READER_ACCESS, FALSE, 0);
        DWORD e = GetLastError();
        CloseHandle(h);
        if (!ok) {
            xipc_plat_shm_unmap(m);
            return xipc__win32_err(e);
        }
        h = ro;
    }
    m->handle = (intptr_t)h;
    return XIPC_OK;
}

/* 1 when the DACL of @p h lets nobody write the section or change that. */
static int shm_nobody_writes(HANDLE h)
{
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR psd = NULL;
    if (GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                        NULL, &psd) != ERROR_SUCCESS)
        return 0;
    BYTE owner_rights[SECURITY_MAX_SID_SIZE];
    DWORD sidlen = sizeof(owner_rights);
    int ok = dacl != NULL && /* a NULL DACL lets everyone do everything */
             CreateWellKnownSid(WinCreatorOwnerRightsSid, NULL, owner_rights, &sidlen);
    int owner_limited = 0;
    for (DWORD i = 0; ok && i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        if (!GetAce(dacl, i, (void **)&ace)) {
            ok = 0;
            break;
        }
        if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
            continue;
        if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE) { /* conditional, object...: refused */
            ok = 0;
            break;
        }
        ACCESS_ALLOWED_ACE *allow = (ACCESS_ALLOWED_ACE *)ace;
        if (allow->Mask & SHM_WRITE_RIGHTS)
            ok = 0;
        if (EqualSid((PSID)&allow->SidStart, owner_rights))
            owner_limited = 1;
    }
    LocalFree(psd);
    return ok && owner_limited;
}

/* 1 when the object behind @p h is named as our sections are
 * ("...\\xipc-shm-<32 hex>"), its name then in @p tag. */
static int shm_tag_of(HANDLE h, char *tag)
{
    const xipc__win32_nt *nt = xipc__win32_ntdll();
    if (nt->query_object == NULL)
        return 0;
    _Alignas(8) BYTE buf[sizeof(UNICODE_STRING) + 512];
    ULONG len = 0;
    if (nt->query_object(h, SHM_OBJECT_NAME, buf, sizeof(buf), &len) != 0)
        return 0;
    const UNICODE_STRING *u = (const UNICODE_STRING *)(void *)buf;
    size_t n = u->Length / sizeof(WCHAR), last = 0;
    for (size_t i = 0; i < n; i++)
        if (u->Buffer[i] == L'\\')
            last = i + 1;
    if (n - last != SHM_TAG_LEN)
        return 0;
    for (size_t i = 0; i < SHM_TAG_LEN; i++) {
        WCHAR c = u->Buffer[last + i];
        int ok = i < sizeof(SHM_PREFIX) - 1 ? c == (WCHAR)SHM_PREFIX[i]
                                             : (c >= L'0' && c <= L'9') || (c >= L'a' && c <= L'f');
        if (!ok)
            return 0;
        tag[i] = (char)c;
    }
    tag[SHM_TAG_LEN] = '\0';
    return 1;
}

/*
 * Whether @p h, a handle another process put into ours (win32_npipe.c),
 * may be taken as a section it gave us: an object named as our sections
 * are. A hostile sender can name any handle value of ours; one that is not
 * such an object is neither used nor closed. It could name a section of
 * ours (one of our own connections, or the dialler's end in this very
 * process, which is legitimate): that gains it nothing a same-user
 * process does not have on Windows anyway (SECURITY.md), and every
 * reader checks the rings it is given.
 */
int xipc__win32_shm_given(HANDLE h)
{
    char tag[SHM_TAG_LEN + 1];
    return shm_tag_of(h, tag);
}

/*
 * Check section @p h before mapping @p size bytes of it: committed
 * (SEC_COMMIT: a reserved section's pages fault when touched), backed by
 * the paging file, as large as @p size (the kernel reports the size
 * rounded up to pages), named by xipc_plat_shm_anon (its name keys the
 * wake-up events); read-only: neither the handle nor the DACL lets anyone
 * write it. @p tag receives the name.
 */
static xipc_err shm_check(HANDLE h, size_t size, int writable, char *tag)
{
    const xipc__win32_nt *nt = xipc__win32_ntdll();
    if (nt->query_section == NULL || nt->query_object == NULL)
        return XIPC_ENOTSUP;
    struct {
        PVOID base;
        ULONG attributes;
        LARGE_INTEGER size;
    } sec;
    if (nt->query_section(h, SHM_SECTION_BASIC, &sec, sizeof(sec), NULL) != 0)
        return XIPC_EPROTO; /* not a section, or no SECTION_QUERY */
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    uint64_t page = si.dwPageSize, want = (uint64_t)size;
    uint64_t rounded = (want + page - 1) / page * page;
    if (!(sec.attributes & SEC_COMMIT) ||
        (sec.attributes & (SEC_RESERVE | SEC_FILE | SEC_IMAGE)) || sec.size.QuadPart < 0 ||
        ((uint64_t)sec.size.QuadPart != want && (uint64_t)sec.size.QuadPart != rounded))
        return XIPC_EPROTO;
    if (!shm_tag_of(h, tag))
        return XIPC_EPROTO;
    if (writable)
        return XIPC_OK;
    PUBLIC_OBJECT_BASIC_INFORMATION bi;
    if (nt->query_object(h, SHM_OBJECT_BASIC, &bi, sizeof(bi), NULL) != 0 ||
        (bi.GrantedAccess & SHM_WRITE_RIGHTS) || !shm_nobody_writes(h))
        return XIPC_EPROTO;
    return XIPC_OK;
}

xipc_err xipc_plat_shm_adopt(xipc_plat_shm *m, intptr_t h, size_t size, int writable)
{
    /* no handle, or a pseudo-handle (-1 is this process, -2 this thread) */
    if (h <= 0)
        return XIPC_EPROTO;
    char tag[SHM_TAG_LEN + 1];
    xipc_err rv = size == 0 ? XIPC_EPROTO : shm_check((HANDLE)h, size, writable, tag);
    if (rv == XIPC_OK)
        rv = shm_map(m, (HANDLE)h, size, writable, tag);
    CloseHandle((HANDLE)h); /* taken whatever the result; the view keeps the section */
    return rv;
}

xipc_err xipc_plat_shm_from_peer(xipc_plat_shm *m, uint32_t pid, intptr_t h, size_t size,
                                 int writable)
{
    if (pid == 0 || h <= 0)
        return XIPC_EINVAL;
    HANDLE p = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
    if (p == NULL) {
        DWORD e = GetLastError();
        /* OpenProcess says "invalid parameter" for a pid nobody has */
        return e == ERROR_INVALID_PARAMETER ? (xipc__set_syserr((int)e), XIPC_ENOENT)
                                            : xipc__win32_err(e);
    }
    /* the access the publisher's handle has, no more: adopt checks it */
    HANDLE dup;
    BOOL ok = DuplicateHandle(p, (HANDLE)h, GetCurrentProcess(), &dup, 0, FALSE,
                              DUPLICATE_SAME_ACCESS);
    DWORD e = GetLastError();
    CloseHandle(p);
    if (!ok)
        return xipc__win32_err(e); /* no such handle: XIPC_ENOENT */
    return xipc_plat_shm_adopt(m, (intptr_t)dup, size, writable);
}
