/*
 * libvendor: the stand-in for a closed 32-bit library that a 64-bit
 * program must use (docs/host.md). Built -m32 only (examples/CMakeLists.txt):
 * a 64-bit process cannot load it, `xipc host` can serve it.
 * vendor.sig declares these functions for the host.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VENDOR_API __attribute__((visibility("default")))

struct vendor_point {
    int32_t x;
    int32_t y;
};

struct vendor_info {
    uint8_t major;
    int64_t serial; /* 4-aligned in an i386 struct, 8-aligned in x86-64's */
    double ratio;
};

struct vendor_person {
    const char *name; /* NULL: nobody */
    uint8_t age;
};

VENDOR_API int32_t vendor_add(int32_t a, int32_t b)
{
    return a + b;
}

/* The pointer width this library was built for: 32 when served right. */
VENDOR_API int32_t vendor_bits(void)
{
    return (int32_t)(sizeof(void *) * 8);
}

/* A static buffer, as old libraries do: not thread-safe. */
VENDOR_API const char *vendor_greet(const char *name)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "hello, %s", name);
    return buf;
}

/* Fill @p dst with len bytes 0, 1, 2...; @return how many. */
VENDOR_API uint32_t vendor_fill(unsigned char *dst, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        dst[i] = (unsigned char)i;
    return len;
}

/* Upper-case @p buf in place; @return the sum of its bytes. */
VENDOR_API int64_t vendor_upper(char *buf, uint16_t len)
{
    int64_t sum = 0;
    for (uint16_t i = 0; i < len; i++) {
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
        sum += (unsigned char)buf[i];
    }
    return sum;
}

VENDOR_API struct vendor_point vendor_mid(struct vendor_point a, struct vendor_point b)
{
    struct vendor_point m = {(a.x + b.x) / 2, (a.y + b.y) / 2};
    return m;
}

VENDOR_API void vendor_info(struct vendor_info *out)
{
    out->major = 3;
    out->serial = 1234567890123LL;
    out->ratio = 0.5;
}

/* "NAME is AGE", in a static buffer. */
VENDOR_API const char *vendor_introduce(struct vendor_person p)
{
    static char buf[160];
    snprintf(buf, sizeof(buf), "%s is %u", p.name != NULL ? p.name : "nobody",
             (unsigned)p.age);
    return buf;
}

VENDOR_API void vendor_boss(struct vendor_person *out)
{
    out->name = "Ada";
    out->age = 36;
}

/* a / b; b == 0 sets errno to EDOM and returns 0. */
VENDOR_API int32_t vendor_div(int32_t a, int32_t b)
{
    if (b == 0) {
        errno = EDOM;
        return 0;
    }
    return a / b;
}

/* The length of @p s, or -1 for NULL. */
VENDOR_API int32_t vendor_len(const char *s)
{
    return s == NULL ? -1 : (int32_t)strlen(s);
}

/* A bug of the vendor's: writes through NULL when @p n is 0. */
VENDOR_API int32_t vendor_crash(int32_t n)
{
    volatile int32_t *p = n == 0 ? NULL : &n;
    *p = 42;
    return *p;
}
