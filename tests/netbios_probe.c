/*
 * What Netbios() does under wine, the evidence for docs/MECHANISMS.md's
 * decision that xipc has no NetBIOS transport. It asserts what wine 8
 * answers, each with the Windows behaviour beside it; when wine changes,
 * this fails and the decision's evidence must be looked at again.
 *
 * One process, LANA 0: enumerate, reset, add a name, list the adapter's
 * names, delete the name, call it (a session), send it a datagram, and
 * listen for a call.
 */
#include <windows.h>
#include <nb30.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

static void nb(NCB *n, UCHAR cmd, UCHAR lana, const char *name, const char *callname)
{
    memset(n, 0, sizeof(*n));
    n->ncb_command = cmd;
    n->ncb_lana_num = lana;
    memset(n->ncb_name, ' ', NCBNAMSZ);
    memset(n->ncb_callname, ' ', NCBNAMSZ);
    if (name != NULL)
        memcpy(n->ncb_name, name, strlen(name));
    if (callname != NULL)
        memcpy(n->ncb_callname, callname, strlen(callname));
    n->ncb_rto = n->ncb_sto = 2; /* 1 s */
}

int main(void)
{
    printf("netbios_probe (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    NCB n;
    LANA_ENUM le;
    memset(&le, 0, sizeof(le));
    nb(&n, NCBENUM, 0, NULL, NULL);
    n.ncb_buffer = (PUCHAR)&le;
    n.ncb_length = sizeof(le);
    XT_EQ(Netbios(&n), NRC_GOODRET);
    XT_ASSERT(le.length >= 1); /* wine: one LANA, as a Windows host with NetBT */
    UCHAR lana = le.lana[0];
    printf("  NCBENUM: %u LANA(s), the first %u\n", (unsigned)le.length, (unsigned)lana);

    nb(&n, NCBRESET, lana, NULL, NULL);
    XT_EQ(Netbios(&n), NRC_GOODRET);

    /* wine: "added" (good return) but given name number 0, and the
     * adapter's status lists no name; Windows gives a number from 1 and
     * lists it */
    nb(&n, NCBADDNAME, lana, "XIPCPROBE", NULL);
    XT_EQ(Netbios(&n), NRC_GOODRET);
    XT_EQ(n.ncb_num, 0);
    struct {
        ADAPTER_STATUS a;
        NAME_BUFFER names[30];
    } st;
    memset(&st, 0, sizeof(st));
    nb(&n, NCBASTAT, lana, NULL, "*");
    n.ncb_buffer = (PUCHAR)&st;
    n.ncb_length = sizeof(st);
    XT_EQ(Netbios(&n), NRC_GOODRET);
    XT_EQ(st.a.name_count, 0);
    printf("  NCBADDNAME: good return, name number 0; NCBASTAT lists %u names\n",
           (unsigned)st.a.name_count);

    /* wine: the rest of the name, session and datagram services are not
     * there: NRC_ILLCMD (0x03), or NRC_NAMERR (0x17) for a call */
    nb(&n, NCBDELNAME, lana, "XIPCPROBE", NULL);
    XT_EQ(Netbios(&n), NRC_ILLCMD);
    nb(&n, NCBCALL, lana, "XIPCCALLER", "XIPCPROBE");
    XT_EQ(Netbios(&n), NRC_NAMERR);
    nb(&n, NCBDGSEND, lana, NULL, "XIPCPROBE");
    n.ncb_num = 1;
    n.ncb_buffer = (PUCHAR) "hi";
    n.ncb_length = 2;
    XT_EQ(Netbios(&n), NRC_ILLCMD);
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    XT_ASSERT(ev != NULL);
    nb(&n, NCBLISTEN | ASYNCH, lana, "XIPCPROBE", "*");
    n.ncb_event = ev;
    XT_EQ(Netbios(&n), NRC_GOODRET); /* accepted, then it ends at once: */
    XT_EQ(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    XT_EQ(n.ncb_retcode, NRC_ILLCMD);
    CloseHandle(ev);
    printf("  NCBDELNAME, NCBDGSEND, NCBLISTEN: NRC_ILLCMD; NCBCALL: NRC_NAMERR\n");
    printf("netbios_probe ok\n");
    return 0;
}
