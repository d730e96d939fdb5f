/*
 * vdisim.h -- a plain C API to vdisim's VDI client library (libsqlvdi.so), for callers that
 * cannot use the SDK's C++ classes.
 *
 * Semantics are those of ClientVirtualDeviceSet / ClientVirtualDevice (see vdi.h): the same
 * calls, states and VD_E_* codes (vdierror.h), the same transcripts (VDISIM_TRANSCRIPT=path).
 *
 * Ownership:
 *  - vdisim_set_new() allocates a set; vdisim_set_free() closes it if still open and frees it
 *    together with every vdisim_device it handed out. Freeing NULL is fine; freeing twice is
 *    undefined behaviour.
 *  - vdisim_device* objects belong to their set. They stay valid memory until the set is
 *    freed; after Close every call on them returns an error code.
 *  - Commands are named by generational vdisim_command handles, never by pointers. A handle
 *    that was completed, belongs to a closed set, or was never issued gives VD_E_INVALID (or
 *    the code the set's state calls for), never a crash.
 *
 * Results: 0 for success, otherwise a VD_E_* code. A NULL where an object or an out-pointer is
 * required gives VD_E_INVALID. An internal panic gives VD_E_UNEXPECTED and never unwinds into
 * the caller. Timeouts are milliseconds: 0 polls, negative waits for ever.
 */
#ifndef VDISIM_H
#define VDISIM_H

#include <stddef.h>
#include <stdint.h>
#include "vdierror.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisim_set vdisim_set;
typedef struct vdisim_device vdisim_device;

/* A command handle from vdisim_device_get_command. 0 is never a valid handle. */
typedef uint64_t vdisim_command;

/* The same fields, order and layout as the SDK's VDConfig (44 bytes). */
typedef struct vdisim_config {
    uint32_t deviceCount;
    uint32_t features;
    uint32_t prefixZoneSize;
    uint32_t alignment;
    uint32_t softFileMarkBlockSize;
    uint32_t EOMWarningSize;
    uint32_t serverTimeOut;
    uint32_t blockSize;
    uint32_t maxIODepth;
    uint32_t maxTransferSize;
    uint32_t bufferAreaSize;
} vdisim_config;

/* What GetCommand delivered: the same fields as the SDK's VDC_Command (24 bytes). `buffer`
 * is the shared-memory data area of a Read or Write (NULL for other commands); it belongs to
 * the caller until the command is completed. */
typedef struct vdisim_command_info {
    int32_t commandCode;
    int32_t size;
    int64_t position;
    uint8_t* buffer;
} vdisim_command_info;

/* A set in the "does not exist" state, configured from the environment. */
int vdisim_set_new(vdisim_set** out);
void vdisim_set_free(vdisim_set* set);

int vdisim_set_create(vdisim_set* set, const char* name, const vdisim_config* config);
int vdisim_set_get_configuration(vdisim_set* set, int64_t timeout_ms, vdisim_config* out);
int vdisim_set_open_device(vdisim_set* set, const char* name, vdisim_device** out);
int vdisim_set_signal_abort(vdisim_set* set);
int vdisim_set_close(vdisim_set* set);
int vdisim_set_open_in_secondary(vdisim_set* set, const char* set_name);

/* `info` may be NULL. On failure *out is set to 0. */
int vdisim_device_get_command(vdisim_device* device, int64_t timeout_ms, vdisim_command* out,
                              vdisim_command_info* info);
int vdisim_device_complete_command(vdisim_device* device, vdisim_command command,
                                   uint32_t completion_code, uint64_t bytes_transferred,
                                   int64_t position);

/* Writes "NAME (0xXXXXXXXX): meaning" for `code` into buf (always NUL-terminated when
 * len > 0, truncated if needed) and returns the full message's length, like snprintf. */
int vdisim_result_message(int code, char* buf, size_t len);

/* The rule ID (e.g. "VDI-CLOSE-003") behind the last failed call on this thread, "" when
 * the last call succeeded or failed before reaching the protocol (NULL argument). Same
 * return convention as vdisim_result_message. */
int vdisim_last_rule(char* buf, size_t len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VDISIM_H */
