/* A backup through the plain C API (vdisim.h), with the NULL and stale-handle calls a C
 * caller can get wrong.
 *
 *   capi_client <set-name> <file>
 *
 * The Rust test serves a BACKUP of <set-name> on a thread; the stream is stored in <file>.
 * Prints key=value lines; the test checks them. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vdisim.h"

#define SHOW(key, value)                                \
    do {                                                \
        printf("%s=%lld\n", key, (long long)(value));   \
        fflush(stdout);                                 \
    } while (0)

static void show_rule(const char* key) {
    char rule[64];
    vdisim_last_rule(rule, sizeof rule);
    printf("%s=%s\n", key, rule);
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <set-name> <file>\n", argv[0]);
        return 2;
    }
    FILE* file = fopen(argv[2], "wb");
    if (!file) {
        perror(argv[2]);
        return 2;
    }
    umask(0);

    vdisim_config config;
    memset(&config, 0, sizeof config);
    config.deviceCount = 1;
    vdisim_command handle = 1;

    /* NULL objects and out-pointers. */
    SHOW("new_null", vdisim_set_new(NULL));
    SHOW("create_null_set", vdisim_set_create(NULL, argv[1], &config));
    SHOW("close_null_set", vdisim_set_close(NULL));
    SHOW("abort_null_set", vdisim_set_signal_abort(NULL));
    SHOW("get_null_device", vdisim_device_get_command(NULL, 0, &handle, NULL));
    SHOW("get_null_device_cleared", handle == 0);
    SHOW("complete_null_device", vdisim_device_complete_command(NULL, 1, 0, 0, 0));
    vdisim_set_free(NULL);

    vdisim_set* set = NULL;
    SHOW("new", vdisim_set_new(&set));
    SHOW("close_never_created", vdisim_set_close(set));
    show_rule("close_never_created_rule");
    SHOW("create_null_name", vdisim_set_create(set, NULL, &config));
    SHOW("create_null_config", vdisim_set_create(set, argv[1], NULL));
    SHOW("create", vdisim_set_create(set, argv[1], &config));
    SHOW("get_configuration_null", vdisim_set_get_configuration(set, 0, NULL));
    SHOW("get_configuration", vdisim_set_get_configuration(set, 20000, &config));
    vdisim_device* device = NULL;
    SHOW("open_device_null", vdisim_set_open_device(set, argv[1], NULL));
    SHOW("open_device", vdisim_set_open_device(set, argv[1], &device));
    SHOW("get_null_out", vdisim_device_get_command(device, 0, NULL, NULL));

    int status;
    int first = 1;
    long long total = 0;
    vdisim_command last = 0;
    vdisim_command_info info;
    while ((status = vdisim_device_get_command(device, 20000, &handle, &info)) == 0) {
        uint32_t completion = 0;
        uint64_t bytes = 0;
        if (info.commandCode == 2 /* VDC_Write */) {
            bytes = fwrite(info.buffer, 1, (size_t)info.size, file);
            total += (long long)bytes;
        } else if (info.commandCode == 12 /* VDC_Flush */) {
            fflush(file);
        } else {
            completion = 50; /* ERROR_NOT_SUPPORTED */
        }
        int done = vdisim_device_complete_command(device, handle, completion, bytes, 0);
        if (done != 0) {
            SHOW("complete", done);
            break;
        }
        if (first) {
            first = 0;
            /* The same handle again, handle 0, and a handle that was never issued. */
            SHOW("complete_twice", vdisim_device_complete_command(device, handle, 0, 0, 0));
            show_rule("complete_twice_rule");
            SHOW("complete_zero", vdisim_device_complete_command(device, 0, 0, 0, 0));
            SHOW("complete_forged",
                 vdisim_device_complete_command(device, handle + (1u << 20), 0, 0, 0));
        }
        last = handle;
    }
    SHOW("end", status);
    SHOW("bytes", total);
    fclose(file);
    SHOW("close", vdisim_set_close(set));

    /* After Close: the device and the last handle are stale. */
    SHOW("stale_get", vdisim_device_get_command(device, 0, &handle, NULL));
    SHOW("stale_complete", vdisim_device_complete_command(device, last, 0, 0, 0));
    show_rule("stale_rule");
    SHOW("close_closed", vdisim_set_close(set));

    char message[128];
    int n = vdisim_result_message(VD_E_TIMEOUT, message, sizeof message);
    printf("message=%s\n", message);
    SHOW("message_len", n);
    char small[8];
    SHOW("message_truncated_len", vdisim_result_message(VD_E_TIMEOUT, small, sizeof small));
    printf("message_truncated=%s\n", small);

    vdisim_set_free(set);
    SHOW("done", 1);
    return 0;
}
