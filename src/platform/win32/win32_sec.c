/* The token user SID and private security descriptors (win32_sec.h). */
#include <windows.h>
#include <aclapi.h>

#include "platform/win32/win32_sec.h"

static unsigned char sec_user[SECURITY_MAX_SID_SIZE];
static INIT_ONCE sec_user_once = INIT_ONCE_STATIC_INIT;
static int sec_user_ok;

xipc_err xipc__win32_process_sid(HANDLE process, unsigned char out[SECURITY_MAX_SID_SIZE])
{
    HANDLE token;
    if (!OpenProcessToken(process, TOKEN_QUERY, &token))
        return xipc__win32_err(GetLastError());
    union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } info;
    DWORD len = 0;
    BOOL ok = GetTokenInformation(token, TokenUser, &info, sizeof(info), &len);
    DWORD e = GetLastError();
    CloseHandle(token);
    if (!ok)
        return xipc__win32_err(e);
    if (!CopySid(SECURITY_MAX_SID_SIZE, out, info.user.User.Sid))
        return xipc__win32_err(GetLastError());
    return XIPC_OK;
}

static BOOL CALLBACK sec_user_read(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    sec_user_ok = xipc__win32_process_sid(GetCurrentProcess(), sec_user) == XIPC_OK;
    return TRUE;
}

PSID xipc__win32_user_sid(void)
{
    InitOnceExecuteOnce(&sec_user_once, sec_user_read, NULL, NULL);
    return sec_user_ok ? (PSID)sec_user : NULL;
}

xipc_err xipc__win32_private_init(xipc__win32_private *p, int folder)
{
    PSID user = xipc__win32_user_sid();
    if (user == NULL)
        return XIPC_ESYS;
    DWORD inherit = folder ? OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE : 0;
    if (!InitializeAcl(&p->dacl.acl, sizeof(p->dacl), ACL_REVISION) ||
        !AddAccessAllowedAceEx(&p->dacl.acl, ACL_REVISION, inherit, FILE_ALL_ACCESS, user) ||
        !InitializeSecurityDescriptor(&p->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorOwner(&p->sd, user, FALSE) ||
        !SetSecurityDescriptorDacl(&p->sd, TRUE, &p->dacl.acl, FALSE) ||
        !SetSecurityDescriptorControl(&p->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED))
        return xipc__win32_err(GetLastError());
    p->sa.nLength = sizeof(p->sa);
    p->sa.lpSecurityDescriptor = &p->sd;
    p->sa.bInheritHandle = FALSE;
    return XIPC_OK;
}

/* Every entry that allows something names our user or SYSTEM. */
static int sec_dacl_private(PACL dacl, PSID user)
{
    if (dacl == NULL)
        return 0; /* no DACL: everyone has full access */
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        if (!GetAce(dacl, i, (void **)&ace))
            return 0;
        if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
            continue;
        if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE)
            return 0; /* object, callback or unknown entries: not ours to judge */
        PSID sid = &((ACCESS_ALLOWED_ACE *)ace)->SidStart;
        if (!EqualSid(sid, user) && !IsWellKnownSid(sid, WinLocalSystemSid))
            return 0;
    }
    return 1;
}

xipc_err xipc__win32_private_check(HANDLE h)
{
    PSID user = xipc__win32_user_sid(), owner = NULL;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (user == NULL)
        return XIPC_EPERM;
    DWORD e = GetSecurityInfo(h, SE_FILE_OBJECT,
                              OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                              &owner, NULL, &dacl, NULL, &sd);
    if (e != ERROR_SUCCESS) {
        xipc__win32_err(e); /* recorded; the answer is "not shown to be private" */
        return XIPC_EPERM;
    }
    int ok = owner != NULL && EqualSid(owner, user) && sec_dacl_private(dacl, user);
    LocalFree(sd);
    return ok ? XIPC_OK : XIPC_EPERM;
}

xipc_err xipc__win32_private_set(HANDLE h)
{
    xipc__win32_private p;
    xipc_err rv = xipc__win32_private_init(&p, 0);
    if (rv != XIPC_OK)
        return rv;
    DWORD e = SetSecurityInfo(h, SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              NULL, NULL, &p.dacl.acl, NULL);
    return e == ERROR_SUCCESS ? XIPC_OK : xipc__win32_err(e);
}
