/* PNG through libpng. The setjmp of each operation sits in a small "guarded" function whose
 * state lives in a context struct, not in its locals, so nothing it needs after a longjmp is
 * an indeterminate automatic variable. */
#include "ImageCodecs.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct png_context {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t size;
    size_t offset;
    int truncated;
    int too_large;
    /* Decoding: the output image and its row pointers. */
    ic_image *image;
    png_bytep *rows;
    /* Encoding: the growing output. */
    ic_buffer *buffer;
    size_t capacity;
    int out_of_memory;
    char *message;
};

static void on_error(png_structp png, png_const_charp message) {
    struct png_context *c = png_get_error_ptr(png);
    snprintf(c->message, 256, "%s", message);
    png_longjmp(png, 1);
}

/* Warnings (an unknown chunk, a bad colour profile) leave a usable image. */
static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void read_bytes(png_structp png, png_bytep target, size_t count) {
    struct png_context *c = png_get_io_ptr(png);
    if (count > c->size - c->offset) {
        c->truncated = 1;
        png_error(png, "the file ends inside the image data");
    }
    memcpy(target, c->data + c->offset, count);
    c->offset += count;
}

static int decode_guarded(struct png_context *c, int max_side) {
    if (setjmp(png_jmpbuf(c->png))) return 0;
    png_set_read_fn(c->png, c, read_bytes);
    png_read_info(c->png, c->info);
    png_uint_32 width = png_get_image_width(c->png, c->info), height = png_get_image_height(c->png, c->info);
    if (width > (png_uint_32)max_side || height > (png_uint_32)max_side) {
        char message[96];
        snprintf(message, sizeof message, "%ux%u pixels is larger than the limit of %d per side", (unsigned)width,
                 (unsigned)height, max_side);
        c->too_large = 1;
        png_error(c->png, message);
    }
    png_set_expand(c->png);          /* palette → RGB, grey < 8 bits → 8 bits, tRNS → alpha */
    png_set_scale_16(c->png);        /* 16 → 8 bits, rounded */
    png_set_gray_to_rgb(c->png);
    png_set_strip_alpha(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    if (png_get_rowbytes(c->png, c->info) != (size_t)width * 3) png_error(c->png, "unexpected row layout after conversion to RGB");
    c->image->pixels = malloc((size_t)width * height * 3);
    c->rows = malloc(sizeof(png_bytep) * height);
    if (!c->image->pixels || !c->rows) {
        c->out_of_memory = 1;
        png_error(c->png, "out of memory");
    }
    for (png_uint_32 y = 0; y < height; y++) c->rows[y] = c->image->pixels + (size_t)y * width * 3;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    c->image->width = (int)width;
    c->image->height = (int)height;
    return 1;
}

void ic_decode_png(const unsigned char *data, size_t size, int max_side, ic_image *out) {
    memset(out, 0, sizeof *out);
    struct png_context c = {0};
    c.data = data;
    c.size = size;
    c.image = out;
    c.message = out->message;
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (c.png) c.info = png_create_info_struct(c.png);
    if (!c.png || !c.info) {
        png_destroy_read_struct(&c.png, NULL, NULL);
        out->status = IC_NO_MEMORY;
        snprintf(out->message, sizeof out->message, "out of memory");
        return;
    }
    int ok = decode_guarded(&c, max_side);
    free(c.rows);
    png_destroy_read_struct(&c.png, &c.info, NULL);
    if (ok) return;
    free(out->pixels);
    out->pixels = NULL;
    out->width = out->height = 0;
    out->status = c.truncated ? IC_TRUNCATED : c.too_large ? IC_UNSUPPORTED : c.out_of_memory ? IC_NO_MEMORY : IC_CORRUPT;
}

static void write_bytes(png_structp png, png_bytep source, size_t count) {
    struct png_context *c = png_get_io_ptr(png);
    ic_buffer *b = c->buffer;
    if (b->size + count > c->capacity) {
        size_t capacity = c->capacity * 2 > b->size + count ? c->capacity * 2 : b->size + count;
        unsigned char *grown = realloc(b->bytes, capacity);
        if (!grown) {
            c->out_of_memory = 1;
            png_error(png, "out of memory");
        }
        b->bytes = grown;
        c->capacity = capacity;
    }
    memcpy(b->bytes + b->size, source, count);
    b->size += count;
}

static void flush_nothing(png_structp png) { (void)png; }

static int encode_guarded(struct png_context *c, const unsigned char *pixels, int width, int height, int channels,
                          int bit_depth, const unsigned char *palette, int palette_entries) {
    if (setjmp(png_jmpbuf(c->png))) return 0;
    static const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (width < 1 || height < 1 || channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)
        || (palette && (channels != 1 || bit_depth != 8 || palette_entries < 1 || palette_entries > 256))) {
        png_error(c->png, "invalid image parameters");
    }
    png_set_write_fn(c->png, c, write_bytes, flush_nothing);
    png_set_IHDR(c->png, c->info, (png_uint_32)width, (png_uint_32)height, bit_depth,
                 palette ? PNG_COLOR_TYPE_PALETTE : types[channels - 1], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_color entries[256];
        for (int i = 0; i < palette_entries; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(c->png, c->info, entries, palette_entries);
    }
    png_write_info(c->png, c->info);
    size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    for (int y = 0; y < height; y++) png_write_row(c->png, pixels + (size_t)y * row_bytes);
    png_write_end(c->png, NULL);
    return 1;
}

void ic_encode_png(const unsigned char *pixels, int width, int height, int channels, int bit_depth,
                   const unsigned char *palette, int palette_entries, ic_buffer *out) {
    memset(out, 0, sizeof *out);
    struct png_context c = {0};
    c.buffer = out;
    c.message = out->message;
    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (c.png) c.info = png_create_info_struct(c.png);
    int ok = c.png && c.info && encode_guarded(&c, pixels, width, height, channels, bit_depth, palette, palette_entries);
    if (!c.png || !c.info) snprintf(out->message, sizeof out->message, "out of memory");
    png_destroy_write_struct(&c.png, &c.info);
    if (ok) return;
    free(out->bytes);
    out->bytes = NULL;
    out->size = 0;
    out->status = c.out_of_memory || !c.info ? IC_NO_MEMORY : IC_CORRUPT;
}

void ic_free(void *p) { free(p); }
