/* URL parsing and name validation. Input is untrusted. */
#include <string.h>

#include "core/url.h"

static int url_is_scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '+';
}

xipc_err xipc__url_parse(xipc_url *u, const char *text)
{
    if (u == NULL || text == NULL)
        return XIPC_EINVAL;
    size_t n = 0;
    while (n < XIPC_URL_MAX && text[n] != '\0')
        n++;
    if (n >= XIPC_URL_MAX)
        return XIPC_EINVAL;
    const char *sep = strstr(text, "://");
    if (sep == NULL || sep == text || (size_t)(sep - text) > XIPC_SCHEME_MAX)
        return XIPC_EINVAL;
    size_t slen = (size_t)(sep - text);
    for (size_t i = 0; i < slen; i++) {
        char c = text[i];
        if (!url_is_scheme_char(c))
            return XIPC_EINVAL;
        u->scheme[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    u->scheme[slen] = '\0';
    const char *rest = sep + 3;
    if (*rest == '\0')
        return XIPC_EINVAL;
    for (const char *p = rest; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return XIPC_EINVAL;
    memcpy(u->rest, rest, strlen(rest) + 1);
    return XIPC_OK;
}

xipc_err xipc__name_check(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return XIPC_EINVAL;
    size_t i = 0;
    for (; name[i] != '\0'; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || i >= XIPC_NAME_MAX)
            return XIPC_EINVAL;
    }
    return XIPC_OK;
}
