/*
 * VARIANT <-> MessagePack, both ways (docs/com.md, "The mapping"). No
 * COM server here: only VARIANT, BSTR and SAFEARRAY, so that the mapping
 * is tested on its own (tests/com_variant_test.c).
 *
 *   VARIANT in                      MessagePack     VARIANT out
 *   VT_EMPTY, VT_NULL,              nil             VT_NULL
 *   VT_ERROR DISP_E_PARAMNOTFOUND
 *   (an omitted argument)
 *   VT_BOOL                         bool            VT_BOOL
 *   VT_I1, VT_I2, VT_I4, VT_INT,    int             VT_I4 when it fits,
 *   VT_I8, VT_UI1, VT_UI2, VT_UI4,                  else VT_I8, and VT_UI8
 *   VT_UINT, VT_UI8                                 beyond INT64_MAX
 *   VT_R4, VT_R8                    float 64        VT_R8 (float 32 too)
 *   VT_BSTR                         str (UTF-8)     VT_BSTR
 *   SAFEARRAY of VT_UI1             bin             SAFEARRAY of VT_UI1
 *   SAFEARRAY of VARIANT or of a    array           SAFEARRAY of VARIANT
 *   scalar type above
 *   (none)                          map             SAFEARRAY of VARIANT,
 *                                                   each a [key, value] pair
 *   (none)                          ext, timestamp  SAFEARRAY of VARIANT
 *                                                   [type, bytes]
 * VT_BYREF is followed. SAFEARRAYs have one dimension (any lower bound).
 * Anything else (VT_CY, VT_DATE, VT_DECIMAL, VT_DISPATCH, VT_UNKNOWN,
 * VT_RECORD, other VT_ERRORs, arrays of more dimensions, a str that is
 * not UTF-16, nesting deeper than COM_VARIANT_DEPTH) is a type mismatch.
 */
#ifndef XIPC_TOOLS_COM_VARIANT_H
#define XIPC_TOOLS_COM_VARIANT_H

#include <windows.h>
#include <oleauto.h>

#include "xipc/msgpack.h"

/* Deepest nesting of arrays either way (the codec's default limit). */
#define COM_VARIANT_DEPTH XIPC_MP_DEPTH_DEFAULT

/*
 * Append @p v as one MessagePack value to @p b.
 * @return S_OK, DISP_E_TYPEMISMATCH (nothing of the value is usable: the
 *         caller drops @p b), E_OUTOFMEMORY
 */
HRESULT com_variant_to_mp(const VARIANT *v, xipc_mp_buf *b);

/*
 * Read one MessagePack value from @p r into @p out (which must hold no
 * value: VariantInit). A str that is not UTF-8 keeps its bytes as
 * U+FFFD each.
 * @return S_OK; E_OUTOFMEMORY; E_INVALIDARG (malformed or too deep, a
 *         str or bin beyond what a BSTR or SAFEARRAY holds). On failure
 *         @p out is VT_EMPTY.
 */
HRESULT com_variant_from_mp(xipc_mp_reader *r, VARIANT *out);

#endif
