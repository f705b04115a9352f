/* JPEG through libjpeg(-turbo). libjpeg reports fatal errors through error_exit, which must
 * not return; here it longjmps back to the setjmp of the guarded function. Warnings come
 * through emit_message and are made fatal too, since libjpeg recovers from corrupt or missing
 * data by inventing pixels. */
#include "ImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

struct jpeg_context {
    struct jpeg_error_mgr manager; /* first, so the error manager pointer is the context */
    jmp_buf jump;
    char *message;
    int truncated;
    int too_large;
    int out_of_memory;
};

static void on_error(j_common_ptr info) {
    struct jpeg_context *c = (struct jpeg_context *)info->err;
    (*info->err->format_message)(info, c->message);
    longjmp(c->jump, 1);
}

static void on_message(j_common_ptr info, int level) {
    if (level >= 0) return; /* trace messages */
    struct jpeg_context *c = (struct jpeg_context *)info->err;
    if (info->err->msg_code == JWRN_JPEG_EOF) c->truncated = 1;
    on_error(info);
}

static void install(struct jpeg_context *c, char *message) {
    memset(c, 0, sizeof *c);
    jpeg_std_error(&c->manager);
    c->manager.error_exit = on_error;
    c->manager.emit_message = on_message;
    c->message = message;
}

static int decode_guarded(struct jpeg_context *c, struct jpeg_decompress_struct *d, const unsigned char *data, size_t size,
                          int max_side, ic_image *out) {
    if (setjmp(c->jump)) return 0;
    jpeg_create_decompress(d);
    jpeg_mem_src(d, data, (unsigned long)size);
    jpeg_read_header(d, TRUE);
    if (d->image_width > (JDIMENSION)max_side || d->image_height > (JDIMENSION)max_side) {
        snprintf(c->message, JMSG_LENGTH_MAX, "%ux%u pixels is larger than the limit of %d per side",
                 (unsigned)d->image_width, (unsigned)d->image_height, max_side);
        c->too_large = 1;
        return 0;
    }
    d->out_color_space = JCS_RGB;
    jpeg_start_decompress(d);
    if (d->output_components != 3) {
        snprintf(c->message, JMSG_LENGTH_MAX, "%d components after conversion to RGB", d->output_components);
        return 0;
    }
    size_t row = (size_t)d->output_width * 3;
    out->pixels = malloc(row * d->output_height);
    if (!out->pixels) {
        snprintf(c->message, JMSG_LENGTH_MAX, "out of memory");
        c->out_of_memory = 1;
        return 0;
    }
    while (d->output_scanline < d->output_height) {
        JSAMPROW line = out->pixels + row * d->output_scanline;
        jpeg_read_scanlines(d, &line, 1);
    }
    jpeg_finish_decompress(d);
    out->width = (int)d->output_width;
    out->height = (int)d->output_height;
    return 1;
}

void ic_decode_jpeg(const unsigned char *data, size_t size, int max_side, ic_image *out) {
    memset(out, 0, sizeof *out);
    /* libjpeg formats into JMSG_LENGTH_MAX (200) bytes, within the 256 of the message. */
    struct jpeg_context c;
    install(&c, out->message);
    struct jpeg_decompress_struct d;
    memset(&d, 0, sizeof d);
    d.err = &c.manager;
    int ok = decode_guarded(&c, &d, data, size, max_side, out);
    jpeg_destroy_decompress(&d);
    if (ok) return;
    free(out->pixels);
    out->pixels = NULL;
    out->width = out->height = 0;
    if (c.truncated) {
        snprintf(out->message, sizeof out->message, "the file ends inside the image data");
        out->status = IC_TRUNCATED;
    } else if (c.too_large) {
        out->status = IC_UNSUPPORTED;
    } else if (c.out_of_memory) {
        out->status = IC_NO_MEMORY;
    } else {
        out->status = c.manager.msg_code == JERR_CONVERSION_NOTIMPL ? IC_UNSUPPORTED : IC_CORRUPT;
    }
}

static int encode_guarded(struct jpeg_context *c, struct jpeg_compress_struct *e, const unsigned char *pixels, int width,
                          int height, int channels, int quality, unsigned char **bytes, unsigned long *size) {
    if (setjmp(c->jump)) return 0;
    jpeg_create_compress(e);
    if (width < 1 || height < 1 || (channels != 1 && channels != 3) || quality < 1 || quality > 100) {
        snprintf(c->message, JMSG_LENGTH_MAX, "invalid image parameters");
        return 0;
    }
    jpeg_mem_dest(e, bytes, size);
    e->image_width = (JDIMENSION)width;
    e->image_height = (JDIMENSION)height;
    e->input_components = channels;
    e->in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(e);
    jpeg_set_quality(e, quality, TRUE);
    jpeg_start_compress(e, TRUE);
    size_t row = (size_t)width * channels;
    while (e->next_scanline < e->image_height) {
        JSAMPROW line = (JSAMPROW)(pixels + row * e->next_scanline);
        jpeg_write_scanlines(e, &line, 1);
    }
    jpeg_finish_compress(e);
    return 1;
}

void ic_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, ic_buffer *out) {
    memset(out, 0, sizeof *out);
    struct jpeg_context c;
    install(&c, out->message);
    struct jpeg_compress_struct e;
    memset(&e, 0, sizeof e);
    e.err = &c.manager;
    /* jpeg_mem_dest allocates the output with malloc. Its pointer and size live here, outside
     * the function that calls setjmp, so they are still valid after a longjmp. */
    unsigned char *bytes = NULL;
    unsigned long size = 0;
    int ok = encode_guarded(&c, &e, pixels, width, height, channels, quality, &bytes, &size);
    jpeg_destroy_compress(&e);
    if (ok) {
        out->bytes = bytes;
        out->size = size;
        return;
    }
    free(bytes);
    out->status = IC_CORRUPT;
}
