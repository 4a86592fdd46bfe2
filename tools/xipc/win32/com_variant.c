/*
 * VARIANT <-> MessagePack (com_variant.h has the table). A VARIANT's
 * value, a VT_BYREF's target and a SAFEARRAY's element are all "a value
 * of type vt at an address", so one function writes each scalar kind
 * whichever of the three holds it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "com_variant.h"

static HRESULT var_write(const VARIANT *v, xipc_mp_buf *b, int depth);

/* The codec's sticky error as an HRESULT. */
static HRESULT var_mp_hr(xipc_err rv)
{
    return rv == XIPC_OK ? S_OK : rv == XIPC_ENOMEM ? E_OUTOFMEMORY : DISP_E_TYPEMISMATCH;
}

/* Bytes of one value of scalar type @p vt (a SAFEARRAY element), or 0. */
static size_t var_size(VARTYPE vt)
{
    switch (vt) {
    case VT_I1:
    case VT_UI1:
        return 1;
    case VT_I2:
    case VT_UI2:
    case VT_BOOL:
        return 2;
    case VT_I4:
    case VT_UI4:
    case VT_INT:
    case VT_UINT:
    case VT_R4:
    case VT_ERROR:
        return 4;
    case VT_I8:
    case VT_UI8:
    case VT_R8:
        return 8;
    case VT_BSTR:
        return sizeof(BSTR);
    case VT_VARIANT:
        return sizeof(VARIANT);
    default:
        return 0;
    }
}

/* A BSTR as a str; UTF-16 that does not convert is a type mismatch. */
static HRESULT var_write_bstr(BSTR s, xipc_mp_buf *b)
{
    UINT len = s != NULL ? SysStringLen(s) : 0;
    if (len == 0)
        return var_mp_hr(xipc_mp_write_str(b, "", 0));
    if (len > INT32_MAX / 3)
        return DISP_E_TYPEMISMATCH;
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, (int)len, NULL, 0,
                                NULL, NULL);
    if (n <= 0)
        return DISP_E_TYPEMISMATCH; /* an unpaired surrogate */
    char *u = malloc((size_t)n);
    if (u == NULL)
        return E_OUTOFMEMORY;
    WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, (int)len, u, n, NULL, NULL);
    HRESULT hr = var_mp_hr(xipc_mp_write_str(b, u, (size_t)n));
    free(u);
    return hr;
}

/* The value of type @p vt stored at @p p. */
static HRESULT var_write_at(VARTYPE vt, const void *p, xipc_mp_buf *b, int depth)
{
    switch (vt) {
    case VT_EMPTY:
    case VT_NULL:
        return var_mp_hr(xipc_mp_write_nil(b));
    case VT_ERROR: /* only an omitted argument ("f(1, , 3)" in VBA) */
        if (*(const SCODE *)p != DISP_E_PARAMNOTFOUND)
            return DISP_E_TYPEMISMATCH;
        return var_mp_hr(xipc_mp_write_nil(b));
    case VT_BOOL:
        return var_mp_hr(xipc_mp_write_bool(b, *(const VARIANT_BOOL *)p != VARIANT_FALSE));
    case VT_I1:
        return var_mp_hr(xipc_mp_write_int(b, *(const signed char *)p));
    case VT_I2:
        return var_mp_hr(xipc_mp_write_int(b, *(const SHORT *)p));
    case VT_I4:
    case VT_INT:
        return var_mp_hr(xipc_mp_write_int(b, *(const LONG *)p));
    case VT_I8:
        return var_mp_hr(xipc_mp_write_int(b, *(const LONGLONG *)p));
    case VT_UI1:
        return var_mp_hr(xipc_mp_write_uint(b, *(const BYTE *)p));
    case VT_UI2:
        return var_mp_hr(xipc_mp_write_uint(b, *(const USHORT *)p));
    case VT_UI4:
    case VT_UINT:
        return var_mp_hr(xipc_mp_write_uint(b, *(const ULONG *)p));
    case VT_UI8:
        return var_mp_hr(xipc_mp_write_uint(b, *(const ULONGLONG *)p));
    case VT_R4:
        return var_mp_hr(xipc_mp_write_double(b, *(const float *)p));
    case VT_R8:
        return var_mp_hr(xipc_mp_write_double(b, *(const double *)p));
    case VT_BSTR:
        return var_write_bstr(*(const BSTR *)p, b);
    case VT_VARIANT: /* an element of a SAFEARRAY, or a VT_BYREF's target */
        return var_write((const VARIANT *)p, b, depth);
    default:
        return DISP_E_TYPEMISMATCH;
    }
}

/* A one-dimensional SAFEARRAY of @p et: bin for bytes, else an array. */
static HRESULT var_write_array(const SAFEARRAY *sa, VARTYPE et, xipc_mp_buf *b, int depth)
{
    if (sa == NULL || SafeArrayGetDim((SAFEARRAY *)sa) != 1 || depth >= COM_VARIANT_DEPTH)
        return DISP_E_TYPEMISMATCH;
    size_t esz = var_size(et);
    ULONG n = sa->rgsabound[0].cElements;
    /* the element size is checked so that reading one never overruns */
    if (esz == 0 || SafeArrayGetElemsize((SAFEARRAY *)sa) != esz)
        return DISP_E_TYPEMISMATCH;
    void *data;
    if (FAILED(SafeArrayAccessData((SAFEARRAY *)sa, &data)))
        return DISP_E_TYPEMISMATCH;
    HRESULT hr;
    if (et == VT_UI1) {
        hr = var_mp_hr(xipc_mp_write_bin(b, data, n));
    } else {
        hr = var_mp_hr(xipc_mp_write_array(b, n));
        for (ULONG i = 0; i < n && hr == S_OK; i++)
            hr = var_write_at(et, (const char *)data + (size_t)i * esz, b, depth + 1);
    }
    SafeArrayUnaccessData((SAFEARRAY *)sa);
    return hr;
}

static HRESULT var_write(const VARIANT *v, xipc_mp_buf *b, int depth)
{
    VARTYPE vt = V_VT(v);
    if (depth > COM_VARIANT_DEPTH) /* also a VT_BYREF chain back to itself */
        return DISP_E_TYPEMISMATCH;
    if (vt & VT_ARRAY) {
        const SAFEARRAY *sa = V_ARRAY(v);
        if (vt & VT_BYREF)
            sa = V_ARRAYREF(v) != NULL ? *V_ARRAYREF(v) : NULL;
        return var_write_array(sa, vt & VT_TYPEMASK, b, depth);
    }
    if (vt & VT_BYREF) {
        if (V_BYREF(v) == NULL)
            return DISP_E_TYPEMISMATCH;
        return var_write_at(vt & VT_TYPEMASK, V_BYREF(v), b, depth + 1);
    }
    if (vt == VT_VARIANT) /* only ever VT_BYREF */
        return DISP_E_TYPEMISMATCH;
    return var_write_at(vt, &V_I8(v), b, depth); /* the union's one address */
}

HRESULT com_variant_to_mp(const VARIANT *v, xipc_mp_buf *b)
{
    return var_write(v, b, 0);
}

/* ------------------------------------------------------------ the way back */

static HRESULT var_read(xipc_mp_reader *r, VARIANT *out);

/* A str as a BSTR; bytes that are not UTF-8 become U+FFFD. */
static HRESULT var_read_str(const char *s, uint32_t len, VARIANT *out)
{
    if (len > INT32_MAX)
        return E_INVALIDARG;
    int n = len == 0 ? 0 : MultiByteToWideChar(CP_UTF8, 0, s, (int)len, NULL, 0);
    if (len > 0 && n <= 0)
        return E_INVALIDARG;
    BSTR w = SysAllocStringLen(NULL, (UINT)n);
    if (w == NULL)
        return E_OUTOFMEMORY;
    if (n > 0)
        MultiByteToWideChar(CP_UTF8, 0, s, (int)len, w, n);
    V_VT(out) = VT_BSTR;
    V_BSTR(out) = w;
    return S_OK;
}

static HRESULT var_read_bin(const void *p, uint32_t len, VARIANT *out)
{
    SAFEARRAY *sa = SafeArrayCreateVector(VT_UI1, 0, len);
    void *data;
    if (sa == NULL)
        return E_OUTOFMEMORY;
    if (FAILED(SafeArrayAccessData(sa, &data))) {
        SafeArrayDestroy(sa);
        return E_OUTOFMEMORY;
    }
    if (len > 0)
        memcpy(data, p, len);
    SafeArrayUnaccessData(sa);
    V_VT(out) = VT_ARRAY | VT_UI1;
    V_ARRAY(out) = sa;
    return S_OK;
}

/*
 * A SAFEARRAY of @p n VARIANTs from the reader: @p pairs 0 reads n values
 * (an array), 1 reads n [key, value] pairs (a map).
 */
static HRESULT var_read_array(xipc_mp_reader *r, uint32_t n, int pairs, VARIANT *out)
{
    SAFEARRAY *sa = SafeArrayCreateVector(VT_VARIANT, 0, n);
    VARIANT *el;
    if (sa == NULL)
        return E_OUTOFMEMORY;
    if (FAILED(SafeArrayAccessData(sa, (void **)&el))) {
        SafeArrayDestroy(sa);
        return E_OUTOFMEMORY;
    }
    HRESULT hr = S_OK;
    for (uint32_t i = 0; i < n && hr == S_OK; i++) {
        if (!pairs) {
            hr = var_read(r, &el[i]);
            continue;
        }
        SAFEARRAY *kv = SafeArrayCreateVector(VT_VARIANT, 0, 2);
        VARIANT *two;
        if (kv == NULL || FAILED(SafeArrayAccessData(kv, (void **)&two))) {
            if (kv != NULL)
                SafeArrayDestroy(kv);
            hr = E_OUTOFMEMORY;
            break;
        }
        hr = var_read(r, &two[0]);
        if (hr == S_OK)
            hr = var_read(r, &two[1]);
        SafeArrayUnaccessData(kv);
        V_VT(&el[i]) = VT_ARRAY | VT_VARIANT; /* freed with the outer array */
        V_ARRAY(&el[i]) = kv;
    }
    SafeArrayUnaccessData(sa);
    if (hr != S_OK) {
        SafeArrayDestroy(sa); /* clears every element read */
        return hr;
    }
    V_VT(out) = VT_ARRAY | VT_VARIANT;
    V_ARRAY(out) = sa;
    return S_OK;
}

/* An ext (a timestamp too) as [type, bytes]. */
static HRESULT var_read_ext(const xipc_mp_obj *o, VARIANT *out)
{
    uint8_t hdr[16];
    xipc_mp_buf b;
    xipc_mp_reader r;
    xipc_mp_buf_init_fixed(&b, hdr, sizeof(hdr));
    xipc_mp_write_array(&b, 2);
    xipc_mp_write_int(&b, o->ext_type);
    xipc_mp_write_bin_hdr(&b, o->len);
    if (b.err != XIPC_OK)
        return E_INVALIDARG;
    /* the header here, the payload where it is: read both as one array */
    uint8_t *all = malloc(b.len + o->len);
    if (all == NULL)
        return E_OUTOFMEMORY;
    memcpy(all, hdr, b.len);
    if (o->len > 0)
        memcpy(all + b.len, o->ptr, o->len);
    xipc_mp_reader_init(&r, all, b.len + o->len);
    HRESULT hr = var_read(&r, out);
    free(all);
    return hr;
}

static HRESULT var_read(xipc_mp_reader *r, VARIANT *out)
{
    xipc_mp_obj o;
    V_VT(out) = VT_EMPTY;
    if (xipc_mp_read_next(r, &o) != XIPC_OK)
        return E_INVALIDARG; /* malformed, or deeper than the reader's limit */
    switch (o.type) {
    case XIPC_MP_NIL:
        V_VT(out) = VT_NULL;
        return S_OK;
    case XIPC_MP_BOOL:
        V_VT(out) = VT_BOOL;
        V_BOOL(out) = o.v.b ? VARIANT_TRUE : VARIANT_FALSE;
        return S_OK;
    case XIPC_MP_UINT:
        if (o.v.u > INT64_MAX) {
            V_VT(out) = VT_UI8;
            V_UI8(out) = o.v.u;
            return S_OK;
        }
        o.v.i = (int64_t)o.v.u;
        /* fall through */
    case XIPC_MP_INT:
        if (o.v.i >= INT32_MIN && o.v.i <= INT32_MAX) {
            V_VT(out) = VT_I4;
            V_I4(out) = (LONG)o.v.i;
        } else {
            V_VT(out) = VT_I8;
            V_I8(out) = o.v.i;
        }
        return S_OK;
    case XIPC_MP_FLOAT32:
        V_VT(out) = VT_R8;
        V_R8(out) = o.v.f32;
        return S_OK;
    case XIPC_MP_FLOAT64:
        V_VT(out) = VT_R8;
        V_R8(out) = o.v.f64;
        return S_OK;
    case XIPC_MP_STR:
        return var_read_str((const char *)o.ptr, o.len, out);
    case XIPC_MP_BIN:
        return var_read_bin(o.ptr, o.len, out);
    case XIPC_MP_ARRAY:
        return var_read_array(r, o.len, 0, out);
    case XIPC_MP_MAP:
        return var_read_array(r, o.len, 1, out);
    case XIPC_MP_EXT:
    case XIPC_MP_TIMESTAMP:
        return var_read_ext(&o, out);
    }
    return E_INVALIDARG;
}

HRESULT com_variant_from_mp(xipc_mp_reader *r, VARIANT *out)
{
    return var_read(r, out);
}
