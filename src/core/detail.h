/* Failure details: the text xipc_last_detail() returns (thread-local). */
#ifndef XIPC_CORE_DETAIL_H
#define XIPC_CORE_DETAIL_H

#if defined(__GNUC__)
#define XIPC_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define XIPC_PRINTF_(f, a)
#endif

/* Set the detail text (printf format; cut at 255 bytes). */
void xipc__set_detail(const char *fmt, ...) XIPC_PRINTF_(1, 2);

/* Clear it: xipc_last_detail() returns "" again. */
void xipc__clear_detail(void);

#endif
