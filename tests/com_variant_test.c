/*
 * The VARIANT <-> MessagePack mapping of xipc com-serve on its own
 * (tools/xipc/win32/com_variant.h): the cases com_client cannot send
 * through COM's marshalling or the echo service cannot return — maps,
 * ext, timestamps, widths, bad UTF-16 and UTF-8, more dimensions, depth,
 * a VT_BYREF that points to itself, malformed MessagePack.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "com_variant.h"
#include "test.h"

/* @p v must encode to exactly the bytes of @p want. */
static void cv_to(const VARIANT *v, const xipc_mp_buf *want, const char *what)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    HRESULT hr = com_variant_to_mp(v, &b);
    if (hr != S_OK || b.len != want->len || memcmp(b.data, want->data, b.len) != 0)
        XT_FAIL("%s: HRESULT 0x%08lx, %zu bytes, want %zu", what, (unsigned long)hr, b.len,
                want->len);
    xipc_mp_buf_fini(&b);
}

static void cv_mismatch(const VARIANT *v, const char *what)
{
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    HRESULT hr = com_variant_to_mp(v, &b);
    if (hr != DISP_E_TYPEMISMATCH)
        XT_FAIL("%s: HRESULT 0x%08lx, want DISP_E_TYPEMISMATCH", what, (unsigned long)hr);
    xipc_mp_buf_fini(&b);
}

/* Decode @p b into @p out. */
static HRESULT cv_from(const xipc_mp_buf *b, VARIANT *out)
{
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, b->data, b->len);
    VariantInit(out);
    return com_variant_from_mp(&r, out);
}

/* Element @p i of the SAFEARRAY of VARIANT in @p v. */
static VARIANT *cv_el(const VARIANT *v, ULONG i)
{
    XT_ASSERT(V_VT(v) == (VT_ARRAY | VT_VARIANT));
    XT_ASSERT(i < V_ARRAY(v)->rgsabound[0].cElements);
    return (VARIANT *)V_ARRAY(v)->pvData + i;
}

static void cv_scalars_in(void)
{
    VARIANT v;
    xipc_mp_buf w;
    xipc_mp_buf_init(&w);
    V_VT(&v) = VT_I2;
    V_I2(&v) = -3;
    xipc_mp_write_int(&w, -3);
    cv_to(&v, &w, "VT_I2");
    xipc_mp_buf_reset(&w);
    V_VT(&v) = VT_UI1;
    V_UI1(&v) = 200;
    xipc_mp_write_uint(&w, 200);
    cv_to(&v, &w, "VT_UI1");
    xipc_mp_buf_reset(&w);
    V_VT(&v) = VT_R4;
    V_R4(&v) = 1.5f;
    xipc_mp_write_double(&w, 1.5);
    cv_to(&v, &w, "VT_R4 as float 64");
    xipc_mp_buf_reset(&w);
    V_VT(&v) = VT_UI8;
    V_UI8(&v) = UINT64_MAX;
    xipc_mp_write_uint(&w, UINT64_MAX);
    cv_to(&v, &w, "VT_UI8");
    xipc_mp_buf_reset(&w);
    V_VT(&v) = VT_ERROR;
    V_ERROR(&v) = DISP_E_PARAMNOTFOUND;
    xipc_mp_write_nil(&w);
    cv_to(&v, &w, "an omitted argument");
    V_ERROR(&v) = E_FAIL;
    cv_mismatch(&v, "another VT_ERROR");
    V_VT(&v) = VT_CY;
    cv_mismatch(&v, "VT_CY");
    V_VT(&v) = VT_DATE;
    cv_mismatch(&v, "VT_DATE");
    V_VT(&v) = VT_DISPATCH;
    V_DISPATCH(&v) = NULL;
    cv_mismatch(&v, "VT_DISPATCH");
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocStringLen(L"a\xD800", 2); /* an unpaired surrogate */
    cv_mismatch(&v, "VT_BSTR not UTF-16");
    VariantClear(&v);
    V_VT(&v) = VT_BYREF | VT_VARIANT; /* pointing to itself */
    V_VARIANTREF(&v) = &v;
    cv_mismatch(&v, "VT_BYREF | VT_VARIANT to itself");
    xipc_mp_buf_fini(&w);
}

static void cv_arrays_in(void)
{
    VARIANT v;
    xipc_mp_buf w;
    xipc_mp_buf_init(&w);
    /* a SAFEARRAY of BSTR, lower bound 1 (VBA's Option Base 1) */
    SAFEARRAYBOUND one = {2, 1};
    V_VT(&v) = VT_ARRAY | VT_BSTR;
    V_ARRAY(&v) = SafeArrayCreate(VT_BSTR, 1, &one);
    LONG i = 1;
    BSTR s = SysAllocString(L"x");
    XT_ASSERT(SafeArrayPutElement(V_ARRAY(&v), &i, s) == S_OK);
    SysFreeString(s);
    xipc_mp_write_array(&w, 2);
    xipc_mp_write_str(&w, "x", 1);
    xipc_mp_write_str(&w, "", 0); /* the NULL BSTR of element 2 */
    cv_to(&v, &w, "SAFEARRAY of VT_BSTR");
    VariantClear(&v);
    /* two dimensions */
    SAFEARRAYBOUND two[2] = {{2, 0}, {2, 0}};
    V_VT(&v) = VT_ARRAY | VT_VARIANT;
    V_ARRAY(&v) = SafeArrayCreate(VT_VARIANT, 2, two);
    cv_mismatch(&v, "2 dimensions");
    VariantClear(&v);
    /* deeper than COM_VARIANT_DEPTH */
    VARIANT inner;
    VariantInit(&inner);
    for (int d = 0; d < COM_VARIANT_DEPTH + 1; d++) {
        V_VT(&v) = VT_ARRAY | VT_VARIANT;
        V_ARRAY(&v) = SafeArrayCreateVector(VT_VARIANT, 0, 1);
        LONG z = 0;
        XT_ASSERT(SafeArrayPutElement(V_ARRAY(&v), &z, &inner) == S_OK);
        VariantClear(&inner);
        inner = v;
    }
    cv_mismatch(&v, "too deep");
    VariantClear(&v);
    xipc_mp_buf_fini(&w);
}

static void cv_out(void)
{
    VARIANT v;
    xipc_mp_buf b;
    xipc_mp_buf_init(&b);
    /* widths: the smallest VARIANT integer that holds the value */
    xipc_mp_write_array(&b, 4);
    xipc_mp_write_uint(&b, (uint64_t)INT64_MAX + 1);
    xipc_mp_write_int(&b, -((int64_t)1 << 40));
    xipc_mp_write_uint(&b, INT32_MAX);
    xipc_mp_write_float(&b, 0.5f);
    XT_HR(cv_from(&b, &v), S_OK);
    XT_ASSERT(V_VT(cv_el(&v, 0)) == VT_UI8 && V_UI8(cv_el(&v, 0)) == (uint64_t)INT64_MAX + 1);
    XT_ASSERT(V_VT(cv_el(&v, 1)) == VT_I8 && V_I8(cv_el(&v, 1)) == -((int64_t)1 << 40));
    XT_ASSERT(V_VT(cv_el(&v, 2)) == VT_I4 && V_I4(cv_el(&v, 2)) == INT32_MAX);
    XT_ASSERT(V_VT(cv_el(&v, 3)) == VT_R8 && V_R8(cv_el(&v, 3)) == 0.5);
    VariantClear(&v);
    /* a map: [key, value] pairs, in order */
    xipc_mp_buf_reset(&b);
    xipc_mp_write_map(&b, 2);
    xipc_mp_write_cstr(&b, "a");
    xipc_mp_write_int(&b, 1);
    xipc_mp_write_int(&b, 2);
    xipc_mp_write_nil(&b);
    XT_HR(cv_from(&b, &v), S_OK);
    VARIANT *p0 = cv_el(&v, 0), *p1 = cv_el(&v, 1);
    XT_ASSERT(V_VT(cv_el(p0, 0)) == VT_BSTR && wcscmp(V_BSTR(cv_el(p0, 0)), L"a") == 0);
    XT_ASSERT(V_VT(cv_el(p0, 1)) == VT_I4 && V_I4(cv_el(p0, 1)) == 1);
    XT_ASSERT(V_VT(cv_el(p1, 0)) == VT_I4 && V_VT(cv_el(p1, 1)) == VT_NULL);
    VariantClear(&v);
    /* ext and timestamp: [type, bytes] */
    static const uint8_t payload[] = {7, 8, 9};
    xipc_mp_buf_reset(&b);
    xipc_mp_write_array(&b, 2);
    xipc_mp_write_ext(&b, 5, payload, sizeof(payload));
    xipc_mp_write_timestamp(&b, 1, 0);
    XT_HR(cv_from(&b, &v), S_OK);
    VARIANT *e = cv_el(&v, 0), *t = cv_el(&v, 1);
    XT_ASSERT(V_VT(cv_el(e, 0)) == VT_I4 && V_I4(cv_el(e, 0)) == 5);
    XT_ASSERT(V_VT(cv_el(e, 1)) == (VT_ARRAY | VT_UI1));
    XT_ASSERT(memcmp(V_ARRAY(cv_el(e, 1))->pvData, payload, 3) == 0);
    XT_ASSERT(V_VT(cv_el(t, 0)) == VT_I4 && V_I4(cv_el(t, 0)) == -1);
    XT_ASSERT(V_ARRAY(cv_el(t, 1))->rgsabound[0].cElements == 4); /* 32-bit form */
    VariantClear(&v);
    /* a str that is not UTF-8: U+FFFD */
    xipc_mp_buf_reset(&b);
    xipc_mp_write_str(&b, "a\xff", 2);
    XT_HR(cv_from(&b, &v), S_OK);
    XT_ASSERT(V_VT(&v) == VT_BSTR && wcscmp(V_BSTR(&v), L"a\xFFFD") == 0);
    VariantClear(&v);
    /* malformed: an array that claims more than there is; nothing kept */
    static const uint8_t bad[] = {0x93, 0x01};
    xipc_mp_reader r;
    xipc_mp_reader_init(&r, bad, sizeof(bad));
    XT_HR(com_variant_from_mp(&r, &v), E_INVALIDARG);
    XT_ASSERT(V_VT(&v) == VT_EMPTY);
    xipc_mp_buf_fini(&b);
}

int main(void)
{
    printf("com_variant_test (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    cv_scalars_in();
    cv_arrays_in();
    cv_out();
    printf("com_variant_test ok\n");
    return 0;
}
