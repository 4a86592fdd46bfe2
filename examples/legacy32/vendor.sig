# libvendor's functions for `xipc host` (docs/host.md). One declaration
# per ';'. A buffer's [NAME] is its length parameter, filled in by the host.
struct vendor_point { int32 x; int32 y; };
struct vendor_info { uint8 major; int64 serial; double ratio; };
struct vendor_person { nullable str name; uint8 age; };

int32 vendor_add(int32 a, int32 b);
int32 vendor_bits(void);
const char *vendor_greet(const char *name);
uint32 vendor_fill(out buf[len] dst, uint32 len);
int64 vendor_upper(inout buf[len] text, uint16 len);
struct vendor_point vendor_mid(struct vendor_point a, struct vendor_point b);
void vendor_info(out struct vendor_info * info);
const char *vendor_introduce(struct vendor_person p);
void vendor_boss(out struct vendor_person * boss);
int32 vendor_div(int32 a, int32 b) errno;
int32 vendor_len(nullable str s);
int32 vendor_crash(int32 n);
